// SPDX-License-Identifier: GPL-2.0
/*
 * diskcheck's core (tests/guest-io/diskio.c): the pattern is a pure function
 * of (seed, offset), whatever the block size; a write pass and verify passes
 * with other block sizes agree on a regular file; verify finds a flipped
 * byte, a misplaced sector and a zeroed one, and says so. The journal
 * writes entries of (seed, block, sequence), counts its running time with
 * pauses capped, stops at a file, and tells lost from corrupt blocks.
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

/* ---- the journal ---- */

#define JBLK DIO_JOURNAL_BLOCK

static void test_journal_entry(void **state)
{
	(void)state;
	unsigned char a[JBLK], b[JBLK];
	uint64_t seq = 99, w;

	dio_journal_fill(7, 12, 30, a);
	memcpy(&w, a, 8);
	assert_true(w == DIO_JOURNAL_MAGIC);
	assert_memory_equal(a, "keeljrnl", 8);
	memcpy(&w, a + 8, 8);
	assert_true(w == 12);
	memcpy(&w, a + 16, 8);
	assert_true(w == 30);
	memcpy(&w, a + 24, 8);
	assert_true(w == 7);
	/* the payload is a function of (seed, block, sequence) */
	dio_journal_fill(7, 12, 30, b);
	assert_memory_equal(a, b, JBLK);
	dio_journal_fill(7, 12, 31, b);
	assert_memory_not_equal(a + DIO_JOURNAL_HEADER, b + DIO_JOURNAL_HEADER, 8);
	dio_journal_fill(7, 13, 30, b);
	assert_memory_not_equal(a + DIO_JOURNAL_HEADER, b + DIO_JOURNAL_HEADER, 8);
	dio_journal_fill(8, 12, 30, b);
	assert_memory_not_equal(a + DIO_JOURNAL_HEADER, b + DIO_JOURNAL_HEADER, 8);

	/* the last write: right; an older one: lost; a later one: corrupt */
	assert_int_equal(dio_journal_check(a, 7, 12, 30, &seq), DIO_JOURNAL_RIGHT);
	assert_true(seq == 30);
	assert_int_equal(dio_journal_check(a, 7, 12, 41, &seq), DIO_JOURNAL_LOST);
	assert_true(seq == 30);
	assert_int_equal(dio_journal_check(a, 7, 12, 29, &seq), DIO_JOURNAL_CORRUPT);
	/* another block's entry, whole: misdirected */
	assert_int_equal(dio_journal_check(a, 7, 13, 30, &seq), DIO_JOURNAL_CORRUPT);
	/* another journal's entry, whole: this one's never landed */
	assert_int_equal(dio_journal_check(a, 8, 12, 30, &seq), DIO_JOURNAL_LOST);
	assert_true(seq == 0);
	/* no entry at all */
	memset(b, 0, sizeof(b));
	assert_int_equal(dio_journal_check(b, 7, 12, 30, &seq), DIO_JOURNAL_LOST);
	assert_true(seq == 0);
	/* a flipped bit anywhere, the header's other fields included */
	static const unsigned at[] = { 8, 17, 24, 33, DIO_JOURNAL_HEADER, 2000, JBLK - 1 };
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		memcpy(b, a, JBLK);
		b[at[i]] ^= 0x04;
		assert_int_equal(dio_journal_check(b, 7, 12, 30, &seq), DIO_JOURNAL_CORRUPT);
	}
	/* a torn write: the header of write 30, the rest of write 20 */
	dio_journal_fill(7, 12, 20, b);
	memcpy(b, a, 512);
	assert_int_equal(dio_journal_check(b, 7, 12, 30, &seq), DIO_JOURNAL_CORRUPT);
	/* the picks stay in range and repeat for a seed */
	for (uint64_t s = 1; s < 1000; s++) {
		assert_true(dio_journal_pick(7, s, 100) < 100);
		assert_true(dio_journal_pick(7, s, 100) == dio_journal_pick(7, s, 100));
	}
}

/* a journal over the file at path; log lines in logbuf */
static int journal(struct dio_journal *j, struct dio_journal_result *res)
{
	int rc;

	free(logbuf);
	logbuf = NULL;
	j->path = path;
	j->log = open_memstream(&logbuf, &loglen);
	assert_non_null(j->log);
	rc = dio_journal_run(j, res);
	fclose(j->log);
	return rc;
}

static void make_file(uint64_t size)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(truncate(path, (off_t)size), 0);
}

/* the last sequence the journal with @seed wrote to each of @blocks
 * blocks in @writes writes */
static void replay(uint64_t seed, uint64_t writes, uint64_t blocks, uint64_t *last)
{
	memset(last, 0, blocks * sizeof(*last));
	for (uint64_t s = 1; s <= writes; s++)
		last[dio_journal_pick(seed, s, blocks)] = s;
}

static void test_journal_writes_and_verifies(void **state)
{
	(void)state;
	/* 256 blocks and a tail that is no whole block */
	const uint64_t blocks = 256;
	struct dio_journal j = { .seed = 5, .seconds = 1e9, .max_writes = 500 };
	struct dio_journal_result res;
	uint64_t last[256], n = 0;
	unsigned char got[JBLK], want[JBLK];

	make_file(blocks * JBLK + 3 * DIO_SECTOR);
	assert_int_equal(journal(&j, &res), 0);
	assert_false(res.setup_error);
	assert_true(res.blocks == blocks);
	assert_true(res.writes == 500);
	assert_int_equal(res.lost, 0);
	assert_int_equal(res.corrupt, 0);
	assert_int_equal(res.io_errors, 0);
	/* every block holds the entry of its last write, the others zeros */
	replay(5, 500, blocks, last);
	memset(want, 0, sizeof(want));
	for (uint64_t b = 0; b < blocks; b++) {
		peek(b * JBLK, got, JBLK);
		if (last[b]) {
			dio_journal_fill(5, b, last[b], want);
			n++;
		} else {
			memset(want, 0, sizeof(want));
		}
		assert_memory_equal(got, want, JBLK);
	}
	assert_true(res.written == n);
	assert_true(n > 180 && n < blocks); /* random: some never written */
}

struct damage {
	uint64_t at;		/* after this write */
	uint64_t blocks;
	uint64_t lost_older, lost_zero, corrupt_flip, corrupt_moved, moved_from;
};

/* blocks written at least twice, once, ... by the time of the damage */
static void do_damage(void *arg, uint64_t seq)
{
	struct damage *d = arg;
	uint64_t last[256], prev[256], found = 0;
	unsigned char buf[JBLK];

	if (seq != d->at)
		return;
	/* each block's last and the write before it */
	memset(last, 0, sizeof(last));
	memset(prev, 0, sizeof(prev));
	for (uint64_t s = 1; s <= seq; s++) {
		uint64_t b = dio_journal_pick(9, s, d->blocks);
		prev[b] = last[b];
		last[b] = s;
	}
	for (uint64_t b = 0; b < d->blocks && found < 4; b++) {
		if (!prev[b])
			continue;
		if (found == 0) {
			/* the write before the last one comes back */
			d->lost_older = b;
			dio_journal_fill(9, b, prev[b], buf);
		} else if (found == 1) {
			d->lost_zero = b;
			memset(buf, 0, sizeof(buf));
		} else if (found == 2) {
			d->corrupt_flip = b;
			peek(b * JBLK, buf, JBLK);
			buf[3000] ^= 0x80;
		} else {
			/* the first block's entry, written here */
			d->corrupt_moved = b;
			d->moved_from = d->lost_older;
			dio_journal_fill(9, d->lost_older, last[d->lost_older], buf);
		}
		poke(b * JBLK, buf, JBLK);
		found++;
	}
	assert_true(found == 4);
}

static void test_journal_finds_lost_and_corrupt_blocks(void **state)
{
	(void)state;
	struct damage d = { .at = 1000, .blocks = 256 };
	struct dio_journal j = {
		.seed = 9, .seconds = 1e9, .max_writes = 1000,
		.after_write = do_damage, .after_write_arg = &d,
	};
	struct dio_journal_result res;
	char line[256];

	make_file(d.blocks * JBLK);
	assert_int_equal(journal(&j, &res), 1);
	assert_false(res.setup_error);
	assert_true(res.writes == 1000);
	assert_int_equal(res.lost, 2);
	assert_int_equal(res.corrupt, 2);
	assert_int_equal(res.io_errors, 0);
	snprintf(line, sizeof(line), "block %llu lost: holds write ",
		 (unsigned long long)d.lost_older);
	assert_non_null(strstr(logbuf, line));
	snprintf(line, sizeof(line), "block %llu lost: holds no entry of this journal",
		 (unsigned long long)d.lost_zero);
	assert_non_null(strstr(logbuf, line));
	snprintf(line, sizeof(line), "block %llu corrupt: an entry",
		 (unsigned long long)d.corrupt_flip);
	assert_non_null(strstr(logbuf, line));
	snprintf(line, sizeof(line), "block %llu corrupt: holds block %llu's write ",
		 (unsigned long long)d.corrupt_moved, (unsigned long long)d.moved_from);
	assert_non_null(strstr(logbuf, line));
}

/* a clock that moves 0.25 s a reading, and 100 s once */
struct fake_clock {
	double t;
	unsigned reads, jump_at;
};

static double fake_now(void *arg)
{
	struct fake_clock *c = arg;
	double t = c->t;

	c->t += 0.25;
	if (++c->reads == c->jump_at)
		c->t += 100;
	return t;
}

static void test_journal_running_time(void **state)
{
	(void)state;
	struct fake_clock c = { .t = 1000, .jump_at = 4 };
	struct dio_journal j = { .seed = 3, .seconds = 5, .clock = fake_now, .clock_arg = &c };
	struct dio_journal_result res;

	make_file(64 * JBLK);
	assert_int_equal(journal(&j, &res), 0);
	/* reading 1 starts, each write reads once: write 4 took 100.25 s and
	 * counts 1 s, the others 0.25 s: 5 s after 17 writes */
	assert_true(res.writes == 17);
	assert_true(res.stalls == 1);
	assert_true(res.longest > 100.2 && res.longest < 100.3);
	assert_true(res.running >= 5.0 && res.running < 5.01);
	assert_true(res.seconds > 104.2 && res.seconds < 104.3);
	assert_non_null(strstr(logbuf, "journal write 4 (block "));
	assert_non_null(strstr(logbuf, ") took 100.25 s, counted as 1.00 s\n"));
}

static void stop_at_10(void *arg, uint64_t seq)
{
	const char *stop = arg;

	if (seq == 10) {
		FILE *f = fopen(stop, "w");
		assert_non_null(f);
		fclose(f);
	}
}

static void test_journal_stop_file_and_refusals(void **state)
{
	(void)state;
	char stop[128];
	struct dio_journal j = { .seed = 3, .seconds = 1e9, .stop_path = stop,
				 .after_write = stop_at_10, .after_write_arg = stop };
	struct dio_journal_result res;

	snprintf(stop, sizeof(stop), "%s/stop", dir);
	make_file(64 * JBLK);
	assert_int_equal(journal(&j, &res), 0);
	assert_true(res.writes == 10);
	/* it exists: no write at all */
	assert_int_equal(journal(&j, &res), 0);
	assert_true(res.writes == 0);
	unlink(stop);

	/* no whole block */
	make_file(JBLK - DIO_SECTOR);
	assert_int_equal(journal(&j, &res), 1);
	assert_true(res.setup_error);
	assert_non_null(strstr(logbuf, "3584 bytes hold no 4096-byte block"));
	/* no file */
	unlink(path);
	assert_int_equal(journal(&j, &res), 1);
	assert_true(res.setup_error);
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
		cmocka_unit_test(test_journal_entry),
		T(test_journal_writes_and_verifies),
		T(test_journal_finds_lost_and_corrupt_blocks),
		T(test_journal_running_time),
		T(test_journal_stop_file_and_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
