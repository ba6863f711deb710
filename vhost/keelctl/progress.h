/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Progress of a long transfer (guest RAM into or out of a stream): one line
 * on keelctl's progress log at every tenth, with the bytes so far and the
 * rate.
 */
#ifndef KEELCTL_PROGRESS_H
#define KEELCTL_PROGRESS_H

#include <stdint.h>

#include "vhost/keelctl/keelctl.h"

struct progress {
	const struct keelctl *k;
	const char *what;	/* "saving", "sending", ... */
	uint64_t total;		/* bytes */
	uint64_t done;
	uint64_t start_ns;
	unsigned int next;	/* the next tenth to report */
};

void progress_start(struct progress *p, const struct keelctl *k,
		    const char *what, uint64_t total);

/* @bytes more are done: logs "<what>: N of M MiB (P %), R MiB/s" when a
 * tenth is reached */
void progress_add(struct progress *p, uint64_t bytes);

/* @ns nanoseconds in seconds */
double progress_seconds(uint64_t ns);

#endif
