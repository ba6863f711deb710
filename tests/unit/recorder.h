/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a test's fakes were asked to do, as lines: each fake records its
 * call ("ACK 1"; failed() appends " !errno"), the test lists the calls it
 * wants, and assert_wanted() compares both. The fds the fakes hand out are
 * tracked, so that a test can check nothing stays open. Include once per
 * test program, after <cmocka.h>.
 */
#ifndef KEEL_TESTS_RECORDER_H
#define KEEL_TESTS_RECORDER_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define REC_LINES 160
#define REC_LINE_LEN 256
#define REC_FDS 64

struct recorder {
	char calls[REC_LINES][REC_LINE_LEN];
	int ncalls;
	char want[REC_LINES][REC_LINE_LEN];
	int nwant;
	bool open_fds[REC_FDS];
};

static struct recorder rec;

static void rec_add(char lines[][REC_LINE_LEN], int *n, const char *fmt,
		    va_list ap)
{
	assert_true(*n < REC_LINES);
	vsnprintf(lines[(*n)++], REC_LINE_LEN, fmt, ap);
}

static __attribute__((format(printf, 1, 2))) void record(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_add(rec.calls, &rec.ncalls, fmt, ap);
	va_end(ap);
}

static __attribute__((format(printf, 1, 2))) void want(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_add(rec.want, &rec.nwant, fmt, ap);
	va_end(ap);
}

/* the call recorded last fails with @err: " !err" on its line, -1 */
static int failed(int err)
{
	char *last = rec.calls[rec.ncalls - 1];

	snprintf(last + strlen(last), 16, " !%d", err);
	errno = err;
	return -1;
}

/* the calls so far are exactly the ones wanted; both are forgotten */
static void assert_wanted(void)
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

static void fd_opened(int fd)
{
	assert_true(fd >= 0 && fd < REC_FDS);
	assert_false(rec.open_fds[fd]);
	rec.open_fds[fd] = true;
}

/* a fake's close() */
static int fd_closed(void *ctx, int fd)
{
	(void)ctx;
	assert_true(fd >= 0 && fd < REC_FDS);
	assert_true(rec.open_fds[fd]);
	rec.open_fds[fd] = false;
	return 0;
}

static void assert_fds_closed(void)
{
	for (int fd = 0; fd < REC_FDS; fd++)
		if (rec.open_fds[fd])
			fail_msg("fd %d left open", fd);
}

#endif
