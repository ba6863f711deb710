// SPDX-License-Identifier: GPL-2.0
/* The partition's I/O APIC register file, accessed the way io_apic.c does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/ioapic_emul.h"

static uint32_t rd(struct ioapic_emul *io, unsigned int reg)
{
	uint32_t val;

	assert_int_equal(ioapic_emul_write(io, IOAPIC_IOREGSEL, 4, reg), 0);
	assert_int_equal(ioapic_emul_read(io, IOAPIC_IOWIN, 4, &val), 0);
	return val;
}

static int wr(struct ioapic_emul *io, unsigned int reg, uint32_t val)
{
	assert_int_equal(ioapic_emul_write(io, IOAPIC_IOREGSEL, 4, reg), 0);
	return ioapic_emul_write(io, IOAPIC_IOWIN, 4, val);
}

static struct ioapic_emul fresh(void)
{
	struct ioapic_emul io;

	ioapic_emul_init(&io, 2);
	return io;
}

static void test_id_version_arbitration(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();

	assert_int_equal(rd(&io, IOAPIC_REG_ID), 0x02000000);
	assert_int_equal(rd(&io, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(rd(&io, IOAPIC_REG_ARB), 0x02000000);
	/* entries field + 1 is what io_apic_get_redir_entries() returns */
	assert_int_equal(((rd(&io, IOAPIC_REG_VER) >> 16) & 0xFF) + 1, 24);
}

static void test_id_bits_27_24_writable(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();

	assert_int_equal(wr(&io, IOAPIC_REG_ID, 0xFFFFFFFF), 0);
	assert_int_equal(rd(&io, IOAPIC_REG_ID), 0x0F000000);
	assert_int_equal(rd(&io, IOAPIC_REG_ARB), 0x0F000000);
	/* io_apic_unique_id(): write a new ID, read it back */
	assert_int_equal(wr(&io, IOAPIC_REG_ID, 0x05000000), 0);
	assert_int_equal((rd(&io, IOAPIC_REG_ID) >> 24) & 0xFF, 5);
}

static void test_init_id_truncated(void **state)
{
	(void)state;
	struct ioapic_emul io;

	ioapic_emul_init(&io, 0x1F);
	assert_int_equal(rd(&io, IOAPIC_REG_ID), 0x0F000000);
}

static void test_version_and_arb_read_only(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();

	assert_int_equal(wr(&io, IOAPIC_REG_VER, 0), 1);
	assert_int_equal(wr(&io, IOAPIC_REG_ARB, 0x0F000000), 1);
	assert_int_equal(rd(&io, IOAPIC_REG_VER), 0x00170011);
	assert_int_equal(rd(&io, IOAPIC_REG_ARB), 0x02000000);
}

static void test_redirection_masked_at_reset(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	unsigned int pin;

	for (pin = 0; pin < IOAPIC_EMUL_PINS; pin++) {
		assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * pin),
				 0x00010000);
		assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * pin + 1), 0);
	}
}

static void test_redirection_entry_round_trip(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();

	/* ioapic_write_entry(): high dword first, then low */
	assert_int_equal(wr(&io, IOAPIC_REG_REDTBL + 2 * 4 + 1, 0x03000000), 0);
	assert_int_equal(wr(&io, IOAPIC_REG_REDTBL + 2 * 4, 0x0000A031), 0);
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * 4 + 1), 0x03000000);
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * 4), 0x0000A031);
	/* neighbours untouched */
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * 3), 0x00010000);
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * 5), 0x00010000);
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL + 2 * 5 + 1), 0);
}

static void test_status_bits_read_only_zero(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	unsigned int last = IOAPIC_REG_REDTBL + 2 * (IOAPIC_EMUL_PINS - 1);

	assert_int_equal(wr(&io, last, 0xFFFFFFFF), 0);
	assert_int_equal(rd(&io, last), 0xFFFFAFFF);
	assert_int_equal(wr(&io, last + 1, 0xFFFFFFFF), 0);
	assert_int_equal(rd(&io, last + 1), 0xFFFFFFFF);
}

static void test_unknown_registers(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	static const unsigned int regs[] = { 0x03, 0x0F, 0x40, 0x41, 0xFF };
	size_t i;

	for (i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		assert_int_equal(wr(&io, regs[i], 0x12345678), 1);
		assert_int_equal(rd(&io, regs[i]), 0);
	}
	assert_int_equal(rd(&io, IOAPIC_REG_ID), 0x02000000);
}

static void test_ioregsel_reads_back(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	uint32_t val;

	assert_int_equal(ioapic_emul_write(&io, IOAPIC_IOREGSEL, 4, 0x112), 0);
	assert_int_equal(ioapic_emul_read(&io, IOAPIC_IOREGSEL, 4, &val), 0);
	assert_int_equal(val, 0x12);
	/* 0x112 selects register 0x12: pin 1, low dword */
	assert_int_equal(ioapic_emul_read(&io, IOAPIC_IOWIN, 4, &val), 0);
	assert_int_equal(val, 0x00010000);
}

static void test_bad_sizes_refused(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	static const unsigned int sizes[] = { 0, 1, 2, 3, 8 };
	uint32_t val;
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(
			ioapic_emul_read(&io, IOAPIC_IOWIN, sizes[i], &val),
			-1);
		assert_int_equal(val, 0xFFFFFFFF);
		assert_int_equal(
			ioapic_emul_write(&io, IOAPIC_IOREGSEL, sizes[i], 0x01),
			-1);
		assert_int_equal(
			ioapic_emul_write(&io, IOAPIC_IOWIN, sizes[i], 0), -1);
	}
	/* nothing above changed the selector or the ID */
	assert_int_equal(ioapic_emul_read(&io, IOAPIC_IOWIN, 4, &val), 0);
	assert_int_equal(val, 0x02000000);
}

static void test_other_offsets_refused(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	static const uint64_t offs[] = { 0x04, 0x0C, 0x11,  0x14,  0x20,
					 0x3C, 0x44, 0xFFC, 0x1000 };
	uint32_t val;
	size_t i;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		assert_int_equal(ioapic_emul_read(&io, offs[i], 4, &val), -1);
		assert_int_equal(ioapic_emul_write(&io, offs[i], 4, 0), -1);
	}
}

static void test_eoi_register(void **state)
{
	(void)state;
	struct ioapic_emul io = fresh();
	uint32_t val = 1;

	assert_int_equal(ioapic_emul_write(&io, IOAPIC_EOI, 4, 0x31), 0);
	assert_int_equal(ioapic_emul_read(&io, IOAPIC_EOI, 4, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(ioapic_emul_write(&io, IOAPIC_EOI, 2, 0x31), -1);
	assert_int_equal(rd(&io, IOAPIC_REG_REDTBL), 0x00010000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_version_arbitration),
		cmocka_unit_test(test_id_bits_27_24_writable),
		cmocka_unit_test(test_init_id_truncated),
		cmocka_unit_test(test_version_and_arb_read_only),
		cmocka_unit_test(test_redirection_masked_at_reset),
		cmocka_unit_test(test_redirection_entry_round_trip),
		cmocka_unit_test(test_status_bits_read_only_zero),
		cmocka_unit_test(test_unknown_registers),
		cmocka_unit_test(test_ioregsel_reads_back),
		cmocka_unit_test(test_bad_sizes_refused),
		cmocka_unit_test(test_other_offsets_refused),
		cmocka_unit_test(test_eoi_register),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
