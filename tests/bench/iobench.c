// SPDX-License-Identifier: GPL-2.0
/*
 * iobench: 4 KiB random reads or writes at a fixed queue depth on a block
 * device, with O_DIRECT and Linux native AIO (raw system calls: the
 * partitions' initramfs has no libaio). The same program runs in the guest
 * (on its virtio-scsi disk) and in the companion (on a loopback LUN of the
 * same LIO backstore), so that make bench can compare the two.
 *
 *   iobench DEV read|write QD COUNT [SEED]
 *   iobench --suite ROLE DEV
 *
 * DEV may also be a regular file on a file system that takes O_DIRECT.
 * Completions are reaped in batches and each batch is resubmitted with one
 * io_submit, as fio's iodepth_batch_complete does.
 * A run prints one line:
 *   iobench: DEV read qd 32: 4000 I/Os in 1.234 s: 3241 IOPS, 9.87 ms mean
 * and exits 1 on any error (with its errno and offset).
 *
 * --suite runs make bench's four runs (read and write, queue depth 1 and
 * 32) and writes to the kernel log, which reaches keel's console, where
 * keel stamps each line with its TSC and the partition's exit count:
 *   keel-payload: ROLE bench mark       twice: what one mark costs
 *   keel-payload: ROLE bench mark       before and after each run
 *   keel-payload: ROLE bench: iobench: ...  each run's result
 * so that the exits a run caused are the difference of its two marks less
 * the cost of one mark.
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

static void prepare(struct run *r, unsigned int slot)
{
	struct iocb *cb = &r->iocb[slot];

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = slot;
	cb->aio_fildes = (uint32_t)r->fd;
	cb->aio_lio_opcode = r->write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
	cb->aio_buf = (uint64_t)(uintptr_t)(r->buf + (size_t)slot * BLOCK);
	cb->aio_nbytes = BLOCK;
	cb->aio_offset = (int64_t)((next_random() % r->blocks) * BLOCK);
	r->start[slot] = now();
}

/* One io_submit for the whole batch, as the block layer then plugs it:
 * the device sees them together. */
static int submit(struct run *r, struct iocb **list, long n)
{
	long done = 0;

	while (done < n) {
		long k = syscall(SYS_io_submit, r->ctx, n - done, list + done);

		if (k <= 0)
			return fail("io_submit", k < 0 ? errno : EAGAIN);
		done += k;
	}
	return 0;
}

/* Keeps @qd requests in flight; each reaped batch is resubmitted at once. */
static int run_all(struct run *r, unsigned int qd, uint64_t count)
{
	struct io_event ev[QD_MAX];
	struct iocb *list[QD_MAX];
	uint64_t submitted = 0, done = 0;
	long n = 0;

	for (unsigned int s = 0; s < qd && submitted < count; s++, submitted++) {
		prepare(r, s);
		list[n++] = &r->iocb[s];
	}
	if (submit(r, list, n))
		return 1;
	while (done < count) {
		long got = syscall(SYS_io_getevents, r->ctx, 1, QD_MAX, ev, NULL);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return fail("io_getevents", errno);
		}
		n = 0;
		for (long i = 0; i < got; i++) {
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
				prepare(r, slot);
				list[n++] = &r->iocb[slot];
			}
		}
		if (n && submit(r, list, n))
			return 1;
	}
	return 0;
}

/* One run; its result line goes to @out. */
static int bench(const char *dev, bool write, unsigned long qd,
		 unsigned long long count, char *out, size_t outlen)
{
	struct run r = { .ctx = 0, .write = write };
	unsigned long long size;
	struct stat st;
	double t0, t;

	if (qd < 1 || qd > QD_MAX || count < 1)
		return fail("queue depth or count out of range", EINVAL);
	r.fd = open(dev, (r.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (r.fd < 0)
		return fail(dev, errno);
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
	snprintf(out, outlen,
		 "iobench: %s %s qd %lu: %llu I/Os in %.3f s: %.0f IOPS, "
		 "%.3f ms mean latency",
		 dev, write ? "write" : "read", qd, count, t, (double)count / t,
		 r.latency / (double)count * 1e3);
	syscall(SYS_io_destroy, r.ctx);
	close(r.fd);
	free(r.buf);
	return 0;
}

static int kmsg(int fd, const char *role, const char *line)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "keel-payload: %s bench%s%s\n",
			 role, *line ? ": " : " mark", line);

	if (write(fd, buf, (size_t)n) != n)
		return fail("write /dev/kmsg", errno);
	return 0;
}

static int suite(const char *role, const char *dev)
{
	static const struct {
		bool write;
		unsigned long qd;
		unsigned long long count;
	} runs[] = {
		{ false, 1, 2000 },
		{ true, 1, 2000 },
		{ false, 32, 4000 },
		{ true, 32, 4000 },
	};
	char out[256];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return fail("/dev/kmsg", errno);
	if (kmsg(fd, role, "") || kmsg(fd, role, ""))
		return 1;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		rng_state = i + 1;
		if (kmsg(fd, role, "") ||
		    bench(dev, runs[i].write, runs[i].qd, runs[i].count, out,
			  sizeof(out)) ||
		    kmsg(fd, role, "") || kmsg(fd, role, out))
			return 1;
		puts(out);
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	char out[256];

	if (argc == 4 && !strcmp(argv[1], "--suite"))
		return suite(argv[2], argv[3]);
	if (argc < 5 || argc > 6 ||
	    (strcmp(argv[2], "read") && strcmp(argv[2], "write"))) {
		fprintf(stderr,
			"usage: iobench DEV read|write QD COUNT [SEED]\n"
			"       iobench --suite ROLE DEV\n"
			"  4 KiB random I/O, O_DIRECT, Linux AIO at queue depth "
			"QD (1..%d);\n  --suite: make bench's four runs, marked "
			"in the kernel log\n",
			QD_MAX);
		return 2;
	}
	rng_state = argc == 6 ? strtoull(argv[5], NULL, 0) : 1;
	if (bench(argv[1], !strcmp(argv[2], "write"), strtoul(argv[3], NULL, 0),
		  strtoull(argv[4], NULL, 0), out, sizeof(out)))
		return 1;
	puts(out);
	return 0;
}
