// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-scsi device on the virtio-pci transport: identity, queue
 * layout and struct virtio_scsi_config as Linux's virtio_scsi reads it.
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

#define RAM_SIZE 0x2000000ull
#define APIC_ID 2
#define CFG(field) (VIRTIO_PCI_OFF_DEVICE + VIRTIO_SCSI_CFG_##field)

static unsigned int starts, stops;

static void on_start(void *ctx, const struct virtio_start *s)
{
	(void)ctx;
	(void)s;
	starts++;
}

static void on_stop(void *ctx)
{
	(void)ctx;
	stops++;
}

static void on_kick(void *ctx, unsigned int q)
{
	(void)ctx;
	(void)q;
}

static void on_deliver(void *ctx, uint64_t addr, uint32_t data)
{
	(void)ctx;
	(void)addr;
	(void)data;
}

static const struct virtio_pci_ops ops = {
	.start = on_start,
	.stop = on_stop,
	.kick = on_kick,
	.deliver = on_deliver,
};

static void init(struct virtio_pci_dev *dev, uint32_t queues,
		 uint32_t queue_size)
{
	const struct virtio_scsi_params p = { queues, queue_size };

	assert_int_equal(
		virtio_scsi_init(dev, &p, RAM_SIZE, APIC_ID, &ops, NULL), 0);
}

static uint64_t rd(struct virtio_pci_dev *dev, uint64_t off, unsigned int size)
{
	uint64_t v;

	assert_int_equal(
		virtio_pci_bar_read(dev, VIRTIO_PCI_BAR, off, size, &v), 0);
	return v;
}

static int wr(struct virtio_pci_dev *dev, uint64_t off, unsigned int size,
	      uint64_t val)
{
	return virtio_pci_bar_write(dev, VIRTIO_PCI_BAR, off, size, val);
}

struct field {
	unsigned int off;
	unsigned int size;
	uint32_t value;
};

static void expect_config(struct virtio_pci_dev *dev, uint32_t queues,
			  uint32_t queue_size)
{
	const struct field want[] = {
		{ CFG(NUM_QUEUES), 4, queues },
		{ CFG(SEG_MAX), 4, queue_size - 2 },
		{ CFG(MAX_SECTORS), 4, 0xFFFF },
		{ CFG(CMD_PER_LUN), 4, 128 },
		{ CFG(EVENT_INFO_SIZE), 4, 16 },
		{ CFG(SENSE_SIZE), 4, 96 },
		{ CFG(CDB_SIZE), 4, 32 },
		{ CFG(MAX_CHANNEL), 2, 0 },
		{ CFG(MAX_TARGET), 2, 255 },
		{ CFG(MAX_LUN), 4, 16383 },
	};
	unsigned int i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(rd(dev, want[i].off, want[i].size),
				 want[i].value);
}

static void test_identity(void **state)
{
	struct virtio_pci_dev dev;

	(void)state;
	init(&dev, 1, 128);
	assert_int_equal(pci_cfg_read(&dev.cfg, PCI_CFG_VENDOR_ID, 2), 0x1AF4);
	assert_int_equal(pci_cfg_read(&dev.cfg, PCI_CFG_DEVICE_ID, 2),
			 0x1040 + VIRTIO_ID_SCSI);
	assert_int_equal(pci_cfg_read(&dev.cfg, PCI_CFG_REVISION, 4) >> 8,
			 VIRTIO_SCSI_CLASS);
	assert_int_equal(dev.dev_cfg_len, VIRTIO_SCSI_CFG_LEN);
	/* VERSION_1 and the two ring features; no SCSI feature */
	assert_true(dev.features ==
		    (VIRTIO_BIT(32) | VIRTIO_BIT(28) | VIRTIO_BIT(29)));
	assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_DF, 4), 0x30000000);
}

static void test_config_defaults(void **state)
{
	struct virtio_pci_dev dev;

	(void)state;
	init(&dev, 1, 128);
	expect_config(&dev, 1, 128);
	assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_NUMQ, 2), 3);
	assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
}

static void test_config_scaled(void **state)
{
	static struct virtio_pci_dev dev;

	(void)state;
	init(&dev, VIRTIO_SCSI_QUEUES_MAX, 1024);
	expect_config(&dev, 16, 1024);
	assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_NUMQ, 2), 18);
	assert_int_equal(
		pci_cfg_read(&dev.cfg, dev.msix_cap + VIRTIO_PCI_MSIX_CTRL, 2),
		18); /* 19 vectors: the config's and 18 queues' */
	/* the smallest ring: header and response, no data segment */
	init(&dev, 1, 2);
	expect_config(&dev, 1, 2);
}

/* control 0, event 1, then the request queues; all of the one size */
static void test_queue_layout(void **state)
{
	struct virtio_pci_dev dev;
	unsigned int q;

	(void)state;
	init(&dev, 4, 256);
	for (q = 0; q < 4 + 2; q++) {
		assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, q), 0);
		assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
		assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_Q_NOFF, 2), q);
	}
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_Q_SELECT, 2, 6), 0);
	assert_int_equal(rd(&dev, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(VIRTIO_SCSI_CTRL_QUEUE, 0);
	assert_int_equal(VIRTIO_SCSI_EVENT_QUEUE, 1);
	assert_int_equal(VIRTIO_SCSI_REQUEST_QUEUE0, 2);
}

static void test_writable_fields(void **state)
{
	struct virtio_pci_dev dev;

	(void)state;
	init(&dev, 1, 128);
	/* virtscsi_init() writes the sizes it was built with */
	assert_int_equal(wr(&dev, CFG(CDB_SIZE), 4, 32), 0);
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE), 4, 96), 0);
	expect_config(&dev, 1, 128);
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE), 4, 252), 0);
	assert_int_equal(rd(&dev, CFG(SENSE_SIZE), 4), 252);
	assert_int_equal(wr(&dev, CFG(CDB_SIZE) + 2, 2, 0x1), 0);
	assert_int_equal(wr(&dev, CFG(CDB_SIZE), 1, 16), 0);
	assert_int_equal(rd(&dev, CFG(CDB_SIZE), 4), 0x10010);
	assert_int_equal(dev.stats.ro_write, 0);
}

static void test_read_only_fields(void **state)
{
	static const struct field ro[] = {
		{ CFG(NUM_QUEUES), 4, 0 },	{ CFG(SEG_MAX), 4, 0 },
		{ CFG(MAX_SECTORS), 4, 0 },	{ CFG(CMD_PER_LUN), 4, 0 },
		{ CFG(EVENT_INFO_SIZE), 4, 0 }, { CFG(MAX_CHANNEL), 2, 0 },
		{ CFG(MAX_TARGET), 2, 0 },	{ CFG(MAX_LUN), 4, 0 },
		{ CFG(MAX_LUN) + 2, 2, 0 },	{ CFG(SEG_MAX) + 3, 1, 0 },
	};
	struct virtio_pci_dev dev;
	unsigned int i;

	(void)state;
	init(&dev, 2, 64);
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		assert_int_equal(wr(&dev, ro[i].off, ro[i].size, 0xFFFFFFFF),
				 -1);
	assert_int_equal(dev.stats.ro_write, i);
	expect_config(&dev, 2, 64);
}

static void test_config_access_widths(void **state)
{
	struct virtio_pci_dev dev;
	uint64_t whole = 0;
	unsigned int i;

	(void)state;
	init(&dev, 3, 512);
	/* bytes assemble to the fields, little-endian */
	for (i = 0; i < 4; i++)
		whole |= rd(&dev, CFG(SEG_MAX) + i, 1) << (8 * i);
	assert_int_equal(whole, 510);
	assert_int_equal(rd(&dev, CFG(MAX_LUN) + 2, 2), 0);
	assert_int_equal(rd(&dev, CFG(MAX_TARGET) - 2, 2), 0); /* channel */
	/* unaligned, too wide, past the 36 bytes */
	assert_int_equal(virtio_pci_bar_read(&dev, VIRTIO_PCI_BAR,
					     CFG(SEG_MAX) + 1, 2, &whole),
			 -1);
	assert_int_equal(virtio_pci_bar_read(&dev, VIRTIO_PCI_BAR,
					     CFG(MAX_TARGET), 4, &whole),
			 -1);
	assert_int_equal(virtio_pci_bar_read(&dev, VIRTIO_PCI_BAR,
					     CFG(NUM_QUEUES), 8, &whole),
			 -1);
	assert_int_equal(virtio_pci_bar_read(&dev, VIRTIO_PCI_BAR,
					     VIRTIO_PCI_OFF_DEVICE + 36, 1,
					     &whole),
			 -1);
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE) + 1, 2, 0), -1);
	assert_int_equal(wr(&dev, VIRTIO_PCI_OFF_DEVICE + 36, 4, 0), -1);
	assert_int_equal(dev.stats.bad_access, 6);
	expect_config(&dev, 3, 512);
}

static void test_reset_restores_sizes(void **state)
{
	struct virtio_pci_dev dev;

	(void)state;
	init(&dev, 1, 128);
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE), 4, 64), 0);
	assert_int_equal(wr(&dev, CFG(CDB_SIZE), 4, 16), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 0), 0);
	expect_config(&dev, 1, 128);
}

static void test_reset_restores_after_stop(void **state)
{
	struct virtio_pci_dev dev;

	(void)state;
	init(&dev, 1, 128);
	starts = stops = 0;
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE), 4, 64), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 1), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 3), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_GFSELECT, 4, 1), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_GF, 4, 1), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 0xB), 0);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 0xF), 0);
	assert_int_equal(starts, 1);
	assert_int_equal(wr(&dev, VIRTIO_PCI_COMMON_STATUS, 1, 0), 0);
	assert_int_equal(stops, 1);
	/* still the driver's value while the backend stops */
	assert_int_equal(rd(&dev, CFG(SENSE_SIZE), 4), 64);
	assert_int_equal(wr(&dev, CFG(SENSE_SIZE), 4, 96), -1);
	assert_int_equal(dev.stats.busy, 1);
	assert_int_equal(virtio_pci_reset_done(&dev), 0);
	expect_config(&dev, 1, 128);
}

static void test_init_refuses(void **state)
{
	static const struct virtio_scsi_params bad[] = {
		{ 0, 128 },	   { 17, 128 },
		{ 1, 0 },	   { 1, 1 },
		{ 1, 3 },	   { 1, 100 },
		{ 1, 65536 },	   { 0xFFFFFFFF, 128 },
		{ 1, 0x80000000 },
	};
	struct virtio_pci_dev dev;
	const struct virtio_scsi_params good = { 1, 128 };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(virtio_scsi_init(&dev, &bad[i], RAM_SIZE,
						  APIC_ID, &ops, NULL),
				 -1);
	assert_int_equal(virtio_scsi_init(&dev, &good, 0, APIC_ID, &ops, NULL),
			 -1);
	assert_int_equal(
		virtio_scsi_init(&dev, &good, RAM_SIZE, 0xFF, &ops, NULL), -1);
	assert_int_equal(
		virtio_scsi_init(&dev, &good, RAM_SIZE, 256, &ops, NULL), -1);
	assert_int_equal(
		virtio_scsi_init(&dev, &good, RAM_SIZE, APIC_ID, NULL, NULL),
		-1);
	assert_int_equal(virtio_scsi_init(&dev, &good, RAM_SIZE, 0, &ops, NULL),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_scaled),
		cmocka_unit_test(test_queue_layout),
		cmocka_unit_test(test_writable_fields),
		cmocka_unit_test(test_read_only_fields),
		cmocka_unit_test(test_config_access_widths),
		cmocka_unit_test(test_reset_restores_sizes),
		cmocka_unit_test(test_reset_restores_after_stop),
		cmocka_unit_test(test_init_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
