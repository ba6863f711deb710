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

/* Opens job->path with @accmode (O_RDONLY, O_WRONLY, O_RDWR) and sets
 * res->size and res->direct; -1 (logged) on failure. */
static int open_mode(const struct dio_job *job, int accmode, struct dio_result *res)
{
	int flags = accmode | O_CLOEXEC;
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

/* Opens job->path for its pass; see open_mode(). */
static int open_target(const struct dio_job *job, struct dio_result *res)
{
	return open_mode(job, job->write ? O_WRONLY : O_RDONLY, res);
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

/* ---- the journal ---- */

#define JOURNAL_TAG 0x6e72756f6a2d6b63ull
#define SEQ_GAMMA 0xd1b54a32d192ed03ull

/* the payload stream of write @seq at @block */
static uint64_t journal_base(uint64_t seed, uint64_t block, uint64_t seq)
{
	return mix(mix(seed ^ JOURNAL_TAG) + block * GAMMA + seq * SEQ_GAMMA);
}

/* the hash over an entry: its header but the hash word, and its payload */
static uint64_t journal_hash(const unsigned char *buf)
{
	uint64_t h = JOURNAL_TAG;

	for (unsigned w = 0; w < DIO_JOURNAL_BLOCK; w += 8)
		if (w != 32)
			h = mix(h ^ get64(buf + w)) + GAMMA;
	return h;
}

void dio_journal_fill(uint64_t seed, uint64_t block, uint64_t seq, void *buf)
{
	unsigned char *p = buf;
	uint64_t base = journal_base(seed, block, seq);

	put64(p, DIO_JOURNAL_MAGIC);
	put64(p + 8, block);
	put64(p + 16, seq);
	put64(p + 24, seed);
	for (unsigned w = DIO_JOURNAL_HEADER; w < DIO_JOURNAL_BLOCK; w += 8)
		put64(p + w, body(base, w / 8));
	put64(p + 32, journal_hash(p));
}

uint64_t dio_journal_pick(uint64_t seed, uint64_t seq, uint64_t blocks)
{
	return mix(seed + seq * GAMMA) % blocks;
}

enum dio_journal_verdict dio_journal_check(const void *buf, uint64_t seed, uint64_t block,
					   uint64_t last, uint64_t *seq)
{
	const unsigned char *p = buf;
	uint64_t base;

	*seq = 0;
	/* no entry (zeros, what was there before the journal): the last
	 * write never landed */
	if (get64(p) != DIO_JOURNAL_MAGIC)
		return DIO_JOURNAL_LOST;
	*seq = get64(p + 16);
	if (get64(p + 32) != journal_hash(p) || get64(p + 8) != block)
		return DIO_JOURNAL_CORRUPT;
	/* another journal's entry, whole: this one's never landed */
	if (get64(p + 24) != seed)
		return *seq = 0, DIO_JOURNAL_LOST;
	if (*seq > last || *seq == 0)
		return DIO_JOURNAL_CORRUPT;
	base = journal_base(seed, block, *seq);
	for (unsigned w = DIO_JOURNAL_HEADER; w < DIO_JOURNAL_BLOCK; w += 8)
		if (get64(p + w) != body(base, w / 8))
			return DIO_JOURNAL_CORRUPT;
	return *seq == last ? DIO_JOURNAL_RIGHT : DIO_JOURNAL_LOST;
}

static double journal_now(const struct dio_journal *j)
{
	return j->clock ? j->clock(j->clock_arg) : now();
}

static bool journal_stopped(const struct dio_journal *j)
{
	return j->stop_path && access(j->stop_path, F_OK) == 0;
}

/* one DIO_JOURNAL_BLOCK transfer at @block; false (logged) on an error */
static bool journal_io(const struct dio_journal *j, int fd, bool write, unsigned char *buf,
		       uint64_t block)
{
	const char *what = write ? "write" : "read";
	off_t off = (off_t)(block * DIO_JOURNAL_BLOCK);
	ssize_t n;

	do
		n = write ? pwrite(fd, buf, DIO_JOURNAL_BLOCK, off)
			  : pread(fd, buf, DIO_JOURNAL_BLOCK, off);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)DIO_JOURNAL_BLOCK)
		return true;
	if (n < 0)
		fprintf(j->log,
			"diskcheck: %s: journal %s of block %" PRIu64 " at offset %" PRIu64
			": %s (errno %d)\n",
			j->path, what, block, (uint64_t)off, strerror(errno), errno);
	else
		fprintf(j->log,
			"diskcheck: %s: short journal %s of block %" PRIu64 ": %zd of %u bytes\n",
			j->path, what, block, n, DIO_JOURNAL_BLOCK);
	return false;
}

/* The writes, until the running time is up: last[] gets each block's last
 * sequence (UINT64_MAX: its write failed, it may hold either). */
static void journal_write(const struct dio_journal *j, int fd, unsigned char *buf,
			  uint64_t *last, struct dio_journal_result *res)
{
	double t0 = journal_now(j), prev = t0;

	while (res->running < j->seconds && (!j->max_writes || res->writes < j->max_writes) &&
	       !journal_stopped(j)) {
		uint64_t seq = res->writes + 1;
		uint64_t block = dio_journal_pick(j->seed, seq, res->blocks);
		double t, dt;

		dio_journal_fill(j->seed, block, seq, buf);
		if (!journal_io(j, fd, true, buf, block)) {
			res->io_errors++;
			if (!last[block])
				res->written++;
			last[block] = UINT64_MAX;
			break;
		}
		res->writes = seq;
		if (!last[block])
			res->written++;
		last[block] = seq;
		t = journal_now(j);
		dt = t - prev;
		prev = t;
		if (dt > res->longest)
			res->longest = dt;
		if (dt > DIO_JOURNAL_STALL) {
			if (res->stalls < DIO_JOURNAL_REPORT)
				fprintf(j->log,
					"diskcheck: %s: journal write %" PRIu64 " (block %" PRIu64
					") took %.2f s, counted as %.2f s\n",
					j->path, seq, block, dt, DIO_JOURNAL_STALL);
			res->stalls++;
			dt = DIO_JOURNAL_STALL;
		}
		if (dt > 0)
			res->running += dt;
		if (j->after_write)
			j->after_write(j->after_write_arg, seq);
	}
	res->seconds = prev - t0;
	/* O_DIRECT bypasses the page cache, not the device's write cache */
	if (res->io_errors == 0 && fdatasync(fd) < 0) {
		fprintf(j->log, "diskcheck: %s: journal fdatasync: %s (errno %d)\n", j->path,
			strerror(errno), errno);
		res->io_errors++;
	}
}

static void journal_report(const struct dio_journal *j, uint64_t block,
			   enum dio_journal_verdict v, uint64_t seq, uint64_t last,
			   const unsigned char *buf)
{
	uint64_t named;

	if (v == DIO_JOURNAL_LOST && seq)
		fprintf(j->log,
			"diskcheck: %s: block %" PRIu64 " lost: holds write %" PRIu64
			", the last written there was %" PRIu64 "\n",
			j->path, block, seq, last);
	else if (v == DIO_JOURNAL_LOST)
		fprintf(j->log,
			"diskcheck: %s: block %" PRIu64
			" lost: holds no entry of this journal, the last written there was %" PRIu64 "\n",
			j->path, block, last);
	else if ((named = get64(buf + 8)) != block && get64(buf + 32) == journal_hash(buf))
		fprintf(j->log,
			"diskcheck: %s: block %" PRIu64 " corrupt: holds block %" PRIu64
			"'s write %" PRIu64 "\n",
			j->path, block, named, seq);
	else
		fprintf(j->log,
			"diskcheck: %s: block %" PRIu64 " corrupt: an entry (write %" PRIu64
			") that fails its hash or payload, or was never written there; the last written there was %" PRIu64 "\n",
			j->path, block, seq, last);
}

/* Every block written, read back and classified. */
static void journal_verify(const struct dio_journal *j, int fd, unsigned char *buf,
			   const uint64_t *last, struct dio_journal_result *res)
{
	uint64_t reported = 0;

	for (uint64_t b = 0; b < res->blocks; b++) {
		enum dio_journal_verdict v;
		uint64_t seq;

		if (!last[b] || last[b] == UINT64_MAX)
			continue;
		if (!journal_io(j, fd, false, buf, b)) {
			res->io_errors++;
			break;
		}
		v = dio_journal_check(buf, j->seed, b, last[b], &seq);
		if (v == DIO_JOURNAL_RIGHT)
			continue;
		if (v == DIO_JOURNAL_LOST)
			res->lost++;
		else
			res->corrupt++;
		if (reported++ < DIO_JOURNAL_REPORT)
			journal_report(j, b, v, seq, last[b], buf);
	}
}

int dio_journal_run(const struct dio_journal *j, struct dio_journal_result *res)
{
	struct dio_job job = { .path = j->path, .size = j->size, .log = j->log };
	struct dio_result open_res;
	unsigned char *buf = NULL;
	uint64_t *last = NULL;
	int fd;

	memset(res, 0, sizeof(*res));
	fd = open_mode(&job, O_RDWR, &open_res);
	if (fd < 0) {
		res->setup_error = true;
		return 1;
	}
	res->direct = open_res.direct;
	res->blocks = open_res.size / DIO_JOURNAL_BLOCK;
	if (res->blocks == 0) {
		fprintf(j->log, "diskcheck: %s: %" PRIu64 " bytes hold no %u-byte block\n", j->path,
			open_res.size, DIO_JOURNAL_BLOCK);
		goto fail;
	}
	last = calloc(res->blocks, sizeof(*last));
	errno = posix_memalign((void **)&buf, 4096, DIO_JOURNAL_BLOCK);
	if (errno || !last) {
		fprintf(j->log, "diskcheck: %s: journal of %" PRIu64 " blocks: out of memory\n",
			j->path, res->blocks);
		goto fail;
	}
	journal_write(j, fd, buf, last, res);
	journal_verify(j, fd, buf, last, res);
	if (close(fd) < 0 && res->io_errors == 0) {
		fprintf(j->log, "diskcheck: %s: close: %s (errno %d)\n", j->path, strerror(errno),
			errno);
		res->io_errors++;
	}
	free(buf);
	free(last);
	return res->io_errors || res->lost || res->corrupt ? 1 : 0;
fail:
	res->setup_error = true;
	close(fd);
	free(buf);
	free(last);
	return 1;
}
