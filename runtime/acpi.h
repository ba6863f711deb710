/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading the firmware's ACPI tables: RSDP -> XSDT/RSDT -> tables by
 * signature, checksums verified, and the MADT's list of CPUs and I/O APICs.
 */
#ifndef KEEL_RUNTIME_ACPI_H
#define KEEL_RUNTIME_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/bootinfo.h"

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8

struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t acpi_uid;
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct madt_info {
	uint64_t lapic_address; /* after any 64-bit override (type 5) */
	uint32_t flags;         /* bit 0: PC-AT dual 8259 present */
	struct acpi_cpu cpus[ACPI_MAX_CPUS]; /* enabled CPUs, table order */
	unsigned int cpu_count;
	unsigned int cpus_disabled; /* entries without the enabled bit */
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned int ioapic_count;
};

/* Physical address of the table with signature @sig (e.g. "APIC"), found
 * through the RSDP at @rsdp (XSDT preferred when revision >= 2). Every table
 * touched must pass its checksum. Returns 0 if absent or invalid, with the
 * reason in @err. */
uint64_t acpi_find_table(uint64_t rsdp, const char *sig, phys_map_fn map,
			 char *err, size_t errlen);

/* Parses a MADT of @len bytes. Local APIC (type 0) and local x2APIC (type 9)
 * entries give CPUs; an entry whose enabled bit is clear is not listed but
 * counted in cpus_disabled.
 * Returns 0, or -1 with a message for a malformed table. */
int acpi_parse_madt(const void *madt, size_t len, struct madt_info *out,
		    char *err, size_t errlen);

/* Scans the legacy BIOS areas (EBDA, 0xE0000-0xFFFFF) for an RSDP; returns
 * its physical address or 0. */
uint64_t acpi_scan_rsdp(phys_map_fn map);

#endif
