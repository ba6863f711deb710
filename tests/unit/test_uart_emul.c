// SPDX-License-Identifier: GPL-2.0
/*
 * The partition's 16550A: driven here the way Linux 6.1's 8250 driver
 * (drivers/tty/serial/8250/8250_port.c) drives it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch-x86_64/uart_emul.h"

/* Linux's names (include/uapi/linux/serial_reg.h) */
#define UART_RX 0
#define UART_TX 0
#define UART_DLL 0
#define UART_IER 1
#define UART_DLM 1
#define UART_IIR 2
#define UART_FCR 2
#define UART_EFR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7
#define UART_IER_THRI 0x02
#define UART_IER_UUE 0x40
#define UART_IIR_NO_INT 0x01
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR_RCVR 0x02
#define UART_FCR_CLEAR_XMIT 0x04
#define UART_FCR7_64BYTE 0x20
#define UART_LCR_WLEN8 0x03
#define UART_LCR_CONF_MODE_A 0x80
#define UART_LCR_CONF_MODE_B 0xBF
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_BUG_TXEN 0x02
#define UART_BUG_THRE 0x08

enum port_type {
	PORT_NOT_FOUND,
	PORT_UNKNOWN,
	PORT_8250,
	PORT_16450,
	PORT_16550,
	PORT_16550A,
	PORT_16650,
	PORT_16550A_FSL64,
	PORT_EFR_VARIANT,
	PORT_NS16550A,
	PORT_16750,
	PORT_XSCALE,
	PORT_U6_16550A,
};

#define MAX_LINES 16

struct capture {
	unsigned int count;
	size_t len[MAX_LINES];
	char line[MAX_LINES][UART_LINE_MAX + 1];
};

static void emit(void *ctx, const char *line, size_t len)
{
	struct capture *c = ctx;

	assert_true(c->count < MAX_LINES);
	assert_true(len <= UART_LINE_MAX);
	memcpy(c->line[c->count], line, len);
	c->line[c->count][len] = '\0';
	c->len[c->count++] = len;
}

static uint8_t in(struct uart_emul *u, unsigned int reg)
{
	return uart_emul_read(u, reg);
}

static void out(struct uart_emul *u, unsigned int reg, uint8_t val)
{
	uart_emul_write(u, reg, val);
}

static void puts_uart(struct uart_emul *u, const char *s)
{
	while (*s)
		out(u, UART_TX, (uint8_t)*s++);
}

static void wait_for_xmitr(struct uart_emul *u)
{
	unsigned int tries = 10000;

	while (!(in(u, UART_LSR) & UART_LSR_THRE))
		assert_true(--tries);
}

/* size_fifo(): counts the bytes looped back in loopback mode */
static int size_fifo(struct uart_emul *u)
{
	uint8_t old_fcr, old_mcr, old_lcr, old_dll, old_dlm;
	int count;

	old_lcr = in(u, UART_LCR);
	out(u, UART_LCR, 0);
	old_fcr = in(u, UART_FCR);
	old_mcr = in(u, UART_MCR);
	out(u, UART_FCR,
	    UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	out(u, UART_MCR, UART_MCR_LOOP);
	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	old_dll = in(u, UART_DLL);
	old_dlm = in(u, UART_DLM);
	out(u, UART_DLL, 1);
	out(u, UART_DLM, 0);
	out(u, UART_LCR, UART_LCR_WLEN8);
	for (count = 0; count < 256; count++)
		out(u, UART_TX, (uint8_t)count);
	for (count = 0; (in(u, UART_LSR) & UART_LSR_DR) && count < 256; count++)
		in(u, UART_RX);
	out(u, UART_FCR, old_fcr);
	out(u, UART_MCR, old_mcr);
	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	out(u, UART_DLL, old_dll);
	out(u, UART_DLM, old_dlm);
	out(u, UART_LCR, old_lcr);
	return count;
}

/* autoconfig_16550a(); variants: CONFIG_SERIAL_8250_16550A_VARIANTS */
static enum port_type autoconfig_16550a(struct uart_emul *u, bool variants)
{
	uint8_t status1, status2, iersave;

	if (!variants)
		return PORT_16550A;

	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	if (in(u, UART_EFR) == 0) {
		out(u, UART_EFR, 0xA8);
		if (in(u, UART_EFR) != 0)
			return PORT_16650;
		out(u, UART_LCR, 0);
		out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
		status1 = in(u, UART_IIR) >> 5;
		out(u, UART_FCR, 0);
		out(u, UART_LCR, 0);
		out(u, UART_EFR, 0);
		return status1 == 7 ? PORT_16550A_FSL64 : PORT_16550A;
	}

	out(u, UART_LCR, UART_LCR_CONF_MODE_B);
	if (in(u, UART_EFR) == 0)
		return PORT_EFR_VARIANT;

	out(u, UART_LCR, 0);
	status1 = in(u, UART_MCR);
	out(u, UART_LCR, 0xE0);
	status2 = in(u, 0x02);
	if (!((status2 ^ status1) & UART_MCR_LOOP)) {
		out(u, UART_LCR, 0);
		out(u, UART_MCR, status1 ^ UART_MCR_LOOP);
		out(u, UART_LCR, 0xE0);
		status2 = in(u, 0x02);
		out(u, UART_LCR, 0);
		out(u, UART_MCR, status1);
		if ((status2 ^ status1) & UART_MCR_LOOP)
			return PORT_NS16550A;
	}

	out(u, UART_LCR, 0);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	status1 = in(u, UART_IIR) >> 5;
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_LCR, UART_LCR_CONF_MODE_A);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	status2 = in(u, UART_IIR) >> 5;
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_LCR, 0);
	if (status1 == 6 && status2 == 7)
		return PORT_16750;

	iersave = in(u, UART_IER);
	out(u, UART_IER, iersave & ~UART_IER_UUE);
	if (!(in(u, UART_IER) & UART_IER_UUE)) {
		out(u, UART_IER, iersave | UART_IER_UUE);
		if (in(u, UART_IER) & UART_IER_UUE)
			return PORT_XSCALE;
	}
	out(u, UART_IER, iersave);

	return size_fifo(u) == 64 ? PORT_U6_16550A : PORT_16550A;
}

/* autoconfig(); skip_test: UPF_SKIP_TEST, set for COM1-4 */
static enum port_type autoconfig(struct uart_emul *u, bool skip_test,
				 bool variants)
{
	uint8_t scratch, scratch2, scratch3, save_mcr, save_lcr;
	enum port_type type = PORT_UNKNOWN;

	scratch = in(u, UART_IER);
	out(u, UART_IER, 0);
	scratch2 = in(u, UART_IER) & 0x0F;
	out(u, UART_IER, 0x0F);
	scratch3 = in(u, UART_IER) & 0x0F;
	out(u, UART_IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0F)
		return PORT_NOT_FOUND;

	save_mcr = in(u, UART_MCR);
	save_lcr = in(u, UART_LCR);

	if (!skip_test) {
		out(u, UART_MCR, UART_MCR_LOOP | 0x0A);
		scratch = in(u, UART_MSR) & 0xF0;
		out(u, UART_MCR, save_mcr);
		if (scratch != 0x90)
			return PORT_NOT_FOUND;
	}

	out(u, UART_LCR, UART_LCR_CONF_MODE_B);
	out(u, UART_EFR, 0);
	out(u, UART_LCR, 0);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	scratch = in(u, UART_IIR);
	switch (scratch >> 6) {
	case 0:
		out(u, UART_SCR, 0xA5);
		scratch2 = in(u, UART_SCR);
		out(u, UART_SCR, 0x5A);
		scratch3 = in(u, UART_SCR);
		type = scratch2 == 0xA5 && scratch3 == 0x5A ? PORT_16450
							    : PORT_8250;
		break;
	case 1:
		type = PORT_UNKNOWN;
		break;
	case 2:
		type = PORT_16550;
		break;
	case 3:
		type = autoconfig_16550a(u, variants);
		break;
	}
	out(u, UART_LCR, save_lcr);
	if (type == PORT_UNKNOWN)
		return type;

	out(u, UART_MCR, save_mcr);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_FCR,
	    UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	out(u, UART_FCR, 0);
	in(u, UART_RX);
	out(u, UART_IER, 0);
	return type;
}

/* serial8250_console_write() for one line */
static void console_write(struct uart_emul *u, const char *s)
{
	uint8_t ier = in(u, UART_IER);

	out(u, UART_IER, 0);
	for (; *s; s++) {
		if (*s == '\n') {
			wait_for_xmitr(u);
			out(u, UART_TX, '\r');
		}
		wait_for_xmitr(u);
		out(u, UART_TX, (uint8_t)*s);
	}
	wait_for_xmitr(u);
	out(u, UART_IER, ier);
}

/* serial8250_do_startup() for a 16550A with an IRQ; *bugs as up->bugs */
static void startup(struct uart_emul *u, unsigned int *bugs)
{
	uint8_t iir1, iir, lsr;

	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_FCR,
	    UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	out(u, UART_FCR, 0);
	in(u, UART_LSR);
	in(u, UART_RX);
	in(u, UART_IIR);
	in(u, UART_MSR);
	assert_int_not_equal(in(u, UART_LSR), 0xFF);

	wait_for_xmitr(u);
	out(u, UART_IER, UART_IER_THRI);
	iir1 = in(u, UART_IIR);
	out(u, UART_IER, 0);
	out(u, UART_IER, UART_IER_THRI);
	iir = in(u, UART_IIR);
	out(u, UART_IER, 0);
	if (!(iir1 & UART_IIR_NO_INT) && (iir & UART_IIR_NO_INT))
		*bugs |= UART_BUG_THRE;

	out(u, UART_LCR, UART_LCR_WLEN8);
	out(u, UART_MCR, UART_MCR_OUT2);

	out(u, UART_IER, UART_IER_THRI);
	lsr = in(u, UART_LSR);
	iir = in(u, UART_IIR);
	out(u, UART_IER, 0);
	if ((lsr & UART_LSR_TEMT) && (iir & UART_IIR_NO_INT))
		*bugs |= UART_BUG_TXEN;
	else
		*bugs &= ~UART_BUG_TXEN;

	in(u, UART_LSR);
	in(u, UART_RX);
	in(u, UART_IIR);
	in(u, UART_MSR);
}

static void set_divisor(struct uart_emul *u, uint16_t quot)
{
	out(u, UART_LCR, UART_LCR_WLEN8 | UART_LCR_CONF_MODE_A);
	out(u, UART_DLL, quot & 0xFF);
	out(u, UART_DLM, quot >> 8);
	out(u, UART_LCR, UART_LCR_WLEN8);
}

static void test_reset_state(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, emit, NULL);
	assert_int_equal(in(&u, UART_RX), 0);
	assert_int_equal(in(&u, UART_IER), 0);
	assert_int_equal(in(&u, UART_IIR), 0x01);
	assert_int_equal(in(&u, UART_LCR), 0);
	assert_int_equal(in(&u, UART_MCR), 0);
	assert_int_equal(in(&u, UART_LSR), 0x60);
	assert_int_equal(in(&u, UART_MSR), 0xB0);
	assert_int_equal(in(&u, UART_SCR), 0);
}

static void test_linux_thre_test_sets_bug_thre(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;
	unsigned int bugs = 0;

	uart_emul_init(&u, emit, &c);
	startup(&u, &bugs);
	assert_int_equal(bugs, UART_BUG_THRE | UART_BUG_TXEN);
	assert_int_equal(c.count, 0);
}

static void test_thre_reported_once_ever(void **state)
{
	(void)state;
	struct uart_emul u;
	int i;

	uart_emul_init(&u, emit, NULL);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(in(&u, UART_IIR), 0xC2);
	assert_int_equal(in(&u, UART_IIR), 0xC1);
	for (i = 0; i < 4; i++) {
		out(&u, UART_IER, 0);
		out(&u, UART_IER, UART_IER_THRI | 0x01);
		assert_int_equal(in(&u, UART_IIR), 0xC1);
	}
}

static void test_thre_without_fifo(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, emit, NULL);
	out(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(in(&u, UART_IIR), 0x02);
	assert_int_equal(in(&u, UART_IIR), 0x01);
}

static void test_thre_waits_for_thri(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, emit, NULL);
	/* autoconfig()'s IER existence test, no IIR read in between */
	out(&u, UART_IER, 0x0F);
	out(&u, UART_IER, 0);
	assert_int_equal(in(&u, UART_IIR), 0x01);
	assert_int_equal(in(&u, UART_IIR), 0x01);
	out(&u, UART_IER, UART_IER_THRI);
	assert_int_equal(in(&u, UART_IIR), 0x02);
}

static void check_full_boot(bool skip_test, bool variants)
{
	struct capture c = { 0 };
	struct uart_emul u;
	unsigned int bugs = 0;

	uart_emul_init(&u, emit, &c);
	set_divisor(&u, 1);
	console_write(&u, "Linux version 6.1\n");
	assert_int_equal(autoconfig(&u, skip_test, variants), PORT_16550A);
	console_write(&u, "Serial: 8250/16550 driver\n");
	startup(&u, &bugs);
	assert_int_equal(bugs, UART_BUG_THRE | UART_BUG_TXEN);
	assert_int_equal(c.count, 2);
	assert_string_equal(c.line[0], "Linux version 6.1");
	assert_string_equal(c.line[1], "Serial: 8250/16550 driver");

	/* a second open keeps up->bugs; the test no longer sees THRE */
	startup(&u, &bugs);
	assert_int_equal(bugs, UART_BUG_THRE | UART_BUG_TXEN);
}

static void test_autoconfig_finds_16550a(void **state)
{
	(void)state;
	/* Debian's 6.1 config: no 16550A variants; COM1 has UPF_SKIP_TEST */
	check_full_boot(true, false);
	check_full_boot(false, false);
	check_full_boot(true, true);
	check_full_boot(false, true);
}

static void test_size_fifo_relays_nothing(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;

	uart_emul_init(&u, emit, &c);
	out(&u, UART_LCR, UART_LCR_WLEN8);
	assert_int_equal(size_fifo(&u), 0);
	uart_emul_flush(&u);
	assert_int_equal(c.count, 0);
	assert_int_equal(in(&u, UART_LCR), UART_LCR_WLEN8);
	assert_int_equal(in(&u, UART_MCR), 0);
}

static void test_dlab_selects_divisor(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;

	uart_emul_init(&u, emit, &c);
	out(&u, UART_IER, 0x05);
	out(&u, UART_LCR, UART_LCR_CONF_MODE_A | UART_LCR_WLEN8);
	out(&u, UART_DLL, 0x34);
	out(&u, UART_DLM, 0x12);
	assert_int_equal(in(&u, UART_DLL), 0x34);
	assert_int_equal(in(&u, UART_DLM), 0x12);
	assert_int_equal(in(&u, UART_LCR), 0x83);
	out(&u, UART_LCR, UART_LCR_WLEN8);
	assert_int_equal(in(&u, UART_IER), 0x05);
	assert_int_equal(in(&u, UART_RX), 0);
	puts_uart(&u, "x\n");
	assert_int_equal(c.count, 1);
	out(&u, UART_LCR, UART_LCR_CONF_MODE_A);
	assert_int_equal(in(&u, UART_DLL), 0x34);
	assert_int_equal(in(&u, UART_DLM), 0x12);
}

static void test_loopback_mirrors_mcr(void **state)
{
	(void)state;
	static const struct {
		uint8_t mcr, msr;
	} map[] = {
		{ UART_MCR_LOOP, 0x00 },
		{ UART_MCR_LOOP | UART_MCR_DTR, 0x20 },
		{ UART_MCR_LOOP | UART_MCR_RTS, 0x10 },
		{ UART_MCR_LOOP | UART_MCR_OUT1, 0x40 },
		{ UART_MCR_LOOP | UART_MCR_OUT2, 0x80 },
		{ UART_MCR_LOOP | 0x0A, 0x90 },
		{ UART_MCR_LOOP | 0x0F, 0xF0 },
	};
	struct capture c = { 0 };
	struct uart_emul u;
	size_t i;

	uart_emul_init(&u, emit, &c);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		out(&u, UART_MCR, map[i].mcr);
		assert_int_equal(in(&u, UART_MSR), map[i].msr);
	}
	puts_uart(&u, "looped\n");
	out(&u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	assert_int_equal(in(&u, UART_MSR), 0xB0);
	uart_emul_flush(&u);
	assert_int_equal(c.count, 0);
}

static void test_fcr_and_iir(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, emit, NULL);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	assert_int_equal(in(&u, UART_IIR), 0xC1);
	out(&u, UART_LCR, UART_LCR_CONF_MODE_A);
	assert_int_equal(in(&u, UART_IIR), 0xC1);
	out(&u, UART_FCR, 0);
	assert_int_equal(in(&u, UART_IIR), 0x01);
	out(&u, UART_LCR, UART_LCR_CONF_MODE_B);
	out(&u, UART_FCR, UART_FCR_ENABLE_FIFO);
	assert_int_equal(in(&u, UART_EFR), 0xC1);
}

static void test_plain_registers(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, emit, NULL);
	out(&u, UART_IER, 0xFF);
	assert_int_equal(in(&u, UART_IER), 0x0F);
	out(&u, UART_MCR, 0xFF);
	assert_int_equal(in(&u, UART_MCR), 0x1F);
	out(&u, UART_MCR, 0);
	out(&u, UART_SCR, 0xA5);
	assert_int_equal(in(&u, UART_SCR), 0xA5);
	out(&u, UART_SCR, 0x5A);
	assert_int_equal(in(&u, UART_SCR), 0x5A);
	out(&u, UART_LCR, 0x5B);
	assert_int_equal(in(&u, UART_LCR), 0x5B);
	out(&u, UART_LSR, 0x00);
	assert_int_equal(in(&u, UART_LSR), 0x60);
	out(&u, UART_MSR, 0x00);
	assert_int_equal(in(&u, UART_MSR), 0xB0);
	assert_int_equal(in(&u, 8), 0xFF);
	out(&u, 8, 0x00);
	assert_int_equal(in(&u, UART_SCR), 0x5A);
}

static void test_relay_lines_drops_cr(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;

	uart_emul_init(&u, emit, &c);
	puts_uart(&u, "hello\r\nworld\n\r\n");
	assert_int_equal(c.count, 3);
	assert_string_equal(c.line[0], "hello");
	assert_string_equal(c.line[1], "world");
	assert_int_equal(c.len[2], 0);
}

static void test_relay_long_lines(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;
	unsigned int i;

	uart_emul_init(&u, emit, &c);
	for (i = 0; i < UART_LINE_MAX; i++)
		out(&u, UART_TX, 'a');
	out(&u, UART_TX, '\n');
	assert_int_equal(c.count, 1);
	assert_int_equal(c.len[0], UART_LINE_MAX);

	for (i = 0; i < 2 * UART_LINE_MAX + 88; i++)
		out(&u, UART_TX, (uint8_t)('0' + i % 10));
	out(&u, UART_TX, '\n');
	assert_int_equal(c.count, 4);
	assert_int_equal(c.len[1], UART_LINE_MAX);
	assert_int_equal(c.len[2], UART_LINE_MAX);
	assert_int_equal(c.len[3], 88);
	assert_int_equal(c.line[2][0], '0' + UART_LINE_MAX % 10);
}

static void test_relay_control_bytes(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;

	uart_emul_init(&u, emit, &c);
	puts_uart(&u, "\x1b[0ma\tb\x7f\xc3\xa9~ \x01\n");
	assert_int_equal(c.count, 1);
	assert_string_equal(c.line[0], ".[0ma\tb...~ .");
}

static void test_flush_emits_partial_line(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul u;

	uart_emul_init(&u, emit, &c);
	uart_emul_flush(&u);
	assert_int_equal(c.count, 0);
	puts_uart(&u, "login: ");
	assert_int_equal(c.count, 0);
	uart_emul_flush(&u);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.line[0], "login: ");
	uart_emul_flush(&u);
	puts_uart(&u, "root\n");
	assert_int_equal(c.count, 2);
	assert_string_equal(c.line[1], "root");
}

static void test_no_callback(void **state)
{
	(void)state;
	struct uart_emul u;

	uart_emul_init(&u, NULL, NULL);
	puts_uart(&u, "dropped\npartial");
	uart_emul_flush(&u);
	assert_int_equal(u.len, 0);
}

/* ---- handoff: save and load ---- */

/* what the partition reads, with DLAB off and on; IIR, which reports, last */
static void expect_same_view(struct uart_emul *a, struct uart_emul *b)
{
	uint8_t lcr = in(a, UART_LCR);
	unsigned int dlab, reg;

	for (dlab = 0; dlab <= UART_LCR_CONF_MODE_A;
	     dlab += UART_LCR_CONF_MODE_A) {
		out(a, UART_LCR, (lcr & ~UART_LCR_CONF_MODE_A) | dlab);
		out(b, UART_LCR, (lcr & ~UART_LCR_CONF_MODE_A) | dlab);
		for (reg = 0; reg < 8; reg++)
			if (reg != UART_IIR)
				assert_int_equal(in(a, reg), in(b, reg));
	}
	out(a, UART_LCR, lcr);
	out(b, UART_LCR, lcr);
	assert_int_equal(in(a, UART_IIR), in(b, UART_IIR));
	assert_int_equal(in(a, UART_IIR), in(b, UART_IIR));
}

/* a console that ran: divisor, 8N1, FIFO, THRE spent, modem lines, scratch */
static void program(struct uart_emul *u)
{
	set_divisor(u, 0x0103);
	out(u, UART_FCR, UART_FCR_ENABLE_FIFO);
	out(u, UART_IER, UART_IER_THRI);
	assert_int_equal(in(u, UART_IIR), 0xC2);
	out(u, UART_IER, 0x05);
	out(u, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	out(u, UART_SCR, 0x5A);
}

static void test_state_round_trip(void **state)
{
	(void)state;
	struct capture c = { 0 };
	struct uart_emul a, b;
	struct uart_emul_state st, again;
	char err[64] = "";

	uart_emul_init(&a, emit, NULL);
	program(&a);
	uart_emul_save(&a, &st);
	uart_emul_init(&b, emit, &c);
	puts_uart(&b, "partial");
	assert_int_equal(uart_emul_load(&b, &st, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	uart_emul_save(&b, &again);
	assert_memory_equal(&st, &again, sizeof(st));
	expect_same_view(&a, &b);
	/* the line being relayed is keel's, not the state's */
	uart_emul_flush(&b);
	assert_int_equal(c.count, 1);
	assert_string_equal(c.line[0], "partial");
}

/* a THRE report not yet made travels too: Linux's test sees it once */
static void test_state_thre_unspent(void **state)
{
	(void)state;
	struct uart_emul a, b;
	struct uart_emul_state st;

	uart_emul_init(&a, emit, NULL);
	out(&a, UART_IER, UART_IER_THRI);
	uart_emul_save(&a, &st);
	uart_emul_init(&b, emit, NULL);
	assert_int_equal(uart_emul_load(&b, &st, NULL, 0), 0);
	assert_int_equal(in(&b, UART_IIR), 0x02);
	assert_int_equal(in(&b, UART_IIR), 0x01);
}

static void test_state_refusals(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		const char *msg;
	} bad[] = {
		{ offsetof(struct uart_emul_state, ier), 0x10,
		  "uart: IER sets reserved bits (7:4)" },
		{ offsetof(struct uart_emul_state, ier), 0x8F,
		  "uart: IER sets reserved bits (7:4)" },
		{ offsetof(struct uart_emul_state, mcr), 0x20,
		  "uart: MCR sets reserved bits (7:5)" },
		{ offsetof(struct uart_emul_state, fifo_enabled), 2,
		  "uart: fifo_enabled is neither 0 nor 1" },
		{ offsetof(struct uart_emul_state, thre_reported), 0xFF,
		  "uart: thre_reported is neither 0 nor 1" },
	};
	struct uart_emul u, before;
	struct uart_emul_state good, st;
	char err[64];
	unsigned int i;

	(void)state;
	uart_emul_init(&u, emit, NULL);
	program(&u);
	uart_emul_save(&u, &good);
	uart_emul_init(&u, emit, NULL);
	puts_uart(&u, "x");
	before = u;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st = good;
		((uint8_t *)&st)[bad[i].off] = bad[i].val;
		assert_int_equal(uart_emul_load(&u, &st, err, sizeof(err)), -1);
		assert_string_equal(err, bad[i].msg);
		assert_memory_equal(&before, &u, sizeof(u));
	}
	/* the message is cut to the buffer, or not written at all */
	assert_int_equal(uart_emul_load(&u, &st, err, 6), -1);
	assert_string_equal(err, "uart:");
	assert_int_equal(uart_emul_load(&u, &st, NULL, 0), -1);
	assert_memory_equal(&before, &u, sizeof(u));
}

/* every value of every byte: taken as it is, or refused with no change */
static void test_state_every_byte_value(void **state)
{
	/* dll, dlm, ier, lcr, mcr, scr, fifo_enabled, thre_reported */
	static const unsigned int takes[sizeof(struct uart_emul_state)] = {
		256, 256, 16, 256, 32, 256, 2, 2,
	};
	struct uart_emul u, before;
	struct uart_emul_state good, st, again;
	char err[64];
	unsigned int off, val, taken;

	(void)state;
	uart_emul_init(&u, emit, NULL);
	program(&u);
	uart_emul_save(&u, &good);
	for (off = 0; off < sizeof(st); off++) {
		taken = 0;
		for (val = 0; val < 256; val++) {
			st = good;
			((uint8_t *)&st)[off] = (uint8_t)val;
			uart_emul_init(&u, emit, NULL);
			before = u;
			err[0] = '\0';
			if (uart_emul_load(&u, &st, err, sizeof(err))) {
				assert_memory_equal(&before, &u, sizeof(u));
				assert_true(strncmp(err, "uart: ", 6) == 0);
				continue;
			}
			uart_emul_save(&u, &again);
			assert_memory_equal(&st, &again, sizeof(st));
			taken++;
		}
		assert_int_equal(taken, takes[off]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reset_state),
		cmocka_unit_test(test_linux_thre_test_sets_bug_thre),
		cmocka_unit_test(test_thre_reported_once_ever),
		cmocka_unit_test(test_thre_without_fifo),
		cmocka_unit_test(test_thre_waits_for_thri),
		cmocka_unit_test(test_autoconfig_finds_16550a),
		cmocka_unit_test(test_size_fifo_relays_nothing),
		cmocka_unit_test(test_dlab_selects_divisor),
		cmocka_unit_test(test_loopback_mirrors_mcr),
		cmocka_unit_test(test_fcr_and_iir),
		cmocka_unit_test(test_plain_registers),
		cmocka_unit_test(test_relay_lines_drops_cr),
		cmocka_unit_test(test_relay_long_lines),
		cmocka_unit_test(test_relay_control_bytes),
		cmocka_unit_test(test_flush_emits_partial_line),
		cmocka_unit_test(test_no_callback),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_thre_unspent),
		cmocka_unit_test(test_state_refusals),
		cmocka_unit_test(test_state_every_byte_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
