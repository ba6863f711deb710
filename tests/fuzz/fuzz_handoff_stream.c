// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the handoff stream decoder. An input is one control
 * byte, then the stream. The stream is decoded whole and split in two at a
 * point the control byte sets, once as it is and once with every crc32c
 * made right (so that mutations reach what the CRCs guard). Both ways must
 * agree on the result, its offset and message, and the sections seen; a
 * stream accepted must be exactly what the encoder writes for its
 * sections. Anything else traps.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"
#include "tests/fuzz/handoff_rules.h"

#define check(cond)                       \
	do {                              \
		if (!(cond))              \
			__builtin_trap(); \
	} while (0)

static uint8_t payload[HT_CHUNK_MAX + HT_CHUNK_HDR];

/* A sink that compares what is written with the input. */
struct compare {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool differs;
};

static int compare_write(void *ctx, const void *buf, size_t len)
{
	struct compare *c = ctx;

	if (len > c->len - c->pos || memcmp(c->data + c->pos, buf, len))
		c->differs = true;
	else
		c->pos += len;
	return 0;
}

/* One decode: what it saw, and the stream re-encoded from it. */
struct run {
	int result;
	uint64_t offset;
	char err[256];
	uint64_t sections;
	uint32_t digest; /* of every section's fields and payload */
	struct compare cmp;
	struct hs_encoder enc;
};

static int on_section(void *ctx, const struct hs_section *sec, char *why,
		      size_t whylen)
{
	struct run *r = ctx;
	const struct hs_section_rule *rule = NULL;

	for (size_t i = 0; i < HT_NRULES; i++) {
		if (handoff_rules[i].type == sec->type)
			rule = &handoff_rules[i];
	}
	check(rule && sec->len >= rule->min_len && sec->len <= rule->max_len);
	check(sec->index == r->sections);
	r->sections++;
	r->digest = crc32c_update(r->digest, &sec->type, sizeof(sec->type));
	r->digest = crc32c_update(r->digest, &sec->offset, sizeof(sec->offset));
	r->digest = crc32c_update(r->digest, sec->payload, sec->len);
	hs_encode_section(&r->enc, sec->type, sec->payload, sec->len);
	return handoff_check_section(NULL, sec, why, whylen);
}

static struct hs_decoder_config config(struct run *r)
{
	return (struct hs_decoder_config){
		.rules = handoff_rules,
		.nrules = HT_NRULES,
		.buf = payload,
		.buflen = sizeof(payload),
		.on_section = on_section,
		.ctx = r,
		.err = r->err,
		.errlen = sizeof(r->err),
	};
}

static void start(struct run *r, const uint8_t *s, size_t len)
{
	*r = (struct run){ .cmp = { .data = s, .len = len } };
	hs_encoder_init(&r->enc, compare_write, &r->cmp);
}

static void decode_whole(struct run *r, const uint8_t *s, size_t len)
{
	struct hs_decoder_config c = config(r);

	r->result = hs_decode_buffer(&c, s, len, &r->offset);
}

static void decode_split(struct run *r, const uint8_t *s, size_t len,
			 size_t split)
{
	struct hs_decoder_config c = config(r);
	struct hs_decoder dec;

	check(hs_decoder_init(&dec, &c) == 0);
	if (!hs_decoder_feed(&dec, s, split) &&
	    !hs_decoder_feed(&dec, s + split, len - split))
		hs_decoder_finish(&dec);
	r->result = dec.error;
	r->offset = dec.error ? dec.error_offset : len;
}

static void check_stream(const uint8_t *s, size_t len, size_t split)
{
	static struct run whole, parts;

	start(&whole, s, len);
	decode_whole(&whole, s, len);
	start(&parts, s, len);
	decode_split(&parts, s, len, split);

	check(whole.result == parts.result);
	check(whole.offset == parts.offset && whole.offset <= len);
	check(!strcmp(whole.err, parts.err));
	check(whole.sections == parts.sections);
	check(whole.digest == parts.digest);
	check(whole.result != HS_OK || whole.err[0] == '\0');
	if (whole.result == HS_OK) {
		hs_encode_end(&whole.enc);
		check(!whole.cmp.differs && whole.cmp.pos == len);
	}
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Rewrites every crc32c field of the stream @s to the right value. */
static void fix_crcs(uint8_t *s, size_t len)
{
	size_t off = HS_HEADER_LEN;

	if (len < HS_HEADER_LEN)
		return;
	put32(s + 20, crc32c_update(0, s, 20));
	while (len - off >= HS_SECTION_HEADER_LEN) {
		uint8_t *h = s + off;
		uint64_t plen = get32(h + 8) | (uint64_t)get32(h + 12) << 32;
		size_t avail = len - off - HS_SECTION_HEADER_LEN;

		if (plen <= avail)
			put32(h + 16, crc32c_update(0, h + 24, plen));
		put32(h + 20, crc32c_update(0, h, 20));
		if (plen > avail)
			return;
		off += HS_SECTION_HEADER_LEN + plen;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	size_t len, split;

	if (size == 0)
		return 0;
	len = size - 1;
	split = (size_t)((uint64_t)data[0] * len / 255);
	check_stream(data + 1, len, split);

	fixed = malloc(len ? len : 1);
	check(fixed);
	memcpy(fixed, data + 1, len);
	fix_crcs(fixed, len);
	check_stream(fixed, len, split);
	free(fixed);
	return 0;
}
