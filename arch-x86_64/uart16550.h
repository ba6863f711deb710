/* SPDX-License-Identifier: GPL-2.0 */
/* The 16550 UART keel owns for its console (COM1). */
#ifndef KEEL_ARCH_UART16550_H
#define KEEL_ARCH_UART16550_H

#include <stdint.h>

#define COM1_PORT 0x3F8

void uart_init(uint16_t port, unsigned int baud);
void uart_putc(uint16_t port, char c);

#endif
