// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "arch-x86_64/ept.h"
#include "arch-x86_64/lapic.h"
#include "runtime/channel.h"
#include "runtime/partition.h"

#define CLASS_OTHER 0xFF0000 /* no standard class: keel.ko binds it by ID */
#define CFG_ENABLE (1u << 31)
#define CFG_BUS(a) (((a) >> 16) & 0xFF)
#define CFG_DEVFN(a) (((a) >> 8) & 0xFF)
#define CFG_REG(a) ((a) & 0xFC)

/* MSI capability: 64-bit address, one vector, no per-vector mask */
#define MSI_CAP_ID 0x05
#define MSI_CAP_LEN 14
#define MSI_CTRL 2
#define MSI_ADDR_LO 4
#define MSI_ADDR_HI 8
#define MSI_DATA 12
#define MSI_CTRL_ENABLE 0x0001
#define MSI_CTRL_64BIT 0x0080
#define MSI_VECTOR_MIN 0x10

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
	c->sh = (struct keel_chan_shared *)shared_hpa;
	c->msi_cap = (uint8_t)pci_cfg_add_cap(&c->cfg, MSI_CAP_ID, MSI_CAP_LEN);
	pci_cfg_set(&c->cfg, c->msi_cap + MSI_CTRL, 2, MSI_CTRL_64BIT);
	pci_cfg_set_wmask(&c->cfg, c->msi_cap + MSI_CTRL, 2, MSI_CTRL_ENABLE);
	pci_cfg_set_wmask(&c->cfg, c->msi_cap + MSI_ADDR_LO, 4, 0xFFFFFFFC);
	pci_cfg_set_wmask(&c->cfg, c->msi_cap + MSI_ADDR_HI, 4, 0xFFFFFFFF);
	pci_cfg_set_wmask(&c->cfg, c->msi_cap + MSI_DATA, 2, 0xFFFF);
}

/*
 * The channel's MSI. The companion has one CPU, so keel sends the vector
 * it programmed to that CPU whatever destination format its Linux chose.
 */
static void signal_companion(struct channel *c)
{
	uint32_t ctrl = pci_cfg_read(&c->cfg, c->msi_cap + MSI_CTRL, 2);
	uint32_t cmd = pci_cfg_read(&c->cfg, PCI_CFG_COMMAND, 2);
	uint32_t vector = pci_cfg_read(&c->cfg, c->msi_cap + MSI_DATA, 2) & 0xFF;

	if (!(ctrl & MSI_CTRL_ENABLE) || !(cmd & PCI_CMD_MASTER) ||
	    vector < MSI_VECTOR_MIN) {
		__atomic_add_fetch(&c->stats.msi_off, 1, __ATOMIC_RELAXED);
		return;
	}
	if (!lapic_send_fixed(c->part->apic_id, (uint8_t)vector)) {
		__atomic_add_fetch(&c->stats.msi_failed, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&c->stats.msis, 1, __ATOMIC_RELAXED);
}

void channel_kick(struct channel *c, unsigned int queue)
{
	__atomic_or_fetch(&c->sh->kicks, 1ull << queue, __ATOMIC_RELEASE);
	__atomic_add_fetch(&c->sh->kick_count, 1, __ATOMIC_RELAXED);
	signal_companion(c);
}

void channel_set_guest_state(struct channel *c, uint32_t state)
{
	__atomic_store_n(&c->sh->guest_state, state, __ATOMIC_RELEASE);
	signal_companion(c);
}

uint32_t channel_post(struct channel *c, uint32_t request, uint32_t flags,
		      uint64_t features, const struct keel_chan_queue *queues,
		      unsigned int nr)
{
	struct keel_chan_device *d = &c->sh->device;
	uint32_t seq = d->seq;

	__atomic_store_n(&d->seq, seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	d->request = request;
	d->flags = flags;
	d->features = features;
	d->nr_queues = nr;
	for (unsigned int i = 0; i < KEEL_CHAN_MAX_QUEUES; i++)
		d->queue[i] = i < nr ? queues[i] : (struct keel_chan_queue){ 0 };
	__atomic_store_n(&d->seq, seq + 2, __ATOMIC_RELEASE);
	signal_companion(c);
	return (seq + 2) / 2;
}

uint32_t channel_request(const struct channel *c, uint32_t *n,
			 uint32_t *flags)
{
	*n = c->sh->device.seq / 2;
	*flags = c->sh->device.flags;
	return c->sh->device.request;
}

long channel_ack(struct channel *c, uint32_t n, bool failed)
{
	if (n != c->sh->device.seq / 2)
		return -KEEL_ESTALE;
	if (failed)
		__atomic_store_n(&c->sh->device.failed, n, __ATOMIC_RELEASE);
	__atomic_store_n(&c->sh->device.acked, n, __ATOMIC_RELEASE);
	return 0;
}

int channel_reply_bases(const struct channel *c, uint32_t n,
			uint16_t base[KEEL_CHAN_MAX_QUEUES])
{
	struct keel_chan_reply r;

	memcpy(&r, (const void *)&c->sh->reply, sizeof(r));
	if (r.n != n)
		return -1;
	memcpy(base, r.base, sizeof(r.base));
	return 0;
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
		      PCI_CMD_MEM;

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
