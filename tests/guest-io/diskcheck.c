// SPDX-License-Identifier: GPL-2.0
/*
 * diskcheck: writes a pseudo-random pattern over a disk and proves it back.
 * Static; runs in the guest partition's busybox initramfs (guest.sh) and on
 * the build host (tests/system/qemu-guest-io.sh). See README.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diskio.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: diskcheck write  DEV SEED BS [SIZE]\n"
		"       diskcheck verify DEV SEED BS [SIZE]\n"
		"       diskcheck journal DEV SEED SECONDS [STOPFILE]\n"
		"       diskcheck --help\n"
		"\n"
		"write   writes seed SEED's pattern over DEV (a block device or a regular\n"
		"        file) in BS-byte I/Os with O_DIRECT, then fsyncs.\n"
		"verify  reads DEV back in BS-byte I/Os with O_DIRECT and compares; prints\n"
		"        the first wrong byte's offset and where its sector came from.\n"
		"journal writes 4 KiB blocks at seeded random places of DEV with O_DIRECT,\n"
		"        one at a time, for SECONDS of running time (a write that takes\n"
		"        longer than 1 s, the guest paused, counts as 1 s) or until\n"
		"        STOPFILE exists; each block a header (magic, block, sequence,\n"
		"        seed, a hash of the rest) and a payload of (SEED, block,\n"
		"        sequence). Then it reads back every block it wrote: one that\n"
		"        holds an older write or none is lost, one whose hash, payload,\n"
		"        block or sequence is wrong is corrupt.\n"
		"\n"
		"The pattern is a pure function of (SEED, byte offset): any BS verifies\n"
		"what any other wrote. Every 512-byte sector starts with its own offset\n"
		"and the seed, then 496 splitmix64 bytes.\n"
		"SEED: a 64-bit number (decimal or 0x hex). BS: a multiple of 512 up to\n"
		"64M. SIZE: bytes from offset 0 (a multiple of 512; default: the whole\n"
		"device or file; a write creates or extends a regular file to SIZE).\n"
		"BS and SIZE take a K, M or G suffix (powers of 1024).\n"
		"A regular file on a file system that refuses O_DIRECT (tmpfs) is read\n"
		"and written through the page cache, with a note.\n"
		"\n"
		"Output lines start with \"diskcheck:\"; the last one is the verdict:\n"
		"  diskcheck: verify DEV seed S bs B: N bytes, N bad sectors, N I/O errors, T s: PASS\n"
		"  diskcheck: journal DEV: N writes over B blocks in T s; verified: N lost, N corrupt, N I/O errors: PASS\n"
		"Exit status: 0 pass, 1 mismatch or I/O error (each printed with its\n"
		"errno and offset), 2 usage.\n");
}

/* number with an optional K/M/G suffix; false if malformed */
static bool parse_num(const char *s, uint64_t *out, bool suffix)
{
	char *end;
	uint64_t v;

	if (*s == '-' || *s == '\0')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	if (suffix && *end) {
		unsigned shift = 0;
		switch (*end) {
		case 'K': case 'k': shift = 10; break;
		case 'M': case 'm': shift = 20; break;
		case 'G': case 'g': shift = 30; break;
		default: return false;
		}
		if (v > UINT64_MAX >> shift)
			return false;
		v <<= shift;
		end++;
	}
	if (*end)
		return false;
	*out = v;
	return true;
}

static int journal(int argc, char **argv)
{
	struct dio_journal j = { .log = stdout };
	struct dio_journal_result res;
	uint64_t secs;
	int rc;

	if (argc < 5 || argc > 6) {
		usage(stderr);
		return 2;
	}
	j.path = argv[2];
	if (!parse_num(argv[3], &j.seed, false)) {
		fprintf(stderr, "diskcheck: bad SEED '%s'\n", argv[3]);
		return 2;
	}
	if (!parse_num(argv[4], &secs, false) || secs == 0 || secs > 1000000) {
		fprintf(stderr, "diskcheck: bad SECONDS '%s': 1 to 1000000\n", argv[4]);
		return 2;
	}
	j.seconds = (double)secs;
	if (argc == 6)
		j.stop_path = argv[5];
	setvbuf(stdout, NULL, _IOLBF, 0);

	rc = dio_journal_run(&j, &res);
	if (res.setup_error) {
		printf("diskcheck: journal %s: FAIL (setup)\n", j.path);
		return 1;
	}
	printf("diskcheck: journal %s seed %" PRIu64 ": %" PRIu64 " distinct blocks written, "
	       "running %.2f s, %" PRIu64 " writes over %.0f s, the longest %.2f s%s\n",
	       j.path, j.seed, res.written, res.running, res.stalls, DIO_JOURNAL_STALL,
	       res.longest, res.direct ? "" : " (buffered)");
	printf("diskcheck: journal %s: %" PRIu64 " writes over %" PRIu64 " blocks in %.2f s; "
	       "verified: %" PRIu64 " lost, %" PRIu64 " corrupt, %" PRIu64 " I/O errors: %s\n",
	       j.path, res.writes, res.blocks, res.seconds, res.lost, res.corrupt, res.io_errors,
	       rc ? "FAIL" : "PASS");
	return rc;
}

int main(int argc, char **argv)
{
	struct dio_job job = { .log = stdout };
	struct dio_result res;
	uint64_t bs;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "journal"))
		return journal(argc, argv);
	if (argc < 5 || argc > 6 || (strcmp(argv[1], "write") && strcmp(argv[1], "verify"))) {
		usage(stderr);
		return 2;
	}
	job.write = !strcmp(argv[1], "write");
	job.path = argv[2];
	if (!parse_num(argv[3], &job.seed, false)) {
		fprintf(stderr, "diskcheck: bad SEED '%s'\n", argv[3]);
		return 2;
	}
	if (!parse_num(argv[4], &bs, true) || bs == 0 || bs % DIO_SECTOR || bs > DIO_MAX_BS) {
		fprintf(stderr, "diskcheck: bad BS '%s': a multiple of %u up to 64M\n", argv[4],
			DIO_SECTOR);
		return 2;
	}
	job.bs = (size_t)bs;
	if (argc == 6 && (!parse_num(argv[5], &job.size, true) || job.size == 0 ||
			  job.size % DIO_SECTOR)) {
		fprintf(stderr, "diskcheck: bad SIZE '%s': a positive multiple of %u\n", argv[5],
			DIO_SECTOR);
		return 2;
	}
	/* lines go to a pipe or the console: keep them in order with stderr */
	setvbuf(stdout, NULL, _IOLBF, 0);

	rc = dio_run(&job, &res);
	printf("diskcheck: %s %s seed %" PRIu64 " bs %zu: %" PRIu64 " bytes", argv[1], job.path,
	       job.seed, job.bs, res.bytes);
	if (!job.write)
		printf(", %" PRIu64 " bad sectors", res.bad_sectors);
	printf(", %" PRIu64 " I/O errors, %.2f s", res.io_errors, res.seconds);
	if (res.seconds > 0 && res.bytes)
		printf(" (%.1f MiB/s)", res.bytes / res.seconds / (1 << 20));
	if (res.setup_error)
		printf(": FAIL (setup)\n");
	else if (rc == 0)
		printf(": PASS\n");
	else if (res.io_errors)
		printf(": FAIL (I/O error after %" PRIu64 " of %" PRIu64 " bytes)\n", res.bytes,
		       res.size);
	else
		printf(": FAIL (bad sectors from offset %" PRIu64 " to %" PRIu64 ")\n",
		       res.first_bad / DIO_SECTOR * DIO_SECTOR, res.last_bad_sector);
	return rc;
}
