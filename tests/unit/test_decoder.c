// SPDX-License-Identifier: GPL-2.0
/* Decoding the mov forms behind MMIO exits, and applying their results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/decoder.h"

/* a compound literal of bytes and its length, as two arguments */
#define BYTES(...)                        \
	(const uint8_t[]){ __VA_ARGS__ }, \
		sizeof((const uint8_t[]){ __VA_ARGS__ })

/* Decodes an instruction that must be accepted with exactly its length. */
#define OK(mode, ...) decode_ok(mode, BYTES(__VA_ARGS__))

/* Decodes bytes that must be refused with exactly @msg. */
#define BAD(mode, msg, ...) decode_bad(mode, msg, BYTES(__VA_ARGS__))

#define PATTERN 0x1122334455667788ull

static struct mmio_insn decode_ok(enum cpu_mode mode, const uint8_t *code,
				  size_t n)
{
	struct mmio_insn in, padded;
	uint8_t buf[32];
	char err[128] = "";
	char want[64];
	size_t i;

	if (mmio_decode(code, n, mode, &in, err, sizeof(err)))
		fail_msg("refused: %s", err);
	assert_int_equal(in.len, n);

	/* trailing bytes change nothing */
	memset(buf, 0x90, sizeof(buf));
	memcpy(buf, code, n);
	assert_int_equal(mmio_decode(buf, sizeof(buf), mode, &padded, err,
				     sizeof(err)), 0);
	assert_memory_equal(&in, &padded, sizeof(in));

	/* and every shorter buffer is truncated right at its end */
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want),
			 "mmio: instruction truncated after %zu byte%s", i,
			 i == 1 ? "" : "s");
		assert_int_equal(mmio_decode(code, i, mode, &padded, err,
					     sizeof(err)), -1);
		assert_string_equal(err, want);
	}
	return in;
}

static void decode_bad(enum cpu_mode mode, const char *msg,
		       const uint8_t *code, size_t n)
{
	struct mmio_insn in;
	char err[128] = "";

	assert_int_equal(mmio_decode(code, n, mode, &in, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
}

static void expect_load(const struct mmio_insn *in, unsigned int size,
			unsigned int reg)
{
	assert_false(in->write);
	assert_false(in->has_imm);
	assert_false(in->zero_extend);
	assert_int_equal(in->size, size);
	assert_int_equal(in->dest_size, size);
	assert_int_equal(in->reg, reg);
}

static void expect_store(const struct mmio_insn *in, unsigned int size,
			 unsigned int reg)
{
	assert_true(in->write);
	assert_false(in->has_imm);
	assert_int_equal(in->size, size);
	assert_int_equal(in->dest_size, 0);
	assert_int_equal(in->reg, reg);
}

static void expect_imm(const struct mmio_insn *in, unsigned int size,
		       uint64_t imm)
{
	assert_true(in->write);
	assert_true(in->has_imm);
	assert_int_equal(in->size, size);
	assert_int_equal(in->imm, imm);
}

static void expect_movzx(const struct mmio_insn *in, unsigned int size,
			 unsigned int dest_size, unsigned int reg)
{
	assert_false(in->write);
	assert_true(in->zero_extend);
	assert_int_equal(in->size, size);
	assert_int_equal(in->dest_size, dest_size);
	assert_int_equal(in->reg, reg);
}

/* regs[i] = PATTERN + i, so any register touched by mistake shows */
static void fill(uint64_t regs[GPR_COUNT])
{
	int i;

	for (i = 0; i < GPR_COUNT; i++)
		regs[i] = PATTERN + (uint64_t)i;
}

/* Loads @val and checks that only @reg changed, to @want. */
static void expect_loaded(const struct mmio_insn *in, uint64_t val,
			  unsigned int reg, uint64_t want)
{
	uint64_t regs[GPR_COUNT], before[GPR_COUNT];
	unsigned int i;

	fill(regs);
	fill(before);
	mmio_load_result(in, regs, val);
	for (i = 0; i < GPR_COUNT; i++)
		assert_int_equal(regs[i], i == reg ? want : before[i]);
}

static uint64_t stored(const struct mmio_insn *in)
{
	uint64_t regs[GPR_COUNT];

	fill(regs);
	return mmio_store_value(in, regs);
}

/* ---- what gcc emits for Linux's accessors (64-bit mode) ---- */

static void test_readl(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x8b, 0x07);

	expect_load(&in, 4, GPR_RAX);
	assert_false(in.high_byte);
}

static void test_readq(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x48, 0x8b, 0x07);

	expect_load(&in, 8, GPR_RAX);
}

static void test_readw_movzx(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x0f, 0xb7, 0x07);

	expect_movzx(&in, 2, 4, GPR_RAX);
}

static void test_readb_movzx(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x0f, 0xb6, 0x47, 0x10);

	expect_movzx(&in, 1, 4, GPR_RAX);
}

static void test_movzx_operand_sizes(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x48, 0x0f, 0xb6, 0x07);
	expect_movzx(&in, 1, 8, GPR_RAX);
	in = OK(MODE_LONG64, 0x66, 0x0f, 0xb6, 0x07);
	expect_movzx(&in, 1, 2, GPR_RAX);
	in = OK(MODE_LONG64, 0x66, 0x0f, 0xb7, 0x07);
	expect_movzx(&in, 2, 2, GPR_RAX);
	/* movzbl 0x8(%r12),%r9d */
	in = OK(MODE_LONG64, 0x45, 0x0f, 0xb6, 0x4c, 0x24, 0x08);
	expect_movzx(&in, 1, 4, GPR_R9);
	assert_false(in.high_byte);
	/* no high byte for movzx destinations: reg 4 is ESP */
	in = OK(MODE_LONG64, 0x0f, 0xb6, 0x27);
	expect_movzx(&in, 1, 4, GPR_RSP);
	assert_false(in.high_byte);
}

static void test_writew(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x66, 0x89, 0x37);

	expect_store(&in, 2, GPR_RSI);
}

static void test_writeb(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x88, 0x07);

	expect_store(&in, 1, GPR_RAX);
	assert_false(in.high_byte);
}

static void test_writel_rex_r(void **state)
{
	(void)state;
	/* mov %r8d,0x10(%rax) */
	struct mmio_insn in = OK(MODE_LONG64, 0x44, 0x89, 0x40, 0x10);

	expect_store(&in, 4, GPR_R8);
}

static void test_writeq_rex_wr(void **state)
{
	(void)state;
	/* mov %r15,(%rdi) */
	struct mmio_insn in = OK(MODE_LONG64, 0x4c, 0x89, 0x3f);

	expect_store(&in, 8, GPR_R15);
}

static void test_writel_imm(void **state)
{
	(void)state;
	struct mmio_insn in =
		OK(MODE_LONG64, 0xc7, 0x47, 0x08, 0x01, 0x00, 0x00, 0x00);

	expect_imm(&in, 4, 1);
}

static void test_writeq_imm_sign_extended(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);
	expect_imm(&in, 8, 0xffffffffffffffffull);
	in = OK(MODE_LONG64, 0x48, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80);
	expect_imm(&in, 8, 0xffffffff80000000ull);
	in = OK(MODE_LONG64, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0x7f);
	expect_imm(&in, 8, 0x7fffffffull);
}

static void test_writel_imm_not_extended(void **state)
{
	(void)state;
	struct mmio_insn in =
		OK(MODE_LONG64, 0xc7, 0x07, 0x00, 0x00, 0x00, 0x80);

	expect_imm(&in, 4, 0x80000000ull);
}

static void test_writew_writeb_imm(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x66, 0xc7, 0x07, 0x34, 0x12);
	expect_imm(&in, 2, 0x1234);
	in = OK(MODE_LONG64, 0xc6, 0x07, 0x5a);
	expect_imm(&in, 1, 0x5a);
	/* movb $0x1,0x100(%r12,%rbx,4): SIB, disp32 and imm8 */
	in = OK(MODE_LONG64, 0x41, 0xc6, 0x84, 0x9c, 0x00, 0x01, 0x00, 0x00,
		0x01);
	expect_imm(&in, 1, 1);
	/* the largest supported form fills 15 bytes with three prefixes */
	in = OK(MODE_LONG64, 0x2e, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x24, 0x00,
		0x01, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff);
	expect_imm(&in, 8, 0xfffffffffffffffeull);
}

static void test_readb_disp8(void **state)
{
	(void)state;
	/* mov -0x1(%rdi),%al */
	struct mmio_insn in = OK(MODE_LONG64, 0x8a, 0x47, 0xff);

	expect_load(&in, 1, GPR_RAX);
	assert_false(in.high_byte);
}

static void test_sib_disp32_rex_b(void **state)
{
	(void)state;
	/* mov 0x100(%r12),%eax: REX.B extends the base, not the register */
	struct mmio_insn in = OK(MODE_LONG64, 0x41, 0x8b, 0x84, 0x24, 0x00,
				 0x01, 0x00, 0x00);

	expect_load(&in, 4, GPR_RAX);
}

static void test_disp32_and_sib_disp8(void **state)
{
	(void)state;
	struct mmio_insn in;

	/* mov 0x1000(%rdi),%eax */
	in = OK(MODE_LONG64, 0x8b, 0x87, 0x00, 0x10, 0x00, 0x00);
	expect_load(&in, 4, GPR_RAX);
	/* mov 0x8(%rsp),%eax */
	in = OK(MODE_LONG64, 0x8b, 0x44, 0x24, 0x08);
	expect_load(&in, 4, GPR_RAX);
	/* mov (%rsp),%eax */
	in = OK(MODE_LONG64, 0x8b, 0x04, 0x24);
	expect_load(&in, 4, GPR_RAX);
	/* mov 0x8(%rax,%rcx,8),%edx */
	in = OK(MODE_LONG64, 0x8b, 0x54, 0xc8, 0x08);
	expect_load(&in, 4, GPR_RDX);
	/* mov (%r11,%r10,2),%r9: REX.WRXB */
	in = OK(MODE_LONG64, 0x4f, 0x8b, 0x0c, 0x53);
	expect_load(&in, 8, GPR_R9);
}

static void test_rip_relative(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12);
	expect_load(&in, 4, GPR_RAX);
	/* REX.B does not turn rm=101 into r13: still RIP-relative */
	in = OK(MODE_LONG64, 0x41, 0x8b, 0x05, 0x78, 0x56, 0x34, 0x12);
	expect_load(&in, 4, GPR_RAX);
	/* with 0x67 it is EIP-relative, same length */
	in = OK(MODE_LONG64, 0x67, 0x89, 0x15, 0x78, 0x56, 0x34, 0x12);
	expect_store(&in, 4, GPR_RDX);
	/* movl $0x1,0x0(%rip): disp32 then imm32 */
	in = OK(MODE_LONG64, 0xc7, 0x05, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
		0x00, 0x00);
	expect_imm(&in, 4, 1);
}

static void test_sib_without_base(void **state)
{
	(void)state;
	struct mmio_insn in;

	/* mov %fs:0x28,%eax */
	in = OK(MODE_LONG64, 0x64, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00);
	expect_load(&in, 4, GPR_RAX);
	/* mov 0x0(,%rcx,4),%eax */
	in = OK(MODE_LONG64, 0x8b, 0x04, 0x8d, 0x00, 0x00, 0x00, 0x00);
	expect_load(&in, 4, GPR_RAX);
	/* base 101 with mod 01 is rbp + disp8; with mod 10 rbp + disp32 */
	in = OK(MODE_LONG64, 0x8b, 0x44, 0x25, 0x08);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_LONG64, 0x8b, 0x84, 0x25, 0x00, 0x01, 0x00, 0x00);
	expect_load(&in, 4, GPR_RAX);
	/* REX.B with SIB base 101 and mod 00: still no base, disp32 */
	in = OK(MODE_LONG64, 0x41, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00);
	expect_load(&in, 4, GPR_RAX);
}

static void test_moffs_long_mode(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0xa1, 0x00, 0x10, 0x00, 0xfe, 0xff, 0xff, 0xff,
		0xff);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_LONG64, 0x48, 0xa1, 0x00, 0x10, 0x00, 0xfe, 0xff, 0xff,
		0xff, 0xff);
	expect_load(&in, 8, GPR_RAX);
	in = OK(MODE_LONG64, 0x67, 0xa1, 0x00, 0x10, 0x00, 0xfe);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_LONG64, 0xa0, 1, 2, 3, 4, 5, 6, 7, 8);
	expect_load(&in, 1, GPR_RAX);
	assert_false(in.high_byte);
	in = OK(MODE_LONG64, 0xa2, 1, 2, 3, 4, 5, 6, 7, 8);
	expect_store(&in, 1, GPR_RAX);
	in = OK(MODE_LONG64, 0x66, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8);
	expect_store(&in, 2, GPR_RAX);
}

static void test_moffs_rex_after_67(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x67, 0x48, 0xa3, 1, 2, 3, 4);

	expect_store(&in, 8, GPR_RAX);
}

static void test_rex_w_beats_66(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x66, 0x48, 0x8b, 0x07);

	expect_load(&in, 8, GPR_RAX);
	in = OK(MODE_LONG64, 0x66, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);
	expect_imm(&in, 8, 0xffffffffffffffffull);
}

static void test_prefixes_in_any_order(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x64, 0x66, 0x89, 0x07);
	expect_store(&in, 2, GPR_RAX);
	in = OK(MODE_LONG64, 0x66, 0x64, 0x89, 0x07);
	expect_store(&in, 2, GPR_RAX);
	in = OK(MODE_LONG64, 0x3e, 0x26, 0x36, 0x65, 0x2e, 0x67, 0x66, 0x66,
		0x8b, 0x07);
	expect_load(&in, 2, GPR_RAX);
	/* thirteen prefixes and a two-byte mov: exactly 15 */
	in = OK(MODE_LONG64, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
		0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x8b, 0x07);
	expect_load(&in, 4, GPR_RAX);
}

static void test_high_byte_registers(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x88, 0x27); /* mov %ah,(%rdi) */
	expect_store(&in, 1, GPR_RAX);
	assert_true(in.high_byte);
	in = OK(MODE_LONG64, 0x88, 0x2f); /* mov %ch,(%rdi) */
	expect_store(&in, 1, GPR_RCX);
	assert_true(in.high_byte);
	in = OK(MODE_LONG64, 0x8a, 0x37); /* mov (%rdi),%dh */
	expect_load(&in, 1, GPR_RDX);
	assert_true(in.high_byte);
	in = OK(MODE_LONG64, 0x8a, 0x3f); /* mov (%rdi),%bh */
	expect_load(&in, 1, GPR_RBX);
	assert_true(in.high_byte);
	in = OK(MODE_LONG64, 0x8a, 0x1f); /* mov (%rdi),%bl */
	expect_load(&in, 1, GPR_RBX);
	assert_false(in.high_byte);
}

static void test_rex_byte_registers(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x40, 0x88, 0x27); /* mov %spl,(%rdi) */
	expect_store(&in, 1, GPR_RSP);
	assert_false(in.high_byte);
	in = OK(MODE_LONG64, 0x40, 0x8a, 0x3f); /* mov (%rdi),%dil */
	expect_load(&in, 1, GPR_RDI);
	assert_false(in.high_byte);
	in = OK(MODE_LONG64, 0x41, 0x88, 0x37); /* mov %sil,(%r15) */
	expect_store(&in, 1, GPR_RSI);
	assert_false(in.high_byte);
	in = OK(MODE_LONG64, 0x44, 0x88, 0x27); /* mov %r12b,(%rdi) */
	expect_store(&in, 1, GPR_R12);
	assert_false(in.high_byte);
	in = OK(MODE_LONG64, 0x48, 0x8a, 0x2f); /* REX.W: still %bpl */
	expect_load(&in, 1, GPR_RBP);
	assert_false(in.high_byte);
}

/* ---- 16-bit and 32-bit modes ---- */

static void test_real_mode_bx_disp8(void **state)
{
	(void)state;
	/* mov ax,[bx+2] */
	struct mmio_insn in = OK(MODE_REAL, 0x8b, 0x47, 0x02);

	expect_load(&in, 2, GPR_RAX);
}

static void test_prot16_32bit_addressing(void **state)
{
	(void)state;
	/* mov ax,[esp+4] */
	struct mmio_insn in = OK(MODE_PROT16, 0x67, 0x8b, 0x44, 0x24, 0x04);

	expect_load(&in, 2, GPR_RAX);
}

static void test_16bit_modrm_lengths(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_REAL, 0x8b, 0x36, 0x34, 0x12); /* mov si,[0x1234] */
	expect_load(&in, 2, GPR_RSI);
	in = OK(MODE_REAL, 0x8b, 0x87, 0x00, 0x10); /* mov ax,[bx+0x1000] */
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_REAL, 0x8b, 0x04); /* mov ax,[si]: no SIB in 16-bit */
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_REAL, 0x8b, 0x05); /* mov ax,[di]: no disp32 */
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_PROT16, 0x8b, 0x46, 0x00); /* mov ax,[bp+0] */
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_PROT16, 0x88, 0x66, 0xfe); /* mov [bp-2],ah */
	expect_store(&in, 1, GPR_RAX);
	assert_true(in.high_byte);
	/* 0x67 in 32-bit mode selects the same 16-bit forms */
	in = OK(MODE_PROT32, 0x67, 0x8b, 0x47, 0x02);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_PROT32, 0x67, 0x8b, 0x36, 0x34, 0x12);
	expect_load(&in, 4, GPR_RSI);
}

static void test_16bit_operand_sizes(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_REAL, 0x66, 0x8b, 0x07); /* mov eax,[bx] */
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_REAL, 0x0f, 0xb6, 0x07); /* movzx ax,byte [bx] */
	expect_movzx(&in, 1, 2, GPR_RAX);
	in = OK(MODE_REAL, 0x66, 0x0f, 0xb7, 0x07); /* movzx eax,word [bx] */
	expect_movzx(&in, 2, 4, GPR_RAX);
	in = OK(MODE_REAL, 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56);
	expect_imm(&in, 2, 0x5678);
	in = OK(MODE_PROT16, 0x66, 0xc7, 0x06, 0x34, 0x12, 0x78, 0x56, 0x34,
		0x12);
	expect_imm(&in, 4, 0x12345678);
}

static void test_16bit_moffs(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_REAL, 0xa1, 0x34, 0x12);
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_REAL, 0x67, 0xa1, 0x78, 0x56, 0x34, 0x12);
	expect_load(&in, 2, GPR_RAX);
	in = OK(MODE_PROT16, 0x66, 0xa3, 0x34, 0x12);
	expect_store(&in, 4, GPR_RAX);
}

static void test_prot32_forms(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_PROT32, 0x8b, 0x07);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_PROT32, 0x8b, 0x04, 0x24);
	expect_load(&in, 4, GPR_RAX);
	/* mod 00 rm 101 is an absolute disp32 outside long mode */
	in = OK(MODE_PROT32, 0x89, 0x1d, 0x00, 0x00, 0xc0, 0xfe);
	expect_store(&in, 4, GPR_RBX);
	in = OK(MODE_PROT32, 0x66, 0x89, 0x37);
	expect_store(&in, 2, GPR_RSI);
	in = OK(MODE_PROT32, 0xa1, 0x00, 0x00, 0xc0, 0xfe);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_PROT32, 0x67, 0xa1, 0x00, 0x10);
	expect_load(&in, 4, GPR_RAX);
	in = OK(MODE_PROT32, 0x88, 0x3f); /* mov [edi],bh */
	expect_store(&in, 1, GPR_RBX);
	assert_true(in.high_byte);
}

static void test_no_rex_outside_long_mode(void **state)
{
	(void)state;
	BAD(MODE_PROT32, "mmio: unsupported opcode 0x48", 0x48, 0x8b, 0x07);
	BAD(MODE_REAL, "mmio: unsupported opcode 0x40", 0x40, 0x88, 0x27);
	BAD(MODE_PROT16, "mmio: unsupported opcode 0x41",
	    0x66, 0x41, 0x8b, 0x07);
}

/* ---- rejections ---- */

static void test_lock_prefix(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: LOCK prefix (0xf0)", 0xf0, 0x89, 0x07);
	BAD(MODE_LONG64, "mmio: LOCK prefix (0xf0)", 0x66, 0xf0, 0x89, 0x07);
}

static void test_rep_prefixes(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: REP prefix (0xf3)", 0xf3, 0x89, 0x07);
	BAD(MODE_LONG64, "mmio: REPNE prefix (0xf2)", 0xf2, 0x8b, 0x07);
	BAD(MODE_REAL, "mmio: REP prefix (0xf3)", 0x2e, 0xf3, 0xa1, 0, 0);
}

static void test_register_operand(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: register operand (ModRM mod=3): 0xc0",
	    0x89, 0xc0);
	BAD(MODE_LONG64, "mmio: register operand (ModRM mod=3): 0xc8",
	    0x0f, 0xb6, 0xc8);
	BAD(MODE_LONG64, "mmio: register operand (ModRM mod=3): 0xc7",
	    0x48, 0xc7, 0xc7, 1, 0, 0, 0);
	BAD(MODE_REAL, "mmio: register operand (ModRM mod=3): 0xd8",
	    0x8a, 0xd8);
}

static void test_unsupported_opcodes(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: unsupported opcode 0x0f 0xaf",
	    0x0f, 0xaf, 0x07);
	BAD(MODE_LONG64, "mmio: unsupported opcode 0x0f 0xbe",
	    0x0f, 0xbe, 0x07); /* movsx */
	BAD(MODE_LONG64, "mmio: unsupported opcode 0x01", 0x01, 0x07);
	BAD(MODE_LONG64, "mmio: unsupported opcode 0x8d", 0x8d, 0x07);
	BAD(MODE_LONG64, "mmio: unsupported opcode 0xa5", 0xa5); /* movs */
	BAD(MODE_LONG64, "mmio: unsupported opcode 0x90", 0x90);
}

static void test_c6_c7_other_extensions(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: unsupported opcode 0xc7 /1",
	    0xc7, 0x4f, 0x08, 1, 0, 0, 0);
	BAD(MODE_LONG64, "mmio: unsupported opcode 0xc6 /7", 0xc6, 0xf8, 0);
	BAD(MODE_LONG64, "mmio: unsupported opcode 0xc7 /7",
	    0xc7, 0xf8, 0, 0, 0, 0);
}

static void test_rex_not_before_opcode(void **state)
{
	(void)state;
	BAD(MODE_LONG64,
	    "mmio: REX prefix 0x48 not immediately before the opcode",
	    0x48, 0x66, 0x8b, 0x07);
	BAD(MODE_LONG64,
	    "mmio: REX prefix 0x41 not immediately before the opcode",
	    0x41, 0x64, 0x8b, 0x07);
	BAD(MODE_LONG64,
	    "mmio: REX prefix 0x40 not immediately before the opcode",
	    0x40, 0x48, 0x8b, 0x07);
	BAD(MODE_LONG64,
	    "mmio: REX prefix 0x48 not immediately before the opcode",
	    0x48, 0xf0, 0x89, 0x07);
}

static void test_too_long(void **state)
{
	(void)state;
	/* fourteen prefixes: the opcode would be byte 15 and ModRM 16 */
	BAD(MODE_LONG64, "mmio: instruction longer than 15 bytes",
	    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x66, 0x66, 0x8b, 0x07);
	/* four prefixes before the 15-byte maximum form: its imm32 ends at
	 * byte 16 */
	BAD(MODE_LONG64, "mmio: instruction longer than 15 bytes",
	    0x2e, 0x2e, 0x66, 0x67, 0x48, 0xc7, 0x84, 0x24, 0x00, 0x01, 0x00,
	    0x00, 0xfe, 0xff, 0xff, 0xff);
	/* only prefixes */
	BAD(MODE_REAL, "mmio: instruction longer than 15 bytes",
	    0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26,
	    0x26, 0x26, 0x26, 0x26, 0x26, 0x26, 0x26);
}

static void test_truncated(void **state)
{
	(void)state;
	BAD(MODE_LONG64, "mmio: instruction truncated after 3 bytes",
	    0x8b, 0x44, 0x24);
	decode_bad(MODE_LONG64, "mmio: instruction truncated after 0 bytes",
		   NULL, 0);
	BAD(MODE_LONG64, "mmio: instruction truncated after 1 byte", 0x0f);
	BAD(MODE_LONG64, "mmio: instruction truncated after 2 bytes",
	    0x66, 0x48);
	BAD(MODE_LONG64, "mmio: instruction truncated after 5 bytes",
	    0xa1, 1, 2, 3, 4);
	BAD(MODE_PROT32, "mmio: instruction truncated after 6 bytes",
	    0xc7, 0x05, 0, 0, 0, 0);
}

static void test_unknown_mode(void **state)
{
	(void)state;
	BAD((enum cpu_mode)7, "mmio: unknown CPU mode 7", 0x8b, 0x07);
}

static void test_error_buffer_and_out(void **state)
{
	(void)state;
	const uint8_t lock[] = { 0xf0, 0x89, 0x07 };
	struct mmio_insn in;
	char err[24];

	memset(err, 'x', sizeof(err));
	assert_int_equal(mmio_decode(lock, sizeof(lock), MODE_LONG64, &in,
				     err, 8), -1);
	assert_string_equal(err, "mmio: L");
	assert_int_equal(err[8], 'x');
	/* no error buffer at all */
	assert_int_equal(mmio_decode(lock, sizeof(lock), MODE_LONG64, &in,
				     NULL, 64), -1);
	assert_int_equal(mmio_decode(lock, sizeof(lock), MODE_LONG64, &in,
				     err, 0), -1);
	assert_int_equal(err[8], 'x');
	/* a refused decoding leaves nothing half-filled */
	assert_int_equal(in.len, 0);
	assert_int_equal(in.size, 0);
}

static void test_bytes_after_fifteen_never_read(void **state)
{
	(void)state;
	/* ASan would flag a read of code[15] if avail were trusted */
	uint8_t code[MMIO_INSN_MAX];
	struct mmio_insn in;
	char err[64];

	memset(code, 0x2e, sizeof(code));
	assert_int_equal(mmio_decode(code, 4096, MODE_LONG64, &in, err,
				     sizeof(err)), -1);
	assert_string_equal(err, "mmio: instruction longer than 15 bytes");
}

/* ---- store values ---- */

static void test_store_values_from_registers(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x88, 0x07); /* %al */
	assert_int_equal(stored(&in), 0x88);
	in = OK(MODE_LONG64, 0x88, 0x27); /* %ah */
	assert_int_equal(stored(&in), 0x77);
	in = OK(MODE_LONG64, 0x88, 0x3f); /* %bh */
	assert_int_equal(stored(&in), (PATTERN + GPR_RBX) >> 8 & 0xff);
	in = OK(MODE_LONG64, 0x40, 0x88, 0x27); /* %spl */
	assert_int_equal(stored(&in), (PATTERN + GPR_RSP) & 0xff);
	in = OK(MODE_LONG64, 0x66, 0x89, 0x37); /* %si */
	assert_int_equal(stored(&in), (PATTERN + GPR_RSI) & 0xffff);
	in = OK(MODE_LONG64, 0x89, 0x07); /* %eax */
	assert_int_equal(stored(&in), 0x55667788);
	in = OK(MODE_LONG64, 0x48, 0x89, 0x07); /* %rax */
	assert_int_equal(stored(&in), PATTERN);
	in = OK(MODE_LONG64, 0x44, 0x89, 0x40, 0x10); /* %r8d */
	assert_int_equal(stored(&in), (PATTERN + GPR_R8) & 0xffffffff);
	in = OK(MODE_LONG64, 0x4c, 0x89, 0x3f); /* %r15 */
	assert_int_equal(stored(&in), PATTERN + GPR_R15);
	in = OK(MODE_LONG64, 0xa3, 1, 2, 3, 4, 5, 6, 7, 8); /* %eax */
	assert_int_equal(stored(&in), 0x55667788);
	in = OK(MODE_REAL, 0x89, 0x1e, 0x34, 0x12); /* mov [0x1234],bx */
	assert_int_equal(stored(&in), (PATTERN + GPR_RBX) & 0xffff);
}

static void test_store_values_from_immediates(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0xc6, 0x07, 0xa5);
	assert_int_equal(stored(&in), 0xa5);
	in = OK(MODE_LONG64, 0x66, 0xc7, 0x07, 0xcd, 0xab);
	assert_int_equal(stored(&in), 0xabcd);
	in = OK(MODE_LONG64, 0xc7, 0x47, 0x08, 0x01, 0x00, 0x00, 0x00);
	assert_int_equal(stored(&in), 1);
	in = OK(MODE_LONG64, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(stored(&in), 0xffffffff);
	in = OK(MODE_LONG64, 0x48, 0xc7, 0x07, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(stored(&in), 0xffffffffffffffffull);
}

/* ---- load results ---- */

static void test_load_partial_registers(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x8a, 0x07); /* %al */
	expect_loaded(&in, 0xffffffffffffffa5ull, GPR_RAX,
		      0x11223344556677a5ull);
	in = OK(MODE_LONG64, 0x8a, 0x27); /* %ah */
	expect_loaded(&in, 0xa5, GPR_RAX, 0x112233445566a588ull);
	in = OK(MODE_LONG64, 0x8a, 0x3f); /* %bh */
	expect_loaded(&in, 0x1a5, GPR_RBX, 0x112233445566a58bull);
	in = OK(MODE_LONG64, 0x40, 0x8a, 0x27); /* %spl */
	expect_loaded(&in, 0xa5, GPR_RSP, 0x11223344556677a5ull);
	in = OK(MODE_LONG64, 0x66, 0x8b, 0x07); /* %ax */
	expect_loaded(&in, 0xdeadbeef, GPR_RAX, 0x112233445566beefull);
	in = OK(MODE_LONG64, 0x66, 0x44, 0x8b, 0x07); /* %r8w */
	expect_loaded(&in, 0xbeef, GPR_R8, 0x112233445566beefull);
}

static void test_load_32bit_zeroes_upper(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x8b, 0x07);
	expect_loaded(&in, 0xcafef00ddeadbeefull, GPR_RAX, 0xdeadbeef);
	in = OK(MODE_LONG64, 0x44, 0x8b, 0x3f); /* %r15d */
	expect_loaded(&in, 0x80000000, GPR_R15, 0x80000000);
	in = OK(MODE_LONG64, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8);
	expect_loaded(&in, 0x12345678, GPR_RAX, 0x12345678);
}

static void test_load_64bit_replaces(void **state)
{
	(void)state;
	struct mmio_insn in = OK(MODE_LONG64, 0x48, 0x8b, 0x07);

	expect_loaded(&in, 0xcafef00ddeadbeefull, GPR_RAX,
		      0xcafef00ddeadbeefull);
	in = OK(MODE_LONG64, 0x4c, 0x8b, 0x0f); /* %r9 */
	expect_loaded(&in, 0, GPR_R9, 0);
}

static void test_load_movzx(void **state)
{
	(void)state;
	struct mmio_insn in;

	in = OK(MODE_LONG64, 0x0f, 0xb6, 0x07); /* movzbl -> %eax */
	expect_loaded(&in, 0xffffffffffffff80ull, GPR_RAX, 0x80);
	in = OK(MODE_LONG64, 0x0f, 0xb7, 0x3f); /* movzwl -> %edi */
	expect_loaded(&in, 0xffff8001, GPR_RDI, 0x8001);
	in = OK(MODE_LONG64, 0x48, 0x0f, 0xb7, 0x07); /* movzwq -> %rax */
	expect_loaded(&in, 0xffff8001, GPR_RAX, 0x8001);
	in = OK(MODE_LONG64, 0x66, 0x0f, 0xb6, 0x07); /* movzbw -> %ax */
	expect_loaded(&in, 0x1ff, GPR_RAX, 0x11223344556600ffull);
	in = OK(MODE_LONG64, 0x0f, 0xb6, 0x27); /* movzbl -> %esp */
	expect_loaded(&in, 0x42, GPR_RSP, 0x42);
	in = OK(MODE_REAL, 0x0f, 0xb6, 0x07); /* movzx ax,byte [bx] */
	expect_loaded(&in, 0xff, GPR_RAX, 0x11223344556600ffull);
}

/* ---- property: random bytes never yield a bad decoding ---- */

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Prefix and opcode bytes are drawn often so that many buffers decode. */
static uint8_t random_byte(uint64_t *s)
{
	static const uint8_t likely[] = {
		0x66, 0x67, 0x2e, 0x64, 0xf0, 0xf3, 0x40, 0x41, 0x44, 0x48,
		0x4c, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0xa0, 0xa1, 0xa2,
		0xa3, 0x0f, 0xb6, 0xb7,
	};
	uint64_t r = xorshift(s);

	if (r & 1)
		return (uint8_t)(r >> 8);
	return likely[(r >> 8) % sizeof(likely)];
}

static void check_decoding(const struct mmio_insn *in, const uint8_t *buf,
			   enum cpu_mode mode)
{
	struct mmio_insn again;
	uint64_t regs[GPR_COUNT] = { 0 };
	char err[128];

	assert_in_range(in->len, 1, MMIO_INSN_MAX);
	assert_true(in->size == 1 || in->size == 2 || in->size == 4 ||
		    in->size == 8);
	assert_in_range(in->reg, 0, GPR_COUNT - 1);
	if (in->high_byte)
		assert_true(in->size == 1 && in->reg < 4 &&
			    !in->zero_extend);
	if (in->write) {
		assert_false(in->zero_extend);
		assert_int_equal(in->dest_size, 0);
		(void)mmio_store_value(in, regs);
	} else {
		assert_false(in->has_imm);
		assert_true(in->dest_size == in->size ||
			    (in->zero_extend && in->dest_size > in->size));
		mmio_load_result(in, regs, ~0ull);
	}
	/* the length it claims is exactly what it needs */
	assert_int_equal(mmio_decode(buf, in->len, mode, &again, err,
				     sizeof(err)), 0);
	assert_memory_equal(in, &again, sizeof(again));
}

static void test_random_buffers(void **state)
{
	(void)state;
	uint64_t seed = 0x6b65656c6b65656cull;
	unsigned int accepted = 0;
	long i;

	for (i = 0; i < 100000; i++) {
		enum cpu_mode mode = (enum cpu_mode)(i % 4);
		uint8_t buf[MMIO_INSN_MAX];
		struct mmio_insn in;
		char err[128];
		size_t j;

		for (j = 0; j < sizeof(buf); j++)
			buf[j] = random_byte(&seed);
		if (mmio_decode(buf, sizeof(buf), mode, &in, err,
				sizeof(err))) {
			assert_memory_equal(err, "mmio: ", 6);
			continue;
		}
		check_decoding(&in, buf, mode);
		accepted++;
	}
	/* make sure the property was exercised, not vacuously true */
	assert_true(accepted > 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readl),
		cmocka_unit_test(test_readq),
		cmocka_unit_test(test_readw_movzx),
		cmocka_unit_test(test_readb_movzx),
		cmocka_unit_test(test_movzx_operand_sizes),
		cmocka_unit_test(test_writew),
		cmocka_unit_test(test_writeb),
		cmocka_unit_test(test_writel_rex_r),
		cmocka_unit_test(test_writeq_rex_wr),
		cmocka_unit_test(test_writel_imm),
		cmocka_unit_test(test_writeq_imm_sign_extended),
		cmocka_unit_test(test_writel_imm_not_extended),
		cmocka_unit_test(test_writew_writeb_imm),
		cmocka_unit_test(test_readb_disp8),
		cmocka_unit_test(test_sib_disp32_rex_b),
		cmocka_unit_test(test_disp32_and_sib_disp8),
		cmocka_unit_test(test_rip_relative),
		cmocka_unit_test(test_sib_without_base),
		cmocka_unit_test(test_moffs_long_mode),
		cmocka_unit_test(test_moffs_rex_after_67),
		cmocka_unit_test(test_rex_w_beats_66),
		cmocka_unit_test(test_prefixes_in_any_order),
		cmocka_unit_test(test_high_byte_registers),
		cmocka_unit_test(test_rex_byte_registers),
		cmocka_unit_test(test_real_mode_bx_disp8),
		cmocka_unit_test(test_prot16_32bit_addressing),
		cmocka_unit_test(test_16bit_modrm_lengths),
		cmocka_unit_test(test_16bit_operand_sizes),
		cmocka_unit_test(test_16bit_moffs),
		cmocka_unit_test(test_prot32_forms),
		cmocka_unit_test(test_no_rex_outside_long_mode),
		cmocka_unit_test(test_lock_prefix),
		cmocka_unit_test(test_rep_prefixes),
		cmocka_unit_test(test_register_operand),
		cmocka_unit_test(test_unsupported_opcodes),
		cmocka_unit_test(test_c6_c7_other_extensions),
		cmocka_unit_test(test_rex_not_before_opcode),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_unknown_mode),
		cmocka_unit_test(test_error_buffer_and_out),
		cmocka_unit_test(test_bytes_after_fifteen_never_read),
		cmocka_unit_test(test_store_values_from_registers),
		cmocka_unit_test(test_store_values_from_immediates),
		cmocka_unit_test(test_load_partial_registers),
		cmocka_unit_test(test_load_32bit_zeroes_upper),
		cmocka_unit_test(test_load_64bit_replaces),
		cmocka_unit_test(test_load_movzx),
		cmocka_unit_test(test_random_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
