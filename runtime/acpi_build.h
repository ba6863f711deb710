/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables keel hands to its partitions: a complete set for the guest's
 * virtual PC, and the firmware's own set for the companion with the MADT
 * cut down to the companion's CPUs.
 */
#ifndef KEEL_RUNTIME_ACPI_BUILD_H
#define KEEL_RUNTIME_ACPI_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/acpi.h"

struct guest_acpi_desc {
	uint32_t apic_id;          /* the guest CPU's (x2)APIC ID */
	uint64_t ioapic_addr;      /* 0xFEC00000 */
	uint8_t ioapic_id;         /* e.g. 0 */
	/* FADT sleep control register at this port, sleep status at +1 */
	uint16_t sleep_port;
	const uint8_t *dsdt;       /* guest_dsdt.asl compiled by iasl */
	size_t dsdt_len;
};

/* The AML of runtime/guest_dsdt.asl, generated into build/guest_dsdt.c. */
extern const unsigned char guest_dsdt_aml_code[];
extern const size_t guest_dsdt_aml_len;

/*
 * Builds RSDP (rev 2), XSDT, FADT, MADT, DSDT (copied) into @buf, which the
 * guest sees at guest-physical @gpa (16-byte aligned; the RSDP first, at
 * @gpa). Returns the bytes used, or 0 if @buflen is too small, @d->dsdt is
 * not a whole DSDT with a valid checksum, or @d->ioapic_addr is above 4 GiB.
 */
size_t acpi_build_guest(uint8_t *buf, size_t buflen, uint64_t gpa,
			const struct guest_acpi_desc *d);

/*
 * The firmware's ACPI tables with the MADT cut down to the companion's CPUs:
 * a new RSDP + XSDT listing every firmware table, except that the MADT is
 * replaced by a copy keeping only the Local APIC / Local x2APIC entries whose
 * APIC ID is in @apic_ids (other entry types are kept as they are). Built in
 * @buf, which the companion sees at physical @buf_phys. Returns 0 and the new
 * RSDP's physical address in @rsdp_out, or -1 with "acpi: ..." in @err.
 */
int acpi_build_companion(uint64_t fw_rsdp, phys_map_fn map,
			 const uint32_t *apic_ids, unsigned int n_ids,
			 uint8_t *buf, size_t buflen, uint64_t buf_phys,
			 uint64_t *rsdp_out, char *err, size_t errlen);

#endif
