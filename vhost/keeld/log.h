/* SPDX-License-Identifier: GPL-2.0 */
/* Where keeld's cores report: one line per call, without a newline. */
#ifndef KEELD_LOG_H
#define KEELD_LOG_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#define KEELD_LOG_LINE_MAX 8448	/* two paths and some words */

struct keeld_log {
	void (*line)(void *arg, const char *line);	/* NULL: drop */
	void *arg;
};

/*
 * Formats one line for @log. errno survives the call, so a failing step can
 * be reported and its errno still returned and left for the caller.
 */
static inline __attribute__((format(printf, 2, 3)))
void keeld_logf(const struct keeld_log *log, const char *fmt, ...)
{
	char buf[KEELD_LOG_LINE_MAX];
	int saved = errno;
	va_list ap;

	if (!log->line)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log->line(log->arg, buf);
	errno = saved;
}

#endif
