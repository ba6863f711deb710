// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the handoff stream fuzzer's seed corpus into DIR (make
 * fuzz-corpus): valid streams and one of each refusal, each file a control
 * byte (where fuzz_handoff_stream.c splits the stream) and the stream.
 * Every stream is decoded first with the fuzzer's rules and must give the
 * result its name says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"
#include "tests/fuzz/handoff_rules.h"

/* what build() varies */
enum {
	FULL = 1, /* the optional sections and three chunks too */
	NO_LAPIC = 2, /* a required section missing */
	TWO_CPUS = 4, /* a non-repeatable section twice */
	SHORT_LAPIC = 8, /* 31 bytes, the rule says 32 */
	UNALIGNED_CHUNK = 16, /* refused by the chunk check */
};

struct stream {
	uint8_t b[8192];
	size_t len;
	size_t cpu; /* offset of the CPU section's header */
};

static const char *dir;

static void die(const char *what, const char *name)
{
	fprintf(stderr, "gen_corpus: %s: %s\n", name, what);
	exit(1);
}

static void chunk(struct hs_encoder *enc, uint64_t gpa, size_t size)
{
	uint8_t c[HT_CHUNK_HDR + 128];
	uint64_t sz = size;

	memcpy(c, &gpa, 8);
	memcpy(c + 8, &sz, 8);
	for (size_t i = 0; i < size; i++)
		c[HT_CHUNK_HDR + i] = (uint8_t)(gpa + i);
	hs_encode_section(enc, HT_MEMORY, c, HT_CHUNK_HDR + size);
}

static void build(struct stream *s, int opts)
{
	static const char keel[16] = "keel 0.1 vmx";
	static const char config[] = "guest { cpus = 1; memory = 256M; }";
	struct hs_membuf m = { .buf = s->b, .cap = sizeof(s->b) };
	struct hs_encoder enc;
	uint8_t regs[64], lapic[32], ioapic[24], uart[8], disk[32];

	memset(regs, 0x11, sizeof(regs));
	memset(lapic, 0x22, sizeof(lapic));
	memset(ioapic, 0x33, sizeof(ioapic));
	memset(uart, 0x44, sizeof(uart));
	memset(disk, 0x55, sizeof(disk));
	hs_encoder_init(&enc, hs_membuf_write, &m);
	hs_encode_section(&enc, HT_KEEL, keel, sizeof(keel));
	hs_encode_section(&enc, HT_CONFIG, config, sizeof(config) - 1);
	s->cpu = enc.offset;
	hs_encode_section(&enc, HT_CPU, regs, sizeof(regs));
	if (opts & TWO_CPUS)
		hs_encode_section(&enc, HT_CPU, regs, sizeof(regs));
	if (!(opts & NO_LAPIC))
		hs_encode_section(&enc, HT_LAPIC, lapic,
				  opts & SHORT_LAPIC ? 31 : 32);
	hs_encode_section(&enc, HT_IOAPIC, ioapic, sizeof(ioapic));
	chunk(&enc, opts & UNALIGNED_CHUNK ? 0x800 : 0, 64);
	if (opts & FULL) {
		hs_encode_section(&enc, HT_UART, uart, sizeof(uart));
		hs_encode_section(&enc, HT_PCI, NULL, 0);
		hs_encode_section(&enc, HT_DISK, disk, sizeof(disk));
		chunk(&enc, 0x1000, 0);
		chunk(&enc, 0x200000, 128);
	}
	if (hs_encode_end(&enc))
		die("does not fit", "build");
	s->len = m.len;
}

static void fix_crc(uint8_t *h)
{
	uint32_t crc = crc32c_update(0, h, 20);

	memcpy(h + 20, &crc, 4);
}

/* Checks that @s decodes to @want, then writes it as DIR/@name. */
static void emit(const char *name, uint8_t ctl, const struct stream *s,
		 int want)
{
	static uint8_t buf[HT_CHUNK_MAX + HT_CHUNK_HDR];
	struct hs_decoder_config c = {
		.rules = handoff_rules,
		.nrules = HT_NRULES,
		.buf = buf,
		.buflen = sizeof(buf),
		.on_section = handoff_check_section,
	};
	char path[4096];
	int got = hs_decode_buffer(&c, s->b, s->len, NULL);
	FILE *f;

	if (got != want)
		die(hs_strerror(got), name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&ctl, 1, 1, f) != 1 ||
	    fwrite(s->b, 1, s->len, f) != s->len || fclose(f))
		die(strerror(errno), path);
}

int main(int argc, char **argv)
{
	struct stream s;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_corpus DIR\n");
		return 2;
	}
	dir = argv[1];
	if (mkdir(dir, 0755) && errno != EEXIST)
		die(strerror(errno), dir);

	build(&s, 0);
	emit("valid-minimal", 0, &s, HS_OK);
	build(&s, FULL);
	emit("valid-full", 0x80, &s, HS_OK);
	emit("valid-full-split-early", 0x09, &s, HS_OK);
	emit("empty", 0x80, &(struct stream){ 0 }, HS_E_TRUNCATED);

	s.b[s.len++] = 0;
	emit("trailing", 0xff, &s, HS_E_TRAILING);
	s.len -= 31;
	emit("truncated-payload", 0x40, &s, HS_E_TRUNCATED);

	build(&s, 0);
	s.b[3] = 'X';
	emit("bad-magic", 0x80, &s, HS_E_MAGIC);
	build(&s, 0);
	s.b[8] = 2;
	fix_crc(s.b);
	emit("version-2", 0x80, &s, HS_E_VERSION);
	build(&s, 0);
	s.b[s.cpu + 24 + 5] ^= 0x20;
	emit("bad-payload-crc", 0x80, &s, HS_E_PAYLOAD_CRC);
	build(&s, 0);
	s.b[s.cpu + 8] ^= 0x01;
	emit("bad-section-crc", 0x80, &s, HS_E_SECTION_CRC);
	build(&s, 0);
	s.b[s.cpu] = 42;
	fix_crc(s.b + s.cpu);
	emit("unknown-type", 0x80, &s, HS_E_UNKNOWN_TYPE);
	build(&s, 0);
	s.b[s.cpu + 4] = 1;
	fix_crc(s.b + s.cpu);
	emit("section-flags", 0x80, &s, HS_E_SECTION_FLAGS);

	build(&s, NO_LAPIC);
	emit("missing-lapic", 0x80, &s, HS_E_MISSING);
	build(&s, TWO_CPUS);
	emit("repeated-cpu", 0x80, &s, HS_E_REPEATED);
	build(&s, SHORT_LAPIC);
	emit("short-lapic", 0x80, &s, HS_E_LENGTH);
	build(&s, UNALIGNED_CHUNK);
	emit("unaligned-chunk", 0x80, &s, HS_E_REJECTED);
	return 0;
}
