// SPDX-License-Identifier: GPL-2.0
/*
 * A bitmap page allocator: first fit from the hint, wrapping once to the
 * start of the pool.
 */
#include <stdbool.h>
#include <string.h>

#include "runtime/page_alloc.h"

#define NOT_FOUND UINT64_MAX

static bool page_in_use(const struct page_pool *p, uint64_t i)
{
	return (p->bitmap[i / 64] >> (i % 64)) & 1;
}

static void mark(struct page_pool *p, uint64_t i, uint64_t n, bool used)
{
	for (; n; n--, i++) {
		if (used)
			p->bitmap[i / 64] |= 1ull << (i % 64);
		else
			p->bitmap[i / 64] &= ~(1ull << (i % 64));
	}
}

/* The first page in [i, i + n) whose in-use bit is @used, or i + n. */
static uint64_t first_with(const struct page_pool *p, uint64_t i, uint64_t n,
			   bool used)
{
	uint64_t end = i + n;

	while (i < end && page_in_use(p, i) != used)
		i++;
	return i;
}

/* The first index from @i whose physical frame number @align divides. */
static uint64_t align_index(const struct page_pool *p, uint64_t i,
			    uint64_t align)
{
	uint64_t pfn = p->base / PAGE_SIZE + i;

	return i + ((0 - pfn) & (align - 1));
}

/* The first start in [from, to) of @count free pages, or NOT_FOUND. */
static uint64_t find_run(const struct page_pool *p, uint64_t from, uint64_t to,
			 uint64_t count, uint64_t align)
{
	uint64_t i = align_index(p, from, align);

	while (i < to && count <= p->pages - i) {
		uint64_t used = first_with(p, i, count, true);

		if (used == i + count)
			return i;
		i = align_index(p, used + 1, align);
	}
	return NOT_FOUND;
}

int page_pool_init(struct page_pool *p, uint64_t base, uint64_t pages,
		   uint64_t *bitmap)
{
	if (!bitmap || !base || (base & (PAGE_SIZE - 1)) || !pages ||
	    pages > (UINT64_MAX - base) / PAGE_SIZE)
		return -1;
	memset(bitmap, 0, (pages + 63) / 64 * sizeof(*bitmap));
	*p = (struct page_pool){
		.base = base,
		.pages = pages,
		.bitmap = bitmap,
	};
	return 0;
}

uint64_t page_alloc(struct page_pool *p, uint64_t count, uint64_t align_pages)
{
	uint64_t hint = p->hint < p->pages ? p->hint : 0, i;

	if (!count || !align_pages || (align_pages & (align_pages - 1)) ||
	    count > p->pages - p->used)
		return 0;
	i = find_run(p, hint, p->pages, count, align_pages);
	if (i == NOT_FOUND)
		i = find_run(p, 0, hint, count, align_pages);
	if (i == NOT_FOUND)
		return 0;
	mark(p, i, count, true);
	p->used += count;
	p->hint = i + count < p->pages ? i + count : 0;
	return p->base + i * PAGE_SIZE;
}

int page_free(struct page_pool *p, uint64_t addr, uint64_t count)
{
	uint64_t i;

	if (!count || addr < p->base || (addr - p->base) % PAGE_SIZE)
		return -1;
	i = (addr - p->base) / PAGE_SIZE;
	if (i >= p->pages || count > p->pages - i ||
	    first_with(p, i, count, false) != i + count)
		return -1;
	mark(p, i, count, false);
	p->used -= count;
	if (i < p->hint)
		p->hint = i;
	return 0;
}
