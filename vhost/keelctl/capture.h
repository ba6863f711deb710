/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The stopped guest as a handoff stream (vhost/keel_state.h): keel's part,
 * as STATE_GET wrote it, then all of guest RAM, written to a file or a
 * connection.
 */
#ifndef KEELCTL_CAPTURE_H
#define KEELCTL_CAPTURE_H

#include <stdint.h>

#include "vhost/keelctl/keelctl.h"

struct capture_result {
	uint64_t bytes;		/* the stream's length */
	uint64_t ram_bytes;
};

/*
 * Writes the stream to @fd (@to names it in messages): the stream header,
 * the sections of keel's part @state (@len bytes: decoded, so checked,
 * and copied section by section), guest RAM as MEMORY chunks of up to
 * KEEL_STATE_MEMORY_MAX_PAGES pages in address order, END. Progress lines
 * start with @what. Returns 0 or -1 after logging why.
 */
int capture_write(struct keelctl *k, int fd, const char *to, const char *what,
		  const void *state, uint32_t len, struct capture_result *r);

#endif
