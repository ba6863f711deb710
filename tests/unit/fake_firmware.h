/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A buffer standing for physical memory, with ACPI tables built in it, for
 * the tests of code that reads firmware tables through a phys_map_fn.
 * Define MEM_SIZE and the identity the fake firmware stamps on its tables
 * (FAKE_OEM_ID: 6 characters, FAKE_TABLE_ID: 8, FAKE_CREATOR: 4) before
 * including it, once per test program.
 */
#ifndef KEEL_TESTS_FAKE_FIRMWARE_H
#define KEEL_TESTS_FAKE_FIRMWARE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FAKE_UNUSED __attribute__((unused))

static uint8_t mem[MEM_SIZE];

static FAKE_UNUSED const void *fake_map(uint64_t phys, size_t len)
{
	if (phys > MEM_SIZE || len > MEM_SIZE - phys)
		return NULL;
	return mem + phys;
}

static FAKE_UNUSED void put16(uint64_t phys, uint16_t v)
{
	memcpy(mem + phys, &v, sizeof(v));
}

static FAKE_UNUSED void put32(uint64_t phys, uint32_t v)
{
	memcpy(mem + phys, &v, sizeof(v));
}

static FAKE_UNUSED void put64(uint64_t phys, uint64_t v)
{
	memcpy(mem + phys, &v, sizeof(v));
}

/* Sets byte @at so that the @len bytes at @p sum to zero. */
static FAKE_UNUSED void fix_sum(uint8_t *p, size_t len, size_t at)
{
	uint8_t sum = 0;

	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	p[at] = (uint8_t)-sum;
}

static FAKE_UNUSED void rsdp(uint64_t at, unsigned int revision,
			     uint32_t rsdt, uint64_t xsdt)
{
	memset(mem + at, 0, 36);
	memcpy(mem + at, "RSD PTR ", 8);
	memcpy(mem + at + 9, FAKE_OEM_ID, 6);
	mem[at + 15] = (uint8_t)revision;
	put32(at + 16, rsdt);
	if (revision >= 2) {
		put32(at + 20, 36);
		put64(at + 24, xsdt);
	}
	fix_sum(mem + at, 20, 8);
	if (revision >= 2)
		fix_sum(mem + at, 36, 32);
}

/* A table header; the caller fills the body, then calls seal(). */
static FAKE_UNUSED void sdt(uint64_t at, const char *sig, uint32_t len)
{
	memset(mem + at, 0, len);
	memcpy(mem + at, sig, 4);
	put32(at + 4, len);
	mem[at + 8] = 1;
	memcpy(mem + at + 10, FAKE_OEM_ID, 6);
	memcpy(mem + at + 16, FAKE_TABLE_ID, 8);
	memcpy(mem + at + 28, FAKE_CREATOR, 4);
}

static FAKE_UNUSED void seal(uint64_t at)
{
	uint32_t len;

	memcpy(&len, mem + at + 4, 4);
	fix_sum(mem + at, len, 9);
}

/* An RSDT ("RSDT", 4-byte entries) or XSDT ("XSDT", 8-byte entries). */
static FAKE_UNUSED void root(uint64_t at, const char *sig,
			     const uint64_t *tables, unsigned int n)
{
	unsigned int esize = sig[0] == 'X' ? 8 : 4;

	sdt(at, sig, 36 + n * esize);
	for (unsigned int i = 0; i < n; i++) {
		if (esize == 8)
			put64(at + 36 + i * 8, tables[i]);
		else
			put32(at + 36 + i * 4, (uint32_t)tables[i]);
	}
	seal(at);
}

#endif
