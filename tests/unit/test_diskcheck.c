// SPDX-License-Identifier: GPL-2.0
/*
 * diskcheck's core (tests/guest-io/diskio.c): the pattern is a pure function
 * of (seed, offset), whatever the block size; a write pass and verify passes
 * with other block sizes agree on a regular file; verify finds a flipped
 * byte, a misplaced sector and a zeroed one, and says so.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/guest-io/diskio.h"

#define MIB (1u << 20)
/* three MiB and three sectors: the last I/O of every block size is short */
#define FILE_SIZE (3u * MIB + 3u * DIO_SECTOR)

static char dir[64], path[96];
static char *logbuf;
static size_t loglen;

static int tmp_setup(void **state)
{
	(void)state;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/diskcheck.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/disk.img", dir);
	return 0;
}

static int tmp_teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	free(logbuf);
	logbuf = NULL;
	return 0;
}

/* one pass over path; its log lines land in logbuf */
static int run(bool write, uint64_t seed, size_t bs, uint64_t size, struct dio_result *res)
{
	struct dio_job job = {
		.path = path, .write = write, .seed = seed, .bs = bs, .size = size,
	};
	int rc;

	free(logbuf);
	logbuf = NULL;
	job.log = open_memstream(&logbuf, &loglen);
	assert_non_null(job.log);
	rc = dio_run(&job, res);
	fclose(job.log);
	return rc;
}

static void poke(uint64_t offset, const void *bytes, size_t len)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)offset, SEEK_SET), 0);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void peek(uint64_t offset, void *bytes, size_t len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)offset, SEEK_SET), 0);
	assert_int_equal(fread(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_pattern_independent_of_block_size(void **state)
{
	(void)state;
	const uint64_t seed = 7, base = 5u * MIB;
	unsigned char *whole = malloc(MIB), *pieces = malloc(MIB);
	static const size_t sizes[] = { 512, 4096, 65536 };

	dio_fill(seed, base, whole, MIB);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(pieces, 0xa5, MIB);
		for (size_t off = 0; off < MIB; off += sizes[i])
			dio_fill(seed, base + off, pieces + off, sizes[i]);
		assert_memory_equal(whole, pieces, MIB);
	}
	/* dio_word() names the same bytes */
	for (size_t off = 0; off < MIB; off += 8 * 61) {
		uint64_t w;
		memcpy(&w, whole + off, 8);
		assert_true(w == dio_word(seed, base + off));
	}
	free(whole);
	free(pieces);
}

static void test_pattern_values(void **state)
{
	(void)state;
	unsigned char a[DIO_SECTOR], b[DIO_SECTOR];
	uint64_t w;

	/* each sector starts with its offset and the tagged seed */
	dio_fill(7, 4096, a, sizeof(a));
	memcpy(&w, a, 8);
	assert_true(w == 4096);
	memcpy(&w, a + 8, 8);
	assert_true(w == (7 ^ DIO_TAG));
	assert_memory_equal(a + 8, "\x6c\x65\x65\x6c-dck", 8); /* 7 ^ "keel-dck" */
	/* pinned: a host computes the guest disk's expected checksum from
	 * the same function, so it must not drift between versions */
	assert_true(dio_word(7, 16) == 0xf0e521070cc03750ull);
	assert_true(dio_word(0x1234, MIB + 504) == 0x8516cc62771cb27cull);
	/* other seeds and other sectors differ past the header */
	dio_fill(8, 4096, b, sizeof(b));
	for (unsigned i = 16; i < DIO_SECTOR; i += 8)
		assert_memory_not_equal(a + i, b + i, 8);
	dio_fill(7, 4608, b, sizeof(b));
	for (unsigned i = 16; i < DIO_SECTOR; i += 8)
		assert_memory_not_equal(a + i, b + i, 8);
}

static void test_origin(void **state)
{
	(void)state;
	unsigned char s[DIO_SECTOR];
	uint64_t seed = 0, off = 0;

	dio_fill(0xfeedface12345678ull, 123 * DIO_SECTOR, s, sizeof(s));
	assert_int_equal(dio_origin(s, &seed, &off), DIO_ORIGIN_PATTERN);
	assert_true(seed == 0xfeedface12345678ull);
	assert_true(off == 123 * DIO_SECTOR);
	s[300] ^= 1;
	assert_int_equal(dio_origin(s, &seed, &off), DIO_ORIGIN_UNKNOWN);
	memset(s, 0, sizeof(s));
	assert_int_equal(dio_origin(s, &seed, &off), DIO_ORIGIN_ZERO);
}

static void test_write_then_verify_other_block_sizes(void **state)
{
	(void)state;
	struct dio_result res;

	assert_int_equal(run(true, 7, 65536, FILE_SIZE, &res), 0);
	assert_true(res.bytes == FILE_SIZE);
	assert_true(res.size == FILE_SIZE);
	assert_int_equal(res.io_errors, 0);

	static const size_t sizes[] = { 512, 4096, 65536, MIB, 64 * MIB };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(run(false, 7, sizes[i], 0, &res), 0);
		assert_true(res.bytes == FILE_SIZE);
		assert_int_equal(res.bad_sectors, 0);
		assert_int_equal(res.io_errors, 0);
	}
	/* a prefix verifies too */
	assert_int_equal(run(false, 7, 4096, MIB, &res), 0);
	assert_true(res.bytes == MIB);

	/* the file holds exactly the pattern */
	unsigned char *want = malloc(FILE_SIZE), *got = malloc(FILE_SIZE);
	dio_fill(7, 0, want, FILE_SIZE);
	peek(0, got, FILE_SIZE);
	assert_memory_equal(want, got, FILE_SIZE);
	free(want);
	free(got);
}

static void test_verify_finds_flipped_byte(void **state)
{
	(void)state;
	struct dio_result res;
	unsigned char c;
	const uint64_t at = 2 * MIB + 4 * DIO_SECTOR + 333;

	assert_int_equal(run(true, 7, MIB, FILE_SIZE, &res), 0);
	peek(at, &c, 1);
	c ^= 0x10;
	poke(at, &c, 1);

	assert_int_equal(run(false, 7, 4096, 0, &res), 1);
	assert_int_equal(res.bad_sectors, 1);
	assert_true(res.first_bad == at);
	assert_true(res.last_bad_sector == at / DIO_SECTOR * DIO_SECTOR);
	assert_int_equal(res.io_errors, 0);
	assert_true(res.bytes == FILE_SIZE);
	assert_non_null(strstr(logbuf, "first mismatch at offset 2099533 (sector 4100)"));
	assert_non_null(strstr(logbuf, "sector 4100 holds neither zeros nor a pattern sector"));

	/* another seed: every sector is wrong */
	c ^= 0x10;
	poke(at, &c, 1);
	assert_int_equal(run(false, 8, 65536, 0, &res), 1);
	assert_true(res.bad_sectors == FILE_SIZE / DIO_SECTOR);
	assert_true(res.first_bad == 8); /* the tagged seed */
	assert_non_null(strstr(logbuf, "sector 0 holds seed 7's sector at offset 0\n"));
}

static void test_verify_names_misplaced_and_zeroed_sectors(void **state)
{
	(void)state;
	struct dio_result res;
	unsigned char s[DIO_SECTOR];

	assert_int_equal(run(true, 42, 4096, FILE_SIZE, &res), 0);
	/* sector 10's content written at sector 300; sector 400 zeroed */
	peek(10 * DIO_SECTOR, s, sizeof(s));
	poke(300 * DIO_SECTOR, s, sizeof(s));
	memset(s, 0, sizeof(s));
	poke(400 * DIO_SECTOR, s, sizeof(s));

	assert_int_equal(run(false, 42, MIB, 0, &res), 1);
	assert_int_equal(res.bad_sectors, 2);
	assert_true(res.first_bad == 300 * DIO_SECTOR + 1); /* 5120 vs 153600: byte 1 */
	assert_true(res.last_bad_sector == 400 * DIO_SECTOR);
	assert_non_null(strstr(logbuf, "sector 300 holds seed 42's sector at offset 5120\n"));
	assert_non_null(strstr(logbuf, "sector 400 holds zeros\n"));
}

static void test_refusals(void **state)
{
	(void)state;
	struct dio_result res;

	/* verifying more than the file holds */
	assert_int_equal(run(true, 1, 4096, MIB, &res), 0);
	assert_int_equal(run(false, 1, 4096, 2 * MIB, &res), 1);
	assert_true(res.setup_error);
	assert_non_null(strstr(logbuf, "has 1048576 bytes, fewer than 2097152"));
	/* block sizes that are no multiple of a sector */
	assert_int_equal(run(false, 1, 1000, 0, &res), 1);
	assert_true(res.setup_error);
	/* a file of no whole sectors */
	assert_int_equal(truncate(path, MIB + 100), 0);
	assert_int_equal(run(false, 1, 4096, 0, &res), 1);
	assert_true(res.setup_error);
	/* a missing file is read as an error, and not created */
	unlink(path);
	assert_int_equal(run(false, 1, 4096, 0, &res), 1);
	assert_non_null(strstr(logbuf, "open: No such file or directory (errno 2)"));
	assert_int_equal(access(path, F_OK), -1);
	/* a write without a size does not create it either */
	assert_int_equal(run(true, 1, 4096, 0, &res), 1);
	assert_int_equal(access(path, F_OK), -1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_independent_of_block_size),
		cmocka_unit_test(test_pattern_values),
		cmocka_unit_test(test_origin),
		T(test_write_then_verify_other_block_sizes),
		T(test_verify_finds_flipped_byte),
		T(test_verify_names_misplaced_and_zeroed_sectors),
		T(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
