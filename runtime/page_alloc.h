/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's page allocator: 4 KiB pages out of one contiguous pool that
 * memmap_alloc() carved from free RAM, so it can never hand out a page that
 * keel's image, a module, the boot info or firmware tables occupy. A bitmap
 * (caller-provided storage, no hidden allocation) tracks the pages. The
 * allocator never touches the pages themselves.
 */
#ifndef KEEL_RUNTIME_PAGE_ALLOC_H
#define KEEL_RUNTIME_PAGE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ull

struct page_pool {
	uint64_t base;   /* physical, page aligned */
	uint64_t pages;  /* pool size in pages */
	uint64_t used;   /* pages handed out */
	uint64_t *bitmap; /* one bit per page, 1 = in use */
	uint64_t hint;   /* first page index worth searching from */
};

/* @bitmap must hold at least (pages + 63) / 64 words. Returns 0 or -1 if
 * @base is 0 (page_alloc() reports failure as 0) or not page aligned, or
 * @pages is 0 or runs past the end of the address space. */
int page_pool_init(struct page_pool *p, uint64_t base, uint64_t pages,
		   uint64_t *bitmap);

/* @count contiguous pages aligned to @align_pages (a power of two); returns
 * their physical address or 0 when the pool has no such run. */
uint64_t page_alloc(struct page_pool *p, uint64_t count, uint64_t align_pages);

/* Returns 0, or -1 if any of the pages was not allocated or lies outside the
 * pool (nothing is freed then). */
int page_free(struct page_pool *p, uint64_t addr, uint64_t count);

#endif
