/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A handoff stream read back (vhost/keel_state.h), incrementally: every
 * section checked (crc32c, structure, COMPAT against this keel's guest,
 * MEMORY chunks inside guest RAM, ROUNDs in order), MEMORY chunks written
 * into guest RAM if asked to, keel's sections gathered into a stream of
 * their own for STATE_SET. Sections may come in any order: a pre-copy
 * stream sends RAM in rounds before keel's part. A later chunk of a page
 * replaces an earlier one; a page no chunk holds stays zero (the guest was
 * dropped first).
 */
#ifndef KEELCTL_LOAD_H
#define KEELCTL_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/handoff_stream.h"
#include "vhost/keelctl/keelctl.h"
#include "vhost/keelctl/progress.h"

#define LOAD_MSG_MAX 384
#define LOAD_DEC_MSG_MAX 320	/* the decoder's, then ", at byte N" */

struct load {
	struct keelctl *k;
	bool apply;		/* write MEMORY chunks into guest RAM */
	struct hs_decoder dec;
	uint8_t *buf;		/* the decoder's payloads */
	char dec_msg[LOAD_DEC_MSG_MAX];
	char msg[LOAD_MSG_MAX];	/* why the stream was refused */
	struct hs_membuf part;	/* keel's sections as a stream */
	struct hs_encoder part_enc;
	uint8_t *covered;	/* a bit per page of guest RAM that came */
	uint32_t round;		/* the next ROUND's number */
	uint64_t round_pages;	/* pages since the last ROUND */
	uint64_t bytes;		/* of the stream, fed so far */
	struct progress progress;	/* of the pages that came */
};

/*
 * Sets up @l for the guest k opened (its RAM mapped); @apply writes RAM.
 * Progress lines start with @what. 0 or -1 (l->msg: out of memory).
 * load_free() must follow either way; a zeroed @l may be freed too.
 */
int load_init(struct load *l, struct keelctl *k, bool apply, const char *what);

/* The next @len bytes of the stream: 0, or -1 with the reason in l->msg. */
int load_feed(struct load *l, const void *buf, size_t len);

/* The stream has ended: 0 if it was whole, else -1 and l->msg. Then
 * l->part holds keel's part as a stream of its own. */
int load_finish(struct load *l);

/*
 * Feeds @fd (@from names it in messages) up to its end, or with @to_end
 * up to the stream's END (a connection on which the sender waits for an
 * answer; what came after END is refused), then load_finish().
 */
int load_fd(struct load *l, int fd, const char *from, bool to_end);

void load_free(struct load *l);

#endif
