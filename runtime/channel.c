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
		  uint8_t devfn)
{
	*c = (struct channel){ .devfn = devfn, .part = companion };
	pci_cfg_init(&c->cfg, KEEL_CHAN_VENDOR_ID, KEEL_CHAN_DEVICE_ID, CLASS_OTHER, 1);
	pci_cfg_set_bar(&c->cfg, 0, KEEL_CHAN_REGS_SIZE, PCI_BAR_MEM32);
}

/*
 * Wherever the companion places BAR0 (it assigns it at boot, and may move
 * it), those guest-physical pages must exit to keel instead of reaching the
 * identity-mapped hardware behind them; only while memory decode is on, so
 * that BAR sizing never unmaps anything.
 */
static void follow_bar(struct channel *c)
{
	struct partition *p = c->part;
	bool decode = pci_cfg_read(&c->cfg, PCI_CFG_COMMAND, 2) &
		      PCI_COMMAND_MEMORY;
	uint64_t gpa = decode ? pci_cfg_bar_addr(&c->cfg, 0) : 0;

	if (gpa == c->regs_gpa)
		return;
	if (c->regs_gpa)
		ept_map(&p->ept, c->regs_gpa, c->regs_gpa, KEEL_CHAN_REGS_SIZE,
			EPT_RWX | EPT_MT_UC);
	if (gpa && ept_unmap(&p->ept, gpa, KEEL_CHAN_REGS_SIZE))
		gpa = 0;
	c->regs_gpa = gpa;
	ept_invalidate(&p->ept);
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
	    (off >= PCI_CFG_BAR0 && off < PCI_CFG_BAR0 + 4))
		follow_bar(c);
	return true;
}

int channel_mmio(struct channel *c, uint64_t gpa, unsigned int size,
		 bool write, uint64_t *val)
{
	if (!c->regs_gpa || gpa < c->regs_gpa ||
	    gpa >= c->regs_gpa + KEEL_CHAN_REGS_SIZE || size != 4 || write)
		return -1;
	*val = gpa - c->regs_gpa == KEEL_CHAN_REG_ABI_VERSION ?
		       KEEL_CHAN_ABI_VERSION :
		       0;
	return 0;
}
