/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pre-copy: the guest's RAM sent in rounds while it runs, each round the
 * pages it wrote during the one before (KEEL_HC_DIRTY_LOG), so that it
 * stands still only for the pages of the last.
 */
#ifndef KEELCTL_PRECOPY_H
#define KEELCTL_PRECOPY_H

#include "vhost/keelctl/capture.h"
#include "vhost/keelctl/handoff.h"
#include "vhost/keelctl/keelctl.h"

/*
 * The running guest into @c, whose header is written: live rounds, each
 * DIRTY_LOG, MEMORY chunks and a ROUND (round 0: all of RAM but its zero
 * pages; then the pages dirty, zero or not), until a round sends fewer
 * than k->precopy_pages pages, no fewer than the round before, or is the
 * k->precopy_rounds'th; then the guest paused and stopped
 * (handoff_pause()), DIRTY_LOG once more, and handoff_capture() of those
 * pages. Where keel tracks no dirty pages, one progress line says so and
 * stop-and-copy follows (handoff_send()). Returns 0 with the guest paused
 * and stopped, or -1 with it running: never paused when a live round
 * failed, else let go on (handoff_go_on()). Sets r->rounds and, on
 * success, what handoff_capture() sets.
 */
int precopy_send(struct keelctl *k, struct capture *c, struct handoff_report *r);

#endif
