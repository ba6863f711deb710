// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/ept.h"
#include "runtime/channel.h"
#include "runtime/partition.h"

#define CLASS_OTHER 0xFF0000 /* no standard class: keel.ko binds it by ID */
#define CFG_ENABLE (1u << 31)
#define CFG_BUS(a) (((a) >> 16) & 0xFF)
#define CFG_DEVFN(a) (((a) >> 8) & 0xFF)
#define CFG_REG(a) ((a) & 0xFC)
#define PCI_CFG_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2
#define PCI_CFG_BAR0 0x10

void channel_init(struct channel *c, struct partition *companion,
		  uint8_t devfn, uint64_t shared_hpa)
{
	*c = (struct channel){
		.devfn = devfn,
		.part = companion,
		.regs = { 0, KEEL_CHAN_REGS_SIZE, 0, 0 },
		.shared = { KEEL_CHAN_SHARED_BAR, KEEL_CHAN_SHARED_SIZE,
			    shared_hpa, 0 },
	};
	pci_cfg_init(&c->cfg, KEEL_CHAN_VENDOR_ID, KEEL_CHAN_DEVICE_ID,
		     CLASS_OTHER, 1);
	pci_cfg_set_bar(&c->cfg, c->regs.index, c->regs.size, PCI_BAR_MEM32);
	pci_cfg_set_bar(&c->cfg, c->shared.index, c->shared.size,
			PCI_BAR_MEM32 | PCI_BAR_PREFETCH);
}

/*
 * Wherever the companion places a BAR (it assigns them at boot, and may
 * move them), those guest-physical pages must reach keel (the registers
 * exit, the shared window maps keel's pages) instead of the identity-mapped
 * hardware behind them; only while memory decode is on, so that BAR sizing
 * never remaps anything.
 */
static void follow_bar(struct channel *c, struct channel_bar *b, bool decode)
{
	struct ept *ept = &c->part->ept;
	uint64_t gpa = decode ? pci_cfg_bar_addr(&c->cfg, b->index) : 0;

	if (gpa == b->gpa)
		return;
	if (b->gpa) {
		ept_unmap(ept, b->gpa, b->size);
		ept_map(ept, b->gpa, b->gpa, b->size, EPT_RWX | EPT_MT_UC);
	}
	if (gpa && (ept_unmap(ept, gpa, b->size) ||
		    (b->hpa && ept_map(ept, gpa, b->hpa, b->size,
				       EPT_RWX | EPT_MT_WB))))
		gpa = 0;
	b->gpa = gpa;
	ept_invalidate(ept);
}

static void follow_bars(struct channel *c)
{
	bool decode = pci_cfg_read(&c->cfg, PCI_CFG_COMMAND, 2) &
		      PCI_COMMAND_MEMORY;

	follow_bar(c, &c->regs, decode);
	follow_bar(c, &c->shared, decode);
}

bool channel_cfg_access(struct channel *c, uint32_t addr, uint16_t port,
			unsigned int size, bool write, uint32_t *val)
{
	unsigned int off = CFG_REG(addr) + (port & 3);

	if (!(addr & CFG_ENABLE) || CFG_BUS(addr) || CFG_DEVFN(addr) != c->devfn)
		return false;
	if (!write) {
		*val = pci_cfg_read(&c->cfg, off, size);
		return true;
	}
	pci_cfg_write(&c->cfg, off, size, *val);
	if (off < PCI_CFG_COMMAND + 2 ||
	    (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 6 * 4))
		follow_bars(c);
	return true;
}

int channel_mmio(struct channel *c, uint64_t gpa, unsigned int size,
		 bool write, uint64_t *val)
{
	if (!c->regs.gpa || gpa < c->regs.gpa ||
	    gpa >= c->regs.gpa + c->regs.size || size != 4 || write)
		return -1;
	*val = gpa - c->regs.gpa == KEEL_CHAN_REG_ABI_VERSION ?
		       KEEL_CHAN_ABI_VERSION :
		       0;
	return 0;
}
