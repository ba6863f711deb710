// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI: finding the RSDP, walking the XSDT or RSDT to a table, and reading
 * the MADT. Firmware tables are checked before they are believed: every
 * table used must pass its checksum, and every length is bounded so that a
 * garbage pointer cannot walk keel off into unmapped memory.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/acpi.h"
#include "runtime/unaligned.h"

#define RSDP_SIG "RSD PTR "
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
#define SDT_HEADER_LEN ((uint32_t)sizeof(struct acpi_sdt_header))
#define TABLE_MAX_LEN (1u << 20)

#define EBDA_SEGMENT_PTR 0x40Eu
#define EBDA_SCAN_LEN 1024u
#define BIOS_AREA 0xE0000u
#define BIOS_AREA_LEN 0x20000u

#define MADT_ENTRIES 44u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_ENABLED 1u

struct acpi_ctx {
	phys_map_fn map;
	char *err;
	size_t errlen;
};

#define acpi_msg(c, ...) \
	snprintf((c)->err, (c)->errlen, "acpi: " __VA_ARGS__)
#define acpi_fail(c, ...) (acpi_msg(c, __VA_ARGS__), -1)

/* ACPI structures are valid when their bytes sum to 0 (mod 256). */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return sum;
}

static const uint8_t *map_or_fail(struct acpi_ctx *c, uint64_t phys,
				  size_t len, const char *what)
{
	const uint8_t *p = NULL;

	if (len <= UINT64_MAX - phys)
		p = c->map(phys, len);
	if (!p)
		acpi_msg(c, "cannot map the %s at %#llx (%lu bytes)", what,
			 (unsigned long long)phys, (unsigned long)len);
	return p;
}

/*
 * Checks the RSDP at @addr and returns the root table it points to: the
 * XSDT (8-byte entries) from revision 2 on when it has one, else the RSDT.
 */
static int check_rsdp(struct acpi_ctx *c, uint64_t addr, uint64_t *root,
		      unsigned int *entry_size)
{
	const uint8_t *p = map_or_fail(c, addr, RSDP_V1_LEN, "RSDP");
	uint32_t len;

	if (!p)
		return -1;
	if (memcmp(p, RSDP_SIG, 8))
		return acpi_fail(c, "no RSDP signature at %#llx",
				 (unsigned long long)addr);
	if (checksum(p, RSDP_V1_LEN))
		return acpi_fail(c, "RSDP at %#llx: bad checksum",
				 (unsigned long long)addr);
	if (p[15] >= 2) {
		p = map_or_fail(c, addr, RSDP_V2_LEN, "RSDP");
		if (!p)
			return -1;
		len = rd32(p, 20);
		if (len < RSDP_V2_LEN || len > TABLE_MAX_LEN)
			return acpi_fail(c, "RSDP at %#llx: bad length %u",
					 (unsigned long long)addr, len);
		p = map_or_fail(c, addr, len, "RSDP");
		if (!p)
			return -1;
		if (checksum(p, len))
			return acpi_fail(c, "RSDP at %#llx: bad extended checksum",
					 (unsigned long long)addr);
		*root = rd64(p, 24);
		*entry_size = 8;
		if (*root)
			return 0;
	}
	*root = rd32(p, 16);
	*entry_size = 4;
	if (!*root)
		return acpi_fail(c, "RSDP at %#llx points to no RSDT",
				 (unsigned long long)addr);
	return 0;
}

/* Maps the whole table at @addr once its length and checksum are sane. */
static const uint8_t *map_table(struct acpi_ctx *c, uint64_t addr,
				uint32_t *len)
{
	const uint8_t *p = map_or_fail(c, addr, SDT_HEADER_LEN, "table header");

	if (!p)
		return NULL;
	*len = rd32(p, 4);
	if (*len < SDT_HEADER_LEN || *len > TABLE_MAX_LEN) {
		acpi_msg(c, "%.4s at %#llx: length %u out of range",
			 (const char *)p, (unsigned long long)addr, *len);
		return NULL;
	}
	p = map_or_fail(c, addr, *len, "table");
	if (p && checksum(p, *len)) {
		acpi_msg(c, "%.4s at %#llx: bad checksum", (const char *)p,
			 (unsigned long long)addr);
		return NULL;
	}
	return p;
}

uint64_t acpi_find_table(uint64_t rsdp, const char *sig, phys_map_fn map,
			 char *err, size_t errlen)
{
	struct acpi_ctx c = { map, err, errlen };
	const char *root_sig;
	const uint8_t *t;
	uint64_t root;
	unsigned int esize;
	uint32_t len;
	bool seen = false;

	if (!sig || strlen(sig) != 4) {
		acpi_msg(&c, "table signature must be 4 characters");
		return 0;
	}
	if (check_rsdp(&c, rsdp, &root, &esize))
		return 0;
	t = map_table(&c, root, &len);
	if (!t)
		return 0;
	root_sig = esize == 8 ? "XSDT" : "RSDT";
	if (memcmp(t, root_sig, 4)) {
		acpi_msg(&c, "root table at %#llx is not an %s",
			 (unsigned long long)root, root_sig);
		return 0;
	}
	for (uint32_t off = SDT_HEADER_LEN; len - off >= esize; off += esize) {
		uint64_t addr = esize == 8 ? rd64(t, off) : rd32(t, off);
		const uint8_t *h;
		uint32_t tlen;

		/* Only a matching table's failure is worth reporting. */
		h = addr ? map(addr, 4) : NULL;
		if (!h || memcmp(h, sig, 4))
			continue;
		/* A damaged copy is passed over; its error stays if no good
		 * one follows. */
		seen = true;
		if (map_table(&c, addr, &tlen))
			return addr;
	}
	if (!seen)
		acpi_msg(&c, "no %s table in the %s", sig, root_sig);
	return 0;
}

static int add_cpu(struct acpi_ctx *c, struct madt_info *out,
		   uint32_t apic_id, uint32_t uid, uint32_t flags)
{
	if (!(flags & MADT_ENABLED)) {
		out->cpus_disabled++;
		return 0;
	}
	for (unsigned int i = 0; i < out->cpu_count; i++)
		if (out->cpus[i].apic_id == apic_id)
			return acpi_fail(c, "MADT: duplicate APIC ID %u",
					 apic_id);
	if (out->cpu_count == ACPI_MAX_CPUS)
		return acpi_fail(c, "MADT: more than %d enabled CPUs (ACPI_MAX_CPUS)",
				 ACPI_MAX_CPUS);
	out->cpus[out->cpu_count++] = (struct acpi_cpu){ apic_id, uid };
	return 0;
}

static int madt_entry(struct acpi_ctx *c, struct madt_info *out,
		      const uint8_t *e, unsigned int len)
{
	static const uint8_t min_len[] = {
		[MADT_LAPIC] = 8,
		[MADT_IOAPIC] = 12,
		[MADT_LAPIC_OVERRIDE] = 12,
		[MADT_X2APIC] = 16,
	};
	struct acpi_ioapic *io;

	if (e[0] < sizeof(min_len) && len < min_len[e[0]])
		return acpi_fail(c, "MADT: type %u entry of %u bytes too short",
				 e[0], len);
	switch (e[0]) {
	case MADT_LAPIC:
		return add_cpu(c, out, e[3], e[2], rd32(e, 4));
	case MADT_X2APIC:
		return add_cpu(c, out, rd32(e, 4), rd32(e, 12), rd32(e, 8));
	case MADT_IOAPIC:
		if (out->ioapic_count == ACPI_MAX_IOAPICS)
			return acpi_fail(c, "MADT: more than %d I/O APICs",
					 ACPI_MAX_IOAPICS);
		io = &out->ioapics[out->ioapic_count++];
		io->id = e[2];
		io->address = rd32(e, 4);
		io->gsi_base = rd32(e, 8);
		return 0;
	case MADT_LAPIC_OVERRIDE:
		out->lapic_address = rd64(e, 4);
		return 0;
	}
	return 0;
}

int acpi_parse_madt(const void *madt, size_t len, struct madt_info *out,
		    char *err, size_t errlen)
{
	struct acpi_ctx c = { NULL, err, errlen };
	const uint8_t *t = madt;
	uint32_t tlen;

	memset(out, 0, sizeof(*out));
	if (!t || len < MADT_ENTRIES)
		return acpi_fail(&c, "MADT of %lu bytes is too short",
				 (unsigned long)len);
	if (memcmp(t, "APIC", 4))
		return acpi_fail(&c, "MADT signature is \"%.4s\"",
				 (const char *)t);
	tlen = rd32(t, 4);
	if (tlen < MADT_ENTRIES || tlen > len)
		return acpi_fail(&c, "MADT length %u is outside %u..%lu", tlen,
				 MADT_ENTRIES, (unsigned long)len);
	if (checksum(t, tlen))
		return acpi_fail(&c, "MADT: bad checksum");
	out->lapic_address = rd32(t, 36);
	out->flags = rd32(t, 40);
	for (uint32_t off = MADT_ENTRIES; off < tlen; off += t[off + 1]) {
		if (tlen - off < 2 || t[off + 1] < 2 || t[off + 1] > tlen - off)
			return acpi_fail(&c, "MADT: entry at %u is truncated",
					 off);
		if (madt_entry(&c, out, t + off, t[off + 1]))
			return -1;
	}
	return 0;
}

/* The first valid RSDP starting on a 16-byte boundary in [start, +len). */
static uint64_t scan_area(struct acpi_ctx *c, uint64_t start, uint64_t len)
{
	uint64_t root;
	unsigned int esize;

	for (uint64_t a = start; a < start + len; a += 16)
		if (!check_rsdp(c, a, &root, &esize))
			return a;
	return 0;
}

uint64_t acpi_scan_rsdp(phys_map_fn map)
{
	struct acpi_ctx c = { map, NULL, 0 };
	const uint8_t *p = map(EBDA_SEGMENT_PTR, 2);
	uint64_t ebda = p ? (uint64_t)rd16(p, 0) << 4 : 0, found = 0;

	if (ebda)
		found = scan_area(&c, ebda, EBDA_SCAN_LEN);
	return found ? found : scan_area(&c, BIOS_AREA, BIOS_AREA_LEN);
}
