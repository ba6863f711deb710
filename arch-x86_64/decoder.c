// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/decoder.h"

#define REX_W 0x8
#define REX_R 0x4

/* Formats "mmio: ..." into the caller's buffer and evaluates to -1. */
#define FAIL(d, ...) (snprintf((d)->err, (d)->errlen, "mmio: " __VA_ARGS__), -1)

struct decoder {
	const uint8_t *code;
	size_t avail;
	size_t pos; /* bytes consumed so far */
	enum cpu_mode mode;
	bool opsize; /* 0x66 seen */
	bool adsize; /* 0x67 seen */
	uint8_t rex; /* the REX byte, 0 if none */
	char *err;
	size_t errlen;
};

/* Consumes @n bytes and returns them little-endian in @val. */
static int take(struct decoder *d, size_t n, uint64_t *val)
{
	size_t i;

	/* the 15-byte limit first: more bytes would not help */
	if (d->pos + n > MMIO_INSN_MAX)
		return FAIL(d, "instruction longer than %d bytes",
			    MMIO_INSN_MAX);
	if (d->pos + n > d->avail)
		return FAIL(d, "instruction truncated after %u byte%s",
			    (unsigned int)d->avail, d->avail == 1 ? "" : "s");
	*val = 0;
	for (i = 0; i < n; i++)
		*val |= (uint64_t)d->code[d->pos + i] << (8 * i);
	d->pos += n;
	return 0;
}

static int take_byte(struct decoder *d, uint8_t *b)
{
	uint64_t v;

	if (take(d, 1, &v))
		return -1;
	*b = (uint8_t)v;
	return 0;
}

static bool is_rex(const struct decoder *d, uint8_t b)
{
	return d->mode == MODE_LONG64 && (b & 0xf0) == 0x40;
}

static bool is_legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x26:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x64:
	case 0x65:
	case 0x66:
	case 0x67:
	case 0xf0:
	case 0xf2:
	case 0xf3:
		return true;
	}
	return false;
}

/* Consumes the prefixes and returns the first opcode byte in @op. */
static int prefixes(struct decoder *d, uint8_t *op)
{
	uint8_t b;

	for (;;) {
		if (take_byte(d, &b))
			return -1;
		if (!is_rex(d, b) && !is_legacy_prefix(b)) {
			*op = b;
			return 0;
		}
		/*
		 * The CPU silently ignores a REX that another prefix follows.
		 * Compilers never emit one, so keel refuses it rather than
		 * decode a REX-looking byte that has no effect.
		 */
		if (d->rex)
			return FAIL(d,
				    "REX prefix 0x%02x not immediately "
				    "before the opcode",
				    d->rex);
		if (is_rex(d, b))
			d->rex = b;
		else if (b == 0x66)
			d->opsize = true;
		else if (b == 0x67)
			d->adsize = true;
		else if (b == 0xf0)
			return FAIL(d, "LOCK prefix (0xf0)");
		else if (b == 0xf2 || b == 0xf3)
			return FAIL(d, "%s prefix (0x%02x)",
				    b == 0xf2 ? "REPNE" : "REP", b);
		/* segment overrides: the exit already has the address */
	}
}

static uint8_t operand_size(const struct decoder *d)
{
	bool def16 = d->mode == MODE_REAL || d->mode == MODE_PROT16;

	if (d->rex & REX_W)
		return 8;
	return def16 != d->opsize ? 2 : 4;
}

/* Bytes of an address, and so of a moffs. */
static uint8_t address_size(const struct decoder *d)
{
	if (d->mode == MODE_LONG64)
		return d->adsize ? 4 : 8;
	return (d->mode == MODE_PROT32) != d->adsize ? 4 : 2;
}

/* Consumes the SIB and displacement that follow ModRM @m. */
static int memory_operand(struct decoder *d, uint8_t m)
{
	unsigned int mod = m >> 6, rm = m & 7, base = rm;
	size_t disp;
	uint8_t sib;
	uint64_t unused;

	if (mod == 3)
		return FAIL(d, "register operand (ModRM mod=3): 0x%02x", m);
	if (address_size(d) == 2) {
		/* mod 00 rm 110 is [disp16], not [bp] */
		disp = mod == 1 ? 1 : (mod == 2 || rm == 6) ? 2 : 0;
	} else {
		if (rm == 4) {
			if (take_byte(d, &sib))
				return -1;
			base = sib & 7;
		}
		/*
		 * mod 00 with base 101 is disp32 with no base register (or
		 * RIP-relative without SIB in long mode). REX.B never changes
		 * the length: only the three ModRM/SIB bits count here.
		 */
		disp = mod == 1 ? 1 : (mod == 2 || base == 5) ? 4 : 0;
	}
	return take(d, disp, &unused);
}

/* 88-8B and movzx: ModRM's reg field names the register. */
static int reg_form(struct decoder *d, struct mmio_insn *out, bool byte_reg)
{
	uint8_t m;
	unsigned int reg;

	if (take_byte(d, &m) || memory_operand(d, m))
		return -1;
	reg = ((m >> 3) & 7) | (d->rex & REX_R ? 8 : 0);
	/* without any REX, byte registers 4-7 are AH, CH, DH, BH */
	if (byte_reg && !d->rex && reg >= 4) {
		out->high_byte = true;
		reg -= 4;
	}
	out->reg = (uint8_t)reg;
	return 0;
}

/* C6 /0 ib and C7 /0 iw/id: store of an immediate. */
static int imm_form(struct decoder *d, uint8_t op, struct mmio_insn *out)
{
	uint8_t m;
	unsigned int ext;

	if (take_byte(d, &m))
		return -1;
	ext = (m >> 3) & 7;
	if (ext)
		return FAIL(d, "unsupported opcode 0x%02x /%u", op, ext);
	if (memory_operand(d, m))
		return -1;
	out->has_imm = true;
	if (take(d, out->size == 8 ? 4 : out->size, &out->imm))
		return -1;
	if (out->size == 8 && (out->imm & 0x80000000u))
		out->imm |= 0xffffffff00000000ull;
	return 0;
}

static int opcode(struct decoder *d, uint8_t op, struct mmio_insn *out)
{
	uint8_t op2;
	uint64_t unused;

	/* in every supported one-byte opcode bit 0 clear means 8-bit */
	out->size = op & 1 ? operand_size(d) : 1;
	switch (op) {
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		out->write = !(op & 2);
		return reg_form(d, out, out->size == 1);
	case 0xc6:
	case 0xc7:
		out->write = true;
		return imm_form(d, op, out);
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		out->write = op & 2;
		out->reg = GPR_RAX;
		return take(d, address_size(d), &unused);
	case 0x0f:
		if (take_byte(d, &op2))
			return -1;
		if (op2 != 0xb6 && op2 != 0xb7)
			return FAIL(d, "unsupported opcode 0x0f 0x%02x", op2);
		out->zero_extend = true;
		out->size = op2 == 0xb6 ? 1 : 2;
		out->dest_size = operand_size(d);
		return reg_form(d, out, false);
	}
	return FAIL(d, "unsupported opcode 0x%02x", op);
}

int mmio_decode(const uint8_t *code, size_t avail, enum cpu_mode mode,
		struct mmio_insn *out, char *err, size_t errlen)
{
	struct decoder d = {
		.code = code,
		.avail = avail,
		.mode = mode,
		.err = err,
		.errlen = err ? errlen : 0,
	};
	uint8_t op;

	memset(out, 0, sizeof(*out));
	if ((unsigned int)mode > MODE_LONG64)
		return FAIL(&d, "unknown CPU mode %u", (unsigned int)mode);
	if (prefixes(&d, &op) || opcode(&d, op, out)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	if (!out->write && !out->zero_extend)
		out->dest_size = out->size;
	out->len = (uint8_t)d.pos;
	return 0;
}

static uint64_t low_bytes(uint64_t v, unsigned int bytes)
{
	return bytes >= 8 ? v : v & ((1ull << (8 * bytes)) - 1);
}

uint64_t mmio_store_value(const struct mmio_insn *in,
			  const uint64_t regs[GPR_COUNT])
{
	if (in->has_imm)
		return low_bytes(in->imm, in->size);
	if (in->high_byte)
		return (regs[in->reg] >> 8) & 0xff;
	return low_bytes(regs[in->reg], in->size);
}

void mmio_load_result(const struct mmio_insn *in, uint64_t regs[GPR_COUNT],
		      uint64_t val)
{
	uint64_t *r = &regs[in->reg];
	/* dropping the bits above @size is also movzx's zero extension */
	uint64_t v = low_bytes(val, in->size);

	if (in->high_byte)
		*r = (*r & ~0xff00ull) | v << 8;
	else if (in->dest_size >= 4)
		*r = v; /* a 32-bit write zeroes 63:32 */
	else
		*r = (*r & ~low_bytes(~0ull, in->dest_size)) | v;
}
