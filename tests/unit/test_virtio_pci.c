// SPDX-License-Identifier: GPL-2.0
/*
 * The modern virtio-pci transport, driven the way Linux 6.1 drives it
 * (drivers/virtio/virtio_pci_modern*.c, drivers/pci/msi), plus everything a
 * hostile guest might write instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/pci_cfg.h"
#include "virtio/virtio_pci.h"
#include "virtio/virtio_scsi.h"

#define APIC_ID 1
#define RAM_SIZE 0x10000000ull /* 256 MiB */
#define DEVFN PCI_DEVFN(3, 0)
#define BAR4_GPA 0xFE000000ull
#define BAR1_GPA 0xFE004000ull
#define REQUEST_QUEUES 2
#define NR_QUEUES (REQUEST_QUEUES + 2)
#define QSIZE 128
#define OFFERED                                    \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) |          \
	 VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX))
#define MSI_ADDR (0xFEE00000u | APIC_ID << 12)
#define VECTOR(v) (0x30u + (v)) /* the IDT vector the guest gives MSI-X v */

#define C(field) VIRTIO_PCI_COMMON_##field
#define STATUS_FEATURES                                     \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | \
	 VIRTIO_STATUS_FEATURES_OK)
#define STATUS_LIVE (STATUS_FEATURES | VIRTIO_STATUS_DRIVER_OK)

/* what the callbacks saw */
struct rec {
	struct virtio_pci_dev *dev;
	bool reset_in_stop; /* the backend stops at once */
	unsigned int starts;
	unsigned int stops;
	unsigned int kicks;
	unsigned int last_kick;
	struct virtio_start start;
	unsigned int delivered;
	uint64_t addr;
	uint32_t data;
};

struct fx {
	struct virtio_pci_dev dev;
	struct pci_bus bus;
	struct rec rec;
};

static void on_start(void *ctx, const struct virtio_start *s)
{
	struct rec *r = ctx;

	r->starts++;
	r->start = *s;
}

static void on_stop(void *ctx)
{
	struct rec *r = ctx;

	r->stops++;
	if (r->reset_in_stop)
		assert_int_equal(virtio_pci_reset_done(r->dev), 0);
}

static void on_kick(void *ctx, unsigned int q)
{
	struct rec *r = ctx;

	r->kicks++;
	r->last_kick = q;
}

static void on_deliver(void *ctx, uint64_t addr, uint32_t data)
{
	struct rec *r = ctx;

	r->delivered++;
	r->addr = addr;
	r->data = data;
}

static const struct virtio_pci_ops ops = {
	.start = on_start,
	.stop = on_stop,
	.kick = on_kick,
	.deliver = on_deliver,
};

static void fx_init(struct fx *f)
{
	const struct virtio_scsi_params p = { REQUEST_QUEUES, QSIZE };

	memset(f, 0, sizeof(*f));
	f->rec.dev = &f->dev;
	assert_int_equal(
		virtio_scsi_init(&f->dev, &p, RAM_SIZE, APIC_ID, &ops, &f->rec),
		0);
	pci_bus_init(&f->bus);
	assert_int_equal(pci_bus_add(&f->bus, DEVFN, &f->dev.cfg,
				     virtio_pci_cfg_write, &f->dev),
			 0);
}

/* ---- configuration mechanism #1, with the read hook keel's bus calls ---- */

static void select_reg(struct fx *f, unsigned int reg)
{
	assert_int_equal(
		pci_bus_io_write(&f->bus, 0xCF8, 4,
				 0x80000000u | DEVFN << 8 | (reg & 0xFC)),
		0);
}

static uint32_t cfg_rd(struct fx *f, unsigned int reg, unsigned int size)
{
	uint32_t v;

	select_reg(f, reg);
	virtio_pci_cfg_read(&f->dev, reg, size);
	assert_int_equal(pci_bus_io_read(&f->bus, (uint16_t)(0xCFC + (reg & 3)),
					 size, &v),
			 0);
	return v;
}

static void cfg_wr(struct fx *f, unsigned int reg, unsigned int size,
		   uint32_t val)
{
	select_reg(f, reg);
	assert_int_equal(pci_bus_io_write(&f->bus,
					  (uint16_t)(0xCFC + (reg & 3)), size,
					  val),
			 0);
}

/* ---- MMIO by guest-physical address, as keel's EPT exit path does ---- */

static uint64_t mmio_rd(struct fx *f, uint64_t gpa, unsigned int size)
{
	unsigned int bar;
	uint64_t off, v;

	assert_int_equal(virtio_pci_bar_at(&f->dev, gpa, &bar, &off), 0);
	assert_int_equal(virtio_pci_bar_read(&f->dev, bar, off, size, &v), 0);
	return v;
}

static void mmio_wr(struct fx *f, uint64_t gpa, unsigned int size, uint64_t val)
{
	unsigned int bar;
	uint64_t off;

	assert_int_equal(virtio_pci_bar_at(&f->dev, gpa, &bar, &off), 0);
	assert_int_equal(virtio_pci_bar_write(&f->dev, bar, off, size, val), 0);
}

static uint64_t common_rd(struct fx *f, unsigned int off, unsigned int size)
{
	uint64_t v;

	assert_int_equal(
		virtio_pci_bar_read(&f->dev, VIRTIO_PCI_BAR, off, size, &v), 0);
	return v;
}

static void common_wr(struct fx *f, unsigned int off, unsigned int size,
		      uint64_t val)
{
	assert_int_equal(
		virtio_pci_bar_write(&f->dev, VIRTIO_PCI_BAR, off, size, val),
		0);
}

static uint64_t stats_sum(const struct virtio_pci_stats *s)
{
	const uint64_t *w = (const uint64_t *)s;
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < sizeof(*s) / sizeof(*w); i++)
		sum += w[i];
	return sum;
}

/*
 * A refused write: -1, exactly one count in *counter, no callback, and the
 * device byte for byte as it was apart from its statistics.
 */
static void expect_refused(struct fx *f, unsigned int bar, uint64_t off,
			   unsigned int size, uint64_t val,
			   const uint64_t *counter)
{
	static struct virtio_pci_dev before;
	struct rec rec = f->rec;
	uint64_t n = *counter, sum = stats_sum(&f->dev.stats);

	memcpy(&before, &f->dev, sizeof(before));
	assert_int_equal(virtio_pci_bar_write(&f->dev, bar, off, size, val),
			 -1);
	assert_int_equal(*counter, n + 1);
	assert_int_equal(stats_sum(&f->dev.stats), sum + 1);
	memcpy(&before.stats, &f->dev.stats, sizeof(before.stats));
	assert_memory_equal(&before, &f->dev, sizeof(before));
	assert_memory_equal(&rec, &f->rec, sizeof(rec));
}

static void expect_refused_read(struct fx *f, unsigned int bar, uint64_t off,
				unsigned int size)
{
	uint64_t n = f->dev.stats.bad_access, v = 0;

	assert_int_equal(virtio_pci_bar_read(&f->dev, bar, off, size, &v), -1);
	assert_true(v == ~0ull);
	assert_int_equal(f->dev.stats.bad_access, n + 1);
}

/* ---- the Linux driver's steps ---- */

static uint64_t ring_base(unsigned int q)
{
	return 0x100000 + 0x10000ull * q;
}

/* pci_assign_resource() and pci_enable_device() + pci_set_master() */
static void assign_bars(struct fx *f)
{
	cfg_wr(f, PCI_CFG_BAR0 + 4 * VIRTIO_PCI_MSIX_BAR, 4,
	       (uint32_t)BAR1_GPA);
	cfg_wr(f, PCI_CFG_BAR0 + 4 * VIRTIO_PCI_BAR, 4, (uint32_t)BAR4_GPA);
	cfg_wr(f, PCI_CFG_BAR0 + 4 * VIRTIO_PCI_BAR + 4, 4,
	       (uint32_t)(BAR4_GPA >> 32));
	cfg_wr(f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
}

static uint64_t msix_entry(unsigned int v)
{
	return BAR1_GPA + VIRTIO_PCI_OFF_MSIX_TABLE +
	       VIRTIO_PCI_MSIX_ENTRY_SIZE * v;
}

static void msix_program(struct fx *f, unsigned int v, uint32_t addr,
			 uint32_t data, uint32_t ctrl)
{
	mmio_wr(f, msix_entry(v) + VIRTIO_PCI_MSIX_ADDR_LO, 4, addr);
	mmio_wr(f, msix_entry(v) + VIRTIO_PCI_MSIX_ADDR_HI, 4, 0);
	mmio_wr(f, msix_entry(v) + VIRTIO_PCI_MSIX_DATA, 4, data);
	mmio_wr(f, msix_entry(v) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, ctrl);
}

static unsigned int msix_ctrl_reg(struct fx *f)
{
	return f->dev.msix_cap + VIRTIO_PCI_MSIX_CTRL;
}

/* msix_capability_init(): enable with everything masked, fill, unmask */
static void msix_setup(struct fx *f)
{
	unsigned int v, n = f->dev.msix_size;

	cfg_wr(f, msix_ctrl_reg(f), 2,
	       VIRTIO_PCI_MSIX_CTRL_ENABLE | VIRTIO_PCI_MSIX_CTRL_MASKALL);
	for (v = 0; v < n; v++)
		msix_program(f, v, MSI_ADDR, VECTOR(v), 0);
	cfg_wr(f, msix_ctrl_reg(f), 2, VIRTIO_PCI_MSIX_CTRL_ENABLE);
}

static void add_status(struct fx *f, uint8_t bits)
{
	common_wr(f, C(STATUS), 1, common_rd(f, C(STATUS), 1) | bits);
}

static void write_features(struct fx *f, uint64_t features)
{
	common_wr(f, C(GFSELECT), 4, 0);
	common_wr(f, C(GF), 4, (uint32_t)features);
	common_wr(f, C(GFSELECT), 4, 1);
	common_wr(f, C(GF), 4, (uint32_t)(features >> 32));
}

/* reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; the status read back */
static uint8_t negotiate(struct fx *f, uint64_t features)
{
	common_wr(f, C(STATUS), 1, 0);
	assert_int_equal(common_rd(f, C(STATUS), 1), 0);
	add_status(f, VIRTIO_STATUS_ACKNOWLEDGE);
	add_status(f, VIRTIO_STATUS_DRIVER);
	write_features(f, features);
	/* refused when the device rejects the features: hence the re-read */
	virtio_pci_bar_write(&f->dev, VIRTIO_PCI_BAR, C(STATUS), 1,
			     common_rd(f, C(STATUS), 1) |
				     VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)common_rd(f, C(STATUS), 1);
}

static void queue_rings(struct fx *f, uint64_t desc, uint64_t avail,
			uint64_t used)
{
	common_wr(f, C(Q_DESCLO), 4, (uint32_t)desc);
	common_wr(f, C(Q_DESCHI), 4, (uint32_t)(desc >> 32));
	common_wr(f, C(Q_AVAILLO), 4, (uint32_t)avail);
	common_wr(f, C(Q_AVAILHI), 4, (uint32_t)(avail >> 32));
	common_wr(f, C(Q_USEDLO), 4, (uint32_t)used);
	common_wr(f, C(Q_USEDHI), 4, (uint32_t)(used >> 32));
}

/* setup_vq(): size, rings, vector (read back), not yet enabled */
static void setup_queue(struct fx *f, unsigned int q, uint16_t size,
			uint16_t vector)
{
	uint64_t base = ring_base(q);

	common_wr(f, C(Q_SELECT), 2, q);
	assert_int_equal(common_rd(f, C(Q_SIZE), 2), QSIZE);
	common_wr(f, C(Q_SIZE), 2, size);
	queue_rings(f, base, base + 0x4000, base + 0x8000);
	common_wr(f, C(Q_MSIX), 2, vector);
	assert_int_equal(common_rd(f, C(Q_MSIX), 2), vector);
}

static void enable_queue(struct fx *f, unsigned int q)
{
	common_wr(f, C(Q_SELECT), 2, q);
	common_wr(f, C(Q_ENABLE), 2, 1);
}

/* what precedes the queues: BARs, MSI-X, features, configuration vector 0 */
static void prepare(struct fx *f)
{
	assign_bars(f);
	msix_setup(f);
	assert_int_equal(negotiate(f, OFFERED), STATUS_FEATURES);
	common_wr(f, C(MSIX), 2, 0);
}

/* everything up to DRIVER_OK: queue q gets MSI-X vector q + 1 */
static void bring_up(struct fx *f)
{
	unsigned int q;

	prepare(f);
	for (q = 0; q < NR_QUEUES; q++)
		setup_queue(f, q, QSIZE, (uint16_t)(q + 1));
	for (q = 0; q < NR_QUEUES; q++)
		enable_queue(f, q);
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f->rec.starts, 1);
}

static void notify(struct fx *f, unsigned int q, unsigned int size)
{
	common_wr(f, VIRTIO_PCI_OFF_NOTIFY + VIRTIO_PCI_NOTIFY_MULT * q, size,
		  q);
}

/* ---- identity, BARs, capabilities ---- */

static void test_identity(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(cfg_rd(&f, PCI_CFG_VENDOR_ID, 2), 0x1AF4);
	assert_int_equal(cfg_rd(&f, PCI_CFG_DEVICE_ID, 2), 0x1048);
	assert_int_equal(cfg_rd(&f, PCI_CFG_REVISION, 1), 1);
	assert_int_equal(cfg_rd(&f, PCI_CFG_REVISION, 4) >> 8, 0x010000);
	assert_int_equal(cfg_rd(&f, PCI_CFG_SUBSYS_VENDOR, 2), 0x1AF4);
	assert_true(cfg_rd(&f, PCI_CFG_SUBSYS_ID, 2) >= 0x40);
	assert_int_equal(cfg_rd(&f, PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(cfg_rd(&f, PCI_CFG_INT_PIN, 1), 0);
	assert_true(cfg_rd(&f, PCI_CFG_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* BAR1 32-bit memory, BAR4 64-bit non-prefetchable memory */
	assert_int_equal(cfg_rd(&f, PCI_CFG_BAR0 + 4, 4), 0);
	assert_int_equal(cfg_rd(&f, PCI_CFG_BAR0 + 16, 4), 0x4);
}

/* __pci_read_base(): all ones, read back, restore */
static uint64_t bar_size(struct fx *f, unsigned int bar, bool is64)
{
	unsigned int reg = PCI_CFG_BAR0 + 4 * bar;
	uint64_t mask;

	cfg_wr(f, reg, 4, 0xFFFFFFFF);
	mask = cfg_rd(f, reg, 4) & ~0xFull;
	cfg_wr(f, reg, 4, 0);
	if (is64) {
		cfg_wr(f, reg + 4, 4, 0xFFFFFFFF);
		mask |= (uint64_t)cfg_rd(f, reg + 4, 4) << 32;
		cfg_wr(f, reg + 4, 4, 0);
	} else {
		mask |= 0xFFFFFFFF00000000ull;
	}
	return ~mask + 1;
}

static void test_bar_sizing(void **state)
{
	struct fx f;
	unsigned int bar;

	(void)state;
	fx_init(&f);
	assert_int_equal(bar_size(&f, VIRTIO_PCI_MSIX_BAR, false), 0x1000);
	assert_int_equal(bar_size(&f, VIRTIO_PCI_BAR, true), 0x4000);
	for (bar = 0; bar < 6; bar++) {
		if (bar == 1 || bar == 4 || bar == 5)
			continue;
		cfg_wr(&f, PCI_CFG_BAR0 + 4 * bar, 4, 0xFFFFFFFF);
		assert_int_equal(cfg_rd(&f, PCI_CFG_BAR0 + 4 * bar, 4), 0);
	}
	assign_bars(&f);
	assert_true(pci_cfg_bar_addr(&f.dev.cfg, 1) == BAR1_GPA);
	assert_true(pci_cfg_bar_addr(&f.dev.cfg, 4) == BAR4_GPA);
	/* a 64-bit BAR placed above 4 GiB */
	cfg_wr(&f, PCI_CFG_BAR0 + 20, 4, 0x1);
	assert_true(pci_cfg_bar_addr(&f.dev.cfg, 4) == (BAR4_GPA | 1ull << 32));
}

struct found_caps {
	unsigned int vndr[6]; /* config offset of the first of each type */
	unsigned int msix;
	unsigned int count;
};

/* virtio_pci_find_capability() over the whole list */
static void walk_caps(struct fx *f, struct found_caps *fc)
{
	unsigned int pos = cfg_rd(f, PCI_CFG_CAP_PTR, 1), hops = 0;

	memset(fc, 0, sizeof(*fc));
	while (pos) {
		unsigned int id = cfg_rd(f, pos, 1);

		assert_true(pos >= 0x40 && pos <= 0xFC && !(pos & 3));
		assert_true(++hops < 48);
		if (id == VIRTIO_PCI_CAP_MSIX) {
			fc->msix = pos;
		} else {
			unsigned int type;

			assert_int_equal(id, VIRTIO_PCI_CAP_VNDR);
			type = cfg_rd(f, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			assert_true(type >= 1 && type <= 5);
			if (!fc->vndr[type])
				fc->vndr[type] = pos;
		}
		fc->count++;
		pos = cfg_rd(f, pos + 1, 1);
	}
}

static void expect_region(struct fx *f, unsigned int cap, uint32_t offset,
			  uint32_t length)
{
	assert_int_equal(cfg_rd(f, cap + VIRTIO_PCI_CAP_BAR, 1),
			 VIRTIO_PCI_BAR);
	assert_int_equal(cfg_rd(f, cap + VIRTIO_PCI_CAP_OFFSET, 4), offset);
	assert_int_equal(cfg_rd(f, cap + VIRTIO_PCI_CAP_LENGTH, 4), length);
}

static void test_capability_list(void **state)
{
	struct found_caps fc;
	struct fx f;
	uint32_t table, pba;

	(void)state;
	fx_init(&f);
	walk_caps(&f, &fc);
	assert_int_equal(fc.count, 6);
	assert_int_equal(cfg_rd(&f, fc.vndr[1] + VIRTIO_PCI_CAP_LEN, 1), 16);
	expect_region(&f, fc.vndr[VIRTIO_PCI_CAP_COMMON_CFG], 0x0000, 56);
	expect_region(&f, fc.vndr[VIRTIO_PCI_CAP_ISR_CFG], 0x1000, 1);
	expect_region(&f, fc.vndr[VIRTIO_PCI_CAP_DEVICE_CFG], 0x2000, 36);
	expect_region(&f, fc.vndr[VIRTIO_PCI_CAP_NOTIFY_CFG], 0x3000,
		      4 * NR_QUEUES);
	assert_int_equal(cfg_rd(&f,
				fc.vndr[VIRTIO_PCI_CAP_NOTIFY_CFG] +
					VIRTIO_PCI_NOTIFY_CAP_MULT,
				4),
			 4);
	assert_int_equal(
		cfg_rd(&f,
		       fc.vndr[VIRTIO_PCI_CAP_NOTIFY_CFG] + VIRTIO_PCI_CAP_LEN,
		       1),
		20);
	assert_int_equal(
		cfg_rd(&f, fc.vndr[VIRTIO_PCI_CAP_PCI_CFG] + VIRTIO_PCI_CAP_LEN,
		       1),
		20);
	/* MSI-X: table size N - 1 = queues, table and PBA in BAR1 */
	assert_int_equal(cfg_rd(&f, fc.msix + VIRTIO_PCI_MSIX_CTRL, 2),
			 NR_QUEUES);
	table = cfg_rd(&f, fc.msix + VIRTIO_PCI_MSIX_TABLE_BIR, 4);
	pba = cfg_rd(&f, fc.msix + VIRTIO_PCI_MSIX_PBA_BIR, 4);
	assert_int_equal(table, 0x000 | 1);
	assert_int_equal(pba, 0x800 | 1);
	/* only enable and mask-all are writable in Message Control */
	cfg_wr(&f, fc.msix + VIRTIO_PCI_MSIX_CTRL, 2, 0xFFFF);
	assert_int_equal(cfg_rd(&f, fc.msix + VIRTIO_PCI_MSIX_CTRL, 2),
			 0xC000 | NR_QUEUES);
	/* capability bodies are read-only */
	cfg_wr(&f, fc.vndr[1] + VIRTIO_PCI_CAP_OFFSET, 4, 0x1234);
	assert_int_equal(cfg_rd(&f, fc.vndr[1] + VIRTIO_PCI_CAP_OFFSET, 4), 0);
}

/* ---- the Linux probe, start, kick, interrupt ---- */

static void test_linux_probe(void **state)
{
	struct found_caps fc;
	struct fx f;
	uint64_t common, notify_base, device, features;
	uint32_t mult;
	unsigned int q, v;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	walk_caps(&f, &fc);
	common = BAR4_GPA + cfg_rd(&f, fc.vndr[1] + VIRTIO_PCI_CAP_OFFSET, 4);
	notify_base =
		BAR4_GPA + cfg_rd(&f, fc.vndr[2] + VIRTIO_PCI_CAP_OFFSET, 4);
	mult = cfg_rd(&f, fc.vndr[2] + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
	device = BAR4_GPA + cfg_rd(&f, fc.vndr[4] + VIRTIO_PCI_CAP_OFFSET, 4);

	/* vp_reset(), then ACKNOWLEDGE and DRIVER */
	mmio_wr(&f, common + C(STATUS), 1, 0);
	assert_int_equal(mmio_rd(&f, common + C(STATUS), 1), 0);
	mmio_wr(&f, common + C(STATUS), 1, 1);
	mmio_wr(&f, common + C(STATUS), 1, 3);

	/* vp_get_features() */
	mmio_wr(&f, common + C(DFSELECT), 4, 0);
	features = mmio_rd(&f, common + C(DF), 4);
	mmio_wr(&f, common + C(DFSELECT), 4, 1);
	features |= mmio_rd(&f, common + C(DF), 4) << 32;
	assert_true(features == OFFERED);

	/* vp_finalize_features(), virtio_features_ok() */
	mmio_wr(&f, common + C(GFSELECT), 4, 0);
	mmio_wr(&f, common + C(GF), 4, (uint32_t)features);
	mmio_wr(&f, common + C(GFSELECT), 4, 1);
	mmio_wr(&f, common + C(GF), 4, (uint32_t)(features >> 32));
	mmio_wr(&f, common + C(STATUS), 1, 0xB);
	assert_int_equal(mmio_rd(&f, common + C(STATUS), 1), 0xB);

	/* virtscsi_probe() reads its configuration */
	assert_int_equal(mmio_rd(&f, device + VIRTIO_SCSI_CFG_NUM_QUEUES, 4),
			 REQUEST_QUEUES);
	assert_int_equal(mmio_rd(&f, device + VIRTIO_SCSI_CFG_SEG_MAX, 4),
			 QSIZE - 2);
	assert_int_equal(mmio_rd(&f, device + VIRTIO_SCSI_CFG_MAX_TARGET, 2),
			 255);

	/* vp_find_vqs_msix(): MSI-X on, config vector 0, one per queue */
	msix_setup(&f);
	mmio_wr(&f, common + C(MSIX), 2, 0);
	assert_int_equal(mmio_rd(&f, common + C(MSIX), 2), 0);
	assert_int_equal(mmio_rd(&f, common + C(NUMQ), 2), NR_QUEUES);
	for (q = 0; q < NR_QUEUES; q++) {
		uint64_t base = ring_base(q);

		mmio_wr(&f, common + C(Q_SELECT), 2, q);
		assert_int_equal(mmio_rd(&f, common + C(Q_SIZE), 2), QSIZE);
		assert_int_equal(mmio_rd(&f, common + C(Q_ENABLE), 2), 0);
		mmio_wr(&f, common + C(Q_SIZE), 2, QSIZE);
		mmio_wr(&f, common + C(Q_DESCLO), 4, (uint32_t)base);
		mmio_wr(&f, common + C(Q_DESCHI), 4, 0);
		mmio_wr(&f, common + C(Q_AVAILLO), 4,
			(uint32_t)(base + 0x4000));
		mmio_wr(&f, common + C(Q_AVAILHI), 4, 0);
		mmio_wr(&f, common + C(Q_USEDLO), 4, (uint32_t)(base + 0x8000));
		mmio_wr(&f, common + C(Q_USEDHI), 4, 0);
		assert_int_equal(mmio_rd(&f, common + C(Q_NOFF), 2), q);
		mmio_wr(&f, common + C(Q_MSIX), 2, q + 1);
		assert_int_equal(mmio_rd(&f, common + C(Q_MSIX), 2), q + 1);
	}
	for (q = 0; q < NR_QUEUES; q++) {
		mmio_wr(&f, common + C(Q_SELECT), 2, q);
		mmio_wr(&f, common + C(Q_ENABLE), 2, 1);
		assert_int_equal(mmio_rd(&f, common + C(Q_ENABLE), 2), 1);
	}
	/* virtscsi_init() sets the header sizes it was built with */
	mmio_wr(&f, device + VIRTIO_SCSI_CFG_CDB_SIZE, 4, 32);
	mmio_wr(&f, device + VIRTIO_SCSI_CFG_SENSE_SIZE, 4, 96);
	assert_int_equal(f.rec.starts, 0);

	/* virtio_device_ready() */
	mmio_wr(&f, common + C(STATUS), 1, 0xF);
	assert_int_equal(mmio_rd(&f, common + C(STATUS), 1), 0xF);
	assert_int_equal(f.rec.starts, 1);
	assert_true(f.rec.start.features == OFFERED);
	assert_int_equal(f.rec.start.nr_queues, NR_QUEUES);
	for (q = 0; q < NR_QUEUES; q++) {
		const struct virtio_start_queue *sq = &f.rec.start.queue[q];

		assert_int_equal(sq->index, q);
		assert_int_equal(sq->size, QSIZE);
		assert_int_equal(sq->msix_vector, q + 1);
		assert_true(sq->desc == ring_base(q));
		assert_true(sq->avail == ring_base(q) + 0x4000);
		assert_true(sq->used == ring_base(q) + 0x8000);
	}

	/* vp_notify() on the first request queue */
	mmio_wr(&f, notify_base + 2 * mult, 2, 2);
	assert_int_equal(f.rec.kicks, 1);
	assert_int_equal(f.rec.last_kick, 2);
	assert_int_equal(f.dev.stats.kicks, 1);

	/* its completion: the backend raises queue 2's vector */
	v = f.rec.start.queue[2].msix_vector;
	assert_int_equal(virtio_pci_raise(&f.dev, v), VIRTIO_IRQ_DELIVERED);
	assert_int_equal(f.rec.delivered, 1);
	assert_true(f.rec.addr == MSI_ADDR);
	assert_int_equal(f.rec.data, VECTOR(v));
	assert_int_equal(stats_sum(&f.dev.stats), 2); /* kick, delivery */
}

static void test_start_skips_disabled_queues(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	assert_int_equal(negotiate(&f, VIRTIO_BIT(VIRTIO_F_VERSION_1)),
			 STATUS_FEATURES);
	/* like SeaBIOS: the first request queue only, smaller, no vector */
	setup_queue(&f, 2, 16, VIRTIO_NO_VECTOR);
	enable_queue(&f, 2);
	add_status(&f, VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f.rec.starts, 1);
	assert_true(f.rec.start.features == VIRTIO_BIT(VIRTIO_F_VERSION_1));
	assert_int_equal(f.rec.start.nr_queues, 1);
	assert_int_equal(f.rec.start.queue[0].index, 2);
	assert_int_equal(f.rec.start.queue[0].size, 16);
	assert_int_equal(f.rec.start.queue[0].msix_vector, VIRTIO_NO_VECTOR);
	/* a kick on a queue that was not enabled goes nowhere */
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 4 * 3, 2, 3,
		       &f.dev.stats.bad_notify);
	notify(&f, 2, 2);
	assert_int_equal(f.rec.last_kick, 2);
}

/* ---- reset ---- */

static void test_reset_while_started(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(f.rec.stops, 1);
	/* the backend may still complete into the used rings */
	assert_int_equal(common_rd(&f, C(STATUS), 1), STATUS_LIVE);
	assert_true(f.dev.reset_pending);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_SELECT), 2, 2,
		       &f.dev.stats.busy);
	assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 1);
	/* no kicks for a stopping backend */
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 2, 2,
		       &f.dev.stats.bad_notify);
	/* completions flushed by CLEAR_ENDPOINT still reach the guest */
	assert_int_equal(virtio_pci_raise(&f.dev, 3), VIRTIO_IRQ_DELIVERED);

	assert_int_equal(virtio_pci_reset_done(&f.dev), 0);
	assert_int_equal(common_rd(&f, C(STATUS), 1), 0);
	assert_int_equal(f.rec.stops, 1);
	assert_int_equal(f.rec.starts, 1);
	assert_false(f.dev.started || f.dev.reset_pending);
}

static void test_busy_refuses_every_write(void **state)
{
	struct fx f;
	const uint64_t *busy;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	busy = &f.dev.stats.busy;
	common_wr(&f, C(STATUS), 1, 0);
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1, 1, busy);
	expect_refused(&f, VIRTIO_PCI_BAR, C(DFSELECT), 4, 1, busy);
	expect_refused(&f, VIRTIO_PCI_BAR, C(GF), 4, 0, busy);
	expect_refused(&f, VIRTIO_PCI_BAR, C(MSIX), 2, 1, busy);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_SIZE), 2, 64, busy);
	expect_refused(&f, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_CDB_SIZE, 4, 32,
		       busy);
	/* a second reset is the same reset */
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(f.rec.stops, 1);
	assert_int_equal(common_rd(&f, C(STATUS), 1), STATUS_LIVE);
}

static void test_restart_after_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(virtio_pci_reset_done(&f.dev), 0);

	/* the driver comes back with other rings and one queue fewer */
	assert_int_equal(negotiate(&f, OFFERED), STATUS_FEATURES);
	common_wr(&f, C(MSIX), 2, 0);
	setup_queue(&f, 0, 64, 1);
	setup_queue(&f, 2, QSIZE, 2);
	queue_rings(&f, 0x200000, 0x201000, 0x202000);
	enable_queue(&f, 0);
	enable_queue(&f, 2);
	add_status(&f, VIRTIO_STATUS_DRIVER_OK);
	assert_int_equal(f.rec.starts, 2);
	assert_int_equal(f.rec.start.nr_queues, 2);
	assert_int_equal(f.rec.start.queue[0].size, 64);
	assert_int_equal(f.rec.start.queue[1].index, 2);
	assert_int_equal(f.rec.start.queue[1].msix_vector, 2);
	assert_true(f.rec.start.queue[1].desc == 0x200000);
	assert_true(f.rec.start.queue[1].avail == 0x201000);
	assert_true(f.rec.start.queue[1].used == 0x202000);
	notify(&f, 0, 2);
	assert_int_equal(f.rec.kicks, 1);
}

static void test_reset_not_started(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	assert_int_equal(negotiate(&f, OFFERED), STATUS_FEATURES);
	setup_queue(&f, 0, 32, 1);
	enable_queue(&f, 0);
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(common_rd(&f, C(STATUS), 1), 0);
	assert_int_equal(f.rec.stops, 0);
	common_wr(&f, C(Q_SELECT), 2, 0);
	assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 0);
	assert_int_equal(common_rd(&f, C(Q_SIZE), 2), QSIZE);
	assert_int_equal(virtio_pci_reset_done(&f.dev), -1);
}

static void test_reset_done_from_stop(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	f.rec.reset_in_stop = true;
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(f.rec.stops, 1);
	assert_int_equal(common_rd(&f, C(STATUS), 1), 0);
	assert_int_equal(virtio_pci_reset_done(&f.dev), -1);
}

static void test_reset_state(void **state)
{
	struct fx f;
	unsigned int q;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	cfg_wr(&f, msix_ctrl_reg(&f), 2,
	       VIRTIO_PCI_MSIX_CTRL_ENABLE | VIRTIO_PCI_MSIX_CTRL_MASKALL);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_PENDING);
	common_wr(&f, C(DFSELECT), 4, 1);
	common_wr(&f, C(Q_SELECT), 2, 3);
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(virtio_pci_reset_done(&f.dev), 0);

	assert_int_equal(common_rd(&f, C(DFSELECT), 4), 0);
	assert_int_equal(common_rd(&f, C(GFSELECT), 4), 0);
	assert_int_equal(common_rd(&f, C(GF), 4), 0);
	assert_int_equal(common_rd(&f, C(Q_SELECT), 2), 0);
	assert_int_equal(common_rd(&f, C(MSIX), 2), VIRTIO_NO_VECTOR);
	for (q = 0; q < NR_QUEUES; q++) {
		common_wr(&f, C(Q_SELECT), 2, q);
		assert_int_equal(common_rd(&f, C(Q_SIZE), 2), QSIZE);
		assert_int_equal(common_rd(&f, C(Q_MSIX), 2), VIRTIO_NO_VECTOR);
		assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 0);
		assert_int_equal(common_rd(&f, C(Q_DESCLO), 4), 0);
		assert_int_equal(common_rd(&f, C(Q_USEDLO), 4), 0);
	}
	/* like QEMU: pending bits go, the table and Message Control stay */
	assert_int_equal(mmio_rd(&f, BAR1_GPA + VIRTIO_PCI_OFF_MSIX_PBA, 8), 0);
	assert_int_equal(mmio_rd(&f, msix_entry(1) + VIRTIO_PCI_MSIX_DATA, 4),
			 VECTOR(1));
	assert_int_equal(cfg_rd(&f, msix_ctrl_reg(&f), 2), 0xC000 | NR_QUEUES);
	cfg_wr(&f, msix_ctrl_reg(&f), 2, VIRTIO_PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(f.rec.delivered, 0);
}

/* ---- features and status ---- */

static void test_device_features(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(common_rd(&f, C(DF), 4), 0x30000000);
	common_wr(&f, C(DFSELECT), 4, 1);
	assert_int_equal(common_rd(&f, C(DF), 4), 0x1);
	common_wr(&f, C(DFSELECT), 4, 2);
	assert_int_equal(common_rd(&f, C(DF), 4), 0);
	common_wr(&f, C(DFSELECT), 4, 0xFFFFFFFF);
	assert_int_equal(common_rd(&f, C(DFSELECT), 4), 0xFFFFFFFF);
	assert_int_equal(common_rd(&f, C(DF), 4), 0);
}

static void test_features_not_offered(void **state)
{
	static const uint64_t bad[] = {
		OFFERED | VIRTIO_BIT(1), /* SCSI_F_HOTPLUG */
		OFFERED | VIRTIO_BIT(33), /* ACCESS_PLATFORM */
		OFFERED | VIRTIO_BIT(34), /* RING_PACKED */
		OFFERED | VIRTIO_BIT(27), /* ANY_LAYOUT */
	};
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		common_wr(&f, C(STATUS), 1, 0);
		common_wr(&f, C(STATUS), 1, 3);
		write_features(&f, bad[i]);
		expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1,
			       STATUS_FEATURES, &f.dev.stats.bad_features);
		assert_int_equal(common_rd(&f, C(STATUS), 1), 3);
	}
	assert_int_equal(f.dev.stats.bad_features, 4);
}

static void test_features_without_version_1(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(
		negotiate(&f, OFFERED & ~VIRTIO_BIT(VIRTIO_F_VERSION_1)), 3);
	assert_int_equal(f.dev.stats.bad_features, 1);
	/* and with it the same driver gets through */
	write_features(&f, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	add_status(&f, VIRTIO_STATUS_FEATURES_OK);
	assert_int_equal(common_rd(&f, C(STATUS), 1), STATUS_FEATURES);
}

static void test_features_locked(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assert_int_equal(negotiate(&f, VIRTIO_BIT(VIRTIO_F_VERSION_1)),
			 STATUS_FEATURES);
	common_wr(&f, C(GFSELECT), 4, 0);
	expect_refused(&f, VIRTIO_PCI_BAR, C(GF), 4, 0x30000000,
		       &f.dev.stats.bad_features);
	common_wr(&f, C(GFSELECT), 4, 1);
	expect_refused(&f, VIRTIO_PCI_BAR, C(GF), 4, 0,
		       &f.dev.stats.bad_features);
	assert_int_equal(common_rd(&f, C(GF), 4), 1);
}

static void test_driver_feature_select_high(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	common_wr(&f, C(GFSELECT), 4, 2);
	common_wr(&f, C(GF), 4, 0);
	expect_refused(&f, VIRTIO_PCI_BAR, C(GF), 4, 1,
		       &f.dev.stats.bad_features);
	assert_int_equal(common_rd(&f, C(GF), 4), 0);
	assert_int_equal(common_rd(&f, C(GFSELECT), 4), 2);
}

static void test_status_clearing_refused(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1,
		       STATUS_LIVE & ~VIRTIO_STATUS_DRIVER_OK,
		       &f.dev.stats.bad_status);
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1, VIRTIO_STATUS_FAILED,
		       &f.dev.stats.bad_status);
	/* FAILED on top is allowed; the device stays started */
	add_status(&f, VIRTIO_STATUS_FAILED);
	assert_int_equal(common_rd(&f, C(STATUS), 1),
			 STATUS_LIVE | VIRTIO_STATUS_FAILED);
	assert_int_equal(f.rec.stops, 0);
	/* re-writing the same status starts nothing twice */
	add_status(&f, 0);
	assert_int_equal(f.rec.starts, 1);
}

static void test_status_order_refused(void **state)
{
	struct fx f;
	const uint64_t *bad;

	(void)state;
	fx_init(&f);
	bad = &f.dev.stats.bad_status;
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1, VIRTIO_STATUS_DRIVER,
		       bad);
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1,
		       VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_ACKNOWLEDGE,
		       bad);
	common_wr(&f, C(STATUS), 1, VIRTIO_STATUS_ACKNOWLEDGE);
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1,
		       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_FEATURES_OK,
		       bad);
	write_features(&f, OFFERED);
	common_wr(&f, C(STATUS), 1, 3);
	/* DRIVER_OK without FEATURES_OK */
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1,
		       3 | VIRTIO_STATUS_DRIVER_OK, bad);
	assert_int_equal(f.rec.starts, 0);
	/* ACKNOWLEDGE | DRIVER in one write, as SeaBIOS does, is fine */
	common_wr(&f, C(STATUS), 1, 0);
	common_wr(&f, C(STATUS), 1, 3);
	assert_int_equal(common_rd(&f, C(STATUS), 1), 3);
}

/* ---- queues ---- */

static void test_queue_size(void **state)
{
	struct fx f;
	unsigned int q;

	(void)state;
	fx_init(&f);
	for (q = 0; q < NR_QUEUES; q++) {
		common_wr(&f, C(Q_SELECT), 2, q);
		assert_int_equal(common_rd(&f, C(Q_SIZE), 2), QSIZE);
		assert_int_equal(common_rd(&f, C(Q_NOFF), 2), q);
		assert_int_equal(common_rd(&f, C(Q_MSIX), 2), VIRTIO_NO_VECTOR);
	}
	common_wr(&f, C(Q_SIZE), 2, 1);
	assert_int_equal(common_rd(&f, C(Q_SIZE), 2), 1);
	common_wr(&f, C(Q_SIZE), 2, 64);
	assert_int_equal(common_rd(&f, C(Q_SIZE), 2), 64);
	common_wr(&f, C(Q_SIZE), 2, QSIZE);
	assert_int_equal(common_rd(&f, C(Q_SIZE), 2), QSIZE);
}

static void test_queue_size_refused(void **state)
{
	static const uint16_t bad[] = { 0, 3, 96, 127, 2 * QSIZE, 0x8000 };
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	common_wr(&f, C(Q_SELECT), 2, 2);
	common_wr(&f, C(Q_SIZE), 2, 32);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(&f, VIRTIO_PCI_BAR, C(Q_SIZE), 2, bad[i],
			       &f.dev.stats.bad_queue_size);
	assert_int_equal(common_rd(&f, C(Q_SIZE), 2), 32);
}

static void test_vectors_beyond_table(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	common_wr(&f, C(Q_SELECT), 2, 1);
	common_wr(&f, C(Q_MSIX), 2, NR_QUEUES);
	assert_int_equal(common_rd(&f, C(Q_MSIX), 2), NR_QUEUES);
	common_wr(&f, C(Q_MSIX), 2, NR_QUEUES + 1);
	assert_int_equal(common_rd(&f, C(Q_MSIX), 2), VIRTIO_NO_VECTOR);
	common_wr(&f, C(MSIX), 2, 0x7FF);
	assert_int_equal(common_rd(&f, C(MSIX), 2), VIRTIO_NO_VECTOR);
	assert_int_equal(f.dev.stats.bad_vector, 2);
	common_wr(&f, C(MSIX), 2, VIRTIO_NO_VECTOR);
	common_wr(&f, C(Q_MSIX), 2, VIRTIO_NO_VECTOR);
	assert_int_equal(f.dev.stats.bad_vector, 2);
}

static void test_queue_enable_values(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	setup_queue(&f, 2, QSIZE, 3);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 0,
		       &f.dev.stats.bad_enable);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 2,
		       &f.dev.stats.bad_enable);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 0x8001,
		       &f.dev.stats.bad_enable);
	enable_queue(&f, 2);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 1,
		       &f.dev.stats.double_enable);
	/* 0 stays refused on an enabled queue: only a reset disables it */
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 0,
		       &f.dev.stats.bad_enable);
	assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 1);
}

static void test_queue_locked_after_enable(void **state)
{
	static const unsigned int regs[] = {
		C(Q_SIZE),    C(Q_MSIX),    C(Q_DESCLO), C(Q_DESCHI),
		C(Q_AVAILLO), C(Q_AVAILHI), C(Q_USEDLO), C(Q_USEDHI),
	};
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	setup_queue(&f, 3, QSIZE, 4);
	enable_queue(&f, 3);
	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		expect_refused(&f, VIRTIO_PCI_BAR, regs[i],
			       regs[i] < C(Q_DESCLO) ? 2 : 4, 0x40,
			       &f.dev.stats.queue_locked);
	/* another queue is still open */
	setup_queue(&f, 2, 64, 3);
}

static void test_queue_locked_after_driver_ok(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	assert_int_equal(negotiate(&f, OFFERED), STATUS_FEATURES);
	setup_queue(&f, 2, QSIZE, VIRTIO_NO_VECTOR);
	enable_queue(&f, 2);
	add_status(&f, VIRTIO_STATUS_DRIVER_OK);
	/* the backend was started without queue 3: it stays out */
	common_wr(&f, C(Q_SELECT), 2, 3);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_SIZE), 2, 64,
		       &f.dev.stats.queue_locked);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_DESCLO), 4, 0x300000,
		       &f.dev.stats.queue_locked);
	expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 1,
		       &f.dev.stats.queue_locked);
	assert_int_equal(f.rec.starts, 1);
}

/* enabling queue 2 with these rings is refused as bad_ring_addr */
static void expect_bad_rings(struct fx *f, uint64_t desc, uint64_t avail,
			     uint64_t used)
{
	queue_rings(f, desc, avail, used);
	expect_refused(f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 1,
		       &f->dev.stats.bad_ring_addr);
}

static void test_ring_bounds(void **state)
{
	const uint64_t desc = 0x100000, avail = 0x104000, used = 0x108000;
	const uint64_t desc_len = 16 * QSIZE, avail_len = 6 + 2 * QSIZE;
	const uint64_t used_len = 6 + 8 * QSIZE;
	struct fx f;

	(void)state;
	fx_init(&f);
	common_wr(&f, C(Q_SELECT), 2, 2);
	expect_bad_rings(&f, RAM_SIZE, avail, used);
	expect_bad_rings(&f, RAM_SIZE - desc_len + 16, avail, used);
	expect_bad_rings(&f, desc + 8, avail, used);
	expect_bad_rings(&f, desc | 1ull << 32, avail, used);
	expect_bad_rings(&f, desc, avail + 1, used);
	expect_bad_rings(&f, desc, RAM_SIZE - avail_len + 2, used);
	expect_bad_rings(&f, desc, 0xFFFFFFFFFFFFFFFEull, used);
	expect_bad_rings(&f, desc, avail, used + 2);
	expect_bad_rings(&f, desc, avail, (RAM_SIZE - used_len + 4) & ~3ull);
	expect_bad_rings(&f, desc, avail, 0xFFFFFFFFFFFFFFFCull);
	assert_int_equal(f.dev.stats.bad_ring_addr, 10);
	/* a smaller queue fits where the larger one did not */
	common_wr(&f, C(Q_SIZE), 2, 64);
	queue_rings(&f, RAM_SIZE - desc_len / 2, RAM_SIZE - avail_len + 128,
		    used);
	enable_queue(&f, 2);
	common_wr(&f, C(Q_SELECT), 2, 3);
	/* the last bytes of RAM are RAM, and so is page 0 */
	queue_rings(&f, RAM_SIZE - desc_len, RAM_SIZE - avail_len, 0);
	enable_queue(&f, 3);
	assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 1);
}

static void test_absent_queue(void **state)
{
	static const uint16_t sel[] = { NR_QUEUES, 0x100, 0xFFFF };
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	for (i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		common_wr(&f, C(Q_SELECT), 2, sel[i]);
		assert_int_equal(common_rd(&f, C(Q_SELECT), 2), sel[i]);
		assert_int_equal(common_rd(&f, C(Q_SIZE), 2), 0);
		assert_int_equal(common_rd(&f, C(Q_MSIX), 2), VIRTIO_NO_VECTOR);
		assert_int_equal(common_rd(&f, C(Q_ENABLE), 2), 0);
		assert_int_equal(common_rd(&f, C(Q_NOFF), 2), 0);
		assert_int_equal(common_rd(&f, C(Q_DESCLO), 4), 0);
		expect_refused(&f, VIRTIO_PCI_BAR, C(Q_SIZE), 2, 16,
			       &f.dev.stats.bad_queue);
		expect_refused(&f, VIRTIO_PCI_BAR, C(Q_MSIX), 2, 1,
			       &f.dev.stats.bad_queue);
		expect_refused(&f, VIRTIO_PCI_BAR, C(Q_DESCLO), 4, 0x1000,
			       &f.dev.stats.bad_queue);
		expect_refused(&f, VIRTIO_PCI_BAR, C(Q_ENABLE), 2, 1,
			       &f.dev.stats.bad_queue);
	}
}

static void test_notify(void **state)
{
	const uint64_t *bad;
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	bad = &f.dev.stats.bad_notify;
	notify(&f, 2, 2);
	assert_int_equal(f.rec.last_kick, 2);
	notify(&f, 3, 4); /* 32-bit, as NOTIFICATION_DATA would */
	assert_int_equal(f.rec.last_kick, 3);
	notify(&f, 0, 2);
	assert_int_equal(f.rec.kicks, 3);
	/* the wrong index, queues that do not exist */
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 2, 3,
		       bad);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 4,
		       0x10002, bad);
	expect_refused(&f, VIRTIO_PCI_BAR,
		       VIRTIO_PCI_OFF_NOTIFY + 4 * NR_QUEUES, 2, NR_QUEUES,
		       bad);
	expect_refused(&f, VIRTIO_PCI_BAR, 0x3FFC, 2, 0x3FF, bad);
	/* widths and offsets notify does not have */
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 1, 2,
		       &f.dev.stats.bad_access);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 10, 2, 2,
		       &f.dev.stats.bad_access);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 8, 2,
		       &f.dev.stats.bad_access);
	expect_refused_read(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 2);
	assert_int_equal(f.dev.stats.kicks, 3);
}

static void test_notify_before_driver_ok(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 2, 2,
		       &f.dev.stats.bad_notify);
	assert_int_equal(negotiate(&f, OFFERED), STATUS_FEATURES);
	setup_queue(&f, 2, QSIZE, 3);
	enable_queue(&f, 2);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 8, 2, 2,
		       &f.dev.stats.bad_notify);
	add_status(&f, VIRTIO_STATUS_DRIVER_OK);
	notify(&f, 2, 2);
	assert_int_equal(f.rec.kicks, 1);
}

static void test_isr(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	/* MSI-X in use: queue interrupts never set ISR */
	msix_setup(&f);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_DELIVERED);
	assert_int_equal(common_rd(&f, VIRTIO_PCI_OFF_ISR, 1), 0);
	/* MSI-X off: a configuration change shows in ISR, read clears it */
	cfg_wr(&f, msix_ctrl_reg(&f), 2, 0);
	virtio_pci_needs_reset(&f.dev);
	assert_int_equal(common_rd(&f, VIRTIO_PCI_OFF_ISR, 1),
			 VIRTIO_ISR_CONFIG);
	assert_int_equal(common_rd(&f, VIRTIO_PCI_OFF_ISR, 1), 0);
	expect_refused(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_ISR, 1, 0,
		       &f.dev.stats.ro_write);
	expect_refused_read(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_ISR, 2);
	expect_refused_read(&f, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_ISR + 1, 1);
}

struct access {
	unsigned int bar;
	uint64_t off;
	unsigned int size;
};

static void test_bad_accesses(void **state)
{
	static const struct access bad[] = {
		{ 4, C(DFSELECT), 3 },
		{ 4, C(DFSELECT), 8 },
		{ 4, C(DF), 2 },
		{ 4, C(DF) + 2, 2 },
		{ 4, C(STATUS), 4 },
		{ 4, C(STATUS), 2 },
		{ 4, C(Q_SELECT), 1 },
		{ 4, C(Q_DESCLO), 8 },
		{ 4, 0x01, 2 },
		{ 4, 0x03, 1 },
		{ 4, 56, 2 },
		{ 4, 58, 2 },
		{ 4, 0x100, 4 },
		{ 4, 0x1004, 4 },
		{ 4, 0x1000, 4 },
		{ 4, 0x2024, 4 },
		{ 4, 0x2022, 4 },
		{ 4, 0x2020, 8 },
		{ 4, 0x2800, 1 },
		{ 4, 0x4000, 4 },
		{ 4, 1ull << 40, 4 },
		{ 0, 0, 4 },
		{ 2, 0, 4 },
		{ 3, 0, 4 },
		{ 5, 0, 4 },
		{ 6, 0, 4 },
		{ 1, 0x0, 1 },
		{ 1, 0x0, 2 },
		{ 1, 0x4, 8 },
		{ 1, 0x2, 4 },
		{ 1, 16 * (NR_QUEUES + 1), 4 },
		{ 1, 0x7FC, 4 },
		{ 1, 0x808, 4 },
		{ 1, 0x804, 8 },
		{ 1, 0x1000, 4 },
		{ 1, 0x800, 1 },
		{ 1, 0x800, 2 },
	};
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_refused(&f, bad[i].bar, bad[i].off, bad[i].size, 0,
			       &f.dev.stats.bad_access);
		expect_refused_read(&f, bad[i].bar, bad[i].off, bad[i].size);
	}
	assert_int_equal(f.dev.stats.bad_access, 2 * i);
	assert_int_equal(common_rd(&f, VIRTIO_PCI_OFF_ISR, 1), 0);
}

static void test_read_only_writes(void **state)
{
	static const struct access ro[] = {
		{ 4, C(DF), 4 },
		{ 4, C(NUMQ), 2 },
		{ 4, C(CFGGENERATION), 1 },
		{ 4, C(Q_NOFF), 2 },
		{ 4, VIRTIO_PCI_OFF_ISR, 1 },
		{ 4, VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_NUM_QUEUES, 4 },
		{ 4, VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_MAX_TARGET, 2 },
		{ 4, VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_MAX_LUN, 1 },
		{ 1, VIRTIO_PCI_OFF_MSIX_PBA, 4 },
		{ 1, VIRTIO_PCI_OFF_MSIX_PBA + 4, 4 },
		{ 1, VIRTIO_PCI_OFF_MSIX_PBA, 8 },
	};
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	common_wr(&f, C(Q_SELECT), 2, 1);
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		expect_refused(&f, ro[i].bar, ro[i].off, ro[i].size, 0x5A,
			       &f.dev.stats.ro_write);
	assert_int_equal(common_rd(&f, C(NUMQ), 2), NR_QUEUES);
	assert_int_equal(common_rd(&f, C(CFGGENERATION), 1), 0);
	assert_int_equal(common_rd(&f, C(Q_NOFF), 2), 1);
}

/* ---- MSI-X ---- */

static uint64_t pba(struct fx *f)
{
	return mmio_rd(f, BAR1_GPA + VIRTIO_PCI_OFF_MSIX_PBA, 8);
}

static void test_msix_entry_mask(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	mmio_wr(&f, msix_entry(3) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 1);
	assert_int_equal(virtio_pci_raise(&f.dev, 3), VIRTIO_IRQ_PENDING);
	assert_int_equal(virtio_pci_raise(&f.dev, 3), VIRTIO_IRQ_PENDING);
	assert_int_equal(pba(&f), 1u << 3);
	assert_int_equal(mmio_rd(&f, BAR1_GPA + VIRTIO_PCI_OFF_MSIX_PBA, 4),
			 1u << 3);
	assert_int_equal(f.rec.delivered, 0);
	/* other vectors are not held back */
	assert_int_equal(virtio_pci_raise(&f.dev, 2), VIRTIO_IRQ_DELIVERED);
	assert_int_equal(f.rec.data, VECTOR(2));
	/* the unmask sends the one pending message */
	mmio_wr(&f, msix_entry(3) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 0);
	assert_int_equal(f.rec.delivered, 2);
	assert_int_equal(f.rec.data, VECTOR(3));
	assert_int_equal(pba(&f), 0);
	assert_int_equal(f.dev.stats.msix_pending, 2);
	assert_int_equal(f.dev.stats.msix_delivered, 2);
}

static void test_msix_function_mask(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	cfg_wr(&f, msix_ctrl_reg(&f), 2,
	       VIRTIO_PCI_MSIX_CTRL_ENABLE | VIRTIO_PCI_MSIX_CTRL_MASKALL);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_PENDING);
	assert_int_equal(virtio_pci_raise(&f.dev, 4), VIRTIO_IRQ_PENDING);
	assert_int_equal(pba(&f), 0x12);
	/* vector 4 is also masked in its entry: it waits for both */
	mmio_wr(&f, msix_entry(4) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 1);
	cfg_wr(&f, msix_ctrl_reg(&f), 2, VIRTIO_PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(f.rec.delivered, 1);
	assert_int_equal(f.rec.data, VECTOR(1));
	assert_int_equal(pba(&f), 0x10);
	mmio_wr(&f, msix_entry(4) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 0);
	assert_int_equal(f.rec.delivered, 2);
	assert_int_equal(f.rec.data, VECTOR(4));
	assert_int_equal(pba(&f), 0);
}

static void test_msix_lost(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	assert_int_equal(virtio_pci_raise(&f.dev, NR_QUEUES + 1),
			 VIRTIO_IRQ_DROPPED);
	assert_int_equal(virtio_pci_raise(&f.dev, VIRTIO_NO_VECTOR),
			 VIRTIO_IRQ_DROPPED);
	cfg_wr(&f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_DROPPED);
	cfg_wr(&f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	cfg_wr(&f, msix_ctrl_reg(&f), 2, VIRTIO_PCI_MSIX_CTRL_MASKALL);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_DROPPED);
	assert_int_equal(f.dev.stats.msix_lost, 4);
	/* nothing was kept for later */
	assert_int_equal(pba(&f), 0);
	cfg_wr(&f, msix_ctrl_reg(&f), 2, VIRTIO_PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(f.rec.delivered, 0);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_DELIVERED);
}

struct msi {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
};

static void test_msix_entries_validated(void **state)
{
	static const struct msi bad[] = {
		{ MSI_ADDR | 0x4, 0, 0x30 }, /* logical destination */
		{ 0xFEE02000, 0, 0x30 }, /* another CPU */
		{ 0xFEE00000, 0, 0x30 }, /* APIC ID 0 */
		{ 0xFEEFF000, 0, 0x30 }, /* broadcast */
		{ MSI_ADDR | 0x20, 0, 0x30 }, /* extended destination ID */
		{ MSI_ADDR | 0x1, 0, 0x30 }, /* reserved address bits */
		{ 0xFED01000, 0, 0x30 }, /* not the interrupt range */
		{ 0x00001000, 0, 0x30 }, /* guest RAM */
		{ MSI_ADDR, 1, 0x30 }, /* above 4 GiB */
		{ MSI_ADDR, 0, 0x1F }, /* exception vector */
		{ MSI_ADDR, 0, 0x02 }, /* NMI's vector, fixed */
		{ MSI_ADDR, 0, 0xFF }, /* spurious */
		{ MSI_ADDR, 0, 0x0430 }, /* NMI delivery */
		{ MSI_ADDR, 0, 0x0130 }, /* lowest priority */
		{ MSI_ADDR, 0, 0x0230 }, /* SMI */
		{ MSI_ADDR, 0, 0x0530 }, /* INIT */
		{ MSI_ADDR, 0, 0x0730 }, /* ExtINT */
		{ MSI_ADDR, 0, 0x8030 }, /* level-triggered */
		{ MSI_ADDR, 0, 0x10030 }, /* reserved data bits */
	};
	static const struct msi good[] = {
		{ MSI_ADDR, 0, 0x20 },
		{ MSI_ADDR, 0, 0xFE },
		{ MSI_ADDR | 0x8, 0, 0x41 }, /* redirection hint, physical */
		{ MSI_ADDR, 0, 0x4041 }, /* edge: level-assert ignored */
	};
	struct fx f;
	unsigned int i;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msix_program(&f, 1, bad[i].addr_lo, bad[i].data, 0);
		mmio_wr(&f, msix_entry(1) + VIRTIO_PCI_MSIX_ADDR_HI, 4,
			bad[i].addr_hi);
		assert_int_equal(virtio_pci_raise(&f.dev, 1),
				 VIRTIO_IRQ_DROPPED);
		assert_int_equal(f.dev.stats.msix_dropped, i + 1);
	}
	assert_int_equal(f.rec.delivered, 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		msix_program(&f, 1, good[i].addr_lo, good[i].data, 0);
		assert_int_equal(virtio_pci_raise(&f.dev, 1),
				 VIRTIO_IRQ_DELIVERED);
		assert_true(f.rec.addr == good[i].addr_lo);
		assert_int_equal(f.rec.data, good[i].data);
	}
	assert_int_equal(f.dev.stats.msix_lost, 0);
}

static void test_msix_pending_checked_at_unmask(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	mmio_wr(&f, msix_entry(2) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 1);
	assert_int_equal(virtio_pci_raise(&f.dev, 2), VIRTIO_IRQ_PENDING);
	/* rewritten while masked to something keel must not send */
	mmio_wr(&f, msix_entry(2) + VIRTIO_PCI_MSIX_ADDR_LO, 4, 0xFEE0F000);
	mmio_wr(&f, msix_entry(2) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 0);
	assert_int_equal(f.rec.delivered, 0);
	assert_int_equal(f.dev.stats.msix_dropped, 1);
	assert_int_equal(pba(&f), 0);
}

static void test_msix_table_access(void **state)
{
	struct fx f;
	uint64_t e = msix_entry(NR_QUEUES); /* the last entry */

	(void)state;
	fx_init(&f);
	assign_bars(&f);
	/* at reset every entry is masked and zero */
	assert_int_equal(mmio_rd(&f, e + VIRTIO_PCI_MSIX_VEC_CTRL, 4), 1);
	assert_int_equal(mmio_rd(&f, e, 8), 0);
	mmio_wr(&f, e, 8, (uint64_t)0x12345678 << 32 | MSI_ADDR);
	assert_int_equal(mmio_rd(&f, e + VIRTIO_PCI_MSIX_ADDR_LO, 4), MSI_ADDR);
	assert_int_equal(mmio_rd(&f, e + VIRTIO_PCI_MSIX_ADDR_HI, 4),
			 0x12345678);
	/* vector control: only the mask bit is there */
	mmio_wr(&f, e + VIRTIO_PCI_MSIX_DATA, 8, 0xFFFFFFFF00000031ull);
	assert_int_equal(mmio_rd(&f, e + VIRTIO_PCI_MSIX_DATA, 8),
			 0x0000000100000031ull);
	mmio_wr(&f, e + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 0xFFFFFFFE);
	assert_int_equal(mmio_rd(&f, e + VIRTIO_PCI_MSIX_VEC_CTRL, 4), 0);
	assert_int_equal(mmio_rd(&f, BAR1_GPA + VIRTIO_PCI_OFF_MSIX_PBA + 4, 4),
			 0);
}

/* ---- the PCI_CFG window ---- */

static void set_window(struct fx *f, unsigned int cap, uint8_t bar,
		       uint32_t offset, uint32_t len)
{
	cfg_wr(f, cap + VIRTIO_PCI_CAP_BAR, 1, bar);
	cfg_wr(f, cap + VIRTIO_PCI_CAP_OFFSET, 4, offset);
	cfg_wr(f, cap + VIRTIO_PCI_CAP_LENGTH, 4, len);
}

static unsigned int window_cap(struct fx *f)
{
	struct found_caps fc;

	walk_caps(f, &fc);
	assert_int_not_equal(fc.vndr[VIRTIO_PCI_CAP_PCI_CFG], 0);
	return fc.vndr[VIRTIO_PCI_CAP_PCI_CFG];
}

/* SeaBIOS's vp_read()/vp_write() when the BAR is out of its reach */
static void test_pci_cfg_window(void **state)
{
	struct fx f;
	unsigned int cap, data;

	(void)state;
	fx_init(&f); /* no BAR programmed, memory decode off */
	cap = window_cap(&f);
	data = cap + VIRTIO_PCI_CFG_CAP_DATA;
	set_window(&f, cap, VIRTIO_PCI_BAR, C(DFSELECT), 4);
	cfg_wr(&f, data, 4, 1);
	assert_int_equal(f.dev.dfselect, 1);
	set_window(&f, cap, VIRTIO_PCI_BAR, C(DF), 4);
	assert_int_equal(cfg_rd(&f, data, 4), 1); /* VERSION_1 */
	assert_int_equal(cfg_rd(&f, cap + VIRTIO_PCI_CAP_OFFSET, 4), C(DF));
	set_window(&f, cap, VIRTIO_PCI_BAR, C(STATUS), 1);
	cfg_wr(&f, data, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cfg_rd(&f, data, 1), VIRTIO_STATUS_ACKNOWLEDGE);
	set_window(&f, cap, VIRTIO_PCI_BAR,
		   VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_MAX_TARGET, 2);
	assert_int_equal(cfg_rd(&f, data, 2), 255);
	/* and the MSI-X table */
	set_window(&f, cap, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_DATA, 4);
	cfg_wr(&f, data, 4, 0x45);
	assert_int_equal(f.dev.msix[0][VIRTIO_PCI_MSIX_DATA / 4], 0x45);
	assert_int_equal(cfg_rd(&f, data, 4), 0x45);
	/* refusals are the device's: counted, and all ones in the window */
	set_window(&f, cap, VIRTIO_PCI_BAR, C(STATUS), 4);
	assert_int_equal(cfg_rd(&f, data, 4), 0xFFFFFFFF);
	cfg_wr(&f, data, 4, 0);
	assert_int_equal(common_rd(&f, C(STATUS), 1),
			 VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(f.dev.stats.bad_access, 2);
}

static void test_pci_cfg_window_refusals(void **state)
{
	static const uint32_t bad_len[] = { 0, 3, 8, 0x80000004 };
	struct fx f;
	unsigned int cap, data, i;

	(void)state;
	fx_init(&f);
	cap = window_cap(&f);
	data = cap + VIRTIO_PCI_CFG_CAP_DATA;
	for (i = 0; i < sizeof(bad_len) / sizeof(bad_len[0]); i++) {
		set_window(&f, cap, VIRTIO_PCI_MSIX_BAR, 0, bad_len[i]);
		assert_int_equal(cfg_rd(&f, data, 4), 0xFFFFFFFF);
		cfg_wr(&f, data, 4, 0);
	}
	assert_int_equal(f.dev.stats.bad_access, 8);
	assert_int_equal(f.dev.msix[0][VIRTIO_PCI_MSIX_ADDR_LO / 4], 0);
	set_window(&f, cap, 0, 0, 4);
	assert_int_equal(cfg_rd(&f, data, 4), 0xFFFFFFFF);
	/* ISR through the window: read to clear, once per data read */
	virtio_pci_needs_reset(&f.dev);
	set_window(&f, cap, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_ISR, 1);
	assert_int_equal(cfg_rd(&f, cap, 4) & 0xFF, VIRTIO_PCI_CAP_VNDR);
	assert_int_equal(f.dev.isr, VIRTIO_ISR_CONFIG);
	assert_int_equal(cfg_rd(&f, data, 1), VIRTIO_ISR_CONFIG);
	assert_int_equal(cfg_rd(&f, data, 1), 0);
}

/* ---- keel's side ---- */

static void test_bar_at(void **state)
{
	struct fx f;
	unsigned int bar;
	uint64_t off;

	(void)state;
	fx_init(&f);
	assert_int_equal(virtio_pci_bar_at(&f.dev, 0, &bar, &off), -1);
	cfg_wr(&f, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
	assert_int_equal(virtio_pci_bar_at(&f.dev, 0, &bar, &off), -1);
	assign_bars(&f);
	assert_int_equal(
		virtio_pci_bar_at(&f.dev, BAR4_GPA + 0x3FFE, &bar, &off), 0);
	assert_int_equal(bar, VIRTIO_PCI_BAR);
	assert_true(off == 0x3FFE);
	assert_int_equal(
		virtio_pci_bar_at(&f.dev, BAR1_GPA + 0x800, &bar, &off), 0);
	assert_int_equal(bar, VIRTIO_PCI_MSIX_BAR);
	assert_true(off == 0x800);
	assert_int_equal(
		virtio_pci_bar_at(&f.dev, BAR1_GPA + 0x1000, &bar, &off), -1);
	assert_int_equal(virtio_pci_bar_at(&f.dev, BAR4_GPA - 1, &bar, &off),
			 -1);
	cfg_wr(&f, PCI_CFG_COMMAND, 2, PCI_CMD_MASTER);
	assert_int_equal(virtio_pci_bar_at(&f.dev, BAR4_GPA, &bar, &off), -1);
}

static void test_needs_reset(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	virtio_pci_needs_reset(&f.dev);
	assert_int_equal(f.rec.delivered, 1);
	assert_int_equal(f.rec.data, VECTOR(0)); /* the config vector */
	assert_int_equal(common_rd(&f, C(STATUS), 1),
			 STATUS_LIVE | VIRTIO_STATUS_NEEDS_RESET);
	/* the driver may add to it but not clear it */
	expect_refused(&f, VIRTIO_PCI_BAR, C(STATUS), 1, STATUS_LIVE,
		       &f.dev.stats.bad_status);
	add_status(&f, VIRTIO_STATUS_FAILED);
	common_wr(&f, C(STATUS), 1, 0);
	assert_int_equal(f.rec.stops, 1);
	assert_int_equal(virtio_pci_reset_done(&f.dev), 0);
	assert_int_equal(common_rd(&f, C(STATUS), 1), 0);
}

static void test_init_refuses(void **state)
{
	static const uint8_t cfg[4], wmask[4];
	static const struct virtio_pci_ops no_deliver = {
		.start = on_start,
		.stop = on_stop,
		.kick = on_kick,
	};
	const struct virtio_pci_setup good = {
		.device_type = 8,
		.class_code = 0x010000,
		.num_queues = 3,
		.queue_max = 256,
		.dev_cfg = cfg,
		.dev_cfg_wmask = wmask,
		.dev_cfg_len = sizeof(cfg),
		.guest_ram_size = RAM_SIZE,
		.guest_apic_id = 0xFE,
		.ops = &ops,
	};
	struct virtio_pci_setup s;
	static struct virtio_pci_dev dev;

	(void)state;
	assert_int_equal(virtio_pci_init(&dev, &good), 0);
#define REFUSED(field, value)                                    \
	do {                                                     \
		s = good;                                        \
		s.field = value;                                 \
		assert_int_equal(virtio_pci_init(&dev, &s), -1); \
	} while (0)
	REFUSED(device_type, 0x40);
	REFUSED(num_queues, 0);
	REFUSED(num_queues, VIRTIO_PCI_MAX_QUEUES + 1);
	REFUSED(queue_max, 0);
	REFUSED(queue_max, 384);
	REFUSED(features, VIRTIO_BIT(VIRTIO_F_VERSION_1));
	REFUSED(features, VIRTIO_BIT(28));
	REFUSED(dev_cfg_len, VIRTIO_PCI_DEV_CFG_MAX + 1);
	REFUSED(dev_cfg, NULL);
	REFUSED(guest_ram_size, 0);
	REFUSED(guest_apic_id, 0xFF);
	REFUSED(ops, NULL);
	REFUSED(ops, &no_deliver);
#undef REFUSED
	s = good;
	s.features = 0x2; /* a device-type bit */
	s.num_queues = VIRTIO_PCI_MAX_QUEUES;
	s.queue_max = VIRTIO_PCI_QUEUE_SIZE_MAX;
	assert_int_equal(virtio_pci_init(&dev, &s), 0);
	assert_true(dev.features == (OFFERED | 0x2));
	assert_int_equal(dev.msix_size, VIRTIO_PCI_MAX_QUEUES + 1);
}

/* ---- handoff: save, load, start info, drop ---- */

#define BASE(q) (0x100u + (q)) /* the ring bases keel adds to a save */

/*
 * A device as a running guest leaves it: BARs, MSI-X with vector 3 masked
 * and pending, the writable header bytes and the PCI_CFG window set, a
 * device configuration field written, queue 1 left disabled and queue 3
 * smaller, selectors moved, DRIVER_OK.
 */
static void bring_up_live(struct fx *f)
{
	unsigned int q;

	prepare(f);
	for (q = 0; q < NR_QUEUES; q++)
		setup_queue(f, q, q == 3 ? 32 : QSIZE, (uint16_t)(q + 1));
	for (q = 0; q < NR_QUEUES; q++)
		if (q != 1)
			enable_queue(f, q);
	common_wr(f, VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_CDB_SIZE, 4, 16);
	add_status(f, VIRTIO_STATUS_DRIVER_OK);
	cfg_wr(f, PCI_CFG_CACHE_LINE, 2, 0x4010);
	cfg_wr(f, PCI_CFG_INT_LINE, 1, 11);
	set_window(f, window_cap(f), VIRTIO_PCI_BAR, C(NUMQ), 2);
	common_wr(f, C(DFSELECT), 4, 1);
	common_wr(f, C(GFSELECT), 4, 1);
	common_wr(f, C(Q_SELECT), 2, 2);
	mmio_wr(f, msix_entry(3) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 1);
	assert_int_equal(virtio_pci_raise(&f->dev, 3), VIRTIO_IRQ_PENDING);
}

/* what keel hands over: the model's state plus the backend's ring bases */
static void save_live(struct fx *f, struct virtio_pci_state *st)
{
	unsigned int q;

	fx_init(f);
	bring_up_live(f);
	virtio_pci_save(&f->dev, st);
	for (q = 0; q < NR_QUEUES; q++)
		st->queue[q].last_avail = (uint16_t)BASE(q);
}

static void expect_same_common(struct fx *a, struct fx *b)
{
	static const struct access regs[] = {
		{ 4, C(DFSELECT), 4 },	{ 4, C(DF), 4 },
		{ 4, C(GFSELECT), 4 },	{ 4, C(GF), 4 },
		{ 4, C(MSIX), 2 },	{ 4, C(NUMQ), 2 },
		{ 4, C(STATUS), 1 },	{ 4, C(CFGGENERATION), 1 },
		{ 4, C(Q_SELECT), 2 },	{ 4, C(Q_SIZE), 2 },
		{ 4, C(Q_MSIX), 2 },	{ 4, C(Q_ENABLE), 2 },
		{ 4, C(Q_NOFF), 2 },	{ 4, C(Q_DESCLO), 4 },
		{ 4, C(Q_DESCHI), 4 },	{ 4, C(Q_AVAILLO), 4 },
		{ 4, C(Q_AVAILHI), 4 }, { 4, C(Q_USEDLO), 4 },
		{ 4, C(Q_USEDHI), 4 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		assert_true(common_rd(a, regs[i].off, regs[i].size) ==
			    common_rd(b, regs[i].off, regs[i].size));
}

/* every register a driver reads, through the bus and the BARs; ISR last */
static void expect_same_registers(struct fx *a, struct fx *b)
{
	uint64_t sel = common_rd(a, C(Q_SELECT), 2);
	unsigned int off, q;

	for (off = 0; off < PCI_CFG_SIZE; off += 4)
		assert_int_equal(cfg_rd(a, off, 4), cfg_rd(b, off, 4));
	for (off = 0; off < VIRTIO_PCI_OFF_MSIX_PBA + 8; off += 4)
		if (off < 16 * (NR_QUEUES + 1) ||
		    off >= VIRTIO_PCI_OFF_MSIX_PBA)
			assert_true(mmio_rd(a, BAR1_GPA + off, 4) ==
				    mmio_rd(b, BAR1_GPA + off, 4));
	for (off = 0; off < VIRTIO_SCSI_CFG_LEN; off += 4)
		assert_true(common_rd(a, VIRTIO_PCI_OFF_DEVICE + off, 4) ==
			    common_rd(b, VIRTIO_PCI_OFF_DEVICE + off, 4));
	expect_same_common(a, b);
	for (q = 0; q < NR_QUEUES; q++) {
		common_wr(a, C(Q_SELECT), 2, q);
		common_wr(b, C(Q_SELECT), 2, q);
		expect_same_common(a, b);
	}
	common_wr(a, C(Q_SELECT), 2, sel);
	common_wr(b, C(Q_SELECT), 2, sel);
	assert_int_equal(common_rd(a, VIRTIO_PCI_OFF_ISR, 1),
			 common_rd(b, VIRTIO_PCI_OFF_ISR, 1));
}

static void test_state_round_trip(void **state)
{
	struct virtio_pci_state st, again;
	struct virtio_start s;
	struct fx a, b;
	char err[128] = "";
	unsigned int q;

	(void)state;
	save_live(&a, &st);
	fx_init(&b);
	assert_int_equal(virtio_pci_load(&b.dev, &st, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	virtio_pci_save(&b.dev, &again);
	assert_memory_equal(&st, &again, sizeof(st));
	assert_int_equal(stats_sum(&b.dev.stats), 0);
	assert_int_equal(
		b.rec.starts + b.rec.stops + b.rec.kicks + b.rec.delivered, 0);
	expect_same_registers(&a, &b);
	/* what keel re-posts to the backend: what the source's got */
	virtio_pci_start_info(&b.dev, &s);
	assert_memory_equal(&s, &a.rec.start, sizeof(s));
	for (q = 0; q < NR_QUEUES; q++)
		assert_int_equal(b.dev.queue[q].last_avail, BASE(q));
}

static void test_state_loaded_behaviour(void **state)
{
	struct virtio_pci_state st;
	struct fx a, b;

	(void)state;
	save_live(&a, &st);
	fx_init(&b);
	assert_int_equal(virtio_pci_load(&b.dev, &st, NULL, 0), 0);
	/* notify of the loaded enabled queues, not of the disabled one */
	notify(&b, 2, 2);
	notify(&b, 0, 2);
	assert_int_equal(b.rec.kicks, 2);
	assert_int_equal(b.rec.last_kick, 0);
	expect_refused(&b, VIRTIO_PCI_BAR, VIRTIO_PCI_OFF_NOTIFY + 4, 2, 1,
		       &b.dev.stats.bad_notify);
	/* MSI-X with the loaded table: vector 2 now, 3 at its unmask */
	assert_int_equal(virtio_pci_raise(&b.dev, 2), VIRTIO_IRQ_DELIVERED);
	assert_true(b.rec.addr == MSI_ADDR);
	assert_int_equal(b.rec.data, VECTOR(2));
	mmio_wr(&b, msix_entry(3) + VIRTIO_PCI_MSIX_VEC_CTRL, 4, 0);
	assert_int_equal(b.rec.delivered, 2);
	assert_int_equal(b.rec.data, VECTOR(3));
	/* the driver's reset of the loaded, started device stops the backend */
	common_wr(&b, C(STATUS), 1, 0);
	assert_int_equal(b.rec.stops, 1);
	assert_int_equal(common_rd(&b, C(STATUS), 1), STATUS_LIVE);
	assert_int_equal(virtio_pci_reset_done(&b.dev), 0);
	assert_int_equal(common_rd(&b, C(STATUS), 1), 0);
	assert_int_equal(b.dev.queue[2].last_avail, 0);
	assert_int_equal(b.rec.starts, 0);
}

/* a reset waiting for the backend, and DEVICE_NEEDS_RESET with its ISR */
static void test_state_resetting(void **state)
{
	struct virtio_pci_state st;
	struct fx a, b;

	(void)state;
	fx_init(&a);
	bring_up(&a);
	cfg_wr(&a, msix_ctrl_reg(&a), 2, 0);
	virtio_pci_needs_reset(&a.dev);
	common_wr(&a, C(STATUS), 1, 0);
	assert_true(a.dev.reset_pending && a.dev.isr == VIRTIO_ISR_CONFIG);
	virtio_pci_save(&a.dev, &st);
	fx_init(&b);
	assert_int_equal(virtio_pci_load(&b.dev, &st, NULL, 0), 0);
	assert_int_equal(b.rec.stops, 0);
	expect_refused(&b, VIRTIO_PCI_BAR, C(Q_SELECT), 2, 1,
		       &b.dev.stats.busy);
	assert_int_equal(common_rd(&b, VIRTIO_PCI_OFF_ISR, 1),
			 VIRTIO_ISR_CONFIG);
	assert_int_equal(common_rd(&b, C(STATUS), 1),
			 STATUS_LIVE | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(virtio_pci_reset_done(&b.dev), 0);
	assert_int_equal(common_rd(&b, C(STATUS), 1), 0);
}

#define AT(field)                                 \
	offsetof(struct virtio_pci_state, field), \
		sizeof(((struct virtio_pci_state *)0)->field)
#define AT_DWORD(cfg_off) offsetof(struct virtio_pci_state, cfg[cfg_off]), 4

/* one field of the live state changed; msg NULL: a state still reachable */
struct state_case {
	size_t off;
	size_t size;
	uint64_t val;
	const char *msg;
};

static const struct state_case state_cases[] = {
	{ AT(cfg[0]), 0xF5,
	  "virtio: configuration space byte 0x0: 0xf5 changes read-only bits "
	  "0x1" },
	{ AT(cfg[PCI_CFG_COMMAND]), 0x0E,
	  "virtio: configuration space byte 0x4: 0xe changes read-only bits "
	  "0x8" },
	{ AT_DWORD(PCI_CFG_BAR0 + 4), BAR1_GPA | 0x800,
	  "virtio: BAR1: address 0xfe004800 is not aligned to its size "
	  "0x1000" },
	{ AT_DWORD(PCI_CFG_BAR0 + 16), BAR4_GPA | 0x2004,
	  "virtio: BAR4: address 0xfe002000 is not aligned to its size "
	  "0x4000" },
	{ AT_DWORD(PCI_CFG_BAR0 + 16), BAR4_GPA,
	  "virtio: configuration space byte 0x20: 0x0 changes read-only bits "
	  "0x4" },
	{ AT(cfg[0x42]), NR_QUEUES + 1, /* MSI-X table size */
	  "virtio: configuration space byte 0x42: 0x5 changes read-only bits "
	  "0x1" },
	{ AT(dev_cfg[VIRTIO_SCSI_CFG_NUM_QUEUES]), 3,
	  "virtio: device configuration byte 0: 0x3 differs from the "
	  "read-only 0x2" },
	{ AT(status), 0x0D,
	  "virtio: status 0xd sets a bit without the one before it "
	  "(ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK)" },
	{ AT(driver_features), OFFERED | 1,
	  "virtio: driver features 0x130000001 with FEATURES_OK: not among "
	  "the offered 0x130000000 or without VERSION_1" },
	{ AT(driver_features), OFFERED & ~VIRTIO_BIT(VIRTIO_F_VERSION_1),
	  "virtio: driver features 0x30000000 with FEATURES_OK: not among the "
	  "offered 0x130000000 or without VERSION_1" },
	{ AT(started), 2,
	  "virtio: started 2 and reset_pending 0 must each be 0 or 1" },
	{ AT(reset_pending), 1,
	  "virtio: status 0xf: started and reset_pending both set" },
	{ AT(started), 0,
	  "virtio: status 0xf has DRIVER_OK, but the device is neither "
	  "started nor resetting" },
	{ AT(status), STATUS_FEATURES,
	  "virtio: status 0xb lacks DRIVER_OK, but the device is started or "
	  "resetting" },
	{ AT(isr), VIRTIO_ISR_QUEUE,
	  "virtio: isr 0x1: the device sets only bit 0x2" },
	{ AT(isr), VIRTIO_ISR_CONFIG,
	  "virtio: isr 0x2 without DEVICE_NEEDS_RESET in status 0xf" },
	{ AT(config_vector), NR_QUEUES + 1,
	  "virtio: config vector 5 is beyond the 5 MSI-X entries" },
	{ AT(queue[2].size), 100,
	  "virtio: queue 2: size 100 is not a power of two up to 128" },
	{ AT(queue[1].size), 2 * QSIZE,
	  "virtio: queue 1: size 256 is not a power of two up to 128" },
	{ AT(queue[1].size), 0,
	  "virtio: queue 1: size 0 is not a power of two up to 128" },
	{ AT(queue[0].msix_vector), 7,
	  "virtio: queue 0: vector 7 is beyond the 5 MSI-X entries" },
	{ AT(queue[2].enabled), 2, "virtio: queue 2: enabled 2 is not 0 or 1" },
	{ AT(queue[2].reserved), 1, "virtio: queue 2: reserved 0x1 is not 0" },
	{ AT(queue[2].desc), 0x120008,
	  "virtio: queue 2: rings desc 0x120008, avail 0x124000, used "
	  "0x128000 are misaligned or outside guest RAM" },
	{ AT(queue[3].used), RAM_SIZE,
	  "virtio: queue 3: rings desc 0x130000, avail 0x134000, used "
	  "0x10000000 are misaligned or outside guest RAM" },
	{ AT(queue[3].size), QSIZE, /* the larger rings reach no further */
	  NULL },
	{ AT(queue[NR_QUEUES].size), 64,
	  "virtio: queue 4: beyond the device's 4 queues, but not as reset" },
	{ AT(queue[VIRTIO_PCI_MAX_QUEUES - 1].last_avail), 1,
	  "virtio: queue 17: beyond the device's 4 queues, but not as reset" },
	{ AT(msix[2][3]), 3,
	  "virtio: MSI-X entry 2: vector control 0x3 sets reserved bits" },
	{ AT(msix[NR_QUEUES + 1][2]), 0x30,
	  "virtio: MSI-X entry 5: beyond the table's 5 entries, but not 0" },
	{ AT(pba), 1u << 5 | 1u << 3,
	  "virtio: PBA 0x28 has bits beyond the 5 MSI-X entries" },
	{ AT(pba), 1u << 2 | 1u << 3,
	  "virtio: PBA: vector 2 is pending, yet unmasked with MSI-X and bus "
	  "mastering on" },
	/* what legal writes and keel's calls reach */
	{ AT(cfg[PCI_CFG_COMMAND]), PCI_CMD_MEM, NULL }, /* PBA held back */
	{ AT(cfg[PCI_CFG_LATENCY]), 0xF8, NULL },
	{ AT(dev_cfg[VIRTIO_SCSI_CFG_SENSE_SIZE]), 0xFF, NULL },
	{ AT(status), STATUS_LIVE | VIRTIO_STATUS_NEEDS_RESET, NULL },
	{ AT(status), STATUS_LIVE | VIRTIO_STATUS_FAILED | 0x30, NULL },
	{ AT(dfselect), 0xFFFFFFFF, NULL },
	{ AT(gfselect), 7, NULL },
	{ AT(queue_sel), 0xFFFF, NULL },
	{ AT(queue[1].desc), 0xFFFFFFFFFFFFFFF1ull, NULL }, /* not enabled */
	{ AT(queue[1].last_avail), 9, NULL }, /* carried, whatever it is */
	{ AT(queue[2].last_avail), 0xFFFF, NULL },
	{ AT(msix[2][0]), 0x1234, NULL }, /* delivery checks entries */
	{ AT(msix[0][3]), VIRTIO_PCI_MSIX_VEC_MASKED, NULL },
	{ AT(pba), 0, NULL },
};

/*
 * Loads st into f's device: a refusal leaves the device and the callbacks
 * untouched with one message starting "virtio: "; a load reproduces st.
 */
static int load_checked(struct fx *f, const struct virtio_pci_state *st,
			char *err, size_t errlen)
{
	static struct virtio_pci_dev before;
	struct virtio_pci_state again;
	struct rec rec = f->rec;
	int rc;

	memcpy(&before, &f->dev, sizeof(before));
	err[0] = '\0';
	rc = virtio_pci_load(&f->dev, st, err, errlen);
	assert_memory_equal(&rec, &f->rec, sizeof(rec));
	if (rc) {
		assert_int_equal(rc, -1);
		assert_true(strncmp(err, "virtio: ", 8) == 0);
		assert_memory_equal(&before, &f->dev, sizeof(before));
		return rc;
	}
	virtio_pci_save(&f->dev, &again);
	assert_memory_equal(st, &again, sizeof(again));
	return rc;
}

static void test_state_refusals(void **state)
{
	struct virtio_pci_state good, st, before, after;
	struct fx a, b;
	char err[256];
	unsigned int i;

	(void)state;
	save_live(&a, &good);
	assert_int_equal(a.dev.msix_cap, 0x40);
	fx_init(&b); /* the target runs a guest of its own */
	bring_up(&b);
	for (i = 0; i < sizeof(state_cases) / sizeof(state_cases[0]); i++) {
		const struct state_case *c = &state_cases[i];

		st = good;
		memcpy((uint8_t *)&st + c->off, &c->val, c->size);
		virtio_pci_save(&b.dev, &before);
		assert_int_equal(load_checked(&b, &st, err, sizeof(err)),
				 c->msg ? -1 : 0);
		if (c->msg) {
			assert_string_equal(err, c->msg);
			virtio_pci_save(&b.dev, &after);
			assert_memory_equal(&before, &after, sizeof(after));
		}
	}
	/* the message is cut to the buffer, or not written at all */
	st = good;
	st.isr = 1;
	assert_int_equal(virtio_pci_load(&b.dev, &st, err, 8), -1);
	assert_string_equal(err, "virtio:");
	assert_int_equal(virtio_pci_load(&b.dev, &st, NULL, 0), -1);
}

/* each byte flipped: refused with nothing changed, or loaded exactly */
static void test_state_every_byte_flipped(void **state)
{
	static const uint8_t flips[] = { 0x01, 0x10, 0x80, 0xFF };
	static struct virtio_pci_state good, st;
	static struct fx b;
	unsigned int off, i, loaded = 0, refused = 0;
	char err[256];

	(void)state;
	save_live(&b, &good);
	fx_init(&b);
	for (off = 0; off < sizeof(st); off++) {
		for (i = 0; i < sizeof(flips); i++) {
			st = good;
			((uint8_t *)&st)[off] ^= flips[i];
			if (load_checked(&b, &st, err, sizeof(err))) {
				refused++;
			} else {
				loaded++;
				fx_init(&b);
			}
		}
	}
	assert_true(loaded > 0 && refused > 0);
	assert_int_equal(loaded + refused, sizeof(st) * sizeof(flips));
}

static void test_start_info(void **state)
{
	struct virtio_start s;
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	virtio_pci_start_info(&f.dev, &s);
	assert_memory_equal(&s, &f.rec.start, sizeof(s));
	f.rec.reset_in_stop = true;
	common_wr(&f, C(STATUS), 1, 0);
	virtio_pci_start_info(&f.dev, &s);
	assert_int_equal(s.nr_queues, 0);
	assert_true(s.features == 0);
}

static void test_drop(void **state)
{
	const struct virtio_scsi_params p = { REQUEST_QUEUES, QSIZE };
	static struct virtio_pci_dev fresh;
	struct fx f;

	(void)state;
	fx_init(&f);
	bring_up(&f);
	mmio_wr(&f, msix_entry(1) + VIRTIO_PCI_MSIX_DATA, 4, 0x10);
	assert_int_equal(virtio_pci_raise(&f.dev, 1), VIRTIO_IRQ_DROPPED);
	virtio_pci_drop(&f.dev);
	assert_int_equal(f.rec.stops, 0);
	/* keel's counts of the run stay */
	assert_int_equal(f.dev.stats.msix_dropped, 1);
	assert_int_equal(
		virtio_scsi_init(&fresh, &p, RAM_SIZE, APIC_ID, &ops, &f.rec),
		0);
	fresh.stats = f.dev.stats;
	assert_memory_equal(&fresh, &f.dev, sizeof(fresh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_bar_sizing),
		cmocka_unit_test(test_capability_list),
		cmocka_unit_test(test_linux_probe),
		cmocka_unit_test(test_start_skips_disabled_queues),
		cmocka_unit_test(test_reset_while_started),
		cmocka_unit_test(test_busy_refuses_every_write),
		cmocka_unit_test(test_restart_after_reset),
		cmocka_unit_test(test_reset_not_started),
		cmocka_unit_test(test_reset_done_from_stop),
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_device_features),
		cmocka_unit_test(test_features_not_offered),
		cmocka_unit_test(test_features_without_version_1),
		cmocka_unit_test(test_features_locked),
		cmocka_unit_test(test_driver_feature_select_high),
		cmocka_unit_test(test_status_clearing_refused),
		cmocka_unit_test(test_status_order_refused),
		cmocka_unit_test(test_queue_size),
		cmocka_unit_test(test_queue_size_refused),
		cmocka_unit_test(test_vectors_beyond_table),
		cmocka_unit_test(test_queue_enable_values),
		cmocka_unit_test(test_queue_locked_after_enable),
		cmocka_unit_test(test_queue_locked_after_driver_ok),
		cmocka_unit_test(test_ring_bounds),
		cmocka_unit_test(test_absent_queue),
		cmocka_unit_test(test_notify),
		cmocka_unit_test(test_notify_before_driver_ok),
		cmocka_unit_test(test_isr),
		cmocka_unit_test(test_bad_accesses),
		cmocka_unit_test(test_read_only_writes),
		cmocka_unit_test(test_msix_entry_mask),
		cmocka_unit_test(test_msix_function_mask),
		cmocka_unit_test(test_msix_lost),
		cmocka_unit_test(test_msix_entries_validated),
		cmocka_unit_test(test_msix_pending_checked_at_unmask),
		cmocka_unit_test(test_msix_table_access),
		cmocka_unit_test(test_pci_cfg_window),
		cmocka_unit_test(test_pci_cfg_window_refusals),
		cmocka_unit_test(test_bar_at),
		cmocka_unit_test(test_needs_reset),
		cmocka_unit_test(test_init_refuses),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_loaded_behaviour),
		cmocka_unit_test(test_state_resetting),
		cmocka_unit_test(test_state_refusals),
		cmocka_unit_test(test_state_every_byte_flipped),
		cmocka_unit_test(test_start_info),
		cmocka_unit_test(test_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
