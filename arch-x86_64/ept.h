/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Extended page tables: a partition's guest-physical to host-physical map,
 * built with the largest pages that fit (1 GiB when the CPU has them, 2 MiB,
 * 4 KiB). Tables come from keel's page pool.
 */
#ifndef KEEL_ARCH_EPT_H
#define KEEL_ARCH_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/page_alloc.h"

#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_UC (0ull << 3)
#define EPT_MT_WB (6ull << 3)

struct ept {
	uint64_t pml4; /* physical */
	struct page_pool *pool;
	bool huge_1g;
	bool ad; /* the CPU keeps accessed/dirty flags (dirty tracking) */
	uint64_t table_pages;
};

int ept_init(struct ept *e, struct page_pool *pool, bool huge_1g, bool ad);

/* Maps [gpa, gpa+size) to [hpa, ...) with @flags (access | memory type);
 * all page aligned. Returns 0, or -1 when the pool runs out or the range
 * is already mapped. */
int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size,
	    uint64_t flags);

/* Removes [gpa, gpa+size) (page aligned), splitting large pages around it;
 * unmapped parts are skipped. Returns -1 if the pool runs out. A running
 * partition needs ept_invalidate() afterwards, on its CPU. */
int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size);

/*
 * Dirty tracking (needs the CPU's EPT A/D flags). ept_split_4k() maps
 * [gpa, gpa+size) (2 MiB aligned) with 4 KiB pages only, so that each
 * page has its own dirty flag; -1 when the pool runs out. Then
 * ept_harvest_dirty() sets bit n of @bitmap for each page n of the range
 * whose flag is set, clears the flag, and returns how many it found; the
 * CPUs running this EPT must ept_invalidate() before they write again.
 * Call them on the boot CPU (the pool's).
 */
int ept_split_4k(struct ept *e, uint64_t gpa, uint64_t size);
uint64_t ept_harvest_dirty(struct ept *e, uint64_t gpa, uint64_t size,
			   uint64_t *bitmap);

/* INVEPT for this EPT on the calling CPU. */
void ept_invalidate(const struct ept *e);

/* The EPT pointer: 4-level walk, write-back tables, A/D flags when the
 * CPU has them. */
uint64_t ept_pointer(const struct ept *e);

#endif
