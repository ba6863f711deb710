// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "arch-x86_64/asm.h"
#include "arch-x86_64/guest_walk.h"

#define PTE_PRESENT 1ull
#define PTE_LARGE (1ull << 7)
#define ADDR_MASK 0x000FFFFFFFFFF000ull
#define CR4_PSE (1ull << 4)
#define EFER_LMA (1ull << 10)

static int read_entry(const struct guest_paging *pg, uint64_t gpa,
		      size_t size, uint64_t *ent)
{
	const void *p = pg->read(pg->ctx, gpa, size);

	if (!p)
		return -1;
	*ent = 0;
	memcpy(ent, p, size);
	return (*ent & PTE_PRESENT) ? 0 : -1;
}

/* Walks @levels levels of 512 eight-byte entries from @table. */
static int walk64(const struct guest_paging *pg, uint64_t table, int levels,
		  uint64_t la, uint64_t *gpa)
{
	for (int l = levels - 1; l >= 0; l--) {
		unsigned int shift = 12 + 9 * l;
		uint64_t ent;

		if (read_entry(pg, table + ((la >> shift) & 511) * 8, 8, &ent))
			return -1;
		if (l == 0 || (l <= 2 && (ent & PTE_LARGE))) {
			uint64_t mask = (1ull << shift) - 1;

			*gpa = (ent & ADDR_MASK & ~mask) | (la & mask);
			return 0;
		}
		table = ent & ADDR_MASK;
	}
	return -1;
}

int guest_linear_to_phys(const struct guest_paging *pg, uint64_t la,
			 uint64_t *gpa)
{
	uint64_t ent;

	if (!(pg->cr0 & CR0_PG)) {
		*gpa = la;
		return 0;
	}
	if (pg->efer & EFER_LMA)
		return walk64(pg, pg->cr3 & ADDR_MASK, 4, la, gpa);
	if (pg->cr4 & CR4_PAE) {
		uint64_t pdpt = pg->cr3 & 0xFFFFFFE0;

		if (read_entry(pg, pdpt + ((la >> 30) & 3) * 8, 8, &ent))
			return -1;
		return walk64(pg, ent & ADDR_MASK, 2, (uint32_t)la, gpa);
	}
	/* 32-bit paging: 1024 four-byte entries, 4 MiB pages with PSE */
	if (read_entry(pg, (pg->cr3 & 0xFFFFF000) + ((la >> 22) & 1023) * 4, 4,
		       &ent))
		return -1;
	if ((ent & PTE_LARGE) && (pg->cr4 & CR4_PSE)) {
		*gpa = (ent & 0xFFC00000) | (la & 0x3FFFFF);
		return 0;
	}
	if (read_entry(pg, (ent & 0xFFFFF000) + ((la >> 12) & 1023) * 4, 4,
		       &ent))
		return -1;
	*gpa = (ent & 0xFFFFF000) | (la & 0xFFF);
	return 0;
}
