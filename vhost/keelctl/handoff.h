/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Both ends of a handoff: the source's (save, migrate) and the target's
 * (restore, receive) steps on keel's guest.
 */
#ifndef KEELCTL_HANDOFF_H
#define KEELCTL_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/keelctl/capture.h"
#include "vhost/keelctl/keelctl.h"

/* what a handoff moved */
struct handoff_report {
	uint64_t bytes;		/* of the stream */
	uint64_t ram_bytes;
	uint64_t state_bytes;	/* keel's part */
	uint64_t start_ns;	/* when the command began */
	uint64_t paused_ns;	/* when the source paused the guest */
	uint32_t rounds;	/* pre-copy's live rounds */
};

/*
 * The source, its guest running: paused (PAUSE, r->paused_ns), its device
 * stopped for the handoff (HANDOFF_STOP and keeld's answer). 0, or -1: the
 * guest goes on (a failed PAUSE left it running, after a failed stop
 * handoff_go_on()).
 */
int handoff_pause(struct keelctl *k, struct handoff_report *r);

/*
 * The paused and stopped guest into @c (its header written, and
 * pre-copy's rounds): keel's part (STATE_GET), RAM (capture_ram(): all of
 * it with @dirty NULL, else @dirty's pages), END. On failure the guest goes on
 * (handoff_go_on()) and -1 is returned; on success it stays paused and
 * stopped. Sets r's bytes, ram_bytes and state_bytes.
 */
int handoff_capture(struct keelctl *k, struct capture *c, const uint64_t *dirty,
		    struct handoff_report *r);

/* Stop-and-copy: the running guest paused and stopped, then all of it
 * into @c (handoff_pause(), handoff_capture()). */
int handoff_send(struct keelctl *k, struct capture *c, struct handoff_report *r);

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
