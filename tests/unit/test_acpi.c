// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI: RSDP, RSDT/XSDT and MADT built in a buffer that stands for the first
 * 1.06 MiB of physical memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/acpi.h"

#define MEM_SIZE 0x110000u
#define FAKE_OEM_ID "KEELOK"
#define FAKE_TABLE_ID "KEELTEST"
#define FAKE_CREATOR "TEST"

#define RSDP1 0x50000u
#define RSDP2 0x50040u
#define RSDT 0x51000u
#define XSDT 0x51800u
#define FACP 0x52000u
#define MADT_A 0x53000u
#define MADT_B 0x54000u

#include "tests/unit/fake_firmware.h"

static char err[256];

static int setup_tables(void **state)
{
	const uint64_t rsdt[] = { FACP, MADT_A };
	const uint64_t xsdt[] = { FACP, MADT_B };

	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(err, 0, sizeof(err));
	rsdp(RSDP1, 0, RSDT, 0);
	rsdp(RSDP2, 2, RSDT, XSDT);
	root(RSDT, "RSDT", rsdt, 2);
	root(XSDT, "XSDT", xsdt, 2);
	sdt(FACP, "FACP", 116);
	seal(FACP);
	sdt(MADT_A, "APIC", 44);
	seal(MADT_A);
	sdt(MADT_B, "APIC", 44);
	seal(MADT_B);
	return 0;
}

static uint64_t find(uint64_t at, const char *sig)
{
	return acpi_find_table(at, sig, fake_map, err, sizeof(err));
}

static void expect_find_error(uint64_t at, const char *sig,
			      const char *needle)
{
	assert_int_equal(find(at, sig), 0);
	assert_memory_equal(err, "acpi: ", 6);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void test_find_through_rsdt(void **state)
{
	(void)state;
	assert_int_equal(find(RSDP1, "APIC"), MADT_A);
	assert_int_equal(find(RSDP1, "FACP"), FACP);
	expect_find_error(RSDP1, "SSDT", "no SSDT table in the RSDT");
	/* Revision 0: whatever follows the 20 bytes is not an XSDT address. */
	put64(RSDP1 + 24, XSDT);
	assert_int_equal(find(RSDP1, "APIC"), MADT_A);
}

static void test_find_prefers_xsdt(void **state)
{
	(void)state;
	assert_int_equal(find(RSDP2, "APIC"), MADT_B);
	expect_find_error(RSDP2, "HPET", "no HPET table in the XSDT");
	/* Revision 2 without an XSDT falls back to the RSDT. */
	rsdp(RSDP2, 2, RSDT, 0);
	assert_int_equal(find(RSDP2, "APIC"), MADT_A);
}

static void test_find_bad_rsdp(void **state)
{
	(void)state;
	expect_find_error(0x200000, "APIC", "cannot map");
	expect_find_error(RSDP1 + 16, "APIC", "no RSDP signature");
	mem[RSDP1 + 9] ^= 1;
	expect_find_error(RSDP1, "APIC", "RSDP at 0x50000: bad checksum");
	mem[RSDP2 + 34] ^= 1; /* reserved byte, only in the extended sum */
	expect_find_error(RSDP2, "APIC", "bad extended checksum");
	rsdp(RSDP2, 2, RSDT, XSDT);
	put32(RSDP2 + 20, 0x7fffffff);
	fix_sum(mem + RSDP2, 20, 8);
	expect_find_error(RSDP2, "APIC", "bad length");
	rsdp(RSDP1, 0, 0, 0);
	expect_find_error(RSDP1, "APIC", "points to no RSDT");
	expect_find_error(RSDP2, "APIC5", "signature must be 4 characters");
}

static void test_find_bad_root(void **state)
{
	(void)state;
	mem[RSDT + 20] ^= 0x40;
	expect_find_error(RSDP1, "APIC", "RSDT at 0x51000: bad checksum");
	put32(XSDT + 4, 0x7fffffff);
	expect_find_error(RSDP2, "APIC", "length 2147483647 out of range");
	put32(XSDT + 4, 12);
	expect_find_error(RSDP2, "APIC", "length 12 out of range");
	rsdp(RSDP1, 0, FACP, 0);
	expect_find_error(RSDP1, "APIC", "is not an RSDT");
	/* Fits the sanity bound but not the fake memory. */
	rsdp(RSDP1, 0, MEM_SIZE - 0x100, 0);
	sdt(MEM_SIZE - 0x100, "RSDT", 36);
	put32(MEM_SIZE - 0x100 + 4, 0x1000);
	expect_find_error(RSDP1, "APIC", "cannot map");
}

static void test_find_bad_tables(void **state)
{
	const uint64_t list[] = { 0, 0xdead00000ull, FACP, MADT_A, MADT_B };

	(void)state;
	mem[MADT_B + 40] = 1;
	expect_find_error(RSDP2, "APIC", "APIC at 0x54000: bad checksum");
	/* Null and unmappable entries are skipped, a damaged copy too. */
	root(XSDT, "XSDT", list, 5);
	assert_int_equal(find(RSDP2, "APIC"), MADT_A);
	assert_int_equal(find(RSDP2, "FACP"), FACP);
	expect_find_error(RSDP2, "SSDT", "no SSDT table");
	put32(MADT_A + 4, 0x10);
	expect_find_error(RSDP2, "APIC", "APIC at 0x54000: bad checksum");
	expect_find_error(RSDP1, "APIC", "APIC at 0x53000: length 16");
}

/* ---- MADT ---- */

struct madt {
	uint8_t b[2048];
	uint32_t len;
	struct madt_info info;
};

static void madt_begin(struct madt *m, uint32_t lapic, uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->b, "APIC", 4);
	m->b[8] = 4;
	memcpy(m->b + 36, &lapic, 4);
	memcpy(m->b + 40, &flags, 4);
	m->len = 44;
}

static void madt_add(struct madt *m, const void *entry, uint32_t len)
{
	memcpy(m->b + m->len, entry, len);
	m->len += len;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t id,
		       uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, id };

	memcpy(e + 4, &flags, 4);
	madt_add(m, e, 8);
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t flags,
			uint32_t uid)
{
	uint8_t e[16] = { 9, 16 };

	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	madt_add(m, e, 16);
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr,
			uint32_t gsi)
{
	uint8_t e[12] = { 1, 12, id };

	memcpy(e + 4, &addr, 4);
	memcpy(e + 8, &gsi, 4);
	madt_add(m, e, 12);
}

static void madt_override(struct madt *m, uint64_t addr)
{
	uint8_t e[12] = { 5, 12 };

	memcpy(e + 4, &addr, 8);
	madt_add(m, e, 12);
}

static int madt_parse(struct madt *m)
{
	memcpy(m->b + 4, &m->len, 4);
	fix_sum(m->b, m->len, 9);
	return acpi_parse_madt(m->b, m->len, &m->info, err, sizeof(err));
}

static void expect_madt_error(struct madt *m, const char *needle)
{
	assert_int_equal(madt_parse(m), -1);
	assert_memory_equal(err, "acpi: ", 6);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

static void test_madt_full(void **state)
{
	static const uint8_t nmi[6] = { 4, 6, 0xff, 5, 0, 1 };
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 1);
	madt_lapic(&m, 0, 0, 1);
	madt_ioapic(&m, 8, 0xfec00000, 0);
	madt_lapic(&m, 1, 2, 1);
	madt_add(&m, nmi, sizeof(nmi)); /* type 4: not used, skipped */
	madt_lapic(&m, 2, 4, 2);        /* online capable, not enabled */
	madt_x2apic(&m, 300, 1, 3);
	madt_override(&m, 0x1fee00000ull);
	madt_ioapic(&m, 9, 0xfec01000, 24);
	assert_int_equal(madt_parse(&m), 0);

	assert_int_equal(m.info.cpu_count, 3);
	assert_int_equal(m.info.cpus_disabled, 1);
	assert_int_equal(m.info.cpus[0].apic_id, 0);
	assert_int_equal(m.info.cpus[0].acpi_uid, 0);
	assert_int_equal(m.info.cpus[1].apic_id, 2);
	assert_int_equal(m.info.cpus[1].acpi_uid, 1);
	assert_int_equal(m.info.cpus[2].apic_id, 300);
	assert_int_equal(m.info.cpus[2].acpi_uid, 3);
	assert_int_equal(m.info.ioapic_count, 2);
	assert_int_equal(m.info.ioapics[0].id, 8);
	assert_int_equal(m.info.ioapics[0].address, 0xfec00000);
	assert_int_equal(m.info.ioapics[0].gsi_base, 0);
	assert_int_equal(m.info.ioapics[1].id, 9);
	assert_int_equal(m.info.ioapics[1].address, 0xfec01000);
	assert_int_equal(m.info.ioapics[1].gsi_base, 24);
	assert_int_equal(m.info.lapic_address, 0x1fee00000ull);
	assert_int_equal(m.info.flags, 1);
}

static void test_madt_minimal(void **state)
{
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 1);
	assert_int_equal(madt_parse(&m), 0);
	assert_int_equal(m.info.cpu_count, 2);
	assert_int_equal(m.info.cpus_disabled, 0);
	assert_int_equal(m.info.ioapic_count, 0);
	assert_int_equal(m.info.lapic_address, 0xfee00000);
	assert_int_equal(m.info.flags, 0);
	/* The length from the header counts, not the buffer's. */
	memset(m.b + m.len, 0xee, 16);
	assert_int_equal(acpi_parse_madt(m.b, m.len + 16, &m.info, err,
					 sizeof(err)), 0);
	assert_int_equal(m.info.cpu_count, 2);
}

static void test_madt_truncated(void **state)
{
	static const uint8_t zero_len[2] = { 0, 0 };
	static const uint8_t one_len[2] = { 0x7f, 1 };
	static const uint8_t long_len[8] = { 0, 16, 1, 1, 1, 0, 0, 0 };
	static const uint8_t short_lapic[6] = { 0, 6, 1, 1, 1, 0 };
	static const uint8_t short_x2apic[12] = { 9, 12 };
	static const uint8_t short_ioapic[8] = { 1, 8 };
	static const uint8_t short_override[8] = { 5, 8 };
	static const uint8_t lone = 0;
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_add(&m, zero_len, 2);
	expect_madt_error(&m, "entry at 52 is truncated");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, one_len, 2);
	expect_madt_error(&m, "entry at 44 is truncated");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, long_len, 8);
	expect_madt_error(&m, "entry at 44 is truncated");

	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_add(&m, &lone, 1);
	expect_madt_error(&m, "entry at 52 is truncated");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, short_lapic, 6);
	expect_madt_error(&m, "type 0 entry of 6 bytes too short");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, short_x2apic, 12);
	expect_madt_error(&m, "type 9 entry of 12 bytes too short");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, short_ioapic, 8);
	expect_madt_error(&m, "type 1 entry of 8 bytes too short");

	madt_begin(&m, 0xfee00000, 0);
	madt_add(&m, short_override, 8);
	expect_madt_error(&m, "type 5 entry of 8 bytes too short");
}

static void test_madt_bad_header(void **state)
{
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	assert_int_equal(madt_parse(&m), 0);
	m.b[50] ^= 1;
	assert_int_equal(acpi_parse_madt(m.b, m.len, &m.info, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "acpi: MADT: bad checksum"));
	assert_int_equal(acpi_parse_madt(m.b, m.len - 1, &m.info, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "acpi: MADT length 52 is outside 44..51"));
	assert_int_equal(acpi_parse_madt(m.b, 40, &m.info, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "acpi: MADT of 40 bytes is too short"));
	memcpy(m.b, "APIX", 4);
	expect_madt_error(&m, "MADT signature is \"APIX\"");
	madt_begin(&m, 0xfee00000, 0);
	memcpy(m.b + 4, &(uint32_t){ 40 }, 4);
	assert_int_equal(acpi_parse_madt(m.b, m.len, &m.info, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "acpi: MADT length 40 is outside"));
}

static void test_madt_duplicates(void **state)
{
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 2, 1);
	madt_lapic(&m, 2, 2, 1);
	expect_madt_error(&m, "duplicate APIC ID 2");

	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 5, 1);
	madt_x2apic(&m, 5, 1, 1);
	expect_madt_error(&m, "duplicate APIC ID 5");

	/* Disabled placeholders may repeat an ID. */
	madt_begin(&m, 0xfee00000, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 0xff, 0);
	madt_lapic(&m, 2, 0xff, 0);
	madt_x2apic(&m, 0, 0, 3);
	assert_int_equal(madt_parse(&m), 0);
	assert_int_equal(m.info.cpu_count, 1);
	assert_int_equal(m.info.cpus_disabled, 3);
}

static void test_madt_limits(void **state)
{
	static struct madt m;

	(void)state;
	madt_begin(&m, 0xfee00000, 0);
	for (unsigned int i = 0; i < ACPI_MAX_CPUS; i++)
		madt_x2apic(&m, i * 2, 1, i);
	madt_lapic(&m, 99, 0xfe, 0);
	assert_int_equal(madt_parse(&m), 0);
	assert_int_equal(m.info.cpu_count, ACPI_MAX_CPUS);
	assert_int_equal(m.info.cpus[63].apic_id, 126);

	madt_lapic(&m, 100, 0xfd, 1);
	expect_madt_error(&m, "more than 64 enabled CPUs (ACPI_MAX_CPUS)");

	madt_begin(&m, 0xfee00000, 0);
	for (unsigned int i = 0; i < ACPI_MAX_IOAPICS; i++)
		madt_ioapic(&m, (uint8_t)i, 0xfec00000 + i * 0x1000, i * 24);
	assert_int_equal(madt_parse(&m), 0);
	assert_int_equal(m.info.ioapic_count, ACPI_MAX_IOAPICS);
	madt_ioapic(&m, 99, 0xfec80000, 999);
	expect_madt_error(&m, "more than 8 I/O APICs");
}

/* ---- scanning the BIOS areas ---- */

static int clear_mem(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	return 0;
}

static void test_scan_bios_area(void **state)
{
	(void)state;
	assert_int_equal(acpi_scan_rsdp(fake_map), 0);
	rsdp(0xF1230, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xF1230);
	/* An earlier one with a bad checksum is passed over. */
	rsdp(0xE0100, 0, RSDT, 0);
	mem[0xE0100 + 16] ^= 1;
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xF1230);
	rsdp(0xE0100, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xE0100);
	/* So is a revision 2 one whose extended checksum is wrong. */
	rsdp(0xE0100, 2, RSDT, XSDT);
	mem[0xE0100 + 33] ^= 1;
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xF1230);
	/* The last slot, although the structure runs past the area. */
	memset(mem + 0xE0000, 0, 0x20000);
	rsdp(0xFFFF0, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xFFFF0);
}

static void test_scan_only_bad_or_misaligned(void **state)
{
	(void)state;
	rsdp(0xE5000, 0, RSDT, 0);
	mem[0xE5000 + 8] ^= 0xff;
	assert_int_equal(acpi_scan_rsdp(fake_map), 0);
	rsdp(0xE6008, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0);
	/* Below the BIOS area, with no EBDA pointer, it is not looked for. */
	rsdp(0xD0000, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0);
}

static void test_scan_ebda(void **state)
{
	(void)state;
	put16(0x40E, 0x9FC0);
	rsdp(0x9FC00 + 0x3F0, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0x9FFF0);
	/* The EBDA is searched first. */
	rsdp(0xF0000, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0x9FFF0);
	/* Only its first KiB. */
	memset(mem + 0x9FC00, 0, 0x400);
	rsdp(0x9FC00 + 0x400, 0, RSDT, 0);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0xF0000);
	memset(mem + 0xF0000, 0, 36);
	assert_int_equal(acpi_scan_rsdp(fake_map), 0);
}

static void test_scan_then_find(void **state)
{
	uint64_t r;

	(void)state;
	setup_tables(NULL);
	put16(0x40E, 0x9FC0);
	rsdp(0x9FC40, 2, RSDT, XSDT);
	r = acpi_scan_rsdp(fake_map);
	assert_int_equal(r, 0x9FC40);
	assert_int_equal(find(r, "APIC"), MADT_B);
}

#define T(f) cmocka_unit_test_setup(f, setup_tables)
#define S(f) cmocka_unit_test_setup(f, clear_mem)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_find_through_rsdt),
		T(test_find_prefers_xsdt),
		T(test_find_bad_rsdp),
		T(test_find_bad_root),
		T(test_find_bad_tables),
		T(test_madt_full),
		T(test_madt_minimal),
		T(test_madt_truncated),
		T(test_madt_bad_header),
		T(test_madt_duplicates),
		T(test_madt_limits),
		S(test_scan_bios_area),
		S(test_scan_only_bad_or_misaligned),
		S(test_scan_ebda),
		S(test_scan_then_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
