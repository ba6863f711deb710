// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/uart16550.h"
#include "arch-x86_64/cpu.h"

#define UART_CLOCK 115200
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_THRE 0x20
/* a missing UART never sets THRE: give up on a byte after this many polls */
#define THRE_POLLS 100000

void uart_init(uint16_t port, unsigned int baud)
{
	uint16_t div = (uint16_t)(UART_CLOCK / baud);

	outb(port + REG_IER, 0);
	outb(port + REG_LCR, LCR_DLAB);
	outb(port + REG_DATA, (uint8_t)div);
	outb(port + REG_IER, (uint8_t)(div >> 8));
	outb(port + REG_LCR, LCR_8N1);
	outb(port + REG_FCR, 0x07); /* enable and clear FIFOs */
	outb(port + REG_MCR, 0x03); /* DTR, RTS */
}

void uart_putc(uint16_t port, char c)
{
	for (int i = 0; i < THRE_POLLS; i++) {
		if (inb(port + REG_LSR) & LSR_THRE)
			break;
		cpu_relax();
	}
	outb(port + REG_DATA, (uint8_t)c);
}
