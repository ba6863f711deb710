// SPDX-License-Identifier: GPL-2.0
/* 16550A register model for a partition's COM port (see uart_emul.h). */
#include <string.h>

#include "arch-x86_64/uart_emul.h"

#define LCR_DLAB 0x80

#define IER_THRI 0x02
#define IER_MASK 0x0F

#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_FIFO_ENABLED 0xC0

#define FCR_ENABLE_FIFO 0x01

#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1F

#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

void uart_emul_init(struct uart_emul *u,
		    void (*emit)(void *ctx, const char *line, size_t len),
		    void *ctx)
{
	memset(u, 0, sizeof(*u));
	u->emit = emit;
	u->ctx = ctx;
	/* 9600 baud, what a PC BIOS leaves behind */
	u->dll = 0x0C;
}

static void emit_line(struct uart_emul *u)
{
	if (u->emit)
		u->emit(u->ctx, u->line, u->len);
	u->len = 0;
}

static void relay(struct uart_emul *u, uint8_t c)
{
	if (c == '\r')
		return;
	if (c == '\n') {
		emit_line(u);
		return;
	}
	/*
	 * A full buffer is emitted only now, so a line of exactly
	 * UART_LINE_MAX characters is not followed by an empty piece.
	 */
	if (u->len == UART_LINE_MAX)
		emit_line(u);
	if ((c < 0x20 || c > 0x7E) && c != '\t')
		c = '.';
	u->line[u->len++] = (char)c;
}

void uart_emul_flush(struct uart_emul *u)
{
	if (u->len)
		emit_line(u);
}

/*
 * Linux's serial8250_do_startup() enables THRI, reads IIR, disables and
 * re-enables THRI and reads IIR again; an interrupt the first time but not
 * the second sets UART_BUG_THRE, and transmission is then driven by a backup
 * timer. keel delivers no UART interrupts, so that is the behaviour we want:
 * the THRE interrupt is reported once, on the first IIR read that finds THRI
 * enabled, and deliberately never again, however often THRI goes 0 -> 1.
 * It stays armed while THRI is off so that autoconfig(), which sets IER to
 * 0x0F and back without reading IIR in between, does not use it up.
 */
static uint8_t read_iir(struct uart_emul *u)
{
	uint8_t iir = u->fifo_enabled ? IIR_FIFO_ENABLED : 0;

	if ((u->ier & IER_THRI) && !u->thre_reported) {
		u->thre_reported = true;
		return iir | IIR_THRI;
	}
	return iir | IIR_NO_INT;
}

/* in loopback the modem outputs drive the modem inputs, as on real hardware */
static uint8_t read_msr(const struct uart_emul *u)
{
	uint8_t msr = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	if (u->mcr & MCR_RTS)
		msr |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		msr |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		msr |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		msr |= MSR_DCD;
	return msr;
}

uint8_t uart_emul_read(struct uart_emul *u, unsigned int reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_EMUL_DATA:
		return dlab ? u->dll : 0;
	case UART_EMUL_IER:
		return dlab ? u->dlm : u->ier;
	case UART_EMUL_IIR:
		return read_iir(u);
	case UART_EMUL_LCR:
		return u->lcr;
	case UART_EMUL_MCR:
		return u->mcr;
	case UART_EMUL_LSR:
		return LSR_THRE | LSR_TEMT;
	case UART_EMUL_MSR:
		return read_msr(u);
	case UART_EMUL_SCR:
		return u->scr;
	default:
		return 0xFF;
	}
}

void uart_emul_write(struct uart_emul *u, unsigned int reg, uint8_t val)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_EMUL_DATA:
		if (dlab)
			u->dll = val;
		else if (!(u->mcr & MCR_LOOP))
			relay(u, val);
		break;
	case UART_EMUL_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & IER_MASK;
		break;
	case UART_EMUL_IIR:
		u->fifo_enabled = val & FCR_ENABLE_FIFO;
		break;
	case UART_EMUL_LCR:
		u->lcr = val;
		break;
	case UART_EMUL_MCR:
		u->mcr = val & MCR_MASK;
		break;
	case UART_EMUL_SCR:
		u->scr = val;
		break;
	default:
		/* LSR and MSR writes are factory test modes; ignored */
		break;
	}
}

void uart_emul_save(const struct uart_emul *u, struct uart_emul_state *st)
{
	*st = (struct uart_emul_state){
		.dll = u->dll,
		.dlm = u->dlm,
		.ier = u->ier,
		.lcr = u->lcr,
		.mcr = u->mcr,
		.scr = u->scr,
		.fifo_enabled = u->fifo_enabled,
		.thre_reported = u->thre_reported,
	};
}

static const char *load_refusal(const struct uart_emul_state *st)
{
	if (st->ier & ~IER_MASK)
		return "uart: IER sets reserved bits (7:4)";
	if (st->mcr & ~MCR_MASK)
		return "uart: MCR sets reserved bits (7:5)";
	if (st->fifo_enabled > 1)
		return "uart: fifo_enabled is neither 0 nor 1";
	if (st->thre_reported > 1)
		return "uart: thre_reported is neither 0 nor 1";
	return NULL;
}

int uart_emul_load(struct uart_emul *u, const struct uart_emul_state *st,
		   char *err, size_t errlen)
{
	const char *why = load_refusal(st);

	if (why) {
		if (errlen) {
			strncpy(err, why, errlen - 1);
			err[errlen - 1] = '\0';
		}
		return -1;
	}
	u->dll = st->dll;
	u->dlm = st->dlm;
	u->ier = st->ier;
	u->lcr = st->lcr;
	u->mcr = st->mcr;
	u->scr = st->scr;
	u->fifo_enabled = st->fifo_enabled;
	u->thre_reported = st->thre_reported;
	return 0;
}
