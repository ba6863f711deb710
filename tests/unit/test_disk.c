// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's disk broker with keel's channel (runtime/disk.c,
 * runtime/channel.c): a Linux-like driver brings the device up through the
 * guest's configuration ports and MMIO, and the companion answers with
 * hypercalls. What the companion finds in the shared window, and which
 * interrupts keel sends to which CPU, are checked at each step. Only the
 * local APIC and the EPT are fakes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/channel.h"
#include "runtime/disk.h"
#include "runtime/partition.h"
#include "virtio/virtio_scsi.h"

#define GUEST_APIC 1
#define COMPANION_APIC 0
#define RAM_SIZE 0x10000000ull
#define CHAN_DEVFN PCI_DEVFN(31, 0)
#define CHAN_MSI_VECTOR 0x41
#define C(r) (VIRTIO_PCI_OFF_COMMON + VIRTIO_PCI_COMMON_##r)
#define OFFERED                                                       \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX) | \
	 VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC))

/* ---- fakes: the local APIC and the EPT ---- */

struct ipi {
	uint32_t apic_id;
	uint8_t vector;
};
static struct ipi ipis[64];
static unsigned int nr_ipis;
static bool apic_refuses;

bool lapic_send_fixed(uint32_t apic_id, uint8_t vector)
{
	if (apic_refuses)
		return false;
	assert_true(nr_ipis < 64);
	ipis[nr_ipis++] = (struct ipi){ apic_id, vector };
	return true;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size,
	    uint64_t flags)
{
	(void)e, (void)gpa, (void)hpa, (void)size, (void)flags;
	return 0;
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
	(void)e, (void)gpa, (void)size;
	return 0;
}

void ept_invalidate(const struct ept *e)
{
	(void)e;
}

/* ---- the fixture ---- */

struct fx {
	struct partition guest, companion;
	struct channel chan;
	struct disk disk;
	struct keel_chan_shared *sh;
};

static const struct virtio_scsi_cfg disk_cfg = {
	.queues = 2, .queue_size = 128, .wwpn = "naa.5001405abcdef001",
	.backstore = BACKSTORE_FILEIO, .path = "/var/lib/keel/disk0.img",
	.size = 64 << 20,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->sh = aligned_alloc(4096, KEEL_CHAN_SHARED_SIZE);
	memset(f->sh, 0, KEEL_CHAN_SHARED_SIZE);
	f->sh->magic = KEEL_CHAN_MAGIC;
	f->guest = (struct partition){ .kind = PART_GUEST, .apic_id = GUEST_APIC,
				       .ram_size = RAM_SIZE };
	f->companion = (struct partition){ .kind = PART_COMPANION,
					   .apic_id = COMPANION_APIC };
	pci_bus_init(&f->guest.pci);
	channel_init(&f->chan, &f->companion, CHAN_DEVFN, (uint64_t)f->sh);
	assert_int_equal(disk_init(&f->disk, &disk_cfg, &f->guest, &f->chan),
			 0);
	nr_ipis = 0;
	apic_refuses = false;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->sh);
	free(f);
	return 0;
}

/* the companion's configuration cycles to the channel */
static void chan_cfg_write(struct fx *f, unsigned int off, unsigned int size,
			   uint32_t val)
{
	uint32_t addr = 0x80000000u | CHAN_DEVFN << 8 | (off & 0xFC);

	assert_true(channel_cfg_access(&f->chan, addr, 0xCFC + (off & 3), size,
				       true, &val));
}

static uint32_t chan_cfg_read(struct fx *f, unsigned int off,
			      unsigned int size)
{
	uint32_t addr = 0x80000000u | CHAN_DEVFN << 8 | (off & 0xFC), val;

	assert_true(channel_cfg_access(&f->chan, addr, 0xCFC + (off & 3), size,
				       false, &val));
	return val;
}

/* what keel.ko's pci_alloc_irq_vectors(PCI_IRQ_MSI) and pci_set_master do */
static void companion_enables_msi(struct fx *f)
{
	unsigned int cap = chan_cfg_read(f, PCI_CFG_CAP_PTR, 1);

	assert_int_equal(chan_cfg_read(f, cap, 1), 0x05);
	assert_int_equal(chan_cfg_read(f, cap + 2, 2) & 0x80, 0x80);
	chan_cfg_write(f, cap + 4, 4, 0xFEE00000u | COMPANION_APIC << 12);
	chan_cfg_write(f, cap + 8, 4, 0);
	chan_cfg_write(f, cap + 12, 2, CHAN_MSI_VECTOR);
	chan_cfg_write(f, cap + 2, 2, 1);
	chan_cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
}

/* the guest's configuration mechanism #1 */
static uint32_t guest_cfg_read(struct fx *f, unsigned int off,
			       unsigned int size)
{
	uint32_t addr = 0x80000000u | DISK_DEVFN << 8 | (off & 0xFC), val;

	assert_int_equal(disk_pci_io(&f->disk, 0xCF8, 4, true, &addr), 0);
	assert_int_equal(disk_pci_io(&f->disk, 0xCFC + (off & 3), size, false,
				     &val),
			 0);
	return val;
}

static void guest_cfg_write(struct fx *f, unsigned int off, unsigned int size,
			    uint32_t val)
{
	uint32_t addr = 0x80000000u | DISK_DEVFN << 8 | (off & 0xFC);

	assert_int_equal(disk_pci_io(&f->disk, 0xCF8, 4, true, &addr), 0);
	assert_int_equal(disk_pci_io(&f->disk, 0xCFC + (off & 3), size, true,
				     &val),
			 0);
}

static int mmio(struct fx *f, uint64_t gpa, unsigned int size, bool write,
		uint64_t *val)
{
	return disk_mmio(&f->disk, gpa, size, write, val);
}

static void wr(struct fx *f, uint64_t off, unsigned int size, uint64_t val)
{
	assert_int_equal(mmio(f, DISK_BAR_GPA + off, size, true, &val), 0);
}

static uint64_t rd(struct fx *f, uint64_t off, unsigned int size)
{
	uint64_t val = 0;

	assert_int_equal(mmio(f, DISK_BAR_GPA + off, size, false, &val), 0);
	return val;
}

static void msix_entry(struct fx *f, unsigned int i, uint8_t vector)
{
	uint64_t base = DISK_MSIX_BAR_GPA + 16 * i, v;

	v = 0xFEE00000u | GUEST_APIC << 12;
	assert_int_equal(mmio(f, base, 4, true, &v), 0);
	v = 0;
	assert_int_equal(mmio(f, base + 4, 4, true, &v), 0);
	v = vector;
	assert_int_equal(mmio(f, base + 8, 4, true, &v), 0);
	v = 0;
	assert_int_equal(mmio(f, base + 12, 4, true, &v), 0);
}

static uint64_t ring(unsigned int q)
{
	return 0x100000 + 0x10000ull * q;
}

/* Linux's virtio_pci_modern probe and virtio_scsi's find_vqs, enough of
 * them: queue q gets MSI-X entry q + 1 with vector 0x50 + q */
static void driver_ok(struct fx *f)
{
	unsigned int msix_cap = 0, q, cap;
	unsigned int nq = 2 + disk_cfg.queues;

	for (cap = guest_cfg_read(f, PCI_CFG_CAP_PTR, 1); cap;
	     cap = guest_cfg_read(f, cap + 1, 1))
		if (guest_cfg_read(f, cap, 1) == VIRTIO_PCI_CAP_MSIX)
			msix_cap = cap;
	assert_int_not_equal(msix_cap, 0);
	guest_cfg_write(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	guest_cfg_write(f, msix_cap + 2, 2, VIRTIO_PCI_MSIX_CTRL_ENABLE);
	for (q = 0; q <= nq; q++)
		msix_entry(f, q, (uint8_t)(0x50 + q));
	wr(f, C(STATUS), 1, 0);
	wr(f, C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(f, C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(f, C(GFSELECT), 4, 0);
	wr(f, C(GF), 4, (uint32_t)OFFERED);
	wr(f, C(GFSELECT), 4, 1);
	wr(f, C(GF), 4, (uint32_t)(OFFERED >> 32));
	wr(f, C(STATUS), 1, 0x0B);
	assert_int_equal(rd(f, C(STATUS), 1), 0x0B);
	wr(f, C(MSIX), 2, 0);
	for (q = 0; q < nq; q++) {
		wr(f, C(Q_SELECT), 2, q);
		wr(f, C(Q_SIZE), 2, 64);
		wr(f, C(Q_DESCLO), 4, ring(q));
		wr(f, C(Q_AVAILLO), 4, ring(q) + 0x400);
		wr(f, C(Q_USEDLO), 4, ring(q) + 0x1000);
		wr(f, C(Q_MSIX), 2, q + 1);
		wr(f, C(Q_ENABLE), 2, 1);
	}
	wr(f, C(STATUS), 1, 0x0F);
}

/* ---- tests ---- */

static void test_device_on_guest_bus(void **state)
{
	struct fx *f = *state;

	assert_int_equal(guest_cfg_read(f, 0, 4), 0x10481AF4);
	/* placed by keel, decoded: Linux keeps the assignment */
	assert_int_equal(guest_cfg_read(f, 0x10 + 4 * VIRTIO_PCI_BAR, 4) &
				 ~0xFu,
			 (uint32_t)DISK_BAR_GPA);
	assert_int_equal(guest_cfg_read(f, 0x10 + 4 * VIRTIO_PCI_MSIX_BAR, 4) &
				 ~0xFu,
			 (uint32_t)DISK_MSIX_BAR_GPA);
	assert_int_equal(guest_cfg_read(f, PCI_CFG_COMMAND, 2) & PCI_CMD_MEM,
			 PCI_CMD_MEM);
	/* num_queues in the device configuration */
	assert_int_equal(rd(f, VIRTIO_PCI_OFF_DEVICE, 4), disk_cfg.queues);
	/* an address that is not the device's is left to the caller */
	uint64_t v = 0;

	assert_int_equal(mmio(f, DISK_BAR_GPA - 4, 4, false, &v), 1);
	assert_int_equal(mmio(f, DISK_MSIX_BAR_GPA + 0x1000, 4, false, &v), 1);
}

static void test_pci_cfg_window_reads_through_read_hook(void **state)
{
	struct fx *f = *state;
	unsigned int cap, pcicfg = 0;

	for (cap = guest_cfg_read(f, PCI_CFG_CAP_PTR, 1); cap;
	     cap = guest_cfg_read(f, cap + 1, 1))
		if (guest_cfg_read(f, cap, 1) == VIRTIO_PCI_CAP_VNDR &&
		    guest_cfg_read(f, cap + VIRTIO_PCI_CAP_CFG_TYPE, 1) ==
			    VIRTIO_PCI_CAP_PCI_CFG)
			pcicfg = cap;
	assert_int_not_equal(pcicfg, 0);
	guest_cfg_write(f, pcicfg + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
	guest_cfg_write(f, pcicfg + VIRTIO_PCI_CAP_OFFSET, 4,
			VIRTIO_PCI_OFF_DEVICE);
	guest_cfg_write(f, pcicfg + VIRTIO_PCI_CAP_LENGTH, 4, 4);
	assert_int_equal(guest_cfg_read(f, pcicfg + VIRTIO_PCI_CFG_CAP_DATA, 4),
			 disk_cfg.queues);
}

static void test_start_request_reaches_companion(void **state)
{
	struct fx *f = *state;
	struct keel_chan_device *d = &f->sh->device;

	companion_enables_msi(f);
	assert_int_equal(d->request, KEEL_REQ_NONE);
	driver_ok(f);
	assert_int_equal(d->seq % 2, 0);
	assert_int_equal(d->seq / 2, 1);
	assert_int_equal(d->request, KEEL_REQ_START);
	assert_int_equal(d->features, OFFERED);
	assert_int_equal(d->nr_queues, 4);
	for (unsigned int q = 0; q < 4; q++) {
		assert_int_equal(d->queue[q].index, q);
		assert_int_equal(d->queue[q].size, 64);
		assert_int_equal(d->queue[q].desc, ring(q));
		assert_int_equal(d->queue[q].avail, ring(q) + 0x400);
		assert_int_equal(d->queue[q].used, ring(q) + 0x1000);
	}
	/* one MSI to the companion, with the vector it programmed */
	assert_int_equal(nr_ipis, 1);
	assert_int_equal(ipis[0].apic_id, COMPANION_APIC);
	assert_int_equal(ipis[0].vector, CHAN_MSI_VECTOR);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_ACK, 1), 0);
	assert_int_equal(d->acked, 1);
}

static void test_kick_sets_bit_and_signals(void **state)
{
	struct fx *f = *state;

	companion_enables_msi(f);
	driver_ok(f);
	nr_ipis = 0;
	wr(f, VIRTIO_PCI_OFF_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * 2, 2, 2);
	wr(f, VIRTIO_PCI_OFF_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * 3, 2, 3);
	assert_int_equal(f->sh->kicks, 0xC);
	assert_int_equal(f->sh->kick_count, 2);
	assert_int_equal(nr_ipis, 2);
	assert_int_equal(ipis[1].apic_id, COMPANION_APIC);
	assert_int_equal(ipis[1].vector, CHAN_MSI_VECTOR);
	/* notify of an absent queue: refused, nothing reaches the companion */
	uint64_t v = 9;

	assert_int_equal(mmio(f, DISK_BAR_GPA + VIRTIO_PCI_OFF_NOTIFY + 4 * 9, 2,
			      true, &v),
			 -1);
	assert_int_equal(f->sh->kicks, 0xC);
	assert_int_equal(nr_ipis, 2);
}

static void test_msi_off_is_counted_not_sent(void **state)
{
	struct fx *f = *state;

	driver_ok(f);
	assert_int_equal(f->sh->device.request, KEEL_REQ_START);
	assert_int_equal(nr_ipis, 0);
	assert_int_equal(f->chan.stats.msi_off, 1);
	companion_enables_msi(f);
	apic_refuses = true;
	wr(f, VIRTIO_PCI_OFF_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * 2, 2, 2);
	assert_int_equal(f->chan.stats.msi_failed, 1);
	assert_int_equal(f->sh->kicks, 0x4);
}

static void test_raise_sends_guest_vector(void **state)
{
	struct fx *f = *state;

	companion_enables_msi(f);
	driver_ok(f);
	nr_ipis = 0;
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_RAISE, 2),
			 0);
	assert_int_equal(nr_ipis, 1);
	assert_int_equal(ipis[0].apic_id, GUEST_APIC);
	assert_int_equal(ipis[0].vector, 0x50 + 3); /* queue 2: entry 3 */
	/* absent queue: refused, no interrupt */
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_RAISE, 4),
			 -KEEL_EINVAL);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_RAISE,
					     ~0ul),
			 -KEEL_EINVAL);
	assert_int_equal(nr_ipis, 1);
	assert_int_equal(f->disk.stats.bad_raise, 2);
	/* masked entry: pending, delivered at unmask */
	uint64_t ctl = 1, base = DISK_MSIX_BAR_GPA + 16 * 3 + 12;

	assert_int_equal(mmio(f, base, 4, true, &ctl), 0);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_RAISE, 2),
			 0);
	assert_int_equal(nr_ipis, 1);
	ctl = 0;
	assert_int_equal(mmio(f, base, 4, true, &ctl), 0);
	assert_int_equal(nr_ipis, 2);
	assert_int_equal(ipis[1].vector, 0x53);
}

static void test_reset_waits_for_companion_stop(void **state)
{
	struct fx *f = *state;
	struct keel_chan_device *d = &f->sh->device;

	companion_enables_msi(f);
	driver_ok(f);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_ACK, 1), 0);
	wr(f, C(STATUS), 1, 0);
	assert_int_equal(d->request, KEEL_REQ_STOP);
	assert_int_equal(d->seq / 2, 2);
	/* the reset is not done until the companion has stopped */
	assert_int_not_equal(rd(f, C(STATUS), 1), 0);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_ACK, 1),
			 -KEEL_ESTALE);
	assert_int_not_equal(rd(f, C(STATUS), 1), 0);
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_ACK, 2), 0);
	assert_int_equal(rd(f, C(STATUS), 1), 0);
	assert_int_equal(d->acked, 2);
	/* the driver starts again: a new request with the new rings */
	driver_ok(f);
	assert_int_equal(d->request, KEEL_REQ_START);
	assert_int_equal(d->seq / 2, 3);
}

static void test_failed_start_needs_reset(void **state)
{
	struct fx *f = *state;

	companion_enables_msi(f);
	driver_ok(f);
	nr_ipis = 0;
	assert_int_equal(disk_hypercall(&f->disk, KEEL_HC_FAIL, 1), 0);
	assert_int_equal(rd(f, C(STATUS), 1) & VIRTIO_STATUS_NEEDS_RESET,
			 VIRTIO_STATUS_NEEDS_RESET);
	/* the configuration vector (entry 0) tells the driver */
	assert_int_equal(nr_ipis, 1);
	assert_int_equal(ipis[0].vector, 0x50);
	assert_int_equal(f->disk.stats.fails, 1);
}

static void test_unknown_hypercall(void **state)
{
	struct fx *f = *state;

	assert_int_equal(disk_hypercall(&f->disk, 99, 0), -KEEL_ENOSYS);
	assert_int_equal(disk_hypercall(&f->disk, 0, 0), -KEEL_ENOSYS);
}

static void test_guest_state(void **state)
{
	struct fx *f = *state;

	companion_enables_msi(f);
	channel_set_guest_state(&f->chan, KEEL_GUEST_STOPPED);
	assert_int_equal(f->sh->guest_state, KEEL_GUEST_STOPPED);
	assert_int_equal(nr_ipis, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_device_on_guest_bus),
		T(test_pci_cfg_window_reads_through_read_hook),
		T(test_start_request_reaches_companion),
		T(test_kick_sets_bit_and_signals),
		T(test_msi_off_is_counted_not_sent),
		T(test_raise_sends_guest_vector),
		T(test_reset_waits_for_companion_stop),
		T(test_failed_start_needs_reset),
		T(test_unknown_hypercall),
		T(test_guest_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
