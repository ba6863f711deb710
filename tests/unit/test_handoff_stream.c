// SPDX-License-Identifier: GPL-2.0
/* The handoff stream container and its CRC32C. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"

enum { T_INFO = 1, T_VCPU = 2, T_MEM = 3, T_OPT = 4 };

static const struct hs_section_rule rules[] = {
	{ .type = T_INFO, .min_len = 4, .max_len = 64, .required = true },
	{ .type = T_VCPU, .min_len = 8, .max_len = 8, .required = true },
	{ .type = T_MEM, .min_len = 0, .max_len = 256, .repeatable = true },
	{ .type = T_OPT, .min_len = 0, .max_len = 16 },
};

#define MAX_SECS 16

/* What on_section saw. */
struct rec {
	unsigned int n;
	struct hs_section sec[MAX_SECS];
	uint32_t crc[MAX_SECS]; /* of each payload */
	uint32_t reject_type; /* on_section refuses it; 0: none */
};

static int record(void *ctx, const struct hs_section *sec, char *why,
		  size_t whylen)
{
	struct rec *r = ctx;

	if (sec->type == r->reject_type) {
		snprintf(why, whylen, "chunk at 0x%x outside guest RAM",
			 sec->payload[0]);
		return -1;
	}
	assert_true(r->n < MAX_SECS);
	r->sec[r->n] = *sec;
	r->sec[r->n].payload = NULL;
	r->crc[r->n] = crc32c_update(0, sec->payload, sec->len);
	r->n++;
	return 0;
}

/* A decoder's configuration with the rules above, a 256-byte buffer,
 * recording into @r, messages into @err. */
static uint8_t payload_buf[256];
static char err[256];

static struct hs_decoder_config config(struct rec *r)
{
	return (struct hs_decoder_config){
		.rules = rules,
		.nrules = sizeof(rules) / sizeof(rules[0]),
		.buf = payload_buf,
		.buflen = sizeof(payload_buf),
		.on_section = record,
		.ctx = r,
		.err = err,
		.errlen = sizeof(err),
	};
}

/* The valid stream: its bytes, and where each section's header starts. */
static uint8_t stream[1024];
static size_t stream_len;
static uint64_t sec_off[8]; /* [6] is END's */

static const uint8_t info[] = "keel 0.1";
static const uint8_t vcpu[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static uint8_t mem[100];

static int build_stream(void **state)
{
	(void)state;
	struct hs_membuf m = { .buf = stream, .cap = sizeof(stream) };
	struct hs_iovec iov[3] = {
		{ .base = "abc", .len = 3 },
		{ .base = "", .len = 0 },
		{ .base = mem, .len = 40 },
	};
	struct hs_encoder enc;

	for (size_t i = 0; i < sizeof(mem); i++)
		mem[i] = (uint8_t)(i * 7);
	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	sec_off[0] = enc.offset;
	assert_int_equal(hs_encode_section(&enc, T_INFO, info, 8), 0);
	sec_off[1] = enc.offset;
	assert_int_equal(hs_encode_section(&enc, T_VCPU, vcpu, 8), 0);
	sec_off[2] = enc.offset;
	assert_int_equal(hs_encode_section(&enc, T_MEM, mem, sizeof(mem)), 0);
	sec_off[3] = enc.offset;
	assert_int_equal(hs_encode_section(&enc, T_MEM, NULL, 0), 0);
	sec_off[4] = enc.offset;
	assert_int_equal(hs_encode_section(&enc, T_OPT, mem, 16), 0);
	sec_off[5] = enc.offset;
	assert_int_equal(hs_encode_sectionv(&enc, T_MEM, iov, 3), 0);
	sec_off[6] = enc.offset;
	assert_int_equal(hs_encode_end(&enc), 0);
	assert_int_equal(enc.offset, m.len);
	stream_len = m.len;
	return 0;
}

static void check_recorded(const struct rec *r)
{
	static const uint32_t types[] = { T_INFO, T_VCPU, T_MEM,
					  T_MEM,  T_OPT,  T_MEM };
	static const size_t lens[] = { 8, 8, 100, 0, 16, 43 };
	uint32_t last = crc32c_update(crc32c_update(0, "abc", 3), mem, 40);

	assert_int_equal(r->n, 6);
	for (unsigned int i = 0; i < 6; i++) {
		assert_int_equal(r->sec[i].type, types[i]);
		assert_int_equal(r->sec[i].index, i);
		assert_int_equal(r->sec[i].offset, sec_off[i]);
		assert_int_equal(r->sec[i].len, lens[i]);
	}
	assert_int_equal(r->crc[0], crc32c_update(0, info, 8));
	assert_int_equal(r->crc[1], crc32c_update(0, vcpu, 8));
	assert_int_equal(r->crc[2], crc32c_update(0, mem, 100));
	assert_int_equal(r->crc[3], 0);
	assert_int_equal(r->crc[4], crc32c_update(0, mem, 16));
	assert_int_equal(r->crc[5], last);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the crc32c that ends the header at @h. */
static void fix_crc(uint8_t *h)
{
	put_le32(h + 20, crc32c_update(0, h, 20));
}

/* Decodes @s whole; returns the result, the offset in *@off. */
static int decode(const uint8_t *s, size_t len, struct rec *r, uint64_t *off)
{
	struct hs_decoder_config c = config(r);

	err[0] = '\0';
	return hs_decode_buffer(&c, s, len, off);
}

/* A copy of the valid stream to damage, or another stream. */
static uint8_t bad[2048];

static void copy_stream(void)
{
	memcpy(bad, stream, stream_len);
}

static void expect_refusal(size_t len, int code, uint64_t offset,
			   const char *msg)
{
	struct rec r = { 0 };
	uint64_t off;

	assert_int_equal(decode(bad, len, &r, &off), code);
	assert_int_equal(off, offset);
	assert_string_equal(err, msg);
}

static void test_crc32c_check_values(void **state)
{
	(void)state;
	uint8_t b[32];

	assert_int_equal(crc32c_update(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_update(0, "", 0), 0);
	/* RFC 3720, B.4 */
	memset(b, 0, sizeof(b));
	assert_int_equal(crc32c_update(0, b, 32), 0x8a9136aa);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(crc32c_update(0, b, 32), 0x62a8ab43);
	for (int i = 0; i < 32; i++)
		b[i] = (uint8_t)i;
	assert_int_equal(crc32c_update(0, b, 32), 0x46dd794e);
}

static void test_crc32c_incremental(void **state)
{
	(void)state;
	const char *s = "123456789";

	for (size_t i = 0; i <= 9; i++)
		assert_int_equal(
			crc32c_update(crc32c_update(0, s, i), s + i, 9 - i),
			0xe3069283);
}

static void test_layout(void **state)
{
	(void)state;
	static const uint8_t end_hdr[20] = { 0xff, 0xff, 0xff, 0xff };

	assert_memory_equal(stream, "KEELSTRM\1\0\0\0\x18\0\0\0\0\0\0\0", 20);
	assert_int_equal(le32(stream + 20), crc32c_update(0, stream, 20));
	assert_int_equal(sec_off[0], 24);
	/* INFO: type 1, flags 0, length 8, payload crc, header crc */
	assert_memory_equal(stream + 24, "\1\0\0\0\0\0\0\0\x08\0\0\0\0\0\0\0",
			    16);
	assert_int_equal(le32(stream + 40), crc32c_update(0, info, 8));
	assert_memory_equal(stream + 48, info, 8);
	assert_int_equal(sec_off[1], 56);
	assert_memory_equal(stream + sec_off[6], end_hdr, 20);
	assert_int_equal(stream_len, sec_off[6] + 24);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct rec r = { 0 };
	uint64_t off;

	assert_int_equal(decode(stream, stream_len, &r, &off), HS_OK);
	assert_int_equal(off, stream_len);
	check_recorded(&r);
}

static void test_byte_at_a_time(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct hs_decoder_config c = config(&r);
	struct hs_decoder dec;

	assert_int_equal(hs_decoder_init(&dec, &c), 0);
	/* done with END's last byte, not before: a reader stops there */
	for (size_t i = 0; i < stream_len; i++) {
		assert_false(hs_decoder_done(&dec));
		assert_int_equal(hs_decoder_feed(&dec, stream + i, 1), 0);
	}
	assert_true(hs_decoder_done(&dec));
	assert_int_equal(hs_decoder_feed(&dec, stream, 0), 0);
	assert_int_equal(hs_decoder_finish(&dec), 0);
	check_recorded(&r);
}

static void test_every_split(void **state)
{
	(void)state;

	for (size_t i = 0; i <= stream_len; i++) {
		struct rec r = { 0 };
		struct hs_decoder_config c = config(&r);
		struct hs_decoder dec;

		assert_int_equal(hs_decoder_init(&dec, &c), 0);
		assert_int_equal(hs_decoder_feed(&dec, stream, i), 0);
		assert_int_equal(
			hs_decoder_feed(&dec, stream + i, stream_len - i), 0);
		assert_int_equal(hs_decoder_finish(&dec), 0);
		check_recorded(&r);
	}
}

static void test_no_callback(void **state)
{
	(void)state;
	struct hs_decoder_config c = config(NULL);

	c.on_section = NULL;
	assert_int_equal(hs_decode_buffer(&c, stream, stream_len, NULL), 0);
}

static void test_every_prefix_truncated(void **state)
{
	(void)state;

	for (size_t n = 0; n < stream_len; n++) {
		struct rec r = { 0 };
		struct hs_decoder_config c = config(&r);
		struct hs_decoder dec;

		assert_int_equal(hs_decoder_init(&dec, &c), 0);
		assert_int_equal(hs_decoder_feed(&dec, stream, n), 0);
		assert_int_equal(hs_decoder_finish(&dec), HS_E_TRUNCATED);
		assert_int_equal(dec.error_offset, n);
	}
}

static void test_truncation_messages(void **state)
{
	(void)state;

	copy_stream();
	expect_refusal(10, HS_E_TRUNCATED, 10,
		       "stream ends at byte 10, inside the stream header");
	expect_refusal(24, HS_E_TRUNCATED, 24,
		       "stream ends at byte 24, before section 0 (no END)");
	expect_refusal(30, HS_E_TRUNCATED, 30,
		       "stream ends at byte 30, inside section 0's header");
	expect_refusal(sec_off[2] + 24 + 60, HS_E_TRUNCATED,
		       sec_off[2] + 24 + 60,
		       "stream ends at byte 172, inside section 2 (type 3): 60 "
		       "of 100 payload bytes");
	expect_refusal(sec_off[6] + 23, HS_E_TRUNCATED, sec_off[6] + 23,
		       "stream ends at byte 366, inside section 6's header");
}

static void test_every_bit_flip_refused(void **state)
{
	(void)state;

	for (size_t bit = 0; bit < stream_len * 8; bit++) {
		struct rec r = { 0 };
		uint64_t off;

		copy_stream();
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(decode(bad, stream_len, &r, &off), HS_OK);
		assert_true(off <= stream_len);
	}
}

static void test_stream_header_refused(void **state)
{
	(void)state;
	char want[128];

	copy_stream();
	bad[3] = 'X';
	expect_refusal(stream_len, HS_E_MAGIC, 0,
		       "stream header: no \"KEELSTRM\" magic");

	copy_stream();
	put_le32(bad + 8, 2);
	expect_refusal(stream_len, HS_E_VERSION, 8,
		       "stream header: version 2, expected 1");

	copy_stream();
	bad[21] ^= 0x10;
	snprintf(want, sizeof(want),
		 "stream header: crc32c 0x%08x, expected 0x%08x",
		 le32(stream + 20), le32(bad + 20));
	expect_refusal(stream_len, HS_E_HEADER_CRC, 20, want);

	copy_stream();
	put_le32(bad + 12, 32);
	fix_crc(bad);
	expect_refusal(stream_len, HS_E_HEADER_LEN, 12,
		       "stream header: header_len 32, expected 24");

	copy_stream();
	put_le32(bad + 16, 0x80);
	fix_crc(bad);
	expect_refusal(stream_len, HS_E_HEADER_FLAGS, 16,
		       "stream header: flags 0x80, expected 0");
}

static void test_section_header_crc_refused(void **state)
{
	(void)state;
	uint8_t *h = bad + sec_off[1];
	char want[128];

	copy_stream();
	h[8] ^= 1; /* length 9: caught by the crc, not the rule */
	snprintf(want, sizeof(want),
		 "section 1: header crc32c 0x%08x, expected 0x%08x",
		 crc32c_update(0, h, 20), le32(h + 20));
	expect_refusal(stream_len, HS_E_SECTION_CRC, sec_off[1] + 20, want);
}

static void test_section_flags_refused(void **state)
{
	(void)state;
	uint8_t *h = bad + sec_off[1];

	copy_stream();
	put_le32(h + 4, 1);
	fix_crc(h);
	expect_refusal(stream_len, HS_E_SECTION_FLAGS, sec_off[1] + 4,
		       "section 1 (type 2): flags 0x1, expected 0");
}

static void test_unknown_type_refused(void **state)
{
	(void)state;
	uint8_t *h = bad + sec_off[4];

	copy_stream();
	put_le32(h, 7);
	fix_crc(h);
	expect_refusal(stream_len, HS_E_UNKNOWN_TYPE, sec_off[4],
		       "section 4: unknown type 7");
}

static void test_length_refused(void **state)
{
	(void)state;
	uint8_t *h = bad + sec_off[0];
	uint8_t *e = bad + sec_off[6];

	/* INFO is 4..64 bytes: 3 is too short */
	copy_stream();
	put_le32(h + 8, 3);
	fix_crc(h);
	expect_refusal(stream_len, HS_E_LENGTH, sec_off[0] + 8,
		       "section 0 (type 1): length 3 outside [4, 64]");

	/* a length over 2^32, checked before any payload byte comes */
	copy_stream();
	put_le32(h + 12, 1);
	fix_crc(h);
	expect_refusal(sec_off[0] + 24, HS_E_LENGTH, sec_off[0] + 8,
		       "section 0 (type 1): length 4294967304 outside [4, 64]");

	/* END has no payload */
	copy_stream();
	put_le32(e + 8, 1);
	fix_crc(e);
	expect_refusal(stream_len + 1, HS_E_LENGTH, sec_off[6] + 8,
		       "section 6 (type 4294967295): length 1 outside [0, 0]");
}

static void test_repeated_refused(void **state)
{
	(void)state;
	uint8_t *h = bad + sec_off[4];

	/* the 16-byte OPT becomes a second 8-byte VCPU */
	copy_stream();
	put_le32(h, T_VCPU);
	put_le32(h + 8, 8);
	put_le32(h + 16, crc32c_update(0, mem, 8));
	fix_crc(h);
	expect_refusal(
		sec_off[4] + 32, HS_E_REPEATED, sec_off[4],
		"section 4 (type 2): a second one, the type may appear once");
}

static void test_payload_crc_refused(void **state)
{
	(void)state;
	uint8_t *p = bad + sec_off[2] + 24;
	char want[128];

	copy_stream();
	p[99] ^= 0x40;
	snprintf(want, sizeof(want),
		 "section 2 (type 3): payload crc32c 0x%08x, expected 0x%08x",
		 crc32c_update(0, p, 100), crc32c_update(0, mem, 100));
	expect_refusal(stream_len, HS_E_PAYLOAD_CRC, sec_off[2] + 24, want);
}

static void test_end_payload_crc_refused(void **state)
{
	(void)state;
	uint8_t *e = bad + sec_off[6];

	copy_stream();
	put_le32(e + 16, 0x12345678);
	fix_crc(e);
	expect_refusal(stream_len, HS_E_PAYLOAD_CRC, stream_len,
		       "section 6 (type 4294967295): payload crc32c "
		       "0x00000000, expected 0x12345678");
}

static void test_rejected_by_callback(void **state)
{
	(void)state;
	struct rec r = { .reject_type = T_MEM };
	uint64_t off;

	assert_int_equal(decode(stream, stream_len, &r, &off), HS_E_REJECTED);
	assert_int_equal(off, sec_off[2]);
	assert_string_equal(
		err,
		"section 2 (type 3): rejected: chunk at 0x0 outside guest RAM");
	assert_int_equal(r.n, 2);
}

static void test_missing_required_refused(void **state)
{
	(void)state;
	struct hs_membuf m = { .buf = bad, .cap = sizeof(bad) };
	struct hs_encoder enc;

	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	assert_int_equal(hs_encode_section(&enc, T_VCPU, vcpu, 8), 0);
	assert_int_equal(hs_encode_end(&enc), 0);
	expect_refusal(m.len, HS_E_MISSING, 56,
		       "section 1 (END): no section of required type 1");
}

static void test_only_end(void **state)
{
	(void)state;
	struct hs_membuf m = { .buf = bad, .cap = sizeof(bad) };
	struct hs_decoder_config c = config(NULL);
	struct hs_encoder enc;

	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	assert_int_equal(hs_encode_end(&enc), 0);
	assert_int_equal(m.len, 48);
	c.nrules = 0;
	assert_int_equal(hs_decode_buffer(&c, bad, m.len, NULL), HS_OK);
	c.rules = rules + 2; /* MEM, OPT: neither required */
	c.nrules = 2;
	assert_int_equal(hs_decode_buffer(&c, bad, m.len, NULL), HS_OK);
}

static void test_trailing_refused(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct hs_decoder_config c = config(&r);
	struct hs_decoder dec;

	copy_stream();
	bad[stream_len] = 0;
	expect_refusal(stream_len + 1, HS_E_TRAILING, stream_len,
		       "data after the END section");

	/* in a later feed too, and finish() repeats it */
	assert_int_equal(hs_decoder_init(&dec, &c), 0);
	assert_int_equal(hs_decoder_feed(&dec, stream, stream_len), 0);
	assert_int_equal(hs_decoder_feed(&dec, stream, 1), HS_E_TRAILING);
	assert_int_equal(hs_decoder_finish(&dec), HS_E_TRAILING);
	assert_int_equal(dec.error_offset, stream_len);
}

static void test_refusal_sticks(void **state)
{
	(void)state;
	struct rec r = { 0 };
	struct hs_decoder_config c = config(&r);
	struct hs_decoder dec;

	copy_stream();
	bad[0] = 'k';
	assert_int_equal(hs_decoder_init(&dec, &c), 0);
	assert_int_equal(hs_decoder_feed(&dec, bad, 30), HS_E_MAGIC);
	assert_int_equal(hs_decoder_feed(&dec, stream + 30, stream_len - 30),
			 HS_E_MAGIC);
	assert_int_equal(hs_decoder_finish(&dec), HS_E_MAGIC);
	assert_int_equal(dec.error_offset, 0);
	assert_int_equal(r.n, 0);
}

static void expect_rules_refused(const struct hs_section_rule *rs, size_t n,
				 size_t buflen, const char *msg)
{
	struct hs_decoder_config c = config(NULL);
	struct hs_decoder dec;

	c.rules = rs;
	c.nrules = n;
	c.buflen = buflen;
	assert_int_equal(hs_decoder_init(&dec, &c), HS_E_RULES);
	assert_string_equal(err, msg);
	assert_int_equal(hs_decoder_feed(&dec, stream, stream_len), HS_E_RULES);
	assert_int_equal(hs_decode_buffer(&c, stream, stream_len, NULL),
			 HS_E_RULES);
}

static void test_rules_refused(void **state)
{
	(void)state;
	static struct hs_section_rule many[HS_MAX_RULES + 1];
	const struct hs_section_rule end[] = { { .type = HS_TYPE_END } };
	const struct hs_section_rule dup[] = { { .type = 5 },
					       { .type = 6 },
					       { .type = 5 } };
	const struct hs_section_rule minmax[] = {
		{ .type = 5, .min_len = 9, .max_len = 8 }
	};

	for (unsigned int i = 0; i <= HS_MAX_RULES; i++)
		many[i].type = i + 1;
	expect_rules_refused(many, HS_MAX_RULES + 1, 256,
			     "65 section rules, at most 64");
	expect_rules_refused(end, 1, 256, "rule 0: type 0xffffffff is END's");
	expect_rules_refused(dup, 3, 256, "rule 2: type 5 has a rule already");
	expect_rules_refused(minmax, 1, 256,
			     "rule 0 (type 5): min_len 9 above max_len 8");
	expect_rules_refused(
		rules, 4, 255,
		"rule 2 (type 3): max_len 256 above the 255-byte buffer");
}

/* Encodes into @bad a stream of empty sections of types 100..100+@n-1. */
static size_t empty_sections(unsigned int n)
{
	struct hs_membuf m = { .buf = bad, .cap = sizeof(bad) };
	struct hs_encoder enc;

	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(hs_encode_section(&enc, 100 + i, NULL, 0), 0);
	assert_int_equal(hs_encode_end(&enc), 0);
	return m.len;
}

static void test_max_rules_accepted(void **state)
{
	(void)state;
	static struct hs_section_rule all[HS_MAX_RULES];
	struct hs_decoder_config c = config(NULL);
	size_t len;

	/* every type required: the last rule's bit counts too */
	for (unsigned int i = 0; i < HS_MAX_RULES; i++)
		all[i] = (struct hs_section_rule){ .type = 100 + i,
						   .required = true };
	c.rules = all;
	c.nrules = HS_MAX_RULES;
	c.on_section = NULL;
	len = empty_sections(HS_MAX_RULES - 1);
	assert_int_equal(hs_decode_buffer(&c, bad, len, NULL), HS_E_MISSING);
	assert_string_equal(
		err, "section 63 (END): no section of required type 163");
	len = empty_sections(HS_MAX_RULES);
	assert_int_equal(hs_decode_buffer(&c, bad, len, NULL), HS_OK);
}

static int fail_after_24(void *ctx, const void *buf, size_t len)
{
	size_t *written = ctx;

	(void)buf;
	if (*written + len > 24)
		return -1;
	*written += len;
	return 0;
}

static void test_encoder_sink_failure(void **state)
{
	(void)state;
	struct hs_encoder enc;
	size_t written = 0;

	assert_int_equal(hs_encoder_init(&enc, fail_after_24, &written), 0);
	assert_int_equal(hs_encode_section(&enc, T_INFO, info, 8), HS_E_SINK);
	assert_int_equal(hs_encode_end(&enc), HS_E_SINK);
	assert_int_equal(written, 24);
	assert_int_equal(enc.offset, 24);
}

static void test_membuf_full(void **state)
{
	(void)state;
	uint8_t b[30];
	struct hs_membuf m = { .buf = b, .cap = sizeof(b) };
	struct hs_encoder enc;

	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	assert_int_equal(hs_encode_end(&enc), HS_E_SINK);
	assert_int_equal(m.len, 24);
}

static void test_encoder_refuses_end_type(void **state)
{
	(void)state;
	struct hs_membuf m = { .buf = bad, .cap = sizeof(bad) };
	struct hs_encoder enc;

	assert_int_equal(hs_encoder_init(&enc, hs_membuf_write, &m), 0);
	assert_int_equal(hs_encode_section(&enc, HS_TYPE_END, NULL, 0),
			 HS_E_UNKNOWN_TYPE);
	assert_int_equal(m.len, 24);
}

static void test_strerror(void **state)
{
	(void)state;

	for (int i = 0; i < HS_E_COUNT; i++) {
		assert_non_null(hs_strerror(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(hs_strerror(i), hs_strerror(j));
	}
	assert_string_equal(hs_strerror(HS_E_PAYLOAD_CRC),
			    "payload crc32c mismatch");
	assert_string_equal(hs_strerror(HS_E_COUNT), "unknown error");
	assert_string_equal(hs_strerror(-1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_check_values),
		cmocka_unit_test(test_crc32c_incremental),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_every_prefix_truncated),
		cmocka_unit_test(test_truncation_messages),
		cmocka_unit_test(test_every_bit_flip_refused),
		cmocka_unit_test(test_stream_header_refused),
		cmocka_unit_test(test_section_header_crc_refused),
		cmocka_unit_test(test_section_flags_refused),
		cmocka_unit_test(test_unknown_type_refused),
		cmocka_unit_test(test_length_refused),
		cmocka_unit_test(test_repeated_refused),
		cmocka_unit_test(test_payload_crc_refused),
		cmocka_unit_test(test_end_payload_crc_refused),
		cmocka_unit_test(test_rejected_by_callback),
		cmocka_unit_test(test_missing_required_refused),
		cmocka_unit_test(test_only_end),
		cmocka_unit_test(test_trailing_refused),
		cmocka_unit_test(test_refusal_sticks),
		cmocka_unit_test(test_rules_refused),
		cmocka_unit_test(test_max_rules_accepted),
		cmocka_unit_test(test_encoder_sink_failure),
		cmocka_unit_test(test_membuf_full),
		cmocka_unit_test(test_encoder_refuses_end_type),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, build_stream, NULL);
}
