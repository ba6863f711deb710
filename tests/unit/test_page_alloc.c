// SPDX-License-Identifier: GPL-2.0
/*
 * The bitmap page allocator. Pool addresses are made up and unmapped on the
 * host: an allocator that touched its pages would crash these tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/page_alloc.h"

#define PG PAGE_SIZE
#define BASE 0x7f0000000000ull

static struct page_pool pool;
static uint64_t bitmap[8];

static void init(uint64_t base, uint64_t pages)
{
	assert_int_equal(page_pool_init(&pool, base, pages, bitmap), 0);
}

static bool bit(uint64_t i)
{
	return (bitmap[i / 64] >> (i % 64)) & 1;
}

static void test_init(void **state)
{
	(void)state;
	assert_int_equal(page_pool_init(&pool, BASE + 0x800, 4, bitmap), -1);
	assert_int_equal(page_pool_init(&pool, BASE, 0, bitmap), -1);
	assert_int_equal(page_pool_init(&pool, 0, 4, bitmap), -1);
	assert_int_equal(page_pool_init(&pool, BASE, 4, NULL), -1);
	assert_int_equal(page_pool_init(&pool, UINT64_MAX & ~(PG - 1), 2,
					bitmap), -1);

	memset(bitmap, 0xff, sizeof(bitmap));
	init(BASE, 100);
	assert_int_equal(pool.base, BASE);
	assert_int_equal(pool.pages, 100);
	assert_int_equal(pool.used, 0);
	assert_int_equal(bitmap[0], 0);
	assert_int_equal(bitmap[1], 0);
	/* Only the (100 + 63) / 64 words it was promised are written. */
	assert_int_equal(bitmap[2], UINT64_MAX);
}

static void test_exhaustion(void **state)
{
	uint64_t prev = 0;

	(void)state;
	init(BASE, 100);
	for (int i = 0; i < 100; i++) {
		uint64_t a = page_alloc(&pool, 1, 1);

		assert_true(a >= BASE && a < BASE + 100 * PG);
		assert_true(a > prev);
		prev = a;
	}
	assert_int_equal(pool.used, 100);
	assert_int_equal(page_alloc(&pool, 1, 1), 0);
	/* Bits past the pool's last page stay clear. */
	assert_int_equal(bitmap[1] >> 36, 0);
	assert_int_equal(page_free(&pool, BASE + 57 * PG, 1), 0);
	assert_int_equal(page_alloc(&pool, 2, 1), 0);
	assert_int_equal(page_alloc(&pool, 1, 1), BASE + 57 * PG);
	assert_int_equal(page_alloc(&pool, 1, 1), 0);
}

static void test_bad_requests(void **state)
{
	(void)state;
	init(BASE, 64);
	assert_int_equal(page_alloc(&pool, 0, 1), 0);
	assert_int_equal(page_alloc(&pool, 1, 0), 0);
	assert_int_equal(page_alloc(&pool, 1, 3), 0);
	assert_int_equal(page_alloc(&pool, 65, 1), 0);
	assert_int_equal(pool.used, 0);
	assert_int_equal(bitmap[0], 0);
	assert_int_equal(page_alloc(&pool, 64, 1), BASE);
}

static void test_alignment_is_physical(void **state)
{
	const uint64_t base = 0x10003000; /* frame 0x10003: 3 mod 4 */
	uint64_t a;

	(void)state;
	init(base, 64);
	a = page_alloc(&pool, 1, 4);
	assert_int_equal(a, 0x10004000);
	assert_true(bit(1) && !bit(0));
	a = page_alloc(&pool, 2, 8);
	assert_int_equal(a % (8 * PG), 0);
	assert_int_equal(a, 0x10008000);
	a = page_alloc(&pool, 1, 1);
	assert_int_equal(a, 0x1000a000);
	/* 16 pages aligned to 16: frame 0x10010 is index 13. */
	a = page_alloc(&pool, 16, 16);
	assert_int_equal(a, 0x10010000);
	/* No frame in the pool is aligned to 128 pages. */
	assert_int_equal(page_alloc(&pool, 1, 128), 0);
	/* The unaligned pages skipped on the way were left free. */
	assert_false(bit(0));
	assert_false(bit(2) || bit(3) || bit(4));
	assert_false(bit(8) || bit(12));
	assert_int_equal(pool.used, 1 + 2 + 1 + 16);
}

static void test_runs_in_fragmented_pool(void **state)
{
	(void)state;
	init(BASE, 64);
	for (int i = 0; i < 64; i++)
		assert_int_equal(page_alloc(&pool, 1, 1), BASE + i * PG);
	assert_int_equal(page_free(&pool, BASE + 10 * PG, 3), 0);
	assert_int_equal(page_free(&pool, BASE + 20 * PG, 5), 0);
	assert_int_equal(page_free(&pool, BASE + 40 * PG, 8), 0);
	assert_int_equal(pool.used, 64 - 16);

	assert_int_equal(page_alloc(&pool, 4, 1), BASE + 20 * PG);
	assert_int_equal(page_alloc(&pool, 8, 1), BASE + 40 * PG);
	assert_int_equal(page_alloc(&pool, 4, 1), 0);
	/* After the 8-page run the search wraps round to page 10. */
	assert_int_equal(page_alloc(&pool, 2, 1), BASE + 10 * PG);
	assert_int_equal(page_alloc(&pool, 2, 1), 0);
	assert_int_equal(page_alloc(&pool, 1, 1), BASE + 12 * PG);
	assert_int_equal(page_alloc(&pool, 1, 1), BASE + 24 * PG);
	assert_int_equal(pool.used, 64);
	assert_int_equal(bitmap[0], UINT64_MAX);
}

static void test_wraps_past_hint(void **state)
{
	(void)state;
	init(BASE, 16);
	assert_int_equal(page_alloc(&pool, 16, 1), BASE);
	assert_int_equal(page_free(&pool, BASE + 2 * PG, 4), 0);
	assert_int_equal(page_free(&pool, BASE + 8 * PG, 4), 0);
	assert_int_equal(page_alloc(&pool, 1, 1), BASE + 2 * PG);
	assert_int_equal(page_alloc(&pool, 4, 1), BASE + 8 * PG);
	/* Nothing at or after the hint (12): found before it. */
	assert_int_equal(page_alloc(&pool, 3, 1), BASE + 3 * PG);
	assert_int_equal(page_alloc(&pool, 1, 1), 0);
}

static void test_free_and_realloc(void **state)
{
	uint64_t a, b;

	(void)state;
	init(BASE, 32);
	a = page_alloc(&pool, 4, 1);
	b = page_alloc(&pool, 4, 1);
	assert_int_equal(b, a + 4 * PG);
	assert_int_equal(page_free(&pool, a, 4), 0);
	assert_int_equal(pool.used, 4);
	assert_int_equal(page_alloc(&pool, 4, 1), a);
	assert_int_equal(page_free(&pool, b, 4), 0);
	assert_int_equal(page_alloc(&pool, 2, 1), b);
	assert_int_equal(pool.used, 6);
}

static void test_double_free(void **state)
{
	uint64_t a, b, saved[8];
	struct page_pool before;

	(void)state;
	init(BASE, 64);
	a = page_alloc(&pool, 3, 1);
	b = page_alloc(&pool, 4, 1);
	assert_int_equal(page_free(&pool, a, 3), 0);

	memcpy(saved, bitmap, sizeof(saved));
	before = pool;
	assert_int_equal(page_free(&pool, a, 3), -1);
	assert_int_equal(page_free(&pool, a + PG, 1), -1);
	assert_memory_equal(saved, bitmap, sizeof(saved));
	assert_int_equal(pool.used, before.used);
	/* Partly freed already: none of it is freed now. */
	assert_int_equal(page_free(&pool, b + PG, 1), 0);
	memcpy(saved, bitmap, sizeof(saved));
	before = pool;
	assert_int_equal(page_free(&pool, b, 4), -1);
	assert_memory_equal(saved, bitmap, sizeof(saved));
	assert_int_equal(pool.used, before.used);
	assert_true(bit(3) && !bit(4) && bit(5) && bit(6));
	assert_int_equal(page_free(&pool, b, 1), 0);
	assert_int_equal(page_free(&pool, b + 2 * PG, 2), 0);
	assert_int_equal(pool.used, 0);
}

static void test_free_outside_pool(void **state)
{
	uint64_t saved[8];

	(void)state;
	init(BASE, 16);
	assert_int_equal(page_alloc(&pool, 16, 1), BASE);
	memcpy(saved, bitmap, sizeof(saved));
	assert_int_equal(page_free(&pool, BASE - PG, 1), -1);
	assert_int_equal(page_free(&pool, BASE - PG, 2), -1);
	assert_int_equal(page_free(&pool, BASE + 16 * PG, 1), -1);
	assert_int_equal(page_free(&pool, BASE + 15 * PG, 2), -1);
	assert_int_equal(page_free(&pool, BASE + 15 * PG, UINT64_MAX), -1);
	assert_int_equal(page_free(&pool, BASE + 0x800, 1), -1);
	assert_int_equal(page_free(&pool, BASE, 0), -1);
	assert_int_equal(page_free(&pool, 0, 1), -1);
	assert_memory_equal(saved, bitmap, sizeof(saved));
	assert_int_equal(pool.used, 16);
}

static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % n;
}

/* Random allocations and frees against a shadow of who owns each page. */
static void test_random_never_outside(void **state)
{
	const uint64_t base = 0x123456000ull, pages = 300;
	struct { uint64_t addr, count; } live[400];
	unsigned int nlive = 0;
	int owner[300];
	uint64_t used = 0;

	(void)state;
	assert_int_equal(page_pool_init(&pool, base, pages, bitmap), 0);
	memset(owner, -1, sizeof(owner));
	for (int step = 0; step < 20000; step++) {
		if (nlive && (rnd(2) || nlive == 400)) {
			unsigned int k = (unsigned int)rnd(nlive);
			uint64_t first = (live[k].addr - base) / PG;

			assert_int_equal(page_free(&pool, live[k].addr,
						   live[k].count), 0);
			for (uint64_t i = 0; i < live[k].count; i++)
				owner[first + i] = -1;
			used -= live[k].count;
			live[k] = live[--nlive];
		} else {
			uint64_t count = 1 + rnd(rnd(4) ? 4 : 40);
			uint64_t align = 1ull << rnd(5);
			uint64_t a = page_alloc(&pool, count, align), first;

			if (!a)
				continue;
			assert_true(a >= base);
			assert_int_equal((a - base) % PG, 0);
			first = (a - base) / PG;
			assert_true(first + count <= pages);
			assert_int_equal((a / PG) % align, 0);
			for (uint64_t i = 0; i < count; i++) {
				assert_int_equal(owner[first + i], -1);
				owner[first + i] = (int)nlive;
			}
			live[nlive].addr = a;
			live[nlive++].count = count;
			used += count;
		}
		assert_int_equal(pool.used, used);
	}
	for (uint64_t i = 0; i < pages; i++)
		assert_int_equal(bit(i), owner[i] != -1);
	for (uint64_t i = pages; i < 64 * 5; i++)
		assert_false(bit(i));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_alignment_is_physical),
		cmocka_unit_test(test_runs_in_fragmented_pool),
		cmocka_unit_test(test_wraps_past_hint),
		cmocka_unit_test(test_free_and_realloc),
		cmocka_unit_test(test_double_free),
		cmocka_unit_test(test_free_outside_pool),
		cmocka_unit_test(test_random_never_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
