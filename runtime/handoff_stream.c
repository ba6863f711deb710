// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"

enum hs_state {
	HS_ST_HEADER, /* gathering the stream header */
	HS_ST_SECTION, /* gathering a section header */
	HS_ST_PAYLOAD, /* gathering a payload */
	HS_ST_DONE, /* END seen */
	HS_ST_REFUSED = -1,
};

/* take_header gathers both kinds of header in the same buffer */
_Static_assert(HS_HEADER_LEN == HS_SECTION_HEADER_LEN, "header sizes");

static const char *const hs_errors[HS_E_COUNT] = {
	[HS_OK] = "no error",
	[HS_E_MAGIC] = "not a keel handoff stream (bad magic)",
	[HS_E_VERSION] = "unsupported stream version",
	[HS_E_HEADER_CRC] = "stream header crc32c mismatch",
	[HS_E_HEADER_LEN] = "bad stream header length",
	[HS_E_HEADER_FLAGS] = "non-zero stream header flags",
	[HS_E_SECTION_CRC] = "section header crc32c mismatch",
	[HS_E_SECTION_FLAGS] = "non-zero section flags",
	[HS_E_UNKNOWN_TYPE] = "unknown section type",
	[HS_E_LENGTH] = "section length out of range",
	[HS_E_REPEATED] = "section repeated",
	[HS_E_PAYLOAD_CRC] = "payload crc32c mismatch",
	[HS_E_REJECTED] = "section rejected",
	[HS_E_MISSING] = "required section missing",
	[HS_E_TRAILING] = "bytes after the END section",
	[HS_E_TRUNCATED] = "stream ends before the END section",
	[HS_E_RULES] = "bad section rules",
	[HS_E_SINK] = "write failed",
};

const char *hs_strerror(int err)
{
	if (err < 0 || err >= HS_E_COUNT)
		return "unknown error";
	return hs_errors[err];
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* Both headers end with the crc32c of their first 20 bytes. */
static uint32_t header_crc(const uint8_t *hdr)
{
	return crc32c_update(0, hdr, 20);
}

/* Encoder */

static int sink(struct hs_encoder *enc, const void *buf, size_t len)
{
	if (enc->error)
		return enc->error;
	if (len && enc->write(enc->ctx, buf, len)) {
		enc->error = HS_E_SINK;
		return enc->error;
	}
	enc->offset += len;
	return 0;
}

int hs_encoder_init(struct hs_encoder *enc,
		    int (*write)(void *ctx, const void *buf, size_t len),
		    void *ctx)
{
	uint8_t hdr[HS_HEADER_LEN];

	*enc = (struct hs_encoder){ .write = write, .ctx = ctx };
	memcpy(hdr, HS_MAGIC, 8);
	put32(hdr + 8, HS_VERSION);
	put32(hdr + 12, HS_HEADER_LEN);
	put32(hdr + 16, 0);
	put32(hdr + 20, header_crc(hdr));
	return sink(enc, hdr, sizeof(hdr));
}

static int encode(struct hs_encoder *enc, uint32_t type,
		  const struct hs_iovec *iov, size_t iovcnt)
{
	uint8_t hdr[HS_SECTION_HEADER_LEN];
	uint64_t len = 0;
	uint32_t crc = 0;
	int err;

	for (size_t i = 0; i < iovcnt; i++) {
		crc = crc32c_update(crc, iov[i].base, iov[i].len);
		len += iov[i].len;
	}
	put32(hdr, type);
	put32(hdr + 4, 0);
	put64(hdr + 8, len);
	put32(hdr + 16, crc);
	put32(hdr + 20, header_crc(hdr));
	err = sink(enc, hdr, sizeof(hdr));
	for (size_t i = 0; i < iovcnt && !err; i++)
		err = sink(enc, iov[i].base, iov[i].len);
	return err;
}

int hs_encode_sectionv(struct hs_encoder *enc, uint32_t type,
		       const struct hs_iovec *iov, size_t iovcnt)
{
	if (type == HS_TYPE_END)
		return HS_E_UNKNOWN_TYPE;
	return encode(enc, type, iov, iovcnt);
}

int hs_encode_section(struct hs_encoder *enc, uint32_t type,
		      const void *payload, size_t len)
{
	struct hs_iovec iov = { .base = payload, .len = len };

	return hs_encode_sectionv(enc, type, &iov, 1);
}

int hs_encode_end(struct hs_encoder *enc)
{
	return encode(enc, HS_TYPE_END, NULL, 0);
}

int hs_membuf_write(void *ctx, const void *buf, size_t len)
{
	struct hs_membuf *m = ctx;

	if (len > m->cap - m->len)
		return -1;
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return 0;
}

/* Decoder */

static const struct hs_section_rule end_rule = {
	.type = HS_TYPE_END, .min_len = 0, .max_len = 0, .required = true
};

/*
 * Records the first refusal and returns it. A macro, since keel's libc has
 * snprintf but no vsnprintf; NULL/0 for err makes snprintf write nothing.
 * No %zu: keel's newlib is built without C99 formats.
 */
#define refuse(dec, code, off, ...)                                       \
	((dec)->error_offset = (off), (dec)->state = HS_ST_REFUSED,       \
	 snprintf((dec)->cfg.err, (dec)->cfg.err ? (dec)->cfg.errlen : 0, \
		  __VA_ARGS__),                                           \
	 (dec)->error = (code))

/* The rule for @type: NULL if none, @end_rule for END. */
static const struct hs_section_rule *find_rule(const struct hs_decoder *dec,
					       uint32_t type)
{
	if (type == HS_TYPE_END)
		return &end_rule;
	for (size_t i = 0; i < dec->cfg.nrules; i++) {
		if (dec->cfg.rules[i].type == type)
			return &dec->cfg.rules[i];
	}
	return NULL;
}

static int check_rules(struct hs_decoder *dec)
{
	const struct hs_decoder_config *c = &dec->cfg;

	if (c->nrules > HS_MAX_RULES)
		return refuse(dec, HS_E_RULES, 0,
			      "%llu section rules, at most %u",
			      (unsigned long long)c->nrules, HS_MAX_RULES);
	for (unsigned int i = 0; i < c->nrules; i++) {
		const struct hs_section_rule *r = &c->rules[i];

		if (r->type == HS_TYPE_END)
			return refuse(dec, HS_E_RULES, 0,
				      "rule %u: type 0x%x is END's", i,
				      r->type);
		if (find_rule(dec, r->type) != r)
			return refuse(dec, HS_E_RULES, 0,
				      "rule %u: type %u has a rule already", i,
				      r->type);
		if (r->min_len > r->max_len)
			return refuse(dec, HS_E_RULES, 0,
				      "rule %u (type %u): min_len %llu above "
				      "max_len %llu",
				      i, r->type,
				      (unsigned long long)r->min_len,
				      (unsigned long long)r->max_len);
		if (r->max_len > c->buflen)
			return refuse(dec, HS_E_RULES, 0,
				      "rule %u (type %u): max_len %llu above "
				      "the %llu-byte buffer",
				      i, r->type,
				      (unsigned long long)r->max_len,
				      (unsigned long long)c->buflen);
	}
	return 0;
}

int hs_decoder_init(struct hs_decoder *dec, const struct hs_decoder_config *cfg)
{
	*dec = (struct hs_decoder){ .cfg = *cfg, .state = HS_ST_HEADER };
	return check_rules(dec);
}

static int parse_stream_header(struct hs_decoder *dec)
{
	const uint8_t *h = dec->hdr;
	uint32_t crc = header_crc(h);

	if (memcmp(h, HS_MAGIC, 8))
		return refuse(dec, HS_E_MAGIC, 0,
			      "stream header: no \"" HS_MAGIC "\" magic");
	/* before the crc32c: a newer stream's header may be laid out anew */
	if (get32(h + 8) != HS_VERSION)
		return refuse(dec, HS_E_VERSION, 8,
			      "stream header: version %u, expected %u",
			      get32(h + 8), HS_VERSION);
	if (get32(h + 20) != crc)
		return refuse(dec, HS_E_HEADER_CRC, 20,
			      "stream header: crc32c 0x%08x, expected 0x%08x",
			      crc, get32(h + 20));
	if (get32(h + 12) != HS_HEADER_LEN)
		return refuse(dec, HS_E_HEADER_LEN, 12,
			      "stream header: header_len %u, expected %u",
			      get32(h + 12), HS_HEADER_LEN);
	if (get32(h + 16))
		return refuse(dec, HS_E_HEADER_FLAGS, 16,
			      "stream header: flags 0x%x, expected 0",
			      get32(h + 16));
	dec->state = HS_ST_SECTION;
	return 0;
}

static int check_required(struct hs_decoder *dec)
{
	for (size_t i = 0; i < dec->cfg.nrules; i++) {
		const struct hs_section_rule *r = &dec->cfg.rules[i];

		if (r->required && !(dec->seen >> i & 1))
			return refuse(dec, HS_E_MISSING, dec->sec_offset,
				      "section %llu (END): no section of "
				      "required type %u",
				      (unsigned long long)dec->index, r->type);
	}
	dec->state = HS_ST_DONE;
	return 0;
}

/* The current section is complete: check its payload and hand it over. */
static int end_section(struct hs_decoder *dec)
{
	struct hs_section sec = {
		.type = dec->type,
		.index = dec->index,
		.offset = dec->sec_offset,
		.payload = dec->cfg.buf,
		.len = (size_t)dec->len,
	};

	if (dec->crc != dec->want_crc)
		return refuse(dec, HS_E_PAYLOAD_CRC,
			      dec->sec_offset + HS_SECTION_HEADER_LEN,
			      "section %llu (type %u): payload crc32c 0x%08x, "
			      "expected 0x%08x",
			      (unsigned long long)dec->index, dec->type,
			      dec->crc, dec->want_crc);
	if (dec->type == HS_TYPE_END)
		return check_required(dec);
	dec->why[0] = '\0';
	if (dec->cfg.on_section &&
	    dec->cfg.on_section(dec->cfg.ctx, &sec, dec->why,
				sizeof(dec->why))) {
		dec->why[sizeof(dec->why) - 1] = '\0';
		return refuse(dec, HS_E_REJECTED, dec->sec_offset,
			      "section %llu (type %u): rejected: %s",
			      (unsigned long long)dec->index, dec->type,
			      dec->why);
	}
	dec->index++;
	dec->state = HS_ST_SECTION;
	return 0;
}

static int parse_section_header(struct hs_decoder *dec)
{
	const uint8_t *h = dec->hdr;
	const struct hs_section_rule *r;
	unsigned long long idx = dec->index;
	uint32_t crc = header_crc(h);

	dec->sec_offset = dec->offset - HS_SECTION_HEADER_LEN;
	if (get32(h + 20) != crc)
		return refuse(
			dec, HS_E_SECTION_CRC, dec->sec_offset + 20,
			"section %llu: header crc32c 0x%08x, expected 0x%08x",
			idx, crc, get32(h + 20));
	dec->type = get32(h);
	dec->len = get64(h + 8);
	if (get32(h + 4))
		return refuse(dec, HS_E_SECTION_FLAGS, dec->sec_offset + 4,
			      "section %llu (type %u): flags 0x%x, expected 0",
			      idx, dec->type, get32(h + 4));
	r = find_rule(dec, dec->type);
	if (!r)
		return refuse(dec, HS_E_UNKNOWN_TYPE, dec->sec_offset,
			      "section %llu: unknown type %u", idx, dec->type);
	if (dec->len < r->min_len || dec->len > r->max_len)
		return refuse(dec, HS_E_LENGTH, dec->sec_offset + 8,
			      "section %llu (type %u): length %llu outside "
			      "[%llu, %llu]",
			      idx, dec->type, (unsigned long long)dec->len,
			      (unsigned long long)r->min_len,
			      (unsigned long long)r->max_len);
	if (r != &end_rule) {
		size_t bit = (size_t)(r - dec->cfg.rules);

		if (!r->repeatable && (dec->seen >> bit & 1))
			return refuse(dec, HS_E_REPEATED, dec->sec_offset,
				      "section %llu (type %u): a second one, "
				      "the type may appear once",
				      idx, dec->type);
		dec->seen |= 1ull << bit;
	}
	dec->want_crc = get32(h + 16);
	dec->crc = 0;
	dec->fill = 0;
	dec->state = HS_ST_PAYLOAD;
	return dec->len ? 0 : end_section(dec);
}

/* Gathers header bytes; parses the header once it is whole. */
static size_t take_header(struct hs_decoder *dec, const uint8_t *p, size_t len)
{
	size_t want = HS_SECTION_HEADER_LEN - dec->hdr_fill;
	size_t n = len < want ? len : want;

	memcpy(dec->hdr + dec->hdr_fill, p, n);
	dec->hdr_fill += n;
	dec->offset += n;
	if (dec->hdr_fill == HS_SECTION_HEADER_LEN) {
		dec->hdr_fill = 0;
		if (dec->state == HS_ST_HEADER)
			parse_stream_header(dec);
		else
			parse_section_header(dec);
	}
	return n;
}

static size_t take_payload(struct hs_decoder *dec, const uint8_t *p, size_t len)
{
	uint64_t want = dec->len - dec->fill;
	size_t n = len < want ? len : (size_t)want;

	memcpy(dec->cfg.buf + dec->fill, p, n);
	dec->crc = crc32c_update(dec->crc, p, n);
	dec->fill += n;
	dec->offset += n;
	if (dec->fill == dec->len)
		end_section(dec);
	return n;
}

int hs_decoder_feed(struct hs_decoder *dec, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len && !dec->error) {
		size_t n;

		if (dec->state == HS_ST_DONE)
			return refuse(dec, HS_E_TRAILING, dec->offset,
				      "data after the END section");
		if (dec->state == HS_ST_PAYLOAD)
			n = take_payload(dec, p, len);
		else
			n = take_header(dec, p, len);
		p += n;
		len -= n;
	}
	return dec->error;
}

bool hs_decoder_done(const struct hs_decoder *dec)
{
	return dec->state == HS_ST_DONE;
}

int hs_decoder_finish(struct hs_decoder *dec)
{
	unsigned long long idx = dec->index, off = dec->offset;

	switch (dec->state) {
	case HS_ST_HEADER:
		return refuse(
			dec, HS_E_TRUNCATED, off,
			"stream ends at byte %llu, inside the stream header",
			off);
	case HS_ST_SECTION:
		if (dec->hdr_fill)
			return refuse(dec, HS_E_TRUNCATED, off,
				      "stream ends at byte %llu, inside "
				      "section %llu's header",
				      off, idx);
		return refuse(dec, HS_E_TRUNCATED, off,
			      "stream ends at byte %llu, before section %llu "
			      "(no END)",
			      off, idx);
	case HS_ST_PAYLOAD:
		return refuse(dec, HS_E_TRUNCATED, off,
			      "stream ends at byte %llu, inside section %llu "
			      "(type %u): %llu of %llu payload bytes",
			      off, idx, dec->type,
			      (unsigned long long)dec->fill,
			      (unsigned long long)dec->len);
	default:
		return dec->error;
	}
}

int hs_decode_buffer(const struct hs_decoder_config *cfg, const void *buf,
		     size_t len, uint64_t *offset)
{
	struct hs_decoder dec;

	if (!hs_decoder_init(&dec, cfg) && !hs_decoder_feed(&dec, buf, len))
		hs_decoder_finish(&dec);
	if (offset)
		*offset = dec.error ? dec.error_offset : len;
	return dec.error;
}
