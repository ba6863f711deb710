/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building a partition's E820 map: the firmware's map with keel's ranges laid
 * over it (keel itself reserved, the guest window soft reserved, keel's
 * copies of firmware tables as ACPI data), sorted, merged, no overlaps.
 */
#ifndef KEEL_RUNTIME_E820_H
#define KEEL_RUNTIME_E820_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/bootinfo.h"
#include "runtime/linux_boot.h"

struct e820_overlay {
	uint64_t base, size;
	uint32_t type; /* E820_* */
};

/* Writes at most @max entries to @out; returns the count, or -1 if they do
 * not fit. Where firmware entries overlap, the type that is not RAM wins;
 * where overlays overlap, the later one wins. */
int e820_build(const struct mmap_entry *fw, unsigned int nfw,
	       const struct e820_overlay *ov, unsigned int nov,
	       struct e820_entry *out, unsigned int max);

#endif
