// SPDX-License-Identifier: GPL-2.0
/* A handoff stream read back: checked, and applied to the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhost/keel_state.h"
#include "vhost/keelctl/load.h"
#include "vhost/keelctl/sections.h"

#define LOAD_READ_MAX (1u << 20)

/* the stream's COMPAT against what this keel shows its guest */
static int load_compat(struct load *l, const struct hs_section *sec, char *why,
		       size_t whylen)
{
	const struct keel_chan_shared *sh = &l->k->sh;
	struct keel_state_compat c;

	memcpy(&c, sec->payload, sizeof(c));
	if (c.memory_size != l->k->ram_size) {
		snprintf(why, whylen,
			 "the guest has %llu MiB of RAM, here %llu MiB",
			 (unsigned long long)c.memory_size >> 20,
			 (unsigned long long)l->k->ram_size >> 20);
		return -1;
	}
	if (c.disk_queues != sh->disk_queues ||
	    c.disk_queue_size != sh->disk_queue_size) {
		snprintf(why, whylen,
			 "the guest's disk has %u request queue(s) of %u, here "
			 "%u of %u",
			 c.disk_queues, c.disk_queue_size, sh->disk_queues,
			 sh->disk_queue_size);
		return -1;
	}
	if (strncmp(c.disk_wwpn, sh->disk_wwpn, sizeof(c.disk_wwpn))) {
		snprintf(why, whylen, "the guest's disk is %.40s, here %.40s",
			 c.disk_wwpn, sh->disk_wwpn);
		return -1;
	}
	return 0;
}

/* the pages of a chunk that no chunk before covered: their count */
static uint32_t load_cover(struct load *l, uint64_t page, uint32_t pages)
{
	uint32_t fresh = 0;

	for (uint64_t p = page; p < page + pages; p++) {
		if (l->covered[p / 8] & (1u << (p % 8)))
			continue;
		l->covered[p / 8] |= (uint8_t)(1u << (p % 8));
		fresh++;
	}
	return fresh;
}

static int load_memory(struct load *l, const struct hs_section *sec, char *why,
		       size_t whylen)
{
	struct keel_state_memory m;
	uint64_t len;

	memcpy(&m, sec->payload, sizeof(m));
	len = (uint64_t)m.pages * SECTION_PAGE;
	if (!m.pages || m.pages > KEEL_STATE_MEMORY_MAX_PAGES || m.reserved ||
	    sec->len != sizeof(m) + len) {
		snprintf(why, whylen,
			 "%u pages (reserved %u) in a %llu-byte chunk", m.pages,
			 m.reserved, (unsigned long long)sec->len);
		return -1;
	}
	if (m.gpa % SECTION_PAGE || m.gpa > l->k->ram_size ||
	    len > l->k->ram_size - m.gpa) {
		snprintf(why, whylen,
			 "pages 0x%llx-0x%llx outside guest RAM [0, 0x%llx)",
			 (unsigned long long)m.gpa,
			 (unsigned long long)(m.gpa + len),
			 (unsigned long long)l->k->ram_size);
		return -1;
	}
	l->round_pages += m.pages;
	if (l->apply)
		memcpy(l->k->ram + m.gpa, sec->payload + sizeof(m), len);
	/* of guest RAM: a page that comes again (pre-copy) is no progress */
	progress_add(&l->progress,
		     (uint64_t)load_cover(l, m.gpa / SECTION_PAGE, m.pages) *
			     SECTION_PAGE);
	return 0;
}

static int load_round(struct load *l, const struct hs_section *sec, char *why,
		      size_t whylen)
{
	struct keel_state_round r;

	memcpy(&r, sec->payload, sizeof(r));
	if (r.round != l->round || r.pages != l->round_pages || r.reserved) {
		snprintf(why, whylen,
			 "round %u of %llu pages, expected round %u of %llu",
			 r.round, (unsigned long long)r.pages, l->round,
			 (unsigned long long)l->round_pages);
		return -1;
	}
	l->round++;
	l->round_pages = 0;
	return 0;
}

/* a section whose crc32c values are right */
static int load_section(void *ctx, const struct hs_section *sec, char *why,
			size_t whylen)
{
	struct load *l = ctx;

	switch (sec->type) {
	case KEEL_STATE_MEMORY:
		return load_memory(l, sec, why, whylen);
	case KEEL_STATE_ROUND:
		return load_round(l, sec, why, whylen);
	case KEEL_STATE_COMPAT:
		if (load_compat(l, sec, why, whylen))
			return -1;
		break;
	}
	/* keel's: STATE_SET checks them */
	if (!hs_encode_section(&l->part_enc, sec->type, sec->payload, sec->len))
		return 0;
	snprintf(why, whylen, "keel's sections exceed %u bytes",
		 KEEL_STATE_MAX);
	return -1;
}

int load_init(struct load *l, struct keelctl *k, bool apply, const char *what)
{
	struct hs_decoder_config cfg = {
		.rules = section_rules,
		.nrules = SECTION_RULES,
		.buflen = SECTION_MEMORY_MAX,
		.on_section = load_section,
		.ctx = l,
		.err = l->dec_msg,
		.errlen = sizeof(l->dec_msg),
	};
	uint64_t pages = k->ram_size / SECTION_PAGE;

	*l = (struct load){ .k = k, .apply = apply };
	l->buf = cfg.buf = malloc(cfg.buflen);
	l->part.buf = malloc(KEEL_STATE_MAX);
	l->part.cap = KEEL_STATE_MAX;
	l->covered = calloc(1, pages / 8 + 1);
	if (!l->buf || !l->part.buf || !l->covered) {
		snprintf(l->msg, sizeof(l->msg), "out of memory");
		return -1;
	}
	hs_encoder_init(&l->part_enc, hs_membuf_write, &l->part);
	hs_decoder_init(&l->dec, &cfg);
	progress_start(&l->progress, k, what, k->ram_size);
	return 0;
}

static int load_refused(struct load *l)
{
	snprintf(l->msg, sizeof(l->msg), "%s, at byte %llu", l->dec_msg,
		 (unsigned long long)l->dec.error_offset);
	return -1;
}

int load_feed(struct load *l, const void *buf, size_t len)
{
	l->bytes += len;
	return hs_decoder_feed(&l->dec, buf, len) ? load_refused(l) : 0;
}

int load_finish(struct load *l)
{
	if (hs_decoder_finish(&l->dec))
		return load_refused(l);
	if (hs_encode_end(&l->part_enc)) {
		snprintf(l->msg, sizeof(l->msg),
			 "keel's sections exceed %u bytes", KEEL_STATE_MAX);
		return -1;
	}
	return 0;
}

int load_fd(struct load *l, int fd, const char *from, bool to_end)
{
	uint8_t *buf = malloc(LOAD_READ_MAX);
	ssize_t n = 1;
	int rc = 0;

	if (!buf) {
		snprintf(l->msg, sizeof(l->msg), "out of memory");
		return -1;
	}
	while (!rc && n && !(to_end && hs_decoder_done(&l->dec))) {
		errno = 0;
		n = l->k->ops->read(l->k->ctx, fd, buf, LOAD_READ_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(l->msg, sizeof(l->msg), "read %s: %s", from,
				 strerror(errno ? errno : EIO));
			rc = -1;
		} else if (n) {
			rc = load_feed(l, buf, (size_t)n);
		}
	}
	free(buf);
	return rc ? rc : load_finish(l);
}

void load_free(struct load *l)
{
	free(l->buf);
	free(l->part.buf);
	free(l->covered);
	l->buf = l->part.buf = l->covered = NULL;
}
