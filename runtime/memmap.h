/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine's physical memory as keel sees it: the loader's map with
 * everything already taken (keel's image, modules, boot info, ACPI tables,
 * the first MiB) carved out of the usable ranges. Ranges are kept sorted and
 * non-overlapping; a range can be claimed for an owner.
 */
#ifndef KEEL_RUNTIME_MEMMAP_H
#define KEEL_RUNTIME_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/bootinfo.h"

#define MEMMAP_MAX 256

enum mem_owner {
	OWNER_FREE = 0,      /* usable RAM nobody claimed yet */
	OWNER_FIRMWARE,      /* reserved, ACPI, NVS, bad or unknown */
	OWNER_LOW,           /* the first MiB: BIOS data, trampolines */
	OWNER_KEEL_IMAGE,    /* keel's own text, data and bss */
	OWNER_BOOTINFO,      /* the loader's information structure */
	OWNER_MODULE,        /* a boot module (config, kernels, initrds) */
	OWNER_KEEL_POOL,     /* keel's page pool */
	OWNER_GUEST,         /* the guest window */
	OWNER_TABLES,        /* firmware tables keel rewrote for the companion */
	OWNER_MAX,
};

struct mem_range {
	uint64_t base;
	uint64_t size;
	enum mem_owner owner;
};

struct memmap {
	struct mem_range r[MEMMAP_MAX];
	unsigned int count;
};

/* Builds the map from the loader's entries; overlapping entries resolve to
 * the most restrictive type. Returns 0 or -1 (too many ranges). */
int memmap_init(struct memmap *m, const struct mmap_entry *e, unsigned int n);

/* Marks [base, base+size) as @owner wherever it is FREE; other owners keep
 * their ranges. Returns 0 or -1 (table full). */
int memmap_claim(struct memmap *m, uint64_t base, uint64_t size,
		 enum mem_owner owner);

/* Finds @size bytes of FREE memory aligned to @align, entirely below
 * @limit, highest address first; claims it for @owner and returns its base,
 * or returns 0 when none fits. */
uint64_t memmap_alloc(struct memmap *m, uint64_t size, uint64_t align,
		      uint64_t limit, enum mem_owner owner);

/* Total bytes owned by @owner. */
uint64_t memmap_total(const struct memmap *m, enum mem_owner owner);

/* True if any byte of [base, base+size) is owned by something other than
 * @owner. */
bool memmap_overlaps_other(const struct memmap *m, uint64_t base,
			   uint64_t size, enum mem_owner owner);

const char *memmap_owner_name(enum mem_owner owner);

#endif
