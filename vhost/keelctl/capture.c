// SPDX-License-Identifier: GPL-2.0
/* The stopped guest written as a handoff stream. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/keelctl/capture.h"
#include "vhost/keelctl/progress.h"
#include "vhost/keelctl/sections.h"

#define CAPTURE_MSG_MAX 256

struct capture {
	struct keelctl *k;
	int fd;
	const char *to;
	struct hs_encoder enc;
	int write_errno; /* of the write that failed */
};

static int capture_sink(void *ctx, const void *buf, size_t len)
{
	struct capture *c = ctx;

	errno = 0;
	if (!c->k->ops->write(c->k->ctx, c->fd, buf, len))
		return 0;
	c->write_errno = errno ? errno : EIO;
	return -1;
}

static int capture_write_failed(const struct capture *c)
{
	keeld_logf(&c->k->err, "write %s: %s", c->to, strerror(c->write_errno));
	return -1;
}

/* one of keel's sections, checked by the decoder: into the stream */
static int capture_part_section(void *ctx, const struct hs_section *sec,
				char *why, size_t whylen)
{
	struct capture *c = ctx;

	if (!hs_encode_section(&c->enc, sec->type, sec->payload, sec->len))
		return 0;
	snprintf(why, whylen, "not written");
	return -1;
}

static int capture_part(struct capture *c, const void *state, uint32_t len)
{
	char msg[CAPTURE_MSG_MAX];
	struct hs_decoder_config cfg = {
		.rules = section_rules,
		.nrules = SECTION_PART_RULES,
		.buflen = KEEL_STATE_MAX,
		.on_section = capture_part_section,
		.ctx = c,
		.err = msg,
		.errlen = sizeof(msg),
	};
	int rc;

	cfg.buf = malloc(cfg.buflen);
	if (!cfg.buf) {
		keeld_logf(&c->k->err, "keel's state: out of memory");
		return -1;
	}
	rc = hs_decode_buffer(&cfg, state, len, NULL);
	free(cfg.buf);
	if (c->enc.error)
		return capture_write_failed(c);
	if (rc)
		keeld_logf(&c->k->err, "keel's state (%u bytes): %s", len, msg);
	return rc ? -1 : 0;
}

static bool page_zero(const uint8_t *page)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t any = 0;

	for (size_t i = 0; i < SECTION_PAGE / sizeof(*w); i++)
		any |= w[i];
	return !any;
}

/* the run of pages from @gpa (at most a chunk's) that are all zero, or
 * none of them */
static uint64_t page_run(const uint8_t *ram, uint64_t gpa, uint64_t end,
			 bool zero)
{
	uint64_t len = 0;

	while (gpa + len < end &&
	       len < KEEL_STATE_MEMORY_MAX_PAGES * (uint64_t)SECTION_PAGE &&
	       page_zero(ram + gpa + len) == zero)
		len += SECTION_PAGE;
	return len;
}

/*
 * Guest RAM [@gpa, @end) as MEMORY chunks, all-zero pages left out: the
 * guest that loads the stream was dropped first, and keel zeroes a
 * dropped guest's RAM.
 */
static int capture_range(struct capture *c, struct progress *p, uint64_t gpa,
			 uint64_t end)
{
	while (gpa < end) {
		uint64_t zeros = page_run(c->k->ram, gpa, end, true);
		uint64_t len;

		progress_add(p, zeros);
		gpa += zeros;
		len = page_run(c->k->ram, gpa, end, false);
		if (!len)
			continue;
		struct keel_state_memory m = {
			.gpa = gpa,
			.pages = (uint32_t)(len / SECTION_PAGE),
		};
		const struct hs_iovec iov[] = {
			{ &m, sizeof(m) },
			{ c->k->ram + gpa, len },
		};

		if (hs_encode_sectionv(&c->enc, KEEL_STATE_MEMORY, iov, 2))
			return capture_write_failed(c);
		progress_add(p, len);
		gpa += len;
	}
	return 0;
}

int capture_write(struct keelctl *k, int fd, const char *to, const char *what,
		  const void *state, uint32_t len, struct capture_result *r)
{
	struct capture c = { .k = k, .fd = fd, .to = to };
	struct progress p;

	if (hs_encoder_init(&c.enc, capture_sink, &c))
		return capture_write_failed(&c);
	if (capture_part(&c, state, len))
		return -1;
	progress_start(&p, k, what, k->ram_size);
	if (capture_range(&c, &p, 0, k->ram_size))
		return -1;
	if (hs_encode_end(&c.enc))
		return capture_write_failed(&c);
	r->bytes = c.enc.offset;
	r->ram_bytes = k->ram_size;
	return 0;
}
