/* SPDX-License-Identifier: GPL-2.0 */
/*
 * diskcheck's core: the disk pattern and the write and verify passes.
 *
 * The pattern is a pure function of (seed, byte offset), so a pass with any
 * block size verifies what a pass with any other wrote. Every 512-byte
 * sector starts with two tag words, its own byte offset and the seed xor
 * DIO_TAG, so that a bad sector tells where its content came from (a
 * misdirected or stale block); the other 62 words are splitmix64 outputs
 * indexed by the word's offset. Words are stored little-endian.
 */
#ifndef DISKIO_H
#define DISKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DIO_SECTOR 512u
#define DIO_TAG 0x6b63642d6c65656bull /* "keel-dck" as little-endian bytes */
#define DIO_MAX_BS (64u << 20)

/* The 8-byte word at @offset (a multiple of 8) of seed @seed's pattern. */
uint64_t dio_word(uint64_t seed, uint64_t offset);

/* Fills @buf with the pattern from @offset; both @offset and @len are
 * multiples of DIO_SECTOR. */
void dio_fill(uint64_t seed, uint64_t offset, void *buf, size_t len);

enum dio_origin {
	DIO_ORIGIN_UNKNOWN,	/* no pattern sector */
	DIO_ORIGIN_ZERO,	/* all zeros */
	DIO_ORIGIN_PATTERN,	/* a whole sector of some seed's pattern */
};

/* What a sector that is not the expected one holds: zeros, or an intact
 * pattern sector (its seed and offset in *@seed and *@offset). */
enum dio_origin dio_origin(const void *sector, uint64_t *seed, uint64_t *offset);

struct dio_job {
	const char *path;
	bool write;		/* write the pattern; else verify it */
	uint64_t seed;
	size_t bs;		/* bytes per I/O: a multiple of DIO_SECTOR */
	uint64_t size;		/* bytes from offset 0; 0: the whole device/file */
	FILE *log;		/* error and mismatch lines ("diskcheck: ...") */
};

struct dio_result {
	uint64_t size;		/* bytes the pass covers */
	uint64_t bytes;		/* bytes written or read and checked */
	uint64_t bad_sectors;
	uint64_t first_bad;	/* byte offset of the first wrong byte */
	uint64_t last_bad_sector;
	uint64_t io_errors;
	bool direct;		/* O_DIRECT (else a regular file that refused it) */
	bool setup_error;	/* failed before any I/O (open, size, memory) */
	double seconds;
};

/* Runs one pass. Returns 0 if every byte was written (and flushed) or read
 * back right; 1 after the first I/O error or if any sector differed. */
int dio_run(const struct dio_job *job, struct dio_result *res);

/*
 * The journal: a writer and verifier for a disk that changes hands under
 * it (a handoff of the guest). For a running time of @seconds (or until
 * @stop_path exists) it writes 4 KiB blocks with O_DIRECT, one at a time,
 * at blocks a seeded generator picks, each an entry: a header {magic,
 * block, sequence, seed, hash} and a payload that is a pure function of
 * (seed, block, sequence); the hash covers the header's other fields and
 * the payload. It remembers the last sequence written to each block, then
 * reads every block it wrote back and classifies it:
 *   right    the entry of the last write there;
 *   lost     an older entry of this journal, or no entry at all (what the
 *            block held before, zeros): a write the disk acknowledged and
 *            then did not keep;
 *   corrupt  an entry that fails its hash or its payload, names another
 *            block, or a sequence never written there.
 * Running time: each write counts the time since the previous one, but at
 * most DIO_JOURNAL_STALL seconds, so that a guest paused for a handoff (or
 * a clock that jumps) does not end the journal; longer writes are reported.
 */
#define DIO_JOURNAL_BLOCK 4096u
#define DIO_JOURNAL_MAGIC 0x6c6e726a6c65656bull /* "keeljrnl" */
#define DIO_JOURNAL_HEADER 40u	/* magic, block, seq, seed, hash */
#define DIO_JOURNAL_STALL 1.0	/* seconds a write counts at most */
#define DIO_JOURNAL_REPORT 8	/* bad blocks and stalls named one by one */

/* The entry of write @seq at @block (DIO_JOURNAL_BLOCK bytes into @buf). */
void dio_journal_fill(uint64_t seed, uint64_t block, uint64_t seq, void *buf);

/* The block write @seq picks among @blocks. */
uint64_t dio_journal_pick(uint64_t seed, uint64_t seq, uint64_t blocks);

enum dio_journal_verdict {
	DIO_JOURNAL_RIGHT,
	DIO_JOURNAL_LOST,
	DIO_JOURNAL_CORRUPT,
};

/* What @buf, read at @block, holds against @last, the last sequence
 * written there; the entry's sequence (0: no entry) in *@seq. */
enum dio_journal_verdict dio_journal_check(const void *buf, uint64_t seed, uint64_t block,
					   uint64_t last, uint64_t *seq);

struct dio_journal {
	const char *path;
	uint64_t seed;
	double seconds;		/* running time to write for */
	const char *stop_path;	/* NULL, or a file whose existence ends the writes */
	uint64_t size;		/* bytes from offset 0; 0: the whole device/file */
	uint64_t max_writes;	/* 0: no limit */
	FILE *log;		/* "diskcheck: ..." lines */
	/* a clock in seconds (NULL: CLOCK_MONOTONIC) */
	double (*clock)(void *arg);
	void *clock_arg;
	/* called after each write with its sequence (NULL: none); the unit
	 * tests change the file under the journal with it */
	void (*after_write)(void *arg, uint64_t seq);
	void *after_write_arg;
};

struct dio_journal_result {
	uint64_t blocks;	/* DIO_JOURNAL_BLOCK blocks the journal covers */
	uint64_t writes;
	uint64_t written;	/* distinct blocks written */
	uint64_t lost, corrupt, io_errors;
	uint64_t stalls;	/* writes that took longer than DIO_JOURNAL_STALL */
	double longest;		/* the longest write, seconds */
	double seconds;		/* from the first write to the last */
	double running;		/* the running time counted */
	bool direct;
	bool setup_error;
};

/* Writes, then verifies. Returns 0 if every block written holds its last
 * entry and no I/O failed; 1 otherwise. */
int dio_journal_run(const struct dio_journal *j, struct dio_journal_result *res);

#endif
