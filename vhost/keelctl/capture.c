// SPDX-License-Identifier: GPL-2.0
/* The guest written as a handoff stream. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/keelctl/capture.h"
#include "vhost/keelctl/progress.h"
#include "vhost/keelctl/sections.h"

#define CAPTURE_MSG_MAX 256

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

int capture_part(struct capture *c, const void *state, uint32_t len)
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

/* the stream takes the page at @gpa: its bit in @dirty, or with @dirty NULL
 * any byte not zero */
static bool page_taken(const struct capture *c, const uint64_t *dirty,
		       uint64_t gpa)
{
	uint64_t page = gpa / SECTION_PAGE;

	if (dirty)
		return dirty[page / 64] >> (page % 64) & 1;
	return !page_zero(c->k->ram + gpa);
}

/* the run of pages from @gpa (at most a chunk's) that the stream takes, or
 * that it leaves out */
static uint64_t page_run(const struct capture *c, const uint64_t *dirty,
			 uint64_t gpa, bool taken)
{
	uint64_t len = 0;

	while (gpa + len < c->k->ram_size &&
	       len < KEEL_STATE_MEMORY_MAX_PAGES * (uint64_t)SECTION_PAGE &&
	       page_taken(c, dirty, gpa + len) == taken)
		len += SECTION_PAGE;
	return len;
}

/* @len bytes of guest RAM from @gpa as one MEMORY chunk */
static int capture_chunk(struct capture *c, uint64_t gpa, uint64_t len)
{
	struct keel_state_memory m = {
		.gpa = gpa,
		.pages = (uint32_t)(len / SECTION_PAGE),
	};
	const void *pages = c->copy ? memcpy(c->copy, c->k->ram + gpa, len)
				    : c->k->ram + gpa;
	const struct hs_iovec iov[] = { { &m, sizeof(m) }, { pages, len } };

	if (hs_encode_sectionv(&c->enc, KEEL_STATE_MEMORY, iov, 2))
		return capture_write_failed(c);
	c->round_pages += m.pages;
	return 0;
}

int capture_ram(struct capture *c, const uint64_t *dirty)
{
	uint64_t gpa = 0, len;
	struct progress p;

	progress_start(&p, c->k, c->what, dirty ? 0 : c->k->ram_size);
	while (gpa < c->k->ram_size) {
		len = page_run(c, dirty, gpa, false);
		progress_add(&p, len);
		gpa += len;
		len = page_run(c, dirty, gpa, true);
		if (len && capture_chunk(c, gpa, len))
			return -1;
		progress_add(&p, len);
		gpa += len;
	}
	return 0;
}

int capture_begin(struct capture *c, struct keelctl *k, int fd, const char *to,
		  const char *what)
{
	*c = (struct capture){ .k = k, .fd = fd, .to = to, .what = what };
	if (hs_encoder_init(&c->enc, capture_sink, c))
		return capture_write_failed(c);
	return 0;
}

int capture_round(struct capture *c, uint32_t round)
{
	struct keel_state_round r = { .round = round, .pages = c->round_pages };

	if (hs_encode_section(&c->enc, KEEL_STATE_ROUND, &r, sizeof(r)))
		return capture_write_failed(c);
	c->round_pages = 0;
	return 0;
}

int capture_end(struct capture *c)
{
	return hs_encode_end(&c->enc) ? capture_write_failed(c) : 0;
}
