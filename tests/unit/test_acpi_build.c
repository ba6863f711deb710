// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables built for the partitions, read back with keel's own ACPI
 * reader (runtime/acpi.c): the guest's set in a buffer standing for guest
 * memory, and the companion's set over a fake firmware whose tables live in
 * a buffer standing for the first 512 KiB of physical memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/acpi_build.h"

static char err[256];

static uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static void expect_err(const char *needle)
{
	assert_memory_equal(err, "acpi: ", 6);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

/* ==== guest ==== */

#define GPA 0x9f000u
#define GPA_HIGH 0x4000000000ull
#define SLEEP_PORT 0x600u

static uint8_t gmem[0x1000];
static uint64_t gbase;

static const void *guest_map(uint64_t phys, size_t len)
{
	if (phys < gbase || phys - gbase > sizeof(gmem) ||
	    len > sizeof(gmem) - (phys - gbase))
		return NULL;
	return gmem + (phys - gbase);
}

static const uint8_t *gtable(uint64_t phys)
{
	const uint8_t *p = guest_map(phys, 36);

	assert_non_null(p);
	return p;
}

/* Name (_S5, Package () { 5, 5, 0, 0 }), as iasl writes it */
static const uint8_t s5_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00,
};

static uint8_t fake_dsdt[36 + sizeof(s5_aml)];

static struct guest_acpi_desc desc;

static int guest_setup(void **state)
{
	uint32_t len = sizeof(fake_dsdt);

	(void)state;
	memset(gmem, 0xa5, sizeof(gmem));
	memset(err, 0, sizeof(err));
	gbase = GPA;
	memset(fake_dsdt, 0, sizeof(fake_dsdt));
	memcpy(fake_dsdt, "DSDT", 4);
	memcpy(fake_dsdt + 4, &len, 4);
	fake_dsdt[8] = 2;
	memcpy(fake_dsdt + 10, "FAKEOEMFAKETABL", 14);
	memcpy(fake_dsdt + 36, s5_aml, sizeof(s5_aml));
	fake_dsdt[9] = (uint8_t)-sum(fake_dsdt, sizeof(fake_dsdt));
	desc = (struct guest_acpi_desc){
		.apic_id = 3,
		.ioapic_addr = 0xfec00000,
		.ioapic_id = 0,
		.sleep_port = SLEEP_PORT,
		.dsdt = fake_dsdt,
		.dsdt_len = sizeof(fake_dsdt),
	};
	return 0;
}

static size_t build_guest(void)
{
	return acpi_build_guest(gmem, sizeof(gmem), gbase, &desc);
}

static uint64_t gfind(const char *sig)
{
	uint64_t a = acpi_find_table(gbase, sig, guest_map, err, sizeof(err));

	if (!a)
		fail_msg("%s: %s", sig, err);
	return a;
}

static void parse_guest_madt(struct madt_info *mi)
{
	const uint8_t *m = gtable(gfind("APIC"));

	assert_int_equal(acpi_parse_madt(m, get32(m, 4), mi, err,
					 sizeof(err)), 0);
}

static void test_guest_parses_back(void **state)
{
	struct madt_info mi;

	(void)state;
	assert_int_not_equal(build_guest(), 0);
	assert_int_equal(gfind("FACP"), GPA + 0x70);
	assert_int_equal(gfind("APIC"), GPA + 0x190);
	parse_guest_madt(&mi);
	assert_int_equal(mi.lapic_address, 0xfee00000);
	assert_int_equal(mi.flags, 0);
	assert_int_equal(mi.cpu_count, 1);
	assert_int_equal(mi.cpus[0].apic_id, 3);
	assert_int_equal(mi.cpus[0].acpi_uid, 0);
	assert_int_equal(mi.cpus_disabled, 0);
	assert_int_equal(mi.ioapic_count, 1);
	assert_int_equal(mi.ioapics[0].id, 0);
	assert_int_equal(mi.ioapics[0].address, 0xfec00000);
	assert_int_equal(mi.ioapics[0].gsi_base, 0);
	acpi_find_table(gbase, "SSDT", guest_map, err, sizeof(err));
	expect_err("no SSDT table in the XSDT");
}

static void test_guest_rsdp(void **state)
{
	(void)state;
	assert_int_not_equal(build_guest(), 0);
	assert_memory_equal(gmem, "RSD PTR ", 8);
	assert_int_equal(sum(gmem, 20), 0);
	assert_int_equal(sum(gmem, 36), 0);
	assert_memory_equal(gmem + 9, "KEEL  ", 6);
	assert_int_equal(gmem[15], 2);
	assert_int_equal(get32(gmem, 16), 0); /* no RSDT */
	assert_int_equal(get32(gmem, 20), 36);
	assert_int_equal(get64(gmem, 24), GPA + 0x30);
	/* its reserved bytes and the padding up to the XSDT are zero */
	for (int i = 33; i < 0x30; i++)
		assert_int_equal(gmem[i], 0);
}

/* Generic Address Structure: system I/O, 8 bits wide, byte access */
static void expect_io8(const uint8_t *gas, uint16_t port)
{
	const uint8_t want[12] = { 1, 8, 0, 1, port & 0xff, port >> 8 };

	assert_memory_equal(gas, want, 12);
}

static void test_guest_fadt(void **state)
{
	const uint8_t zero[12] = { 0 };
	const uint8_t *f;
	uint64_t dsdt;

	(void)state;
	assert_int_not_equal(build_guest(), 0);
	f = gtable(gfind("FACP"));
	dsdt = GPA + 0x1d0;
	assert_int_equal(get32(f, 4), 276);
	assert_int_equal(f[8], 6);
	assert_int_equal(f[131], 0); /* minor version: ACPI 6.0 */
	assert_int_equal(get32(f, 36), 0); /* no FACS */
	assert_int_equal(get64(f, 132), 0);
	assert_int_equal(get32(f, 40), dsdt);
	assert_int_equal(get64(f, 140), dsdt);
	assert_int_equal(get16(f, 46), 0); /* SCI_INT */
	assert_int_equal(get32(f, 48), 0); /* SMI_CMD */
	assert_int_equal(get32(f, 56), 0); /* PM1a_EVT_BLK */
	assert_int_equal(get32(f, 64), 0); /* PM1a_CNT_BLK */
	assert_int_equal(get32(f, 76), 0); /* PM_TMR_BLK */
	assert_int_equal(f[91], 0);        /* PM_TMR_LEN */
	assert_memory_equal(f + 148, zero, 12); /* X_PM1a_EVT_BLK */
	assert_memory_equal(f + 208, zero, 12); /* X_PM_TMR_BLK */
	assert_memory_equal(f + 116, zero, 12); /* RESET_REG */
	/* VGA not present, CMOS RTC not present; no 8042, MSI allowed */
	assert_int_equal(get16(f, 109), 0x24);
	/* HW_REDUCED_ACPI, forced APIC physical mode, no fixed power and
	 * sleep buttons */
	assert_int_equal(get32(f, 112),
			 1u << 20 | 1u << 19 | 1u << 5 | 1u << 4);
	assert_int_equal(get32(f, 112) & 1u << 10, 0); /* RESET_REG_SUP */
	expect_io8(f + 244, SLEEP_PORT);
	expect_io8(f + 256, SLEEP_PORT + 1);
	/* The DSDT is reached through the FADT only. */
	acpi_find_table(gbase, "DSDT", guest_map, err, sizeof(err));
	expect_err("no DSDT table in the XSDT");
}

static void test_guest_dsdt_copied(void **state)
{
	const uint8_t *d;
	size_t used;

	(void)state;
	used = build_guest();
	assert_int_equal(used, 0x1d0 + sizeof(fake_dsdt));
	d = guest_map(get64(gtable(gfind("FACP")), 140), sizeof(fake_dsdt));
	assert_non_null(d);
	assert_memory_equal(d, "DSDT", 4);
	assert_int_equal(get32(d, 4), sizeof(fake_dsdt));
	assert_int_equal(d[8], 2); /* the AML's revision: 64-bit integers */
	assert_int_equal(sum(d, sizeof(fake_dsdt)), 0);
	assert_memory_equal(d + 36, s5_aml, sizeof(s5_aml));
}

static void test_guest_keel_identity(void **state)
{
	const uint8_t *f;
	uint64_t tables[4];

	(void)state;
	assert_int_not_equal(build_guest(), 0);
	f = gtable(gfind("FACP"));
	tables[0] = get64(gmem, 24);
	tables[1] = gfind("FACP");
	tables[2] = gfind("APIC");
	tables[3] = get64(f, 140);
	for (int i = 0; i < 4; i++) {
		const uint8_t *t = gtable(tables[i]);

		assert_int_equal(tables[i] % 16, 0);
		assert_memory_equal(t + 10, "KEEL  KEELGST ", 14);
		assert_int_equal(get32(t, 24), 1);
		assert_memory_equal(t + 28, "KEEL", 4);
		assert_int_equal(sum(t, get32(t, 4)), 0);
	}
	assert_int_equal(get32(gtable(tables[0]), 4), 36 + 16);
}


static void test_guest_madt_entries(void **state)
{
	const uint8_t want[] = {
		0, 8, 0, 3, 1, 0, 0, 0,	/* Local APIC: UID 0, ID 3, enabled */
		1, 12, 2, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* I/O APIC */
	};
	const uint8_t *m;

	(void)state;
	desc.ioapic_id = 2;
	assert_int_not_equal(build_guest(), 0);
	m = gtable(gfind("APIC"));
	assert_int_equal(get32(m, 4), 44 + sizeof(want));
	assert_int_equal(m[8], 4);
	assert_int_equal(get32(m, 36), 0xfee00000);
	assert_int_equal(get32(m, 40), 0);
	assert_memory_equal(m + 44, want, sizeof(want));
}

static void test_guest_x2apic(void **state)
{
	const uint8_t want[16] = {
		9, 16, 0, 0, 0x2c, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0,
	};
	struct madt_info mi;
	const uint8_t *m;

	(void)state;
	desc.apic_id = 300;
	assert_int_not_equal(build_guest(), 0);
	m = gtable(gfind("APIC"));
	assert_int_equal(get32(m, 4), 44 + 16 + 12);
	assert_memory_equal(m + 44, want, 16);
	parse_guest_madt(&mi);
	assert_int_equal(mi.cpu_count, 1);
	assert_int_equal(mi.cpus[0].apic_id, 300);
	assert_int_equal(mi.cpus[0].acpi_uid, 0);
	assert_int_equal(mi.ioapic_count, 1);
	/* The x2APIC entry pushes the DSDT 16 bytes further. */
	assert_int_equal(get64(gtable(gfind("FACP")), 140), GPA + 0x1e0);
}

/* 255 is the xAPIC broadcast ID: from there on only x2APIC can name it */
static void test_guest_apic_id_boundary(void **state)
{
	struct madt_info mi;

	(void)state;
	desc.apic_id = 254;
	assert_int_not_equal(build_guest(), 0);
	assert_int_equal(gtable(gfind("APIC"))[44], 0);
	parse_guest_madt(&mi);
	assert_int_equal(mi.cpus[0].apic_id, 254);
	desc.apic_id = 255;
	assert_int_not_equal(build_guest(), 0);
	assert_int_equal(gtable(gfind("APIC"))[44], 9);
	parse_guest_madt(&mi);
	assert_int_equal(mi.cpus[0].apic_id, 255);
}

static void test_guest_buffer_too_small(void **state)
{
	size_t used;

	(void)state;
	used = build_guest();
	assert_int_equal(used, 0x1d0 + sizeof(fake_dsdt));
	memset(gmem, 0xa5, sizeof(gmem));
	assert_int_equal(acpi_build_guest(gmem, used - 1, GPA, &desc), 0);
	assert_int_equal(gmem[0], 0xa5); /* nothing written */
	assert_int_equal(acpi_build_guest(gmem, 36, GPA, &desc), 0);
	assert_int_equal(acpi_build_guest(gmem, 0, GPA, &desc), 0);
	assert_int_equal(acpi_build_guest(NULL, 0, GPA, &desc), 0);
	assert_int_equal(acpi_build_guest(gmem, used, GPA, &desc), used);
	assert_int_equal(gfind("APIC"), GPA + 0x190);
}

static void test_guest_rejects_bad_input(void **state)
{
	(void)state;
	fake_dsdt[40] ^= 1; /* checksum now wrong */
	assert_int_equal(build_guest(), 0);
	fake_dsdt[40] ^= 1;
	assert_int_not_equal(build_guest(), 0);
	desc.dsdt_len--; /* shorter than its header says */
	assert_int_equal(build_guest(), 0);
	desc.dsdt_len = 20;
	assert_int_equal(build_guest(), 0);
	desc.dsdt_len = sizeof(fake_dsdt);
	desc.dsdt = NULL;
	assert_int_equal(build_guest(), 0);
	desc.dsdt = gmem; /* not a DSDT */
	assert_int_equal(build_guest(), 0);
	desc.dsdt = fake_dsdt;
	desc.ioapic_addr = 0x100000000ull;
	assert_int_equal(build_guest(), 0);
	desc.ioapic_addr = 0xfec00000;
	desc.sleep_port = 0;
	assert_int_equal(build_guest(), 0);
	desc.sleep_port = 0xffff; /* the status register would be past it */
	assert_int_equal(build_guest(), 0);
	desc.sleep_port = 0xfffe;
	assert_int_not_equal(build_guest(), 0);
	expect_io8(gtable(gfind("FACP")) + 256, 0xffff);
}

/* Above 4 GiB the 32-bit DSDT field cannot hold the address: X_DSDT only */
static void test_guest_above_4g(void **state)
{
	const uint8_t *f;
	struct madt_info mi;

	(void)state;
	gbase = GPA_HIGH;
	assert_int_not_equal(build_guest(), 0);
	assert_int_equal(get64(gmem, 24), GPA_HIGH + 0x30);
	f = gtable(gfind("FACP"));
	assert_int_equal(get32(f, 40), 0);
	assert_int_equal(get64(f, 140), GPA_HIGH + 0x1d0);
	parse_guest_madt(&mi);
	assert_int_equal(mi.cpus[0].apic_id, 3);
}

/* The DSDT that iasl compiled from runtime/guest_dsdt.asl */
static void test_guest_real_dsdt(void **state)
{
	const uint8_t *aml = guest_dsdt_aml_code;
	const uint8_t *d;
	size_t len = guest_dsdt_aml_len;
	bool s5 = false;

	(void)state;
	assert_true(len > 36 && len < sizeof(gmem) - 0x1e0);
	assert_int_equal(get32(aml, 4), len);
	desc.dsdt = aml;
	desc.dsdt_len = len;
	assert_int_equal(build_guest(), 0x1d0 + len);
	d = guest_map(get64(gtable(gfind("FACP")), 140), len);
	assert_non_null(d);
	assert_int_equal(sum(d, len), 0);
	assert_int_equal(d[8], 2);
	assert_memory_equal(d + 10, "KEEL  KEELGST ", 14);
	assert_memory_equal(d + 36, aml + 36, len - 36);
	for (size_t i = 36; i + sizeof(s5_aml) <= len; i++)
		s5 |= !memcmp(d + i, s5_aml, sizeof(s5_aml));
	assert_true(s5);
}

/* ==== companion ==== */

#define MEM_SIZE 0x80000u
#define FAKE_OEM_ID "FIRMWR"
#define FAKE_TABLE_ID "FWTABLE1"
#define FAKE_CREATOR "FWCR"
#define RSDP2 0x40000u
#define RSDP0 0x40040u
#define XSDT 0x41000u
#define RSDT 0x41800u
#define FACP 0x42000u
#define MADT 0x43000u
#define DSDT 0x44000u
#define HPET 0x45000u
#define MADT2 0x46000u
#define BUF 0x50000u
#define BUF_LEN 0x1000u

/* the fixed part of the companion's tables: RSDP, pad, XSDT header */
#define NEW_XSDT (BUF + 0x30u)

#include "tests/unit/fake_firmware.h"

/* entries of the firmware's MADT: 4 CPUs, a disabled one, an I/O APIC */
static const uint8_t fw_lapic0[] = { 0, 8, 0, 0, 1, 0, 0, 0 };
static const uint8_t fw_lapic1[] = { 0, 8, 1, 1, 1, 0, 0, 0 };
static const uint8_t fw_ioapic[] = {
	1, 12, 8, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0,
};
static const uint8_t fw_lapic2[] = { 0, 8, 2, 2, 1, 0, 0, 0 };
static const uint8_t fw_iso[] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
static const uint8_t fw_x2apic[] = {
	9, 16, 0, 0, 0x00, 0x01, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0,
};
static const uint8_t fw_lapic_off[] = { 0, 8, 4, 5, 0, 0, 0, 0 };
static const uint8_t fw_nmi[] = { 4, 6, 0xff, 5, 0, 1 };
static const uint8_t fw_x2nmi[] = {
	0xa, 12, 5, 0, 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
};

static const struct {
	const uint8_t *e;
	size_t len;
} fw_madt[] = {
#define E(x) { x, sizeof(x) }
	E(fw_lapic0), E(fw_lapic1), E(fw_ioapic), E(fw_lapic2), E(fw_iso),
	E(fw_x2apic), E(fw_lapic_off), E(fw_nmi), E(fw_x2nmi),
#undef E
};

static uint32_t build_fw_madt(uint64_t at)
{
	uint32_t len = 44;

	for (size_t i = 0; i < sizeof(fw_madt) / sizeof(fw_madt[0]); i++)
		len += fw_madt[i].len;
	sdt(at, "APIC", len);
	mem[at + 8] = 4;
	put32(at + 36, 0xfee00000);
	put32(at + 40, 1); /* PC-AT 8259s */
	len = 44;
	for (size_t i = 0; i < sizeof(fw_madt) / sizeof(fw_madt[0]); i++) {
		memcpy(mem + at + len, fw_madt[i].e, fw_madt[i].len);
		len += fw_madt[i].len;
	}
	seal(at);
	return len;
}

static int fw_setup(void **state)
{
	const uint64_t list[] = { FACP, MADT, HPET };

	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(err, 0, sizeof(err));
	rsdp(RSDP2, 2, RSDT, XSDT);
	rsdp(RSDP0, 0, RSDT, 0);
	root(XSDT, "XSDT", list, 3);
	root(RSDT, "RSDT", list, 3);
	sdt(FACP, "FACP", 276);
	mem[FACP + 8] = 6;
	put32(FACP + 40, DSDT);
	put64(FACP + 140, DSDT);
	seal(FACP);
	sdt(DSDT, "DSDT", 36 + sizeof(s5_aml));
	memcpy(mem + DSDT + 36, s5_aml, sizeof(s5_aml));
	seal(DSDT);
	sdt(HPET, "HPET", 56);
	seal(HPET);
	build_fw_madt(MADT);
	memset(mem + BUF, 0xa5, BUF_LEN);
	return 0;
}

static uint64_t new_rsdp;

static int companion(uint64_t fw_rsdp, const uint32_t *ids, unsigned int n,
		     size_t buflen)
{
	new_rsdp = 0;
	return acpi_build_companion(fw_rsdp, fake_map, ids, n, mem + BUF,
				    buflen, BUF, &new_rsdp, err, sizeof(err));
}

static uint64_t cfind(const char *sig)
{
	uint64_t a = acpi_find_table(new_rsdp, sig, fake_map, err,
				     sizeof(err));

	if (!a)
		fail_msg("%s: %s", sig, err);
	return a;
}

static void parse_new_madt(struct madt_info *mi)
{
	const uint8_t *m = mem + cfind("APIC");

	assert_int_equal(acpi_parse_madt(m, get32(m, 4), mi, err,
					 sizeof(err)), 0);
}

static const uint32_t keep02[] = { 0, 2 };

static void test_companion_keeps_listed_cpus(void **state)
{
	struct madt_info mi;

	(void)state;
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), 0);
	assert_int_equal(new_rsdp, BUF);
	/* XSDT with 3 entries, padded to 64 bytes */
	assert_int_equal(cfind("APIC"), BUF + 0x30 + 0x40);
	parse_new_madt(&mi);
	assert_int_equal(mi.cpu_count, 2);
	assert_int_equal(mi.cpus[0].apic_id, 0);
	assert_int_equal(mi.cpus[0].acpi_uid, 0);
	assert_int_equal(mi.cpus[1].apic_id, 2);
	assert_int_equal(mi.cpus[1].acpi_uid, 2);
	assert_int_equal(mi.cpus_disabled, 0);
	assert_int_equal(mi.ioapic_count, 1);
	assert_int_equal(mi.ioapics[0].id, 8);
	assert_int_equal(mi.ioapics[0].address, 0xfec00000);
	assert_int_equal(mi.lapic_address, 0xfee00000);
	assert_int_equal(mi.flags, 1);
}

/* Every entry that is not a dropped CPU stays, bytes and order unchanged */
static void test_companion_keeps_other_entries(void **state)
{
	const uint8_t *m, *fw = mem + MADT;
	uint32_t off = 44;

	(void)state;
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), 0);
	m = mem + cfind("APIC");
	assert_memory_equal(m + 8, fw + 8, 1);          /* revision */
	assert_memory_equal(m + 10, fw + 10, 34);       /* OEM ... flags */
	for (size_t i = 0; i < sizeof(fw_madt) / sizeof(fw_madt[0]); i++) {
		const uint8_t *e = fw_madt[i].e;

		if (e == fw_lapic1 || e == fw_x2apic || e == fw_lapic_off)
			continue;
		assert_memory_equal(m + off, e, fw_madt[i].len);
		off += fw_madt[i].len;
	}
	assert_int_equal(get32(m, 4), off);
	assert_int_equal(sum(m, off), 0);
}

static void test_companion_other_tables_in_place(void **state)
{
	const uint8_t *x;

	(void)state;
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), 0);
	assert_int_equal(cfind("FACP"), FACP);
	assert_int_equal(cfind("HPET"), HPET);
	assert_int_equal(get64(mem + FACP, 140), DSDT);
	/* the XSDT in the firmware's order, the MADT swapped for the copy */
	x = mem + NEW_XSDT;
	assert_memory_equal(x, "XSDT", 4);
	assert_int_equal(get32(x, 4), 36 + 3 * 8);
	assert_int_equal(get64(x, 36), FACP);
	assert_int_equal(get64(x, 44), BUF + 0x70);
	assert_int_equal(get64(x, 52), HPET);
	/* its header names the firmware, like the rest of the tables */
	assert_memory_equal(x + 10, mem + XSDT + 10, 26);
	/* the firmware's tables are untouched */
	assert_int_equal(acpi_find_table(RSDP2, "APIC", fake_map, err,
					 sizeof(err)), MADT);
	assert_int_equal(get32(mem + MADT, 4), 44 + 8 * 4 + 12 + 10 + 16 + 6 +
			 12);
}

static void test_companion_rsdp(void **state)
{
	const uint8_t *r = mem + BUF;

	(void)state;
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), 0);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_memory_equal(r + 9, "FIRMWR", 6);
	assert_int_equal(r[15], 2);
	/* no RSDT: the firmware's one would list every CPU */
	assert_int_equal(get32(r, 16), 0);
	assert_int_equal(get32(r, 20), 36);
	assert_int_equal(get64(r, 24), NEW_XSDT);
}

/* An RSDT-only firmware (RSDP revision 0) still gets an XSDT. */
static void test_companion_rsdt_only(void **state)
{
	struct madt_info mi;
	const uint8_t *x = mem + NEW_XSDT;

	(void)state;
	assert_int_equal(companion(RSDP0, keep02, 2, BUF_LEN), 0);
	assert_int_equal(mem[BUF + 15], 2);
	assert_memory_equal(x, "XSDT", 4);
	assert_int_equal(get32(x, 4), 36 + 3 * 8);
	assert_int_equal(x[8], 1);
	assert_int_equal(cfind("FACP"), FACP);
	assert_int_equal(cfind("HPET"), HPET);
	parse_new_madt(&mi);
	assert_int_equal(mi.cpu_count, 2);
	assert_int_equal(mi.cpus[1].apic_id, 2);
	assert_int_equal(mi.ioapic_count, 1);
}

/* a CPU from a Local x2APIC entry, and @apic_ids in any order */
static void test_companion_x2apic_cpu(void **state)
{
	const uint32_t ids[] = { 0x100, 1 };
	struct madt_info mi;

	(void)state;
	assert_int_equal(companion(RSDP2, ids, 2, BUF_LEN), 0);
	parse_new_madt(&mi);
	assert_int_equal(mi.cpu_count, 2);
	assert_int_equal(mi.cpus[0].apic_id, 1);
	assert_int_equal(mi.cpus[1].apic_id, 0x100);
	assert_int_equal(mi.cpus[1].acpi_uid, 3);
	assert_int_equal(get32(mem + cfind("APIC"), 4),
			 44 + 8 + 12 + 10 + 16 + 6 + 12);
}

static void test_companion_unknown_id(void **state)
{
	const uint32_t unknown[] = { 0, 7 };
	const uint32_t disabled[] = { 5 };

	(void)state;
	assert_int_equal(companion(RSDP2, unknown, 2, BUF_LEN), -1);
	expect_err("APIC ID 7 is not an enabled CPU in the MADT");
	assert_int_equal(companion(RSDP2, disabled, 1, BUF_LEN), -1);
	expect_err("APIC ID 5 is not an enabled CPU");
	assert_int_equal(companion(RSDP2, keep02, 0, BUF_LEN), -1);
	expect_err("no CPUs for the companion");
	assert_int_equal(mem[BUF], 0xa5); /* nothing written */
}

static void test_companion_buffer_too_small(void **state)
{
	/* RSDP 0x30, XSDT 0x40, the whole firmware MADT (no CPU dropped) */
	size_t need = 0x70 + get32(mem + MADT, 4);

	(void)state;
	assert_int_equal(companion(RSDP2, keep02, 2, need - 1), -1);
	expect_err("too few for the companion's tables (244 needed)");
	assert_int_equal(mem[BUF], 0xa5);
	assert_int_equal(companion(RSDP2, keep02, 2, 0), -1);
	expect_err("0 bytes are too few");
	assert_int_equal(companion(RSDP2, keep02, 2, need), 0);
	assert_int_equal(cfind("APIC"), BUF + 0x70);
}

/* A second MADT would show the companion every CPU: it is left out. */
static void test_companion_drops_other_madts(void **state)
{
	const uint64_t list[] = { FACP, 0, MADT, HPET, MADT2, MADT };
	const uint8_t *x = mem + NEW_XSDT;
	struct madt_info mi;

	(void)state;
	build_fw_madt(MADT2);
	root(XSDT, "XSDT", list, 6);
	rsdp(RSDP2, 2, RSDT, XSDT);
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), 0);
	/* the null entry and the MADT's second listing go too */
	assert_int_equal(get32(x, 4), 36 + 3 * 8);
	assert_int_equal(get64(x, 44), BUF + 0x90); /* room for 6 */
	for (int i = 0; i < 3; i++) {
		assert_int_not_equal(get64(x, 36 + i * 8), MADT);
		assert_int_not_equal(get64(x, 36 + i * 8), MADT2);
	}
	parse_new_madt(&mi);
	assert_int_equal(mi.cpu_count, 2);
	assert_int_equal(cfind("HPET"), HPET);
}

static void test_companion_bad_firmware(void **state)
{
	(void)state;
	assert_int_equal(companion(RSDP2 + 16, keep02, 2, BUF_LEN), -1);
	expect_err("no RSDP signature");
	mem[MADT + 50] ^= 1;
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), -1);
	expect_err("APIC at 0x43000: bad checksum");
	/* an entry running past the table's end */
	mem[MADT + 50] ^= 1;
	mem[MADT + 45] = 200;
	seal(MADT);
	assert_int_equal(companion(RSDP2, keep02, 2, BUF_LEN), -1);
	expect_err("MADT: entry at 44 is truncated");
	assert_int_equal(mem[BUF], 0xa5);
}

#define G(f) cmocka_unit_test_setup(f, guest_setup)
#define C(f) cmocka_unit_test_setup(f, fw_setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		G(test_guest_parses_back),
		G(test_guest_rsdp),
		G(test_guest_fadt),
		G(test_guest_dsdt_copied),
		G(test_guest_keel_identity),
		G(test_guest_madt_entries),
		G(test_guest_x2apic),
		G(test_guest_apic_id_boundary),
		G(test_guest_buffer_too_small),
		G(test_guest_rejects_bad_input),
		G(test_guest_above_4g),
		G(test_guest_real_dsdt),
		C(test_companion_keeps_listed_cpus),
		C(test_companion_keeps_other_entries),
		C(test_companion_other_tables_in_place),
		C(test_companion_rsdp),
		C(test_companion_rsdt_only),
		C(test_companion_x2apic_cpu),
		C(test_companion_unknown_id),
		C(test_companion_buffer_too_small),
		C(test_companion_drops_other_madts),
		C(test_companion_bad_firmware),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
