// SPDX-License-Identifier: GPL-2.0
/* Linear to guest-physical through a guest's own page tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/asm.h"
#include "arch-x86_64/guest_walk.h"

#define MEM (1u << 20)
#define P 1ull
#define W 2ull
#define PS (1ull << 7)

static uint8_t mem[MEM];

static const void *read_mem(void *ctx, uint64_t gpa, size_t len)
{
	(void)ctx;
	return gpa < MEM && len <= MEM - gpa ? mem + gpa : NULL;
}

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(mem + gpa, &v, 8);
}

static void put32(uint64_t gpa, uint32_t v)
{
	memcpy(mem + gpa, &v, 4);
}

static struct guest_paging paging(uint64_t cr0, uint64_t cr3, uint64_t cr4,
				  uint64_t efer)
{
	return (struct guest_paging){ cr0, cr3, cr4, efer, read_mem, NULL };
}

static void expect(const struct guest_paging *pg, uint64_t la, uint64_t gpa)
{
	uint64_t got = 0;

	assert_int_equal(guest_linear_to_phys(pg, la, &got), 0);
	assert_int_equal(got, gpa);
}

static void expect_fault(const struct guest_paging *pg, uint64_t la)
{
	uint64_t got;

	assert_int_equal(guest_linear_to_phys(pg, la, &got), -1);
}

static void test_paging_off(void **state)
{
	(void)state;
	struct guest_paging pg = paging(CR0_PE, 0, 0, 0);

	expect(&pg, 0x12345678, 0x12345678);
}

static void test_four_level(void **state)
{
	(void)state;
	memset(mem, 0, MEM);
	/* 0xffffffff81000123 -> 4 KiB page at 0x50000; 0x200000 -> 2 MiB;
	 * 0x40000000 -> 1 GiB page */
	uint64_t la = 0xffffffff81000123ull;

	put64(0x1000 + ((la >> 39) & 511) * 8, 0x2000 | P | W);
	put64(0x2000 + ((la >> 30) & 511) * 8, 0x3000 | P | W);
	put64(0x3000 + ((la >> 21) & 511) * 8, 0x4000 | P | W);
	put64(0x4000 + ((la >> 12) & 511) * 8, 0x50000 | P | W);
	put64(0x1000, 0x6000 | P);
	put64(0x6000 + 0 * 8, 0x7000 | P);
	put64(0x7000 + 1 * 8, 0x600000 | P | PS);
	put64(0x6000 + 1 * 8, 0xC0000000 | P | PS);

	struct guest_paging pg = paging(CR0_PE | CR0_PG, 0x1000, CR4_PAE,
					EFER_LME | (1u << 10));

	expect(&pg, la, 0x50123);
	expect(&pg, 0x2abcde, 0x6abcde);
	expect(&pg, 0x40001234, 0xC0001234);
	expect_fault(&pg, 0x400000);		/* PDE not present */
	expect_fault(&pg, 0x0000008000000000ull); /* PML4E not present */
}

static void test_pae(void **state)
{
	(void)state;
	memset(mem, 0, MEM);
	put64(0x1000 + 3 * 8, 0x2000 | P); /* PDPTE for 3-4 GiB */
	put64(0x2000 + 0 * 8, 0x3000 | P);
	put64(0x3000 + 5 * 8, 0x8000 | P);
	put64(0x2000 + 1 * 8, 0x400000 | P | PS);

	struct guest_paging pg = paging(CR0_PE | CR0_PG, 0x1000, CR4_PAE, 0);

	expect(&pg, 0xC0005432, 0x8432);
	expect(&pg, 0xC0212345, 0x412345);
	expect_fault(&pg, 0x00001000);
}

static void test_32bit(void **state)
{
	(void)state;
	memset(mem, 0, MEM);
	put32(0x1000 + (0xC0100000u >> 22) * 4, 0x2000 | P);
	put32(0x2000 + ((0xC0100000u >> 12) & 1023) * 4, 0x9000 | P);
	put32(0x1000 + 1 * 4, 0x00800000 | P | PS);

	struct guest_paging pse = paging(CR0_PE | CR0_PG, 0x1000, 1u << 4, 0);
	struct guest_paging nopse = paging(CR0_PE | CR0_PG, 0x1000, 0, 0);

	expect(&pse, 0xC0100abc, 0x9abc);
	expect(&pse, 0x00412345, 0x00812345);
	/* without CR4.PSE the large bit is ignored: a page table at 8 MiB,
	 * outside this guest's memory */
	expect_fault(&nopse, 0x00412345);
}

static void test_tables_outside_memory(void **state)
{
	(void)state;
	struct guest_paging pg = paging(CR0_PE | CR0_PG, 0x40000000, CR4_PAE,
					EFER_LME | (1u << 10));

	expect_fault(&pg, 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_four_level),
		cmocka_unit_test(test_pae),
		cmocka_unit_test(test_32bit),
		cmocka_unit_test(test_tables_outside_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
