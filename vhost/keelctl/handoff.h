/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Both ends of a handoff: the source's (save, migrate) and the target's
 * (restore, receive) steps on keel's guest.
 */
#ifndef KEELCTL_HANDOFF_H
#define KEELCTL_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/keelctl/keelctl.h"

/* what a handoff moved */
struct handoff_report {
	uint64_t bytes;		/* of the stream */
	uint64_t ram_bytes;
	uint64_t state_bytes;	/* keel's part */
	uint64_t start_ns;	/* when the command began */
	uint64_t paused_ns;	/* when the source paused the guest */
};

/*
 * The source: the running guest paused (PAUSE), its device stopped for the
 * handoff (HANDOFF_STOP and keeld's answer), keel's part taken
 * (STATE_GET), the stream written to @fd (capture_write(): @to, @what).
 * On failure the guest goes on (handoff_go_on()) and -1 is returned; on
 * success it stays paused and stopped. Sets all of @r but start_ns.
 */
int handoff_send(struct keelctl *k, int fd, const char *to, const char *what,
		 struct handoff_report *r);

/* After a failure on the source, the guest goes on (guest_go_on()), and a
 * line says so, or that it stays paused. Returns -1. */
int handoff_go_on(struct keelctl *k);

/*
 * The target, before a stream is written into guest RAM: keel drops the
 * guest it holds. keel refuses while that guest runs or its disk is
 * served, so nothing running is overwritten. 0 or -1 (logged).
 */
int handoff_clear(struct keelctl *k);

/* Says that the guest stays paused, and how it goes on. */
void handoff_paused(struct keelctl *k);

/* "N bytes (M MiB RAM, K bytes state) in T s", T since r->start_ns */
void handoff_summary(const struct keelctl *k, const struct handoff_report *r,
		     char *buf, size_t len);

#endif
