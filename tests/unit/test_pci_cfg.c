// SPDX-License-Identifier: GPL-2.0
/*
 * The partition's PCI bus 0 through configuration mechanism #1, driven the
 * way Linux 6.1 drives it (arch/x86/pci/direct.c, drivers/pci/probe.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/pci_cfg.h"

#define PCI_CLASS_DEVICE 0x0A
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_DISPLAY_VGA 0x0300
#define PCI_VENDOR_ID_INTEL 0x8086
#define PCI_VENDOR_ID_COMPAQ 0x0E11

/* Linux's PCI_CONF1_ADDRESS(), extended register bits included */
static uint32_t conf1_address(unsigned int bus, unsigned int devfn,
			      unsigned int reg)
{
	return 0x80000000u | ((reg & 0xF00) << 16) | (bus << 16) |
	       (devfn << 8) | (reg & 0xFC);
}

static uint32_t inp(struct pci_bus *b, uint16_t port, unsigned int size)
{
	uint32_t val;

	assert_int_equal(pci_bus_io_read(b, port, size, &val), 0);
	return val;
}

static void outp(struct pci_bus *b, uint16_t port, unsigned int size,
		 uint32_t val)
{
	assert_int_equal(pci_bus_io_write(b, port, size, val), 0);
}

/* pci_conf1_read() / pci_conf1_write() */
static uint32_t conf1_read(struct pci_bus *b, unsigned int bus,
			   unsigned int devfn, unsigned int reg,
			   unsigned int len)
{
	outp(b, 0xCF8, 4, conf1_address(bus, devfn, reg));
	switch (len) {
	case 1:
		return inp(b, (uint16_t)(0xCFC + (reg & 3)), 1);
	case 2:
		return inp(b, (uint16_t)(0xCFC + (reg & 2)), 2);
	default:
		return inp(b, 0xCFC, 4);
	}
}

static void conf1_write(struct pci_bus *b, unsigned int devfn, unsigned int reg,
			unsigned int len, uint32_t val)
{
	outp(b, 0xCF8, 4, conf1_address(0, devfn, reg));
	switch (len) {
	case 1:
		outp(b, (uint16_t)(0xCFC + (reg & 3)), 1, val & 0xFF);
		break;
	case 2:
		outp(b, (uint16_t)(0xCFC + (reg & 2)), 2, val & 0xFFFF);
		break;
	default:
		outp(b, 0xCFC, 4, val);
	}
}

/* pci_sanity_check() without the DMI shortcut */
static bool sanity_check(struct pci_bus *b)
{
	unsigned int devfn, x;

	for (devfn = 0; devfn < 0x100; devfn++) {
		x = conf1_read(b, 0, devfn, PCI_CLASS_DEVICE, 2);
		if (x == PCI_CLASS_BRIDGE_HOST || x == PCI_CLASS_DISPLAY_VGA)
			return true;
		x = conf1_read(b, 0, devfn, PCI_CFG_VENDOR_ID, 2);
		if (x == PCI_VENDOR_ID_INTEL || x == PCI_VENDOR_ID_COMPAQ)
			return true;
	}
	return false;
}

/* pci_check_type1() */
static bool check_type1(struct pci_bus *b)
{
	bool works = false;
	uint32_t tmp;

	/* the mechanism #2 probe: refused, as keel counts it */
	assert_int_equal(pci_bus_io_write(b, 0xCFB, 1, 0x01), -1);
	tmp = inp(b, 0xCF8, 4);
	outp(b, 0xCF8, 4, 0x80000000);
	if (inp(b, 0xCF8, 4) == 0x80000000 && sanity_check(b))
		works = true;
	outp(b, 0xCF8, 4, tmp);
	return works;
}

/*
 * __pci_read_base() sizing one BAR and pci_size(): returns the size Linux
 * computes, and checks the BAR is left as it was.
 */
static uint64_t linux_bar_size(struct pci_bus *b, unsigned int devfn,
			       unsigned int index)
{
	unsigned int pos = PCI_CFG_BAR0 + 4 * index;
	uint32_t l, sz, lh = 0, szh = 0;
	uint64_t mask, size;

	l = conf1_read(b, 0, devfn, pos, 4);
	conf1_write(b, devfn, pos, 4, 0xFFFFFFFF);
	sz = conf1_read(b, 0, devfn, pos, 4);
	conf1_write(b, devfn, pos, 4, l);
	if ((l & 0x7) == 0x4) {
		lh = conf1_read(b, 0, devfn, pos + 4, 4);
		conf1_write(b, devfn, pos + 4, 4, 0xFFFFFFFF);
		szh = conf1_read(b, 0, devfn, pos + 4, 4);
		conf1_write(b, devfn, pos + 4, 4, lh);
	}
	assert_int_equal(conf1_read(b, 0, devfn, pos, 4), l);
	if (sz == 0xFFFFFFFF)
		sz = 0;
	if (l & 1)
		mask = 0xFFFC;
	else
		mask = 0xFFFFFFFFFFFFFFF0ull;
	size = (((uint64_t)szh << 32) | sz) & mask;
	if (!size)
		return 0;
	return size & ~(size - 1);
}

static void scratch_pattern(struct pci_cfg_space *cfg)
{
	unsigned int i;

	pci_cfg_init(cfg, 0x1AF4, 0x1048, 0x010000, 1);
	for (i = PCI_CFG_CAP_START; i < PCI_CFG_SIZE; i++)
		pci_cfg_set(cfg, i, 1, i);
}

struct hook_log {
	unsigned int calls, off, size;
	uint32_t val, seen; /* seen: the register as the hook found it */
	struct pci_cfg_space *cfg;
};

static void hook(void *dev, unsigned int off, unsigned int size, uint32_t val)
{
	struct hook_log *log = dev;

	log->calls++;
	log->off = off;
	log->size = size;
	log->val = val;
	log->seen = pci_cfg_read(log->cfg, off, size);
}

static void test_linux_type1_probe(void **state)
{
	(void)state;
	struct pci_cfg_space host;
	struct pci_bus b;

	pci_bus_init(&b);
	pci_host_bridge_init(&host);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(0, 0), &host, NULL, NULL),
			 0);
	outp(&b, 0xCF8, 4, 0x12345678);
	assert_true(check_type1(&b));
	assert_int_equal(inp(&b, 0xCF8, 4), 0x12345678);
}

static void test_type1_probe_without_host_bridge(void **state)
{
	(void)state;
	struct pci_bus b;

	pci_bus_init(&b);
	assert_false(check_type1(&b));
}

static void test_host_bridge_header(void **state)
{
	(void)state;
	struct pci_cfg_space host;
	struct pci_bus b;
	unsigned int i;

	pci_bus_init(&b);
	pci_host_bridge_init(&host);
	assert_int_equal(pci_bus_add(&b, 0, &host, NULL, NULL), 0);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_VENDOR_ID, 4),
			 0x29C08086);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_REVISION, 4), 0x06000000);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_COMMAND, 4), 0x00000006);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_CAP_PTR, 1), 0);

	conf1_write(&b, 0, PCI_CFG_COMMAND, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_COMMAND, 4), 0x00000146);
	conf1_write(&b, 0, PCI_CFG_COMMAND, 2, 0);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_COMMAND, 2), 0x0006);

	for (i = 0; i < PCI_CFG_NR_BARS; i++)
		assert_int_equal(linux_bar_size(&b, 0, i), 0);
	conf1_write(&b, 0, PCI_CFG_ROM, 4, 0xFFFFF800);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_ROM, 4), 0);
	conf1_write(&b, 0, PCI_CFG_INT_LINE, 1, 0x0B);
	assert_int_equal(conf1_read(&b, 0, 0, PCI_CFG_INT_LINE, 1), 0);
}

static void test_absent_functions_read_ones(void **state)
{
	(void)state;
	struct pci_cfg_space host, dev;
	struct hook_log log = { .cfg = &dev };
	struct pci_bus b;
	unsigned int devfn;

	pci_bus_init(&b);
	pci_host_bridge_init(&host);
	scratch_pattern(&dev);
	assert_int_equal(pci_bus_add(&b, 0, &host, NULL, NULL), 0);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(3, 0), &dev, hook, &log), 0);
	for (devfn = 0; devfn < 0x100; devfn++) {
		uint32_t want = devfn == 0		   ? 0x29C08086
				: devfn == PCI_DEVFN(3, 0) ? 0x10481AF4
							   : 0xFFFFFFFF;

		assert_int_equal(conf1_read(&b, 0, devfn, 0, 4), want);
		assert_int_equal(conf1_read(&b, 0, devfn, 0, 2), want & 0xFFFF);
		assert_int_equal(conf1_read(&b, 0, devfn, 3, 1), want >> 24);
	}
	/* other buses, extended registers, enable bit clear */
	assert_int_equal(conf1_read(&b, 1, PCI_DEVFN(3, 0), 0, 4), 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, PCI_DEVFN(3, 0), 0x100, 4),
			 0xFFFFFFFF);
	outp(&b, 0xCF8, 4, PCI_DEVFN(3, 0) << 8);
	assert_int_equal(inp(&b, 0xCFC, 4), 0xFFFFFFFF);
	assert_int_equal(inp(&b, 0xCFE, 2), 0xFFFF);

	outp(&b, 0xCFC, 4, 0);
	outp(&b, 0xCF8, 4, conf1_address(1, PCI_DEVFN(3, 0), 0x3C));
	outp(&b, 0xCFC, 1, 0);
	conf1_write(&b, PCI_DEVFN(4, 0), 0x3C, 1, 0);
	assert_int_equal(log.calls, 0);
	assert_int_equal(conf1_read(&b, 0, PCI_DEVFN(3, 0), 0, 4), 0x10481AF4);
}

static void test_data_port_every_offset(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int reg, k;

	pci_bus_init(&b);
	scratch_pattern(&dev);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(1, 0), &dev, NULL, NULL), 0);
	for (reg = PCI_CFG_CAP_START; reg < PCI_CFG_SIZE; reg += 4) {
		outp(&b, 0xCF8, 4, conf1_address(0, PCI_DEVFN(1, 0), reg));
		assert_int_equal(inp(&b, 0xCFC, 4), reg | (reg + 1) << 8 |
							    (reg + 2) << 16 |
							    (reg + 3u) << 24);
		for (k = 0; k < 4; k++)
			assert_int_equal(inp(&b, (uint16_t)(0xCFC + k), 1),
					 reg + k);
		for (k = 0; k < 3; k++)
			assert_int_equal(inp(&b, (uint16_t)(0xCFC + k), 2),
					 (reg + k) | (reg + k + 1) << 8);
	}
}

static void test_data_port_writes_every_offset(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int k;

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	pci_cfg_set_wmask(&dev, 0x40, 4, 0xFFFFFFFF);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(1, 0), &dev, NULL, NULL), 0);
	outp(&b, 0xCF8, 4, conf1_address(0, PCI_DEVFN(1, 0), 0x40));
	for (k = 0; k < 4; k++)
		outp(&b, (uint16_t)(0xCFC + k), 1, 0xA0 + k);
	assert_int_equal(pci_cfg_read(&dev, 0x40, 4), 0xA3A2A1A0);
	for (k = 0; k < 3; k++) {
		outp(&b, (uint16_t)(0xCFC + k), 2, 0xBEEF);
		assert_int_equal(pci_cfg_read(&dev, 0x40 + k, 2), 0xBEEF);
	}
	outp(&b, 0xCFC, 4, 0x12345678);
	assert_int_equal(pci_cfg_read(&dev, 0x40, 4), 0x12345678);
	assert_int_equal(pci_cfg_read(&dev, 0x44, 4), 0);
}

static void test_bad_accesses_refused(void **state)
{
	(void)state;
	static const struct {
		uint16_t port;
		unsigned int size;
	} bad[] = {
		{ 0xCFF, 2 }, { 0xCFD, 4 }, { 0xCFE, 4 }, { 0xCFF, 4 },
		{ 0xCFB, 2 }, { 0xCF9, 4 }, { 0xCFA, 4 }, { 0xCFC, 3 },
		{ 0xCF8, 1 }, { 0xCF8, 2 }, { 0xCF9, 1 }, { 0xCFB, 1 },
		{ 0xCFC, 0 }, { 0xCFC, 8 }, { 0xCF7, 1 }, { 0xD00, 1 },
		{ 0xCF4, 4 }, { 0xCF6, 4 },
	};
	struct pci_cfg_space host;
	struct pci_bus b;
	uint32_t val;
	size_t i;

	pci_bus_init(&b);
	pci_host_bridge_init(&host);
	assert_int_equal(pci_bus_add(&b, 0, &host, NULL, NULL), 0);
	outp(&b, 0xCF8, 4, conf1_address(0, 0, PCI_CFG_COMMAND));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		val = 0;
		assert_int_equal(
			pci_bus_io_read(&b, bad[i].port, bad[i].size, &val),
			-1);
		assert_int_equal(val, 0xFFFFFFFF);
		assert_int_equal(
			pci_bus_io_write(&b, bad[i].port, bad[i].size, 0), -1);
	}
	assert_int_equal(inp(&b, 0xCF8, 4), conf1_address(0, 0, 4));
	assert_int_equal(inp(&b, 0xCFC, 2), 0x0006);
	/* unaligned but inside the dword: allowed */
	assert_int_equal(inp(&b, 0xCFD, 2), 0x0000);
}

static void test_address_register(void **state)
{
	(void)state;
	struct pci_bus b;

	pci_bus_init(&b);
	assert_int_equal(inp(&b, 0xCF8, 4), 0);
	outp(&b, 0xCF8, 4, 0x8000A8F3);
	assert_int_equal(inp(&b, 0xCF8, 4), 0x8000A8F3);
	/* narrower accesses are refused and change nothing */
	assert_int_equal(pci_bus_io_write(&b, 0xCFB, 1, 0x01), -1);
	assert_int_equal(pci_bus_io_write(&b, 0xCF8, 1, 0x00), -1);
	assert_int_equal(pci_bus_io_write(&b, 0xCF9, 2, 0x1234), -1);
	assert_int_equal(inp(&b, 0xCF8, 4), 0x8000A8F3);
}

static void test_write_masks_honoured(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(2, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	pci_cfg_set(&dev, PCI_CFG_INT_PIN, 1, 1);
	pci_cfg_set(&dev, 0x50, 4, 0x11223344);
	pci_cfg_set_wmask(&dev, 0x50, 4, 0x00FF0F00);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, NULL), 0);

	conf1_write(&b, devfn, 0x00, 4, 0);
	conf1_write(&b, devfn, PCI_CFG_REVISION, 4, 0);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x00, 4), 0x10481AF4);
	assert_int_equal(conf1_read(&b, 0, devfn, PCI_CFG_REVISION, 4),
			 0x01000001);

	conf1_write(&b, devfn, PCI_CFG_COMMAND, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, PCI_CFG_COMMAND, 4),
			 0x00000547);
	conf1_write(&b, devfn, PCI_CFG_INT_LINE, 2, 0xFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, PCI_CFG_INT_LINE, 2), 0x01FF);
	conf1_write(&b, devfn, PCI_CFG_CACHE_LINE, 1, 0x10);
	assert_int_equal(conf1_read(&b, 0, devfn, PCI_CFG_CACHE_LINE, 1), 0x10);

	conf1_write(&b, devfn, 0x50, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x50, 4), 0x11FF3F44);
	conf1_write(&b, devfn, 0x51, 1, 0x00);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x50, 4), 0x11FF3044);
	conf1_write(&b, devfn, 0x52, 2, 0x0000);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x50, 4), 0x11003044);
}

static void test_bar_sizing_mem32(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(1, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	assert_int_equal(pci_cfg_set_bar(&dev, 1, 0x1000, PCI_BAR_MEM32), 0);
	assert_int_equal(pci_cfg_set_bar(&dev, 3, 0x100000,
					 PCI_BAR_MEM32 | PCI_BAR_PREFETCH),
			 0);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, NULL), 0);

	conf1_write(&b, devfn, 0x14, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x14, 4), 0xFFFFF000);
	conf1_write(&b, devfn, 0x1C, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x1C, 4), 0xFFF00008);
	conf1_write(&b, devfn, 0x14, 4, 0);
	conf1_write(&b, devfn, 0x1C, 4, 0);

	assert_int_equal(linux_bar_size(&b, devfn, 0), 0);
	assert_int_equal(linux_bar_size(&b, devfn, 1), 0x1000);
	assert_int_equal(linux_bar_size(&b, devfn, 3), 0x100000);

	conf1_write(&b, devfn, 0x14, 4, 0xFEB01234);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x14, 4), 0xFEB01000);
	assert_int_equal(pci_cfg_bar_addr(&dev, 1), 0xFEB01000);
	assert_int_equal(pci_cfg_bar_addr(&dev, 0), 0);
}

static void test_bar_sizing_mem64(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(1, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x4000,
					 PCI_BAR_MEM64 | PCI_BAR_PREFETCH),
			 0);
	assert_int_equal(
		pci_cfg_set_bar(&dev, 4, 0x200000000ull, PCI_BAR_MEM64), 0);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, NULL), 0);

	conf1_write(&b, devfn, 0x10, 4, 0xFFFFFFFF);
	conf1_write(&b, devfn, 0x14, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x10, 4), 0xFFFFC00C);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x14, 4), 0xFFFFFFFF);
	conf1_write(&b, devfn, 0x20, 4, 0xFFFFFFFF);
	conf1_write(&b, devfn, 0x24, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x20, 4), 0x00000004);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x24, 4), 0xFFFFFFFE);
	conf1_write(&b, devfn, 0x10, 4, 0);
	conf1_write(&b, devfn, 0x14, 4, 0);
	conf1_write(&b, devfn, 0x20, 4, 0);
	conf1_write(&b, devfn, 0x24, 4, 0);

	assert_int_equal(linux_bar_size(&b, devfn, 0), 0x4000);
	assert_int_equal(linux_bar_size(&b, devfn, 4), 0x200000000ull);

	conf1_write(&b, devfn, 0x10, 4, 0xC0004000);
	conf1_write(&b, devfn, 0x14, 4, 0x00000080);
	assert_int_equal(pci_cfg_bar_addr(&dev, 0), 0x80C0004000ull);
	assert_int_equal(pci_cfg_bar_addr(&dev, 1), 0);
	conf1_write(&b, devfn, 0x20, 4, 0xFFFFFFF0);
	conf1_write(&b, devfn, 0x24, 4, 0x00000005);
	assert_int_equal(pci_cfg_bar_addr(&dev, 4), 0x400000000ull);
}

static void test_bar_sizing_io(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(1, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1004, 0x010000, 0);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x40, PCI_BAR_IO), 0);
	assert_int_equal(pci_cfg_set_bar(&dev, 5, 4, PCI_BAR_IO), 0);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, NULL), 0);

	conf1_write(&b, devfn, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x10, 4), 0xFFFFFFC1);
	conf1_write(&b, devfn, 0x10, 4, 0);
	assert_int_equal(linux_bar_size(&b, devfn, 0), 0x40);
	assert_int_equal(linux_bar_size(&b, devfn, 5), 4);

	conf1_write(&b, devfn, 0x10, 4, 0xC07F);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x10, 4), 0xC041);
	assert_int_equal(pci_cfg_bar_addr(&dev, 0), 0xC040);
}

static void test_bad_bars_refused(void **state)
{
	(void)state;
	struct pci_cfg_space dev;

	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	assert_int_equal(pci_cfg_set_bar(&dev, 6, 0x1000, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x1800, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 8, PCI_BAR_MEM32), -1);
	assert_int_equal(
		pci_cfg_set_bar(&dev, 0, 0x100000000ull, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 2, PCI_BAR_IO), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 512, PCI_BAR_IO), -1);
	assert_int_equal(
		pci_cfg_set_bar(&dev, 0, 16, PCI_BAR_IO | PCI_BAR_PREFETCH),
		-1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 16, PCI_BAR_NONE), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 16, PCI_BAR_MEM64_HI), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 5, 0x1000, PCI_BAR_MEM64), -1);

	assert_int_equal(pci_cfg_set_bar(&dev, 1, 0x1000, PCI_BAR_MEM64), 0);
	assert_int_equal(pci_cfg_set_bar(&dev, 1, 0x1000, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 2, 0x1000, PCI_BAR_MEM32), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x1000, PCI_BAR_MEM64), -1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	/* nothing refused above left a trace */
	assert_int_equal(pci_cfg_read(&dev, 0x1C, 4), 0);
	assert_int_equal(dev.wmask[0x1C], 0);
}

static void test_bus_add_refusals(void **state)
{
	(void)state;
	struct pci_cfg_space cfg[PCI_BUS_MAX_FUNCS + 1];
	struct pci_bus b;
	unsigned int i;

	pci_bus_init(&b);
	for (i = 0; i <= PCI_BUS_MAX_FUNCS; i++)
		pci_cfg_init(&cfg[i], 0x1AF4, (uint16_t)(0x1000 + i), 0, 0);
	assert_int_equal(pci_bus_add(&b, 0, NULL, NULL, NULL), -1);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(5, 0), &cfg[0], NULL, NULL),
			 0);
	assert_int_equal(pci_bus_add(&b, PCI_DEVFN(5, 0), &cfg[1], NULL, NULL),
			 -1);
	for (i = 1; i < PCI_BUS_MAX_FUNCS; i++)
		assert_int_equal(pci_bus_add(&b, (uint8_t)(PCI_DEVFN(5, 0) + i),
					     &cfg[i], NULL, NULL),
				 0);
	assert_int_equal(b.count, PCI_BUS_MAX_FUNCS);
	assert_int_equal(
		pci_bus_add(&b, 0, &cfg[PCI_BUS_MAX_FUNCS], NULL, NULL), -1);
	/* the first one added still answers */
	assert_int_equal(conf1_read(&b, 0, PCI_DEVFN(5, 0), 0, 4), 0x10001AF4);
	assert_int_equal(conf1_read(&b, 0, PCI_DEVFN(8, 7), 0, 4), 0x101F1AF4);
}

static void test_write_hook(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct hook_log log = { .cfg = &dev };
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(1, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	assert_int_equal(pci_cfg_set_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, hook, &log), 0);

	conf1_write(&b, devfn, 0x10, 4, 0xFFFFFFFF);
	assert_int_equal(log.calls, 1);
	assert_int_equal(log.off, 0x10);
	assert_int_equal(log.size, 4);
	assert_int_equal(log.val, 0xFFFFFFFF);
	assert_int_equal(log.seen, 0xFFFFF000);

	conf1_write(&b, devfn, PCI_CFG_COMMAND + 1, 1, 0x04);
	assert_int_equal(log.calls, 2);
	assert_int_equal(log.off, 0x05);
	assert_int_equal(log.size, 1);
	assert_int_equal(log.val, 0x04);

	outp(&b, 0xCF8, 4, conf1_address(0, devfn, PCI_CFG_COMMAND));
	outp(&b, 0xCFE, 2, 0xFFFF);
	assert_int_equal(log.calls, 3);
	assert_int_equal(log.off, 0x06);
	assert_int_equal(log.size, 2);
	assert_int_equal(log.seen, 0);

	conf1_read(&b, 0, devfn, 0x10, 4);
	assert_int_equal(pci_bus_io_write(&b, 0xCFB, 1, 0x01), -1);
	assert_int_equal(log.calls, 3);
}

/* the read hook runs first and what it stores is what the read returns */
static void read_hook(void *dev, unsigned int off, unsigned int size)
{
	struct hook_log *log = dev;

	log->calls++;
	log->off = off;
	log->size = size;
	pci_cfg_set(log->cfg, 0x40, 4, 0xC0DE0000u + log->calls);
}

static void test_read_hook(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct hook_log log = { .cfg = &dev };
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(2, 0);

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	assert_int_equal(pci_bus_set_read_hook(&b, devfn, read_hook), -1);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, &log), 0);
	assert_int_equal(pci_bus_set_read_hook(&b, devfn, read_hook), 0);

	assert_int_equal(conf1_read(&b, 0, devfn, 0x40, 4), 0xC0DE0001);
	assert_int_equal(log.off, 0x40);
	assert_int_equal(log.size, 4);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x42, 2), 0xC0DE);
	assert_int_equal(log.off, 0x42);
	assert_int_equal(log.size, 2);
	assert_int_equal(log.calls, 2);
	/* no hook for absent functions, refused ports or CONFIG_ADDRESS */
	conf1_read(&b, 0, PCI_DEVFN(3, 0), 0x40, 4);
	assert_int_equal(inp(&b, 0xCF8, 4), conf1_address(0, PCI_DEVFN(3, 0), 0x40));
	outp(&b, 0xCF8, 4, conf1_address(0, devfn, 0x40));
	assert_int_equal(pci_bus_io_read(&b, 0xCFF, 2, &log.val), -1);
	assert_int_equal(log.calls, 2);
}

static void test_capability_list(void **state)
{
	(void)state;
	struct pci_cfg_space dev;
	struct pci_bus b;
	unsigned int devfn = PCI_DEVFN(1, 0), pos, n = 0;
	int first, second;

	pci_bus_init(&b);
	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	first = pci_cfg_add_cap(&dev, 0x09, 17);
	second = pci_cfg_add_cap(&dev, 0x11, 12);
	assert_int_equal(first, 0x40);
	assert_int_equal(second, 0x54);
	assert_int_equal(pci_bus_add(&b, devfn, &dev, NULL, NULL), 0);

	assert_true(conf1_read(&b, 0, devfn, PCI_CFG_STATUS, 2) &
		    PCI_STATUS_CAP_LIST);
	/* pci_find_capability()'s walk */
	pos = conf1_read(&b, 0, devfn, PCI_CFG_CAP_PTR, 1);
	while (pos) {
		unsigned int ent = conf1_read(&b, 0, devfn, pos, 2);

		assert_int_equal(ent & 0xFF, n ? 0x11 : 0x09);
		pos = ent >> 8;
		n++;
	}
	assert_int_equal(n, 2);

	/* the list is read-only to the partition */
	conf1_write(&b, devfn, 0x40, 4, 0);
	conf1_write(&b, devfn, PCI_CFG_CAP_PTR, 1, 0);
	assert_int_equal(conf1_read(&b, 0, devfn, 0x40, 2), 0x5409);
	assert_int_equal(conf1_read(&b, 0, devfn, PCI_CFG_CAP_PTR, 1), 0x40);

	assert_int_equal(pci_cfg_add_cap(&dev, 0x05, 0x100 - 0x60 + 1), -1);
	assert_int_equal(pci_cfg_add_cap(&dev, 0x05, 1), -1);
	assert_int_equal(pci_cfg_add_cap(&dev, 0x05, 0x100 - 0x60), 0x60);
	assert_int_equal(pci_cfg_add_cap(&dev, 0x05, 2), -1);
}

static void test_cfg_helpers_bounds(void **state)
{
	(void)state;
	struct pci_cfg_space dev;

	pci_cfg_init(&dev, 0x1AF4, 0x1048, 0x010000, 1);
	pci_cfg_set_wmask(&dev, 0xFC, 4, 0xFFFFFFFF);
	pci_cfg_write(&dev, 0xFC, 4, 0xCAFEF00D);
	assert_int_equal(pci_cfg_read(&dev, 0xFC, 4), 0xCAFEF00D);
	assert_int_equal(pci_cfg_read(&dev, 0xFD, 4), 0xFFFFFFFF);
	assert_int_equal(pci_cfg_read(&dev, 0xFF, 2), 0xFFFFFFFF);
	assert_int_equal(pci_cfg_read(&dev, 0xFF, 1), 0xCA);
	assert_int_equal(pci_cfg_read(&dev, 0x00, 3), 0xFFFFFFFF);
	pci_cfg_write(&dev, 0xFE, 4, 0);
	pci_cfg_set(&dev, 0x100, 1, 0);
	pci_cfg_write(&dev, 0x00, 3, 0);
	assert_int_equal(pci_cfg_read(&dev, 0xFC, 4), 0xCAFEF00D);
	assert_int_equal(pci_cfg_read(&dev, PCI_CFG_CLASS, 4) & 0xFFFFFF,
			 0x010000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_type1_probe),
		cmocka_unit_test(test_type1_probe_without_host_bridge),
		cmocka_unit_test(test_host_bridge_header),
		cmocka_unit_test(test_absent_functions_read_ones),
		cmocka_unit_test(test_data_port_every_offset),
		cmocka_unit_test(test_data_port_writes_every_offset),
		cmocka_unit_test(test_bad_accesses_refused),
		cmocka_unit_test(test_address_register),
		cmocka_unit_test(test_write_masks_honoured),
		cmocka_unit_test(test_bar_sizing_mem32),
		cmocka_unit_test(test_bar_sizing_mem64),
		cmocka_unit_test(test_bar_sizing_io),
		cmocka_unit_test(test_bad_bars_refused),
		cmocka_unit_test(test_bus_add_refusals),
		cmocka_unit_test(test_write_hook),
		cmocka_unit_test(test_read_hook),
		cmocka_unit_test(test_capability_list),
		cmocka_unit_test(test_cfg_helpers_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
