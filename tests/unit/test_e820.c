// SPDX-License-Identifier: GPL-2.0
/* Partition E820 maps: firmware map plus keel's overlays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/e820.h"

#define MiB (1ull << 20)

static const struct mmap_entry bochs[] = {
	{ 0, 0x9F000, 1 },
	{ 0x9F000, 0x1000, 2 },
	{ 0xE8000, 0x18000, 2 },
	{ 0x100000, 1023 * MiB, 1 },
	{ 0xFFFC0000, 0x40000, 2 },
};

/* The type of @addr in a built map, 0 in a hole. */
static uint32_t e820_type_at(const struct e820_entry *map, int n,
			     uint64_t addr)
{
	for (int i = 0; i < n; i++)
		if (addr >= map[i].addr && addr - map[i].addr < map[i].size)
			return map[i].type;
	return 0;
}

static void expect(const struct e820_entry *e, uint64_t addr, uint64_t size,
		   uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void test_firmware_only(void **state)
{
	(void)state;
	struct e820_entry out[16];
	int n = e820_build(bochs, 5, NULL, 0, out, 16);

	assert_int_equal(n, 5);
	expect(&out[0], 0, 0x9F000, E820_RAM);
	expect(&out[3], 0x100000, 1023 * MiB, E820_RAM);
	assert_int_equal(e820_type_at(out, 5, 0xA0000), 0);
}

static void test_overlays_split_ram(void **state)
{
	(void)state;
	const struct e820_overlay ov[] = {
		{ 0x100000, MiB, E820_RESERVED },               /* keel image */
		{ 512 * MiB, 256 * MiB, E820_SOFT_RESERVED },    /* guest */
		{ 768 * MiB, 64 * MiB, E820_RESERVED },          /* pool */
		{ 100 * MiB, 64 * 1024, E820_ACPI },             /* tables */
	};
	struct e820_entry out[16];
	int n = e820_build(bochs, 5, ov, 4, out, 16);

	/* keel's image merges with the BIOS area reserved below it */
	assert_int_equal(n, 10);
	expect(&out[2], 0xE8000, 2 * MiB - 0xE8000, E820_RESERVED);
	expect(&out[3], 2 * MiB, 98 * MiB, E820_RAM);
	expect(&out[4], 100 * MiB, 64 * 1024, E820_ACPI);
	expect(&out[5], 100 * MiB + 64 * 1024, 412 * MiB - 64 * 1024,
	       E820_RAM);
	expect(&out[6], 512 * MiB, 256 * MiB, E820_SOFT_RESERVED);
	expect(&out[7], 768 * MiB, 64 * MiB, E820_RESERVED);
	assert_int_equal(e820_type_at(out, n, 900 * MiB), E820_RAM);
	assert_int_equal(e820_type_at(out, n, 0xFFFC0000), E820_RESERVED);
}

static void test_firmware_overlap_reserved_wins(void **state)
{
	(void)state;
	const struct mmap_entry fw[] = {
		{ 0, 16 * MiB, 1 },
		{ 4 * MiB, MiB, 3 },
		{ 8 * MiB, MiB, 1 },
	};
	struct e820_entry out[8];
	int n = e820_build(fw, 3, NULL, 0, out, 8);

	assert_int_equal(n, 3);
	expect(&out[0], 0, 4 * MiB, E820_RAM);
	expect(&out[1], 4 * MiB, MiB, E820_ACPI);
	expect(&out[2], 5 * MiB, 11 * MiB, E820_RAM);
}

static void test_later_overlay_wins(void **state)
{
	(void)state;
	const struct e820_overlay ov[] = {
		{ MiB, 4 * MiB, E820_RESERVED },
		{ 2 * MiB, MiB, E820_ACPI },
	};
	struct e820_entry out[8];
	const struct mmap_entry fw[] = { { 0, 16 * MiB, 1 } };
	int n = e820_build(fw, 1, ov, 2, out, 8);

	assert_int_equal(n, 5);
	expect(&out[1], MiB, MiB, E820_RESERVED);
	expect(&out[2], 2 * MiB, MiB, E820_ACPI);
	expect(&out[3], 3 * MiB, 2 * MiB, E820_RESERVED);
}

static void test_too_small_output(void **state)
{
	(void)state;
	struct e820_entry out[4];

	assert_int_equal(e820_build(bochs, 5, NULL, 0, out, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firmware_only),
		cmocka_unit_test(test_overlays_split_ram),
		cmocka_unit_test(test_firmware_overlap_reserved_wins),
		cmocka_unit_test(test_later_overlay_wins),
		cmocka_unit_test(test_too_small_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
