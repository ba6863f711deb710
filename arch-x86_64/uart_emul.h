/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The 16550A a partition sees at its COM port: a register model that relays
 * what the partition transmits to keel's console line by line. It never
 * raises an interrupt and never has received data.
 */
#ifndef KEEL_ARCH_UART_EMUL_H
#define KEEL_ARCH_UART_EMUL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_LINE_MAX 256

/* register offsets from the port base */
enum uart_emul_reg {
	UART_EMUL_DATA = 0, /* RBR / THR; DLL while LCR.DLAB */
	UART_EMUL_IER = 1, /* DLM while LCR.DLAB */
	UART_EMUL_IIR = 2, /* read: IIR, write: FCR */
	UART_EMUL_LCR = 3,
	UART_EMUL_MCR = 4,
	UART_EMUL_LSR = 5,
	UART_EMUL_MSR = 6,
	UART_EMUL_SCR = 7,
};

struct uart_emul {
	/* called with one line, without its newline; len may be 0 */
	void (*emit)(void *ctx, const char *line, size_t len);
	void *ctx;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	bool fifo_enabled;
	bool thre_reported;
	size_t len;
	char line[UART_LINE_MAX];
};

void uart_emul_init(struct uart_emul *u,
		    void (*emit)(void *ctx, const char *line, size_t len),
		    void *ctx);
/* reg 0..7; reads of other registers return 0xFF, writes are ignored */
uint8_t uart_emul_read(struct uart_emul *u, unsigned int reg);
void uart_emul_write(struct uart_emul *u, unsigned int reg, uint8_t val);
/* emits the partial line, if any */
void uart_emul_flush(struct uart_emul *u);

/*
 * The registers a handoff carries, in a fixed layout; not the partial
 * output line, which is keel's relay.
 */
struct uart_emul_state {
	uint8_t dll, dlm, ier, lcr, mcr, scr;
	uint8_t fifo_enabled; /* 0 or 1 */
	uint8_t thre_reported; /* 0 or 1: the one THRE report is spent */
};

_Static_assert(sizeof(struct uart_emul_state) == 8,
	       "struct uart_emul_state: the handoff's layout");

void uart_emul_save(const struct uart_emul *u, struct uart_emul_state *st);
/*
 * 0, or -1 with u unchanged and one sentence in err (errlen bytes with its
 * NUL) for a register the partition could not have written: reserved IER
 * or MCR bits, a flag other than 0 or 1. The line buffer stays as it is.
 */
int uart_emul_load(struct uart_emul *u, const struct uart_emul_state *st,
		   char *err, size_t errlen);

#endif
