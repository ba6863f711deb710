// SPDX-License-Identifier: GPL-2.0
/* The source's and the target's steps of a handoff. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "vhost/keel_dev.h"
#include "vhost/keel_state.h"
#include "vhost/keelctl/capture.h"
#include "vhost/keelctl/guest.h"
#include "vhost/keelctl/handoff.h"
#include "vhost/keelctl/progress.h"

int handoff_go_on(struct keelctl *k)
{
	if (!guest_go_on(k))
		keeld_logf(&k->err, "the guest goes on");
	else
		handoff_paused(k);
	return -1;
}

int handoff_pause(struct keelctl *k, struct handoff_report *r)
{
	r->paused_ns = k->ops->now_ns(k->ctx);
	if (guest_ioctl(k, KEEL_IOC_PAUSE, NULL) < 0)
		return -1;
	return guest_handoff_stop(k) ? handoff_go_on(k) : 0;
}

int handoff_capture(struct keelctl *k, struct capture *c, const uint64_t *dirty,
		    struct handoff_report *r)
{
	uint8_t *state = malloc(KEEL_STATE_MAX);
	uint32_t len;
	int rc = -1;

	if (!state)
		keeld_logf(&k->err, "out of memory");
	else
		rc = guest_state_get(k, state, &len);
	if (!rc)
		rc = capture_part(c, state, len);
	if (!rc)
		rc = capture_ram(c, dirty);
	if (!rc)
		rc = capture_end(c);
	free(state);
	if (rc)
		return handoff_go_on(k);
	r->bytes = c->enc.offset;
	r->ram_bytes = k->ram_size;
	r->state_bytes = len;
	return 0;
}

int handoff_send(struct keelctl *k, struct capture *c, struct handoff_report *r)
{
	return handoff_pause(k, r) ? -1 : handoff_capture(k, c, NULL, r);
}

int handoff_clear(struct keelctl *k)
{
	if (guest_ioctl(k, KEEL_IOC_DROP, NULL) >= 0)
		return 0;
	keeld_logf(&k->err, "keel's guest must be dropped, or paused with its "
			    "disk stopped (by `keelctl save`)");
	return -1;
}

void handoff_paused(struct keelctl *k)
{
	keeld_logf(&k->err, "the guest stays paused: `keelctl resume` once "
			    "keeld serves its disk");
}

void handoff_summary(const struct keelctl *k, const struct handoff_report *r,
		     char *buf, size_t len)
{
	snprintf(buf, len,
		 "%llu bytes (%llu MiB RAM, %llu bytes state) in "
		 "%.2f s",
		 (unsigned long long)r->bytes,
		 (unsigned long long)r->ram_bytes >> 20,
		 (unsigned long long)r->state_bytes,
		 progress_seconds(k->ops->now_ns(k->ctx) - r->start_ns));
}
