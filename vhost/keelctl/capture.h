/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest written as a handoff stream (vhost/keel_state.h) to a file or a
 * connection, piece by piece: the stream header, keel's part as STATE_GET
 * wrote it, guest RAM as MEMORY chunks (all of it, or the pages of a dirty
 * bitmap), the ROUNDs of pre-copy, END. save and stop-and-copy write the
 * header, keel's part, all of RAM and END; pre-copy writes rounds of RAM
 * before keel's part and the last dirty pages.
 *
 * Each function returns 0 or -1 after logging why on k->err.
 */
#ifndef KEELCTL_CAPTURE_H
#define KEELCTL_CAPTURE_H

#include <stdint.h>

#include "runtime/handoff_stream.h"
#include "vhost/keelctl/keelctl.h"

struct capture {
	struct keelctl *k;
	int fd;
	const char *to;		/* names fd in messages */
	const char *what;	/* starts progress lines */
	struct hs_encoder enc;	/* enc.offset: the bytes written */
	int write_errno;	/* of the write that failed */
	/* NULL: RAM is written from the guest's mapping (it is paused);
	 * else each chunk is copied here first (a chunk's pages), so that
	 * its crc32c and its bytes agree while the guest runs */
	uint8_t *copy;
	uint64_t round_pages;	/* pages written since the last ROUND */
};

/* Sets up @c for @fd and writes the stream header. */
int capture_begin(struct capture *c, struct keelctl *k, int fd, const char *to,
		  const char *what);

/* keel's part @state (@len bytes), decoded, so checked, and copied section
 * by section. */
int capture_part(struct capture *c, const void *state, uint32_t len);

/*
 * Guest RAM as MEMORY chunks of up to KEEL_STATE_MEMORY_MAX_PAGES pages in
 * address order: with @dirty NULL all of it, all-zero pages left out (the
 * guest that loads the stream was dropped, and keel zeroed its RAM), with
 * progress lines; else every page whose bit @dirty has, zero or not.
 */
int capture_ram(struct capture *c, const uint64_t *dirty);

/* ROUND @round: the end of a pre-copy round, with the pages since the
 * last. */
int capture_round(struct capture *c, uint32_t round);

/* END: the stream is whole. */
int capture_end(struct capture *c);

#endif
