// SPDX-License-Identifier: GPL-2.0
/*
 * The physical memory map: building it from loader entries, claiming,
 * allocating, and a model-based check that random claims and allocations
 * keep it canonical and agree with a page-by-page model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/memmap.h"

#define K 0x400ull
#define M 0x100000ull
#define PG 0x1000ull
#define HOLE (-1)

static struct memmap mm, copy;

struct want {
	uint64_t base, end;
	int owner;
};

/* Sorted, disjoint, page aligned, not empty, touching ranges differ. */
static void assert_canonical(const struct memmap *m)
{
	assert_true(m->count <= MEMMAP_MAX);
	for (unsigned int i = 0; i < m->count; i++) {
		const struct mem_range *r = &m->r[i];

		assert_true(r->size > 0);
		assert_int_equal(r->base % PG, 0);
		assert_int_equal(r->size % PG, 0);
		assert_true(r->base + r->size > r->base);
		assert_true(r->owner < OWNER_MAX);
		if (i) {
			const struct mem_range *p = &m->r[i - 1];

			assert_true(p->base + p->size <= r->base);
			if (p->base + p->size == r->base)
				assert_int_not_equal(p->owner, r->owner);
		}
	}
}

static void assert_map(const struct memmap *m, const struct want *w,
		       unsigned int n)
{
	assert_canonical(m);
	if (m->count != n) {
		for (unsigned int i = 0; i < m->count; i++)
			print_message("  %#llx-%#llx %s\n",
				      (unsigned long long)m->r[i].base,
				      (unsigned long long)(m->r[i].base +
							   m->r[i].size),
				      memmap_owner_name(m->r[i].owner));
		fail_msg("%u ranges, expected %u", m->count, n);
	}
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(m->r[i].base, w[i].base);
		assert_int_equal(m->r[i].base + m->r[i].size, w[i].end);
		assert_int_equal(m->r[i].owner, w[i].owner);
	}
}

/* Ranges @first.. of @m are @w. */
static void assert_map_slice(const struct memmap *m, unsigned int first,
			     const struct want *w, unsigned int n)
{
	assert_canonical(m);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(m->r[first + i].base, w[i].base);
		assert_int_equal(m->r[first + i].base + m->r[first + i].size,
				 w[i].end);
		assert_int_equal(m->r[first + i].owner, w[i].owner);
	}
}

static void save(void)
{
	copy = mm;
}

static void assert_unchanged(void)
{
	assert_int_equal(mm.count, copy.count);
	assert_memory_equal(mm.r, copy.r, sizeof(mm.r[0]) * mm.count);
}

static void test_init_pc_layout(void **state)
{
	const struct mmap_entry e[] = {
		{ 0, 0x9fc00, MEM_USABLE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0xf0000, 0x10000, MEM_RESERVED },
		{ M, 0x7fee0000 - M, MEM_USABLE },
		{ 0x7fee0000, 0x20000, MEM_ACPI_RECLAIM },
		{ 0xfffc0000, 0x40000, MEM_RESERVED },
	};
	const struct want w[] = {
		{ 0, 0x9f000, OWNER_LOW },
		{ 0x9f000, 0xa0000, OWNER_FIRMWARE },
		{ 0xf0000, M, OWNER_FIRMWARE },
		{ M, 0x7fee0000, OWNER_FREE },
		{ 0x7fee0000, 0x7ff00000, OWNER_FIRMWARE },
		{ 0xfffc0000, 0x100000000, OWNER_FIRMWARE },
	};

	(void)state;
	assert_int_equal(memmap_init(&mm, e, 6), 0);
	assert_map(&mm, w, 6);
	assert_int_equal(memmap_total(&mm, OWNER_LOW), 0x9f000);
	assert_int_equal(memmap_total(&mm, OWNER_FREE), 0x7fee0000 - M);
	assert_int_equal(memmap_total(&mm, OWNER_FIRMWARE),
			 0x1000 + 0x10000 + 0x20000 + 0x40000);
	assert_int_equal(memmap_total(&mm, OWNER_MODULE), 0);
}

static void test_init_unsorted_overlapping(void **state)
{
	const struct mmap_entry e[] = {
		{ 0x300000, 0x1000, MEM_ACPI_NVS },
		{ 0x200000, 0x100000, MEM_USABLE },
		{ 0x180000, 0x1000, MEM_RESERVED },  /* inside usable RAM */
		{ 0x100000, 0x180000, MEM_USABLE },  /* overlaps the above */
		{ 0x200000, 0x100000, MEM_USABLE },  /* duplicate */
		{ 0x400000, 0x1000, 99 },            /* unknown type */
		{ 0x3ff000, 0x2000, MEM_USABLE },    /* loses to the unknown */
		{ 0x500000, 0x1000, MEM_BAD },
		{ 0x500000, 0x3000, MEM_USABLE },
		{ 0x600000, 0, MEM_RESERVED },       /* empty */
	};
	const struct want w[] = {
		{ 0x100000, 0x180000, OWNER_FREE },
		{ 0x180000, 0x181000, OWNER_FIRMWARE },
		{ 0x181000, 0x300000, OWNER_FREE },
		{ 0x300000, 0x301000, OWNER_FIRMWARE },
		{ 0x3ff000, 0x400000, OWNER_FREE },
		{ 0x400000, 0x401000, OWNER_FIRMWARE },
		{ 0x500000, 0x501000, OWNER_FIRMWARE },
		{ 0x501000, 0x503000, OWNER_FREE },
	};

	(void)state;
	assert_int_equal(memmap_init(&mm, e, 10), 0);
	assert_map(&mm, w, 8);
}

static void test_init_page_trimming(void **state)
{
	const struct mmap_entry e[] = {
		{ 0x100123, 0x2000, MEM_USABLE },   /* -> 0x101000-0x102000 */
		{ 0x200100, 0x800, MEM_USABLE },    /* no whole page: gone */
		{ 0x300100, 0x10, MEM_RESERVED },   /* grows to a whole page */
		{ 0x400000, 0x100000, MEM_USABLE },
		{ 0x450800, 0x100, MEM_RESERVED },  /* takes its whole page */
		{ 0x600000, 0x1fff, MEM_USABLE },   /* -> one page */
	};
	const struct want w[] = {
		{ 0x101000, 0x102000, OWNER_FREE },
		{ 0x300000, 0x301000, OWNER_FIRMWARE },
		{ 0x400000, 0x450000, OWNER_FREE },
		{ 0x450000, 0x451000, OWNER_FIRMWARE },
		{ 0x451000, 0x500000, OWNER_FREE },
		{ 0x600000, 0x601000, OWNER_FREE },
	};

	(void)state;
	assert_int_equal(memmap_init(&mm, e, 6), 0);
	assert_map(&mm, w, 6);
}

static void test_init_first_mib(void **state)
{
	const struct mmap_entry e[] = {
		{ 0x1000, 2 * M, MEM_USABLE },
		{ 0xe0000, 0x20000, MEM_RESERVED },
	};
	const struct want w[] = {
		{ 0x1000, 0xe0000, OWNER_LOW },
		{ 0xe0000, M, OWNER_FIRMWARE },
		{ M, 0x201000, OWNER_FREE },
	};
	const struct mmap_entry straddle = { 0x80000, M, MEM_USABLE };
	const struct want w2[] = {
		{ 0x80000, M, OWNER_LOW },
		{ M, M + 0x80000, OWNER_FREE },
	};

	(void)state;
	assert_int_equal(memmap_init(&mm, e, 2), 0);
	assert_map(&mm, w, 3);
	assert_int_equal(memmap_init(&mm, &straddle, 1), 0);
	assert_map(&mm, w2, 2);
	/* Claims never take the first MiB: it is not FREE. */
	save();
	assert_int_equal(memmap_claim(&mm, 0x80000, 0x1000, OWNER_MODULE), 0);
	assert_unchanged();
	assert_int_equal(memmap_init(&mm, NULL, 0), 0);
	assert_int_equal(mm.count, 0);
	assert_int_equal(memmap_init(&mm, NULL, 1), -1);
}

/* FREE [1M, 2M), FIRMWARE [2M, 2M+4K), FREE [2M+4K, 4M), FREE [5M, 6M). */
static void make_three_free(void)
{
	const struct mmap_entry e[] = {
		{ 5 * M, M, MEM_USABLE },
		{ M, 3 * M, MEM_USABLE },
		{ 2 * M, PG, MEM_RESERVED },
	};

	assert_int_equal(memmap_init(&mm, e, 3), 0);
	assert_int_equal(mm.count, 4);
}

static void test_claim_several_ranges(void **state)
{
	const struct want w[] = {
		{ M, M + M / 2, OWNER_FREE },
		{ M + M / 2, 2 * M, OWNER_KEEL_IMAGE },
		{ 2 * M, 2 * M + PG, OWNER_FIRMWARE },
		{ 2 * M + PG, 4 * M, OWNER_KEEL_IMAGE },
		{ 5 * M, 5 * M + M / 2, OWNER_KEEL_IMAGE },
		{ 5 * M + M / 2, 6 * M, OWNER_FREE },
	};
	uint64_t before;

	(void)state;
	make_three_free();
	before = memmap_total(&mm, OWNER_FREE);
	assert_int_equal(memmap_claim(&mm, M + M / 2, 4 * M, OWNER_KEEL_IMAGE),
			 0);
	assert_map(&mm, w, 6);
	assert_int_equal(memmap_total(&mm, OWNER_KEEL_IMAGE) +
				 memmap_total(&mm, OWNER_FREE),
			 before);
	assert_false(memmap_overlaps_other(&mm, M + M / 2, M / 2,
					   OWNER_KEEL_IMAGE));
	assert_true(memmap_overlaps_other(&mm, M + M / 2, M / 2 + 1,
					  OWNER_KEEL_IMAGE));
	/* [4M, 5M) is a hole in the map. */
	assert_true(memmap_overlaps_other(&mm, 4 * M - PG, 2 * PG,
					  OWNER_KEEL_IMAGE));
	assert_false(memmap_overlaps_other(&mm, 5 * M, 0, OWNER_FREE));
}

static void test_claim_rounds_outward(void **state)
{
	const struct want w[] = {
		{ M, M + PG, OWNER_FREE },
		{ M + PG, M + 3 * PG, OWNER_BOOTINFO },
		{ M + 3 * PG, 2 * M, OWNER_FREE },
		{ 2 * M, 2 * M + PG, OWNER_FIRMWARE },
		{ 2 * M + PG, 4 * M, OWNER_FREE },
		{ 5 * M, 6 * M, OWNER_FREE },
	};

	(void)state;
	make_three_free();
	assert_int_equal(memmap_claim(&mm, M + PG + 0xff0, 0x20,
				      OWNER_BOOTINFO), 0);
	assert_map(&mm, w, 6);
	assert_int_equal(memmap_total(&mm, OWNER_BOOTINFO), 2 * PG);
	/* A zero-sized claim takes nothing, even at an unaligned address. */
	save();
	assert_int_equal(memmap_claim(&mm, 3 * M + 5, 0, OWNER_MODULE), 0);
	assert_unchanged();
}

static void test_claim_over_firmware(void **state)
{
	const struct want w[] = {
		{ M, 2 * M, OWNER_KEEL_IMAGE },
		{ 2 * M, 2 * M + PG, OWNER_FIRMWARE },
		{ 2 * M + PG, 4 * M, OWNER_KEEL_IMAGE },
		{ 5 * M, 6 * M, OWNER_KEEL_IMAGE },
	};

	(void)state;
	make_three_free();
	save();
	/* Entirely firmware or hole: nothing changes. */
	assert_int_equal(memmap_claim(&mm, 2 * M, PG, OWNER_MODULE), 0);
	assert_int_equal(memmap_claim(&mm, 4 * M, M, OWNER_MODULE), 0);
	assert_unchanged();
	/* Over everything: only the FREE bytes change hands. */
	assert_int_equal(memmap_claim(&mm, 0, 8 * M, OWNER_KEEL_IMAGE), 0);
	assert_map(&mm, w, 4);
	/* Claiming again, for someone else, takes nothing from the owner. */
	save();
	assert_int_equal(memmap_claim(&mm, M, 5 * M, OWNER_GUEST), 0);
	assert_unchanged();
	assert_int_equal(memmap_claim(&mm, M, PG, OWNER_MAX), -1);
	assert_int_equal(memmap_claim(&mm, M, PG, OWNER_FREE), 0);
	assert_unchanged();
}

static void test_claim_merges(void **state)
{
	const struct want w[] = {
		{ M, M + 2 * PG, OWNER_MODULE },
		{ M + 2 * PG, 2 * M, OWNER_FREE },
		{ 2 * M, 2 * M + PG, OWNER_FIRMWARE },
		{ 2 * M + PG, 4 * M, OWNER_FREE },
		{ 5 * M, 6 * M, OWNER_FREE },
	};
	const struct want w2[] = {
		{ M, 2 * M, OWNER_MODULE },
		{ 2 * M, 2 * M + PG, OWNER_FIRMWARE },
		{ 2 * M + PG, 4 * M, OWNER_FREE },
		{ 5 * M, 6 * M, OWNER_FREE },
	};

	(void)state;
	make_three_free();
	assert_int_equal(memmap_claim(&mm, M, PG, OWNER_MODULE), 0);
	assert_int_equal(memmap_claim(&mm, M + PG, PG, OWNER_MODULE), 0);
	assert_map(&mm, w, 5);
	assert_int_equal(memmap_claim(&mm, M + 4 * PG, PG, OWNER_MODULE), 0);
	assert_int_equal(mm.count, 7);
	/* Filling the gap joins all three pieces and the rest of the range. */
	assert_int_equal(memmap_claim(&mm, M + 2 * PG, M - 2 * PG,
				      OWNER_MODULE), 0);
	assert_map(&mm, w2, 4);
}

static void test_alloc(void **state)
{
	const struct mmap_entry e[] = {
		{ M, 15 * M, MEM_USABLE },
		{ 16 * M, 16 * M, MEM_RESERVED },
		{ 32 * M, 16 * M, MEM_USABLE },
	};
	uint64_t a;

	(void)state;
	assert_int_equal(memmap_init(&mm, e, 3), 0);
	/* Highest first. */
	a = memmap_alloc(&mm, PG, 0, UINT64_MAX, OWNER_KEEL_POOL);
	assert_int_equal(a, 48 * M - PG);
	/* Aligned, below the limit. */
	a = memmap_alloc(&mm, 2 * M, 2 * M, 41 * M, OWNER_GUEST);
	assert_int_equal(a, 38 * M);
	assert_false(memmap_overlaps_other(&mm, a, 2 * M, OWNER_GUEST));
	/* Sizes round up to pages. */
	a = memmap_alloc(&mm, 5000, PG, UINT64_MAX, OWNER_MODULE);
	assert_int_equal(a, 48 * M - 3 * PG);
	assert_int_equal(memmap_total(&mm, OWNER_MODULE), 2 * PG);
	/* [44M, 48M) is no longer all free: the next aligned block down. */
	a = memmap_alloc(&mm, 4 * M, 4 * M, UINT64_MAX, OWNER_GUEST);
	assert_int_equal(a, 40 * M);
	/* A limit below the upper range falls to the lower one. */
	a = memmap_alloc(&mm, M, M, 20 * M, OWNER_KEEL_POOL);
	assert_int_equal(a, 15 * M);
	assert_int_equal(memmap_total(&mm, OWNER_KEEL_POOL), M + PG);
	assert_canonical(&mm);

	save();
	assert_int_equal(memmap_alloc(&mm, 15 * M, PG, UINT64_MAX,
				      OWNER_GUEST), 0);
	assert_int_equal(memmap_alloc(&mm, PG, PG, M, OWNER_GUEST), 0);
	assert_int_equal(memmap_alloc(&mm, PG, 3 * PG, UINT64_MAX,
				      OWNER_GUEST), 0);
	assert_int_equal(memmap_alloc(&mm, 0, PG, UINT64_MAX, OWNER_GUEST), 0);
	assert_int_equal(memmap_alloc(&mm, PG, PG, UINT64_MAX, OWNER_FREE), 0);
	assert_int_equal(memmap_alloc(&mm, UINT64_MAX, PG, UINT64_MAX,
				      OWNER_GUEST), 0);
	assert_unchanged();
}

/* @pattern repeated until @count ranges; FREE ranges are 12K, others 4K. */
static void make_pattern(unsigned int count, const enum mem_owner *pattern,
			 unsigned int len)
{
	uint64_t at = 16 * M;

	mm.count = count;
	for (unsigned int i = 0; i < count; i++) {
		enum mem_owner o = pattern[i % len];
		uint64_t size = o == OWNER_FREE ? 3 * PG : PG;

		mm.r[i] = (struct mem_range){ at, size, o };
		at += size;
	}
	assert_canonical(&mm);
}

/* [MODULE 4K][FREE 12K][FIRMWARE 4K] repeated until @count ranges. */
static void make_full(unsigned int count)
{
	static const enum mem_owner pattern[] = {
		OWNER_MODULE, OWNER_FREE, OWNER_FIRMWARE,
	};

	make_pattern(count, pattern, 3);
}

static void test_table_full(void **state)
{
	/* r[3] MODULE, r[4] FREE [fb, fb+3P), r[5] FIRMWARE, r[6] MODULE,
	 * r[7] FREE [fb+5P, fb+8P), r[8] FIRMWARE */
	const uint64_t fb = 16 * M + 6 * PG;
	const struct want w[] = {
		{ fb - PG, fb, OWNER_MODULE },
		{ fb, fb + 2 * PG, OWNER_FREE },
		{ fb + 2 * PG, fb + 3 * PG, OWNER_MODULE },
		{ fb + 3 * PG, fb + 4 * PG, OWNER_FIRMWARE },
		{ fb + 4 * PG, fb + 8 * PG, OWNER_MODULE },
		{ fb + 8 * PG, fb + 9 * PG, OWNER_FIRMWARE },
	};

	(void)state;
	make_full(MEMMAP_MAX);
	assert_int_equal(mm.r[4].base, fb);
	save();
	/* The middle page of a FREE range needs two more ranges. */
	assert_int_equal(memmap_claim(&mm, fb + PG + 0x800, 0x100,
				      OWNER_GUEST), -1);
	assert_unchanged();
	/* Its upper part needs one more. */
	assert_int_equal(memmap_claim(&mm, fb + PG, 2 * PG, OWNER_MODULE), -1);
	assert_unchanged();
	assert_int_equal(memmap_claim(&mm, fb + PG, 4 * PG, OWNER_MODULE), -1);
	assert_unchanged();
	/*
	 * One more at the lower end, one fewer at the upper (r[7] joins r[6]):
	 * fits, although splitting first would overflow the table.
	 */
	assert_int_equal(memmap_claim(&mm, fb + 2 * PG, 6 * PG, OWNER_MODULE),
			 0);
	assert_int_equal(mm.count, MEMMAP_MAX);
	assert_map_slice(&mm, 3, w, 6);

	/* The lower part joins the MODULE range below: no new range. */
	make_full(MEMMAP_MAX);
	assert_int_equal(memmap_claim(&mm, fb, PG, OWNER_MODULE), 0);
	assert_int_equal(mm.count, MEMMAP_MAX);
	assert_int_equal(mm.r[3].size, 2 * PG);
	assert_int_equal(mm.r[4].base, fb + PG);
	/* A whole FREE range joins the MODULE below: one range fewer. */
	assert_int_equal(memmap_claim(&mm, fb + 5 * PG, 3 * PG, OWNER_MODULE),
			 0);
	assert_int_equal(mm.count, MEMMAP_MAX - 1);
	/* That leaves a slot for a split. */
	assert_int_equal(memmap_claim(&mm, fb + 2 * PG, PG, OWNER_GUEST), 0);
	assert_int_equal(mm.count, MEMMAP_MAX);
	assert_canonical(&mm);
	/* Allocation fails cleanly too. */
	save();
	assert_int_equal(memmap_alloc(&mm, PG, PG, UINT64_MAX, OWNER_GUEST), 0);
	assert_unchanged();
}

static void test_init_table_full(void **state)
{
	struct mmap_entry e[MEMMAP_MAX + 1];

	(void)state;
	for (unsigned int i = 0; i <= MEMMAP_MAX; i++)
		e[i] = (struct mmap_entry){
			16 * M + i * PG, PG,
			i % 2 ? MEM_RESERVED : MEM_USABLE
		};
	assert_int_equal(memmap_init(&mm, e, MEMMAP_MAX), 0);
	assert_int_equal(mm.count, MEMMAP_MAX);
	save();
	assert_int_equal(memmap_init(&mm, e, MEMMAP_MAX + 1), -1);
	assert_unchanged();
}

static void test_owner_names(void **state)
{
	const char *const names[OWNER_MAX] = {
		"free", "firmware", "low", "keel image", "boot info", "module",
		"keel pool", "guest", "keel tables",
	};

	(void)state;
	for (int i = 0; i < OWNER_MAX; i++)
		assert_string_equal(memmap_owner_name(i), names[i]);
	assert_string_equal(memmap_owner_name(OWNER_MAX), "unknown");
}

/* ---- model-based ---- */

#define MODEL_BASE (16 * M)
#define MODEL_PAGES 512u

static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state % n;
}

static int map_owner_at(const struct memmap *m, uint64_t addr)
{
	for (unsigned int i = 0; i < m->count; i++)
		if (m->r[i].base <= addr && addr < m->r[i].base + m->r[i].size)
			return m->r[i].owner;
	return HOLE;
}

static void model_check(const struct memmap *m, const int *model)
{
	uint64_t sum = 0;
	unsigned int owned = 0;

	assert_canonical(m);
	for (unsigned int p = 0; p < MODEL_PAGES; p++) {
		int o = map_owner_at(m, MODEL_BASE + p * PG);

		if (o != model[p])
			fail_msg("page %u: map says %d, model %d", p, o,
				 model[p]);
		owned += model[p] != HOLE;
	}
	for (unsigned int i = 0; i < m->count; i++)
		sum += m->r[i].size;
	assert_int_equal(sum, owned * PG);
}

static void model_init(struct mmap_entry *e, unsigned int n, int *model)
{
	for (unsigned int p = 0; p < MODEL_PAGES; p++) {
		uint64_t lo = MODEL_BASE + p * PG, hi = lo + PG;

		model[p] = HOLE;
		for (unsigned int i = 0; i < n; i++) {
			bool usable = e[i].type == MEM_USABLE;
			bool inside = e[i].base <= lo &&
				      e[i].base + e[i].size >= hi;
			bool touches = e[i].base < hi &&
				       e[i].base + e[i].size > lo;

			if (!usable && touches)
				model[p] = OWNER_FIRMWARE;
			else if (usable && inside && model[p] == HOLE)
				model[p] = OWNER_FREE;
		}
	}
}

static void model_claim(int *model, uint64_t base, uint64_t size, int owner)
{
	for (unsigned int p = 0; p < MODEL_PAGES; p++) {
		uint64_t lo = MODEL_BASE + p * PG;

		if (size && lo < base + size && lo + PG > base &&
		    model[p] == OWNER_FREE)
			model[p] = owner;
	}
}

/* The highest aligned run of FREE pages below @limit, as the model sees it. */
static uint64_t model_alloc(const int *model, uint64_t pages, uint64_t align,
			    uint64_t limit)
{
	for (uint64_t p = MODEL_PAGES - pages + 1; p-- > 0;) {
		uint64_t addr = MODEL_BASE + p * PG, q;

		if (addr % align || addr + pages * PG > limit)
			continue;
		for (q = 0; q < pages && model[p + q] == OWNER_FREE; q++)
			;
		if (q == pages)
			return addr;
	}
	return 0;
}

static void test_random_claims(void **state)
{
	struct mmap_entry e[24];
	int model[MODEL_PAGES];

	(void)state;
	for (uint64_t seed = 1; seed <= 60; seed++) {
		unsigned int n = 1 + (unsigned int)(seed % 24);

		rng_state = seed * 0x9e3779b97f4a7c15ull;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t base = MODEL_BASE + rnd(MODEL_PAGES * PG);

			e[i].base = base;
			e[i].size = 1 + rnd(MODEL_BASE + MODEL_PAGES * PG -
					    base);
			e[i].type = rnd(4) ? MEM_USABLE : 2 + (uint32_t)rnd(5);
		}
		assert_int_equal(memmap_init(&mm, e, n), 0);
		model_init(e, n, model);
		model_check(&mm, model);

		for (int step = 0; step < 120; step++) {
			int owner = OWNER_FIRMWARE + (int)rnd(OWNER_MAX - 1);

			if (rnd(3)) {
				uint64_t base = MODEL_BASE +
						rnd(MODEL_PAGES * PG);
				uint64_t size = rnd(64 * PG);

				save();
				if (memmap_claim(&mm, base, size, owner)) {
					assert_true(mm.count + 1 >= MEMMAP_MAX);
					assert_unchanged();
					continue;
				}
				model_claim(model, base, size, owner);
			} else {
				uint64_t pages = 1 + rnd(16);
				uint64_t align = PG << rnd(5);
				uint64_t limit = MODEL_BASE +
						 rnd(MODEL_PAGES + 1) * PG;
				uint64_t want = model_alloc(model, pages,
							    align, limit);

				uint64_t got;

				save();
				got = memmap_alloc(&mm, pages * PG, align,
						   limit, owner);
				if (!got && want) {
					assert_true(mm.count + 1 >= MEMMAP_MAX);
					assert_unchanged();
					continue;
				}
				assert_int_equal(got, want);
				model_claim(model, want, want ? pages * PG : 0,
					    owner);
			}
			model_check(&mm, model);
		}
	}
}

/* How many ranges a canonical map of the model has. */
static unsigned int model_ranges(const int *model)
{
	unsigned int n = 0;

	for (unsigned int p = 0; p < MODEL_PAGES; p++)
		n += model[p] != HOLE && (!p || model[p - 1] != model[p]);
	return n;
}

/* Near a full table, a claim fails exactly when its result would not fit. */
static void test_random_claims_near_full(void **state)
{
	static const enum mem_owner pattern[] = {
		OWNER_MODULE, OWNER_FREE, OWNER_KEEL_POOL, OWNER_FREE,
		OWNER_FIRMWARE,
	};
	int model[MODEL_PAGES], next[MODEL_PAGES];
	unsigned int refused = 0, done = 0;

	(void)state;
	rng_state = 0x2545f4914f6cdd1dull;
	for (unsigned int round = 0; round < 200; round++) {
		make_pattern(MEMMAP_MAX - round % 4, pattern, 5);
		for (unsigned int p = 0; p < MODEL_PAGES; p++)
			model[p] = map_owner_at(&mm, MODEL_BASE + p * PG);
		model_check(&mm, model);
		for (int step = 0; step < 16; step++) {
			uint64_t base = MODEL_BASE + rnd(MODEL_PAGES * PG);
			uint64_t size = 1 + rnd(8 * PG);
			int owner = OWNER_MODULE + (int)rnd(2);
			int ret;

			memcpy(next, model, sizeof(next));
			model_claim(next, base, size, owner);
			save();
			ret = memmap_claim(&mm, base, size, owner);
			if (model_ranges(next) > MEMMAP_MAX) {
				assert_int_equal(ret, -1);
				assert_unchanged();
				refused++;
			} else {
				assert_int_equal(ret, 0);
				memcpy(model, next, sizeof(model));
				done++;
			}
			model_check(&mm, model);
		}
	}
	/* Both outcomes were exercised. */
	assert_true(refused > 50 && done > 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_pc_layout),
		cmocka_unit_test(test_init_unsorted_overlapping),
		cmocka_unit_test(test_init_page_trimming),
		cmocka_unit_test(test_init_first_mib),
		cmocka_unit_test(test_claim_several_ranges),
		cmocka_unit_test(test_claim_rounds_outward),
		cmocka_unit_test(test_claim_over_firmware),
		cmocka_unit_test(test_claim_merges),
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_table_full),
		cmocka_unit_test(test_init_table_full),
		cmocka_unit_test(test_owner_names),
		cmocka_unit_test(test_random_claims),
		cmocka_unit_test(test_random_claims_near_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
