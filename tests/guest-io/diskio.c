// SPDX-License-Identifier: GPL-2.0
/*
 * diskcheck's core: the disk pattern, and one write or verify pass over a
 * block device (O_DIRECT) or a regular file (O_DIRECT unless the file
 * system refuses it, as tmpfs may). See diskio.h.
 */
#define _GNU_SOURCE
#include "diskio.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GAMMA 0x9e3779b97f4a7c15ull
#define REPORT_SECTORS 4

/* splitmix64's output function */
static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* word @index (byte offset / 8) of a stream whose state is @base */
static uint64_t body(uint64_t base, uint64_t index)
{
	return mix(base + (index + 1) * GAMMA);
}

static uint64_t word_at(uint64_t seed, uint64_t base, uint64_t offset)
{
	switch (offset % DIO_SECTOR) {
	case 0:
		return offset;
	case 8:
		return seed ^ DIO_TAG;
	default:
		return body(base, offset / 8);
	}
}

uint64_t dio_word(uint64_t seed, uint64_t offset)
{
	return word_at(seed, mix(seed), offset);
}

/* x86-64 only: words are stored in the CPU's (little-endian) order */
static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

void dio_fill(uint64_t seed, uint64_t offset, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t base = mix(seed);

	for (size_t s = 0; s < len; s += DIO_SECTOR) {
		uint64_t off = offset + s;
		put64(p + s, off);
		put64(p + s + 8, seed ^ DIO_TAG);
		for (unsigned w = 16; w < DIO_SECTOR; w += 8)
			put64(p + s + w, body(base, (off + w) / 8));
	}
}

/* The first byte of @sector (at @offset) that differs from the pattern, or
 * -1 if the sector is right. */
static int sector_mismatch(const unsigned char *sector, uint64_t seed, uint64_t base,
			   uint64_t offset)
{
	for (unsigned w = 0; w < DIO_SECTOR; w += 8) {
		uint64_t want = word_at(seed, base, offset + w);
		uint64_t got = get64(sector + w);
		if (got != want) {
			unsigned b = 0;
			while (((got ^ want) >> (8 * b) & 0xff) == 0)
				b++;
			return (int)(w + b);
		}
	}
	return -1;
}

enum dio_origin dio_origin(const void *sector, uint64_t *seed, uint64_t *offset)
{
	const unsigned char *p = sector;
	unsigned w;

	for (w = 0; w < DIO_SECTOR && get64(p + w) == 0; w += 8)
		;
	if (w == DIO_SECTOR)
		return DIO_ORIGIN_ZERO;
	*offset = get64(p);
	*seed = get64(p + 8) ^ DIO_TAG;
	if (*offset % DIO_SECTOR ||
	    sector_mismatch(p, *seed, mix(*seed), *offset) >= 0)
		return DIO_ORIGIN_UNKNOWN;
	return DIO_ORIGIN_PATTERN;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void log_errno(const struct dio_job *job, const char *what, uint64_t off, size_t len,
		      int err)
{
	fprintf(job->log, "diskcheck: %s: %s at offset %" PRIu64 " (%zu bytes): %s (errno %d)\n",
		job->path, what, off, len, strerror(err), err);
}

static void report_origin(const struct dio_job *job, const unsigned char *sector,
			  uint64_t sector_off)
{
	uint64_t oseed, ooff;

	switch (dio_origin(sector, &oseed, &ooff)) {
	case DIO_ORIGIN_ZERO:
		fprintf(job->log, "diskcheck: %s: sector %" PRIu64 " holds zeros\n", job->path,
			sector_off / DIO_SECTOR);
		break;
	case DIO_ORIGIN_PATTERN:
		fprintf(job->log,
			"diskcheck: %s: sector %" PRIu64 " holds seed %" PRIu64
			"'s sector at offset %" PRIu64 "\n",
			job->path, sector_off / DIO_SECTOR, oseed, ooff);
		break;
	case DIO_ORIGIN_UNKNOWN:
		fprintf(job->log, "diskcheck: %s: sector %" PRIu64 " holds neither zeros nor a pattern sector\n",
			job->path, sector_off / DIO_SECTOR);
		break;
	}
}

static void report_first_bad(const struct dio_job *job, const unsigned char *sector,
			     uint64_t sector_off, int byte)
{
	unsigned w = (unsigned)byte & ~7u;
	uint64_t got = get64(sector + w), want = dio_word(job->seed, sector_off + w);

	fprintf(job->log,
		"diskcheck: %s: first mismatch at offset %" PRIu64 " (sector %" PRIu64
		"): word at %" PRIu64 " is 0x%016" PRIx64 ", expected 0x%016" PRIx64 "\n",
		job->path, sector_off + (unsigned)byte, sector_off / DIO_SECTOR, sector_off + w,
		got, want);
}

/* Checks @len bytes of @buf read at @off; counts and reports bad sectors. */
static void check(const struct dio_job *job, struct dio_result *res, const unsigned char *buf,
		  uint64_t off, size_t len, uint64_t base)
{
	for (size_t s = 0; s < len; s += DIO_SECTOR) {
		int bad = sector_mismatch(buf + s, job->seed, base, off + s);
		if (bad < 0)
			continue;
		if (res->bad_sectors == 0) {
			res->first_bad = off + s + (unsigned)bad;
			report_first_bad(job, buf + s, off + s, bad);
		}
		/* where the first few bad sectors' contents came from */
		if (res->bad_sectors < REPORT_SECTORS)
			report_origin(job, buf + s, off + s);
		res->bad_sectors++;
		res->last_bad_sector = off + s;
	}
}

/* Opens job->path and sets res->size; -1 (logged) on failure. */
static int open_target(const struct dio_job *job, struct dio_result *res)
{
	int flags = (job->write ? O_WRONLY : O_RDONLY) | O_CLOEXEC;
	struct stat st;
	uint64_t have;
	int fd;

	fd = open(job->path, flags | O_DIRECT);
	res->direct = fd >= 0;
	if (fd < 0 && errno == ENOENT && job->write && job->size) {
		fd = open(job->path, flags | O_DIRECT | O_CREAT | O_EXCL, 0644);
		res->direct = fd >= 0;
	}
	if (fd < 0 && errno == EINVAL) {
		/* Only a regular file may go without O_DIRECT: a device that
		 * refuses it is an error. */
		int err = errno;
		if (stat(job->path, &st) == 0 && S_ISREG(st.st_mode)) {
			fd = open(job->path, flags);
			if (fd >= 0)
				fprintf(job->log,
					"diskcheck: %s: O_DIRECT refused (%s), regular file: "
					"buffered I/O%s\n",
					job->path, strerror(err),
					job->write ? ", flushed with fsync" : "");
		}
		if (fd < 0)
			errno = err;
	}
	if (fd < 0) {
		fprintf(job->log, "diskcheck: %s: open%s: %s (errno %d)\n", job->path,
			errno == EINVAL ? " with O_DIRECT" : "", strerror(errno), errno);
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(job->log, "diskcheck: %s: fstat: %s (errno %d)\n", job->path,
			strerror(errno), errno);
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &have) < 0) {
			fprintf(job->log, "diskcheck: %s: BLKGETSIZE64: %s (errno %d)\n",
				job->path, strerror(errno), errno);
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		have = (uint64_t)st.st_size;
		/* writing a regular file may make it longer */
		if (job->write && job->size > have)
			have = job->size;
	} else {
		fprintf(job->log, "diskcheck: %s: neither a block device nor a regular file\n",
			job->path);
		goto fail;
	}
	res->size = job->size ? job->size : have;
	if (res->size > have) {
		fprintf(job->log, "diskcheck: %s: has %" PRIu64 " bytes, fewer than %" PRIu64 "\n",
			job->path, have, res->size);
		goto fail;
	}
	if (res->size == 0 || res->size % DIO_SECTOR) {
		fprintf(job->log, "diskcheck: %s: size %" PRIu64 " is not a positive multiple of %u\n",
			job->path, res->size, DIO_SECTOR);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int dio_run(const struct dio_job *job, struct dio_result *res)
{
	const char *what = job->write ? "write" : "read";
	unsigned char *buf = NULL;
	uint64_t base = mix(job->seed), off = 0;
	double t0 = now();
	int fd;

	memset(res, 0, sizeof(*res));
	if (job->bs == 0 || job->bs % DIO_SECTOR || job->bs > DIO_MAX_BS) {
		fprintf(job->log, "diskcheck: block size %zu is not a multiple of %u up to %u\n",
			job->bs, DIO_SECTOR, DIO_MAX_BS);
		res->setup_error = true;
		return 1;
	}
	fd = open_target(job, res);
	if (fd < 0) {
		res->setup_error = true;
		return 1;
	}
	/* O_DIRECT wants the buffer aligned to the logical block size; a
	 * page covers every device's. */
	errno = posix_memalign((void **)&buf, 4096, job->bs);
	if (errno) {
		fprintf(job->log, "diskcheck: %zu-byte buffer: %s\n", job->bs, strerror(errno));
		res->setup_error = true;
		close(fd);
		return 1;
	}
	while (off < res->size) {
		size_t len = res->size - off < job->bs ? (size_t)(res->size - off) : job->bs;
		ssize_t n;

		if (job->write)
			dio_fill(job->seed, off, buf, len);
		do
			n = job->write ? pwrite(fd, buf, len, (off_t)off)
				       : pread(fd, buf, len, (off_t)off);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			log_errno(job, what, off, len, errno);
			res->io_errors++;
			break;
		}
		if ((size_t)n != len) {
			fprintf(job->log,
				"diskcheck: %s: short %s at offset %" PRIu64 ": %zd of %zu bytes "
				"(no errno: the device or file ended early)\n",
				job->path, what, off, n, len);
			res->io_errors++;
			break;
		}
		if (!job->write)
			check(job, res, buf, off, len, base);
		off += len;
		res->bytes = off;
	}
	/* O_DIRECT bypasses the page cache, not the device's write cache */
	if (job->write && res->io_errors == 0 && fsync(fd) < 0) {
		log_errno(job, "fsync", 0, (size_t)res->size, errno);
		res->io_errors++;
	}
	if (close(fd) < 0 && res->io_errors == 0) {
		log_errno(job, "close", 0, 0, errno);
		res->io_errors++;
	}
	free(buf);
	res->seconds = now() - t0;
	return res->io_errors || res->bad_sectors ? 1 : 0;
}
