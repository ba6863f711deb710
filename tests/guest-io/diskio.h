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

#endif
