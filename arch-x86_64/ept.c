// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "arch-x86_64/ept.h"

#define EPT_LEAF (1ull << 7) /* 1 GiB / 2 MiB page */
#define EPT_ATTRS 0x7Full    /* access, memory type, ignore PAT */
#define EPT_ADDR_MASK 0x000FFFFFFFFFF000ull
#define ENTRIES 512

static uint64_t *table(uint64_t phys)
{
	return (uint64_t *)phys;
}

static uint64_t new_table(struct ept *e)
{
	uint64_t phys = page_alloc(e->pool, 1, 1);

	if (phys) {
		memset(table(phys), 0, PAGE_SIZE);
		e->table_pages++;
	}
	return phys;
}

int ept_init(struct ept *e, struct page_pool *pool, bool huge_1g, bool ad)
{
	*e = (struct ept){ .pool = pool, .huge_1g = huge_1g, .ad = ad };
	e->pml4 = new_table(e);
	return e->pml4 ? 0 : -1;
}

static unsigned int index_at(uint64_t gpa, int level)
{
	return (gpa >> (12 + 9 * level)) & (ENTRIES - 1);
}

/* The table one level below entry @idx of @tab, created if absent. */
static uint64_t *descend(struct ept *e, uint64_t *tab, unsigned int idx)
{
	if (!(tab[idx] & EPT_RWX)) {
		uint64_t phys = new_table(e);

		if (!phys)
			return NULL;
		tab[idx] = phys | EPT_RWX;
	} else if (tab[idx] & EPT_LEAF) {
		return NULL; /* already mapped by a large page */
	}
	return table(tab[idx] & EPT_ADDR_MASK);
}

static int map_one(struct ept *e, uint64_t gpa, uint64_t hpa, int level,
		   uint64_t flags)
{
	uint64_t *tab = table(e->pml4);

	for (int l = 3; l > level; l--) {
		tab = descend(e, tab, index_at(gpa, l));
		if (!tab)
			return -1;
	}
	unsigned int idx = index_at(gpa, level);

	if (tab[idx] & EPT_RWX)
		return -1;
	tab[idx] = hpa | flags | (level ? EPT_LEAF : 0);
	return 0;
}

int ept_map(struct ept *e, uint64_t gpa, uint64_t hpa, uint64_t size,
	    uint64_t flags)
{
	while (size) {
		int level = 0;

		for (int l = e->huge_1g ? 2 : 1; l > 0; l--) {
			uint64_t span = 1ull << (12 + 9 * l);

			if (!(gpa & (span - 1)) && !(hpa & (span - 1)) &&
			    size >= span) {
				level = l;
				break;
			}
		}
		uint64_t span = 1ull << (12 + 9 * level);

		if (map_one(e, gpa, hpa, level, flags))
			return -1;
		gpa += span;
		hpa += span;
		size -= span;
	}
	return 0;
}

/* Turns the large-page entry @ent (of @level) into a table of the next
 * level with the same mapping. */
static int split(struct ept *e, uint64_t *ent, int level)
{
	uint64_t span = 1ull << (12 + 9 * (level - 1));
	uint64_t base = *ent & EPT_ADDR_MASK & ~((span << 9) - 1);
	uint64_t attrs = *ent & EPT_ATTRS;
	uint64_t phys = new_table(e);
	uint64_t *child;

	if (!phys)
		return -1;
	child = table(phys);
	for (unsigned int i = 0; i < ENTRIES; i++)
		child[i] = (base + i * span) | attrs |
			   (level > 1 ? EPT_LEAF : 0);
	*ent = phys | EPT_RWX;
	return 0;
}

int ept_unmap(struct ept *e, uint64_t gpa, uint64_t size)
{
	for (; size; gpa += PAGE_SIZE, size -= PAGE_SIZE) {
		uint64_t *tab = table(e->pml4);
		int l;

		for (l = 3; l > 0; l--) {
			uint64_t *ent = &tab[index_at(gpa, l)];

			if (!(*ent & EPT_RWX))
				break;
			if ((*ent & EPT_LEAF) && split(e, ent, l))
				return -1;
			tab = table(*ent & EPT_ADDR_MASK);
		}
		if (l == 0)
			tab[index_at(gpa, 0)] = 0;
	}
	return 0;
}

#define EPT_DIRTY (1ull << 9)

/* The page table (level 0) that maps @gpa, splitting large pages on the
 * way; NULL when nothing maps it or the pool runs out. */
static uint64_t *leaf_table(struct ept *e, uint64_t gpa)
{
	uint64_t *tab = table(e->pml4);

	for (int l = 3; l > 0; l--) {
		uint64_t *ent = &tab[index_at(gpa, l)];

		if (!(*ent & EPT_RWX))
			return NULL;
		if ((*ent & EPT_LEAF) && split(e, ent, l))
			return NULL;
		tab = table(*ent & EPT_ADDR_MASK);
	}
	return tab;
}

int ept_split_4k(struct ept *e, uint64_t gpa, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += 1ull << 21)
		if (!leaf_table(e, gpa + off))
			return -1;
	return 0;
}

uint64_t ept_harvest_dirty(struct ept *e, uint64_t gpa, uint64_t size,
			   uint64_t *bitmap)
{
	uint64_t found = 0;

	for (uint64_t off = 0; off < size; off += 1ull << 21) {
		uint64_t *pt = leaf_table(e, gpa + off);

		for (unsigned int i = 0; pt && i < ENTRIES; i++) {
			uint64_t page = (off >> 12) + i;

			if (!(pt[i] & EPT_DIRTY) || off + ((uint64_t)i << 12) >= size)
				continue;
			pt[i] &= ~EPT_DIRTY;
			bitmap[page / 64] |= 1ull << (page % 64);
			found++;
		}
	}
	return found;
}

void ept_invalidate(const struct ept *e)
{
	struct {
		uint64_t eptp, reserved;
	} desc = { ept_pointer(e), 0 };

	/* single-context: every mapping tagged with this EPT pointer */
	asm volatile("invept %0, %1" ::"m"(desc), "r"(1ull) : "cc", "memory");
}

uint64_t ept_pointer(const struct ept *e)
{
	return e->pml4 | 6 /* WB */ | (3 << 3) /* 4 levels */ |
	       (e->ad ? 1ull << 6 : 0);
}
