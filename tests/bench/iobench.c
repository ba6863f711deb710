// SPDX-License-Identifier: GPL-2.0
/*
 * iobench: 4 KiB random reads or writes at a fixed queue depth on a block
 * device, with O_DIRECT and Linux native AIO (raw system calls: the
 * partitions' initramfs has no libaio). The same program runs in the guest
 * (on its virtio-scsi disk) and in the companion (on a loopback LUN of the
 * same LIO backstore), so that make bench can compare the two.
 *
 *   iobench DEV read|write QD COUNT [SEED]
 *
 * DEV may also be a regular file on a file system that takes O_DIRECT.
 *
 * Prints one line:
 *   iobench: DEV read qd 32: 4000 I/Os in 1.234 s: 3241 IOPS, 9.87 ms mean
 * and exits 1 on any error (with its errno and offset).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define QD_MAX 256

static uint64_t rng_state;

static uint64_t next_random(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "iobench: %s: %s (errno %d)\n", what, strerror(err),
		err);
	return 1;
}

struct run {
	int fd;
	aio_context_t ctx;
	bool write;
	uint64_t blocks; /* device size in BLOCK units */
	struct iocb iocb[QD_MAX];
	unsigned char *buf;
	double start[QD_MAX];
	double latency; /* summed */
};

static int submit(struct run *r, unsigned int slot)
{
	struct iocb *cb = &r->iocb[slot];
	struct iocb *list[1] = { cb };

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = slot;
	cb->aio_fildes = (uint32_t)r->fd;
	cb->aio_lio_opcode = r->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_buf = (uint64_t)(uintptr_t)(r->buf + (size_t)slot * BLOCK);
	cb->aio_nbytes = BLOCK;
	cb->aio_offset = (int64_t)((next_random() % r->blocks) * BLOCK);
	r->start[slot] = now();
	if (syscall(SYS_io_submit, r->ctx, 1, list) != 1)
		return fail("io_submit", errno);
	return 0;
}

static int run_all(struct run *r, unsigned int qd, uint64_t count)
{
	struct io_event ev[QD_MAX];
	uint64_t submitted = 0, done = 0;

	for (unsigned int s = 0; s < qd && submitted < count; s++, submitted++)
		if (submit(r, s))
			return 1;
	while (done < count) {
		long n = syscall(SYS_io_getevents, r->ctx, 1, QD_MAX, ev, NULL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fail("io_getevents", errno);
		}
		for (long i = 0; i < n; i++) {
			unsigned int slot = (unsigned int)ev[i].data;

			if (ev[i].res != BLOCK) {
				char what[80];

				snprintf(what, sizeof(what), "%s at %" PRId64,
					 r->write ? "write" : "read",
					 (int64_t)r->iocb[slot].aio_offset);
				return fail(what, ev[i].res < 0 ?
							  (int)-ev[i].res :
							  EIO);
			}
			r->latency += now() - r->start[slot];
			done++;
			if (submitted < count) {
				submitted++;
				if (submit(r, slot))
					return 1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { .ctx = 0 };
	unsigned long qd;
	unsigned long long count, size;
	struct stat st;
	double t0, t;

	if (argc < 5 || argc > 6 ||
	    (strcmp(argv[2], "read") && strcmp(argv[2], "write"))) {
		fprintf(stderr, "usage: iobench DEV read|write QD COUNT [SEED]\n"
				"  4 KiB random I/O, O_DIRECT, Linux AIO at "
				"queue depth QD (1..%d)\n", QD_MAX);
		return 2;
	}
	qd = strtoul(argv[3], NULL, 0);
	count = strtoull(argv[4], NULL, 0);
	rng_state = argc == 6 ? strtoull(argv[5], NULL, 0) : 1;
	if (qd < 1 || qd > QD_MAX || count < 1)
		return fail("queue depth or count out of range", EINVAL);
	r.write = !strcmp(argv[2], "write");
	r.fd = open(argv[1], (r.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (r.fd < 0)
		return fail(argv[1], errno);
	if (fstat(r.fd, &st))
		return fail("fstat", errno);
	if (S_ISREG(st.st_mode))
		size = (unsigned long long)st.st_size;
	else if (ioctl(r.fd, BLKGETSIZE64, &size))
		return fail("BLKGETSIZE64", errno);
	r.blocks = size / BLOCK;
	if (!r.blocks)
		return fail("device smaller than one block", EINVAL);
	if (posix_memalign((void **)&r.buf, BLOCK, qd * BLOCK))
		return fail("posix_memalign", ENOMEM);
	memset(r.buf, 0xA5, qd * BLOCK);
	if (syscall(SYS_io_setup, qd, &r.ctx))
		return fail("io_setup", errno);
	t0 = now();
	if (run_all(&r, (unsigned int)qd, count))
		return 1;
	t = now() - t0;
	printf("iobench: %s %s qd %lu: %llu I/Os in %.3f s: %.0f IOPS, "
	       "%.3f ms mean latency\n",
	       argv[1], argv[2], qd, count, t, (double)count / t,
	       r.latency / (double)count * 1e3);
	syscall(SYS_io_destroy, r.ctx);
	close(r.fd);
	return 0;
}
