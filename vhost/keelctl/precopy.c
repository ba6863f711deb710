// SPDX-License-Identifier: GPL-2.0
/* Pre-copy: the running guest's RAM in rounds, then the last pages. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "vhost/keelctl/guest.h"
#include "vhost/keelctl/precopy.h"
#include "vhost/keelctl/progress.h"
#include "vhost/keelctl/sections.h"

#define MIB (1024.0 * 1024.0)

struct precopy {
	struct keelctl *k;
	struct capture *c;
	uint64_t *dirty; /* the last DIRTY_LOG's bitmap */
	uint32_t round; /* the next live round */
};

/*
 * Live round p->round: the pages dirty since the last (all: keel's dirty
 * log says so for its first call only, and a failed migration may have
 * made that), the chunks, ROUND, a progress line. Returns the pages sent,
 * or < 0 after logging why; -EOPNOTSUPP (not logged) only from round 0's
 * DIRTY_LOG.
 */
static int64_t precopy_round(struct precopy *p)
{
	struct keelctl *k = p->k;
	uint64_t start = k->ops->now_ns(k->ctx);
	uint64_t bytes = p->c->enc.offset, pages;
	int n = guest_dirty_log(k, p->dirty, !p->round);

	if (n < 0)
		return p->round ? -1 : n;
	if (capture_ram(p->c, p->round ? p->dirty : NULL))
		return -1;
	pages = p->c->round_pages;
	if (capture_round(p->c, p->round))
		return -1;
	keeld_logf(&k->progress,
		   "round %u: %d pages dirty, %.1f MiB sent, %.2f s", p->round,
		   n, (p->c->enc.offset - bytes) / MIB,
		   progress_seconds(k->ops->now_ns(k->ctx) - start));
	return (int64_t)pages;
}

/* the live rounds, until pre-copy ends: 0, or as precopy_round() */
static int precopy_rounds(struct precopy *p, struct handoff_report *r)
{
	int64_t sent, last = INT64_MAX;

	for (;;) {
		sent = precopy_round(p);
		if (sent < 0)
			return (int)sent;
		r->rounds = ++p->round;
		if ((uint64_t)sent < p->k->precopy_pages || sent >= last ||
		    p->round >= p->k->precopy_rounds)
			return 0;
		last = sent;
	}
}

/* the guest paused and stopped, then the pages it wrote since the last
 * round with keel's part */
static int precopy_last(struct precopy *p, struct handoff_report *r)
{
	if (handoff_pause(p->k, r))
		return -1;
	if (guest_dirty_log(p->k, p->dirty, false) < 0)
		return handoff_go_on(p->k);
	return handoff_capture(p->k, p->c, p->dirty, r);
}

int precopy_send(struct keelctl *k, struct capture *c, struct handoff_report *r)
{
	struct precopy p = { .k = k, .c = c };
	int rc = -1;

	p.dirty = malloc(guest_bitmap_len(k));
	c->copy = malloc(KEEL_STATE_MEMORY_MAX_PAGES * (size_t)SECTION_PAGE);
	if (!p.dirty || !c->copy)
		keeld_logf(&k->err, "out of memory");
	else
		rc = precopy_rounds(&p, r);
	free(c->copy);
	c->copy = NULL;
	if (rc == -EOPNOTSUPP) {
		keeld_logf(&k->progress, "keel tracks no dirty pages (its "
					 "CPU's EPT keeps no dirty flags): "
					 "stop-and-copy");
		rc = handoff_send(k, c, r);
	} else if (rc) {
		keeld_logf(&k->err, "the guest goes on");
	} else {
		rc = precopy_last(&p, r);
	}
	free(p.dirty);
	return rc;
}
