/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What keeld and keelctl read from /dev/keel: a snapshot of keel's shared
 * window (vhost/keel_dev.h), checked before use and summed up for people.
 */
#ifndef KEELD_SNAPSHOT_H
#define KEELD_SNAPSHOT_H

#include "vhost/keel_abi.h"
#include "vhost/keeld/log.h"

/*
 * Checks what a read of /dev/keel returning @n put in @sh (@n < 0: the
 * read failed with errno): all of it, keel's channel in this ABI version;
 * terminates its strings. Returns 0 or -errno after logging why: -EIO for
 * a short read, -EPROTO for another magic or ABI version (@who, the
 * program, speaks KEEL_CHAN_ABI_VERSION).
 */
int snapshot_check(struct keel_chan_shared *sh, int n, const char *who,
		   const struct keeld_log *log);

/* Logs @sh: guest state, request, kicks, disk and queues, a few lines. */
void snapshot_status(const struct keel_chan_shared *sh,
		     const struct keeld_log *log);

#endif
