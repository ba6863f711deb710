// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables for the partitions. The guest gets a hardware-reduced ACPI
 * machine of keel's making; the companion gets the firmware's own tables
 * behind a new RSDP and XSDT whose MADT lists only the companion's CPUs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/acpi_build.h"
#include "runtime/unaligned.h"

#define RSDP_V1_LEN 20u
#define RSDP_LEN 36u
#define SDT_LEN ((uint32_t)sizeof(struct acpi_sdt_header))
#define XSDT_ENTRY 8u

/* FADT revision 6 (ACPI 6.0): field offsets */
#define FADT_LEN 276u
#define FADT_DSDT 40
#define FADT_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_X_DSDT 140
#define FADT_SLEEP_CONTROL 244
#define FADT_SLEEP_STATUS 256

#define FADT_NO_POWER_BUTTON (1u << 4)
#define FADT_NO_SLEEP_BUTTON (1u << 5)
#define FADT_FORCE_APIC_PHYSICAL (1u << 19)
#define FADT_HW_REDUCED_ACPI (1u << 20)
#define BOOT_ARCH_NO_VGA (1u << 2)
#define BOOT_ARCH_NO_CMOS_RTC (1u << 5)

#define GAS_SYSTEM_IO 1
#define GAS_BYTE_ACCESS 1

#define MADT_REVISION 4
#define MADT_ENTRIES 44u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_X2APIC 9
#define MADT_LAPIC_LEN 8u
#define MADT_IOAPIC_LEN 12u
#define MADT_X2APIC_LEN 16u
#define MADT_ENABLED 1u
#define LAPIC_ADDRESS 0xFEE00000u
/* 255 is the xAPIC broadcast ID: higher IDs need a Local x2APIC entry */
#define XAPIC_MAX_ID 254u

#define ALIGN16(x) (((x) + 15) & ~(size_t)15)

#define build_fail(err, errlen, ...) \
	(snprintf(err, errlen, "acpi: " __VA_ARGS__), -1)

/* The OEM and creator fields of every table keel writes for the guest. */
static const struct acpi_sdt_header keel_ident = {
	.oem_id = { 'K', 'E', 'E', 'L', ' ', ' ' },
	.oem_table_id = { 'K', 'E', 'E', 'L', 'G', 'S', 'T', ' ' },
	.oem_revision = 1,
	.creator_id = 'K' | 'E' << 8 | 'E' << 16 | (uint32_t)'L' << 24,
	.creator_revision = 1,
};

static void put_le(uint8_t *p, size_t off, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

/* ACPI structures are valid when their bytes sum to 0 (mod 256). */
static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

/*
 * Writes a table header at @t: @sig, @len and @rev, the OEM and creator
 * fields from the header @ident. The checksum is left to seal().
 */
static void sdt_start(uint8_t *t, const char *sig, size_t len, uint8_t rev,
		      const void *ident)
{
	memcpy(t, ident, SDT_LEN);
	memcpy(t, sig, 4);
	put_le(t, 4, len, 4);
	t[8] = rev;
	t[9] = 0;
}

static void seal(uint8_t *t)
{
	t[9] = 0;
	t[9] = (uint8_t)-sum8(t, rd32(t, 4));
}

/* A revision 2 RSDP pointing to the XSDT only: there is no RSDT. */
static void put_rsdp(uint8_t *p, const char *oem_id, uint64_t xsdt)
{
	memset(p, 0, RSDP_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, oem_id, 6);
	p[15] = 2;
	put_le(p, 20, RSDP_LEN, 4);
	put_le(p, 24, xsdt, 8);
	p[8] = (uint8_t)-sum8(p, RSDP_V1_LEN);
	p[32] = (uint8_t)-sum8(p, RSDP_LEN);
}

/* A byte-wide register at @port, as a Generic Address Structure. */
static void put_gas_io8(uint8_t *g, uint16_t port)
{
	g[0] = GAS_SYSTEM_IO;
	g[1] = 8;
	g[2] = 0;
	g[3] = GAS_BYTE_ACCESS;
	put_le(g, 4, port, 8);
}

/*
 * Hardware-reduced: no SCI, PM timer, GPEs, FACS or reset register. Only
 * the sleep registers, for the S5 power-off, and the boot flags saying that
 * there is no VGA, no CMOS RTC and (bit 1 clear) no 8042. APIC physical
 * destination mode is forced: keel accepts the guest's MSI-X entries and
 * IPIs only when they name its own APIC ID physically.
 */
static void build_fadt(uint8_t *f, uint64_t dsdt, uint16_t sleep_port)
{
	sdt_start(f, "FACP", FADT_LEN, 6, &keel_ident);
	if (dsdt <= UINT32_MAX)
		put_le(f, FADT_DSDT, dsdt, 4);
	put_le(f, FADT_BOOT_ARCH, BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS_RTC, 2);
	put_le(f, FADT_FLAGS, FADT_HW_REDUCED_ACPI | FADT_FORCE_APIC_PHYSICAL |
	       FADT_NO_POWER_BUTTON | FADT_NO_SLEEP_BUTTON, 4);
	put_le(f, FADT_X_DSDT, dsdt, 8);
	put_gas_io8(f + FADT_SLEEP_CONTROL, sleep_port);
	put_gas_io8(f + FADT_SLEEP_STATUS, sleep_port + 1);
	seal(f);
}

/*
 * One enabled CPU with ACPI UID 0 and one I/O APIC. MADT flags 0: no 8259.
 * No interrupt source override for IRQ 0: there is no PIT, and Linux on a
 * hardware-reduced machine sets up no ISA IRQs (its legacy PIC is null).
 */
static void build_madt(uint8_t *m, size_t len, const struct guest_acpi_desc *d)
{
	uint8_t *e = m + MADT_ENTRIES;

	sdt_start(m, "APIC", len, MADT_REVISION, &keel_ident);
	put_le(m, 36, LAPIC_ADDRESS, 4);
	if (d->apic_id > XAPIC_MAX_ID) {
		e[0] = MADT_X2APIC;
		e[1] = MADT_X2APIC_LEN;
		put_le(e, 4, d->apic_id, 4);
		put_le(e, 8, MADT_ENABLED, 4);
	} else {
		e[0] = MADT_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[3] = (uint8_t)d->apic_id;
		put_le(e, 4, MADT_ENABLED, 4);
	}
	e += e[1];
	e[0] = MADT_IOAPIC;
	e[1] = MADT_IOAPIC_LEN;
	e[2] = d->ioapic_id;
	put_le(e, 4, d->ioapic_addr, 4);
	seal(m);
}

static bool dsdt_whole(const uint8_t *p, size_t len)
{
	return p && len >= SDT_LEN && !memcmp(p, "DSDT", 4) &&
	       rd32(p, 4) == len && !sum8(p, len);
}

size_t acpi_build_guest(uint8_t *buf, size_t buflen, uint64_t gpa,
			const struct guest_acpi_desc *d)
{
	size_t madt_len = MADT_ENTRIES + MADT_IOAPIC_LEN +
		(d->apic_id > XAPIC_MAX_ID ? MADT_X2APIC_LEN : MADT_LAPIC_LEN);
	size_t xsdt = ALIGN16(RSDP_LEN);
	size_t fadt = xsdt + ALIGN16(SDT_LEN + 2 * XSDT_ENTRY);
	size_t madt = fadt + ALIGN16(FADT_LEN);
	size_t dsdt = madt + ALIGN16(madt_len);
	uint8_t *x;

	/* Linux takes a sleep register at address 0 for an absent one. */
	if (!dsdt_whole(d->dsdt, d->dsdt_len) || d->ioapic_addr > UINT32_MAX ||
	    !d->sleep_port || d->sleep_port == UINT16_MAX || !buf ||
	    buflen < dsdt + d->dsdt_len)
		return 0;
	memset(buf, 0, dsdt);
	put_rsdp(buf, keel_ident.oem_id, gpa + xsdt);
	x = buf + xsdt;
	sdt_start(x, "XSDT", SDT_LEN + 2 * XSDT_ENTRY, 1, &keel_ident);
	put_le(x, SDT_LEN, gpa + fadt, 8);
	put_le(x, SDT_LEN + XSDT_ENTRY, gpa + madt, 8);
	seal(x);
	build_fadt(buf + fadt, gpa + dsdt, d->sleep_port);
	build_madt(buf + madt, madt_len, d);
	memcpy(buf + dsdt, d->dsdt, d->dsdt_len);
	sdt_start(buf + dsdt, "DSDT", d->dsdt_len, d->dsdt[8], &keel_ident);
	seal(buf + dsdt);
	return dsdt + d->dsdt_len;
}

/* A whole table whose header acpi_find_table() has already checked. */
static const uint8_t *map_whole(phys_map_fn map, uint64_t phys)
{
	const uint8_t *h = map(phys, SDT_LEN);

	return h ? map(phys, rd32(h, 4)) : NULL;
}

/*
 * The root table of the RSDP at @rsdp, chosen as acpi.c's check_rsdp()
 * does: the XSDT from revision 2 on when there is one, else the RSDT.
 */
static const uint8_t *map_root(phys_map_fn map, uint64_t rsdp,
			       unsigned int *esize, char oem_id[6])
{
	const uint8_t *p = map(rsdp, RSDP_V1_LEN);
	uint64_t root = 0;

	if (p && p[15] >= 2) {
		p = map(rsdp, RSDP_LEN);
		root = p ? rd64(p, 24) : 0;
	}
	if (!p)
		return NULL;
	memcpy(oem_id, p + 9, 6);
	*esize = root ? 8 : 4;
	if (!root)
		root = rd32(p, 16);
	return map_whole(map, root);
}

/*
 * The XSDT at @x lists the firmware root's tables, @root being an RSDT or
 * XSDT with @esize-byte entries, in their order, the MADT at @madt_phys
 * swapped for its copy at @new_madt. Null entries are left out, and so is
 * any other MADT: it would show the companion every CPU.
 */
static void build_xsdt(uint8_t *x, const uint8_t *root, unsigned int esize,
		       phys_map_fn map, uint64_t madt_phys, uint64_t new_madt)
{
	uint32_t n = (rd32(root, 4) - SDT_LEN) / esize, kept = 0;
	bool madt_listed = false;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = esize == 8 ? rd64(root, SDT_LEN + i * 8) :
					  rd32(root, SDT_LEN + i * 4);
		const uint8_t *sig = a ? map(a, 4) : NULL;

		if (!a)
			continue;
		if (sig && !memcmp(sig, "APIC", 4)) {
			if (a != madt_phys || madt_listed)
				continue;
			a = new_madt;
			madt_listed = true;
		}
		put_le(x, SDT_LEN + kept++ * XSDT_ENTRY, a, 8);
	}
	sdt_start(x, "XSDT", SDT_LEN + kept * XSDT_ENTRY, 1, root);
	seal(x);
}

static bool id_listed(const uint32_t *ids, unsigned int n, uint32_t id)
{
	for (unsigned int i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/*
 * Copies the MADT @src, already checked by acpi_parse_madt(), to @dst
 * without the CPUs whose APIC ID is not in @ids. Dropping the other CPUs'
 * entries rather than clearing their enabled bit keeps them out of Linux's
 * count of hot-pluggable CPUs too.
 */
static void filter_madt(uint8_t *dst, const uint8_t *src,
			const uint32_t *ids, unsigned int n)
{
	uint32_t len = rd32(src, 4), out = MADT_ENTRIES;

	memcpy(dst, src, MADT_ENTRIES);
	for (uint32_t off = MADT_ENTRIES; off < len; off += src[off + 1]) {
		const uint8_t *e = src + off;

		if ((e[0] == MADT_LAPIC && !id_listed(ids, n, e[3])) ||
		    (e[0] == MADT_X2APIC && !id_listed(ids, n, rd32(e, 4))))
			continue;
		memcpy(dst + out, e, e[1]);
		out += e[1];
	}
	put_le(dst, 4, out, 4);
	seal(dst);
}

static bool cpu_enabled(const struct madt_info *mi, uint32_t apic_id)
{
	for (unsigned int i = 0; i < mi->cpu_count; i++)
		if (mi->cpus[i].apic_id == apic_id)
			return true;
	return false;
}

int acpi_build_companion(uint64_t fw_rsdp, phys_map_fn map,
			 const uint32_t *apic_ids, unsigned int n_ids,
			 uint8_t *buf, size_t buflen, uint64_t buf_phys,
			 uint64_t *rsdp_out, char *err, size_t errlen)
{
	struct madt_info mi;
	const uint8_t *root, *madt;
	uint64_t madt_phys;
	unsigned int esize, entries;
	size_t xsdt = ALIGN16(RSDP_LEN), madt_off, need;
	char oem_id[6];

	if (!n_ids)
		return build_fail(err, errlen, "no CPUs for the companion");
	madt_phys = acpi_find_table(fw_rsdp, "APIC", map, err, errlen);
	if (!madt_phys)
		return -1;
	root = map_root(map, fw_rsdp, &esize, oem_id);
	madt = map_whole(map, madt_phys);
	if (!root || !madt)
		return build_fail(err, errlen,
				  "cannot map the firmware's %s again",
				  root ? "MADT" : "root table");
	if (acpi_parse_madt(madt, rd32(madt, 4), &mi, err, errlen))
		return -1;
	for (unsigned int i = 0; i < n_ids; i++)
		if (!cpu_enabled(&mi, apic_ids[i]))
			return build_fail(err, errlen,
					  "APIC ID %u is not an enabled CPU in the MADT",
					  apic_ids[i]);

	/* at most the firmware root's entries: build_xsdt() may drop some */
	entries = (rd32(root, 4) - SDT_LEN) / esize;
	madt_off = xsdt + ALIGN16(SDT_LEN + entries * XSDT_ENTRY);
	need = madt_off + rd32(madt, 4);
	if (!buf || buflen < need)
		return build_fail(err, errlen,
				  "%lu bytes are too few for the companion's tables (%lu needed)",
				  (unsigned long)buflen, (unsigned long)need);

	memset(buf, 0, madt_off);
	build_xsdt(buf + xsdt, root, esize, map, madt_phys,
		   buf_phys + madt_off);
	filter_madt(buf + madt_off, madt, apic_ids, n_ids);
	put_rsdp(buf, oem_id, buf_phys + xsdt);
	*rsdp_out = buf_phys;
	return 0;
}
