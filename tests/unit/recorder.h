/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a test's fakes were asked to do, as lines: each fake records its
 * call ("ACK 1"; failed() appends " !errno"), the test lists the calls it
 * wants, and assert_wanted() compares both; rec_log_line() keeps what the
 * code under test logs. The fds the fakes hand out are tracked, and so is
 * the one mapping of guest RAM, so that a test can check nothing stays
 * open. record_vhost() words a fake /dev/vhost-scsi's ioctls. Include once
 * per test program, after <cmocka.h>; the functions are inline, as a
 * program uses only some of them.
 */
#ifndef KEEL_TESTS_RECORDER_H
#define KEEL_TESTS_RECORDER_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <linux/vhost.h>

#define REC_LINES 160
#define REC_LINE_LEN 256
#define REC_FDS 64

struct recorder {
	char calls[REC_LINES][REC_LINE_LEN];
	int ncalls;
	char want[REC_LINES][REC_LINE_LEN];
	int nwant;
	char log[REC_LINES][REC_LINE_LEN];
	int nlog;
	bool open_fds[REC_FDS];
	void *mapped; /* what a fake map() handed out, NULL: nothing */
	uint64_t mapped_size;
};

static struct recorder rec;

static inline void rec_add(char lines[][REC_LINE_LEN], int *n, const char *fmt,
			   va_list ap)
{
	assert_true(*n < REC_LINES);
	vsnprintf(lines[(*n)++], REC_LINE_LEN, fmt, ap);
}

__attribute__((format(printf, 1, 2)))
static inline void record(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_add(rec.calls, &rec.ncalls, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 1, 2)))
static inline void want(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_add(rec.want, &rec.nwant, fmt, ap);
	va_end(ap);
}

/* the call recorded last fails with @err: " !err" on its line, -1 */
static inline int failed(int err)
{
	char *last = rec.calls[rec.ncalls - 1];

	snprintf(last + strlen(last), 16, " !%d", err);
	errno = err;
	return -1;
}

/* a log's sink */
static inline void rec_log_line(void *arg, const char *line)
{
	(void)arg;
	assert_true(rec.nlog < REC_LINES);
	snprintf(rec.log[rec.nlog++], REC_LINE_LEN, "%s", line);
}

/* the calls, the calls wanted and the lines logged so far are forgotten */
static inline void forget_history(void)
{
	rec.ncalls = 0;
	rec.nwant = 0;
	rec.nlog = 0;
}

/* the calls so far are exactly the ones wanted; both are forgotten */
static inline void assert_wanted(void)
{
	for (int i = 0; i < rec.ncalls && i < rec.nwant; i++)
		if (strcmp(rec.calls[i], rec.want[i]))
			fail_msg("call %d: \"%s\", wanted \"%s\"", i,
				 rec.calls[i], rec.want[i]);
	if (rec.ncalls != rec.nwant)
		fail_msg("%d calls, wanted %d (next: \"%s\")", rec.ncalls,
			 rec.nwant,
			 rec.ncalls > rec.nwant ? rec.calls[rec.nwant] :
						  rec.want[rec.ncalls]);
	rec.ncalls = 0;
	rec.nwant = 0;
}

static inline void fd_opened(int fd)
{
	assert_true(fd >= 0 && fd < REC_FDS);
	assert_false(rec.open_fds[fd]);
	rec.open_fds[fd] = true;
}

/* a fake's close() */
static inline int fd_closed(void *ctx, int fd)
{
	(void)ctx;
	assert_true(fd >= 0 && fd < REC_FDS);
	assert_true(rec.open_fds[fd]);
	rec.open_fds[fd] = false;
	return 0;
}

static inline void assert_fds_closed(void)
{
	for (int fd = 0; fd < REC_FDS; fd++)
		if (rec.open_fds[fd])
			fail_msg("fd %d left open", fd);
}

/* a fake's map() hands out @addr, @size bytes: one mapping at a time */
static inline void *ram_mapped(void *addr, uint64_t size)
{
	assert_null(rec.mapped);
	rec.mapped = addr;
	rec.mapped_size = size;
	return addr;
}

/* a fake's unmap(): what ram_mapped() handed out, as long as it was */
static inline void ram_unmapped(void *ctx, void *addr, uint64_t size)
{
	(void)ctx;
	assert_non_null(rec.mapped);
	assert_ptr_equal(addr, rec.mapped);
	assert_int_equal(size, rec.mapped_size);
	rec.mapped = NULL;
}

/*
 * A fake /dev/vhost-scsi's record of ioctl @req ("NUM 0 128", "KICK 0 10",
 * "SET_EP naa.5001405abcdef001"), its user addresses as offsets from @base.
 * It answers none of the GETs.
 */
static inline void record_vhost(unsigned long req, const void *arg, __u64 base)
{
	const struct vhost_vring_state *st = arg;
	const struct vhost_vring_file *f = arg;
	const struct vhost_vring_addr *a = arg;
	const struct vhost_memory *m = arg;
	const struct vhost_scsi_target *t = arg;

	switch (req) {
	case VHOST_SET_OWNER:
		record("OWNER");
		break;
	case VHOST_GET_FEATURES:
		record("GET_FEATURES");
		break;
	case VHOST_SET_FEATURES:
		record("FEATURES %#llx", *(const __u64 *)arg);
		break;
	case VHOST_SET_MEM_TABLE:
		record("MEM %u", m->nregions);
		break;
	case VHOST_SET_VRING_NUM:
		record("NUM %u %u", st->index, st->num);
		break;
	case VHOST_SET_VRING_BASE:
		record("BASE %u %u", st->index, st->num);
		break;
	case VHOST_GET_VRING_BASE:
		record("GET_BASE %u", st->index);
		break;
	case VHOST_SET_VRING_ADDR:
		record("ADDR %u %#llx %#llx %#llx", a->index,
		       a->desc_user_addr - base, a->avail_user_addr - base,
		       a->used_user_addr - base);
		break;
	case VHOST_SET_VRING_KICK:
		record("KICK %u %d", f->index, f->fd);
		break;
	case VHOST_SET_VRING_CALL:
		record("CALL %u %d", f->index, f->fd);
		break;
	case VHOST_SET_VRING_ERR:
		record("ERR %u %d", f->index, f->fd);
		break;
	case VHOST_SCSI_SET_ENDPOINT:
		record("SET_EP %s", t->vhost_wwpn);
		break;
	case VHOST_SCSI_CLEAR_ENDPOINT:
		record("CLEAR_EP %s", t->vhost_wwpn);
		break;
	case VHOST_SCSI_GET_ABI_VERSION:
		record("ABI");
		break;
	default:
		fail_msg("unexpected vhost ioctl %#lx", req);
	}
}

#endif
