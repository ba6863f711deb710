/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decoding the instruction behind an MMIO exit. An EPT violation gives the
 * guest-physical address but not the instruction length or the register
 * involved, so keel decodes the mov forms Linux's readb..readq and
 * writeb..writeq emit (and the movzx forms compilers produce for them).
 * Anything else is refused, never guessed.
 */
#ifndef KEEL_ARCH_DECODER_H
#define KEEL_ARCH_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMIO_INSN_MAX 15

/* General-purpose register numbers in x86 encoding order. */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_COUNT
};

enum cpu_mode {
	MODE_REAL,   /* 16-bit defaults, no REX */
	MODE_PROT16, /* CS.D = 0 */
	MODE_PROT32, /* CS.D = 1 */
	MODE_LONG64, /* CS.L = 1 */
};

struct mmio_insn {
	uint8_t len;       /* bytes, prefixes included */
	uint8_t size;      /* access width in bytes: 1, 2, 4 or 8 */
	bool write;        /* true: store to the MMIO address */
	bool has_imm;      /* store of an immediate (C6/C7) */
	uint64_t imm;      /* the immediate, sign-extended to @size for C7 */
	uint8_t reg;       /* enum gpr: source of a store, destination of a
			      load; GPR_RAX for A0-A3, 0 for C6/C7 */
	bool high_byte;    /* reg is AH/CH/DH/BH (8-bit access without REX) */
	uint8_t dest_size; /* load: bytes written to reg, @size or for movzx
			      the operand size (2, 4 or 8); 4 also zeroes
			      bits 63:32 as the CPU does. 0 for a store */
	bool zero_extend;  /* movzx */
};

/*
 * Decodes the instruction at @code (@avail bytes readable; bytes past
 * MMIO_INSN_MAX are never read). Returns 0, or -1 with a one-line reason
 * starting "mmio: " in @err (may be NULL) and @out zeroed, for anything
 * that is not a supported MMIO mov: a truncated buffer, more than 15 bytes,
 * a register-to-register form, LOCK or REP prefixes, and a REX prefix that
 * does not immediately precede the opcode (the CPU would ignore it; keel
 * refuses it instead).
 */
int mmio_decode(const uint8_t *code, size_t avail, enum cpu_mode mode,
		struct mmio_insn *out, char *err, size_t errlen);

/* Value a store writes to MMIO, from @regs; @in is a decoded store. */
uint64_t mmio_store_value(const struct mmio_insn *in,
			  const uint64_t regs[GPR_COUNT]);

/*
 * Puts @val, read from MMIO, into the destination register of the decoded
 * load @in as the CPU would: bits of @val above @size are dropped (movzx
 * zero-extends), 8- and 16-bit writes keep the other bits (AH..BH write
 * 15:8), 32-bit writes zero 63:32.
 */
void mmio_load_result(const struct mmio_insn *in, uint64_t regs[GPR_COUNT],
		      uint64_t val);

#endif
