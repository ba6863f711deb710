/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handoff stream: the container in which a stopped guest's state
 * travels, as a file or over TCP, to the keel that starts it again. This
 * codec knows the container only; what a section holds is its user's
 * business. keel, keelctl and the fuzzer build it unchanged: no allocation,
 * no I/O, only <string.h> and snprintf.
 *
 * Format v1, every integer little-endian:
 *
 *   stream header, 24 bytes:
 *     0  magic "KEELSTRM" (8 bytes)
 *     8  u32 version (1)
 *    12  u32 header_len (24)
 *    16  u32 flags (0)
 *    20  u32 crc32c of bytes 0..19
 *
 *   then sections, each a 24-byte header followed by @length payload bytes:
 *     0  u32 type
 *     4  u32 flags (0)
 *     8  u64 length (payload bytes)
 *    16  u32 crc32c of the payload
 *    20  u32 crc32c of bytes 0..19 of this header
 *
 *   and last the END section: type 0xffffffff, length 0 (so its payload
 *   crc32c is 0). Nothing may follow it.
 *
 * The decoder is given the section types its user accepts, each with a
 * length range and whether it may repeat and must be present. It refuses
 * anything else: a bad magic, version, header_len, flags or crc32c, an
 * unknown type, a length out of range, a repeated section that may not
 * repeat, a required section missing at END, bytes after END, a stream
 * that ends before END, and a section the user's callback rejects. Each
 * refusal is an enum hs_error, the stream offset of what is at fault and a
 * one-line message.
 */
#ifndef KEEL_RUNTIME_HANDOFF_STREAM_H
#define KEEL_RUNTIME_HANDOFF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_MAGIC "KEELSTRM"
#define HS_VERSION 1u
#define HS_HEADER_LEN 24u
#define HS_SECTION_HEADER_LEN 24u
#define HS_TYPE_END 0xffffffffu
/* most section rules a decoder takes */
#define HS_MAX_RULES 64u
/* room for a callback's reason (struct hs_decoder_config.on_section) */
#define HS_WHY_LEN 128u

/*
 * Results, each with the offset the decoder reports: of the field at fault
 * in the stream header (magic 0, version 8, header_len 12, flags 16, crc
 * 20) or in the section header (type +0, flags +4, length +8, header crc
 * +20), or as said here.
 */
enum hs_error {
	HS_OK,
	HS_E_MAGIC, /* not "KEELSTRM" */
	HS_E_VERSION, /* not 1 */
	HS_E_HEADER_CRC, /* stream header's crc32c */
	HS_E_HEADER_LEN, /* not 24 */
	HS_E_HEADER_FLAGS, /* not 0 */
	HS_E_SECTION_CRC, /* section header's crc32c */
	HS_E_SECTION_FLAGS, /* not 0 */
	HS_E_UNKNOWN_TYPE, /* no rule for the type */
	HS_E_LENGTH, /* outside the rule's [min_len, max_len] */
	HS_E_REPEATED, /* a second section of a non-repeatable type */
	HS_E_PAYLOAD_CRC, /* offset: the payload's first byte */
	HS_E_REJECTED, /* by on_section; offset: the section header */
	HS_E_MISSING, /* required type absent; offset: END's header */
	HS_E_TRAILING, /* offset: the first byte after END */
	HS_E_TRUNCATED, /* no END; offset: the end of the stream */
	HS_E_RULES, /* hs_decoder_init: unusable configuration */
	HS_E_SINK, /* encoder: the sink's write failed */
	HS_E_COUNT
};

/* A static description of @err ("payload crc32c mismatch"). */
const char *hs_strerror(int err);

/* Scatter-gather pieces of one payload. */
struct hs_iovec {
	const void *base;
	size_t len;
};

/*
 * Encoder. @write sends all of @buf and returns 0, or non-zero on failure,
 * after which every call returns HS_E_SINK and writes nothing more.
 */
struct hs_encoder {
	int (*write)(void *ctx, const void *buf, size_t len);
	void *ctx;
	uint64_t offset; /* bytes written */
	int error;
};

/* Sets up @enc and writes the stream header. Returns 0 or HS_E_SINK. */
int hs_encoder_init(struct hs_encoder *enc,
		    int (*write)(void *ctx, const void *buf, size_t len),
		    void *ctx);

/*
 * Writes a section of @type whose payload is the @iovcnt pieces of @iov
 * concatenated (read twice: once for the crc32c, once to write). Returns 0,
 * HS_E_SINK, or HS_E_UNKNOWN_TYPE for HS_TYPE_END (hs_encode_end's).
 */
int hs_encode_sectionv(struct hs_encoder *enc, uint32_t type,
		       const struct hs_iovec *iov, size_t iovcnt);
int hs_encode_section(struct hs_encoder *enc, uint32_t type,
		      const void *payload, size_t len);
/* Writes the END section: the stream is complete. */
int hs_encode_end(struct hs_encoder *enc);

/* A sink into memory: hs_membuf_write appends, or fails when @cap is hit. */
struct hs_membuf {
	uint8_t *buf;
	size_t cap;
	size_t len;
};

int hs_membuf_write(void *ctx, const void *buf, size_t len);

/* What the decoder accepts of one section type (not HS_TYPE_END). */
struct hs_section_rule {
	uint32_t type;
	uint64_t min_len;
	uint64_t max_len;
	bool repeatable;
	bool required;
};

/* A complete section whose crc32c values are right. */
struct hs_section {
	uint32_t type;
	uint64_t index; /* 0 for the first section after the stream header */
	uint64_t offset; /* of its section header */
	const uint8_t *payload;
	size_t len;
};

struct hs_decoder_config {
	const struct hs_section_rule *rules;
	size_t nrules; /* at most HS_MAX_RULES, each type once */
	/* where payloads are gathered: at least the largest max_len bytes */
	uint8_t *buf;
	size_t buflen;
	/*
	 * Called for each section in stream order (never for END); may be
	 * NULL. @sec->payload is valid during the call only. Non-zero refuses
	 * the stream with HS_E_REJECTED and the reason put in @why.
	 */
	int (*on_section)(void *ctx, const struct hs_section *sec, char *why,
			  size_t whylen);
	void *ctx;
	/* the refusal as one line, e.g. "section 3 (type 9): payload crc32c
	 * 0x1b2c3d4e, expected 0x5a6b7c8d"; NULL for none */
	char *err;
	size_t errlen;
};

/*
 * Incremental decoder: feed it the stream in pieces of any size. Its
 * fields are private but for @error and @error_offset, the first refusal
 * (every later call returns it again).
 */
struct hs_decoder {
	struct hs_decoder_config cfg;
	int error;
	uint64_t error_offset;

	int state;
	uint64_t offset; /* bytes consumed */
	uint8_t hdr[HS_SECTION_HEADER_LEN];
	size_t hdr_fill;
	uint64_t index; /* of the current section */
	uint64_t sec_offset; /* of the current section's header */
	uint32_t type;
	uint64_t len;
	uint64_t fill; /* payload bytes gathered */
	uint32_t crc; /* of those bytes */
	uint32_t want_crc; /* from the section header */
	uint64_t seen; /* bit i: a section of rules[i] came */
	char why[HS_WHY_LEN];
};

/* Returns 0, or HS_E_RULES (and the message in @cfg->err) if the rules
 * have a duplicate type, HS_TYPE_END, min_len > max_len, more than
 * HS_MAX_RULES entries, or a max_len above @cfg->buflen. */
int hs_decoder_init(struct hs_decoder *dec,
		    const struct hs_decoder_config *cfg);

/* Decodes the next @len bytes of the stream. Returns 0 or the refusal. */
int hs_decoder_feed(struct hs_decoder *dec, const void *buf, size_t len);

/* Whether the END section has been decoded: the stream is whole (a
 * reader that must not wait for the end of its input stops there). */
bool hs_decoder_done(const struct hs_decoder *dec);

/* The stream has ended: returns 0 if it was complete (END seen, every
 * required type present, nothing after END), else the refusal. */
int hs_decoder_finish(struct hs_decoder *dec);

/* Decodes a whole stream in memory: init, feed, finish. @offset (may be
 * NULL) receives the refusal's offset, or @len. */
int hs_decode_buffer(const struct hs_decoder_config *cfg, const void *buf,
		     size_t len, uint64_t *offset);

#endif
