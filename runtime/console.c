// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "arch-x86_64/spinlock.h"
#include "arch-x86_64/uart16550.h"
#include "runtime/console.h"

#define CONSOLE_BAUD 115200
#define PRINTF_BUF 512

static struct spinlock console_lock;

void console_init(void)
{
	uart_init(COM1_PORT, CONSOLE_BAUD);
}

static void write_locked(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			uart_putc(COM1_PORT, '\r');
		uart_putc(COM1_PORT, s[i]);
	}
}

void console_write(const char *s, size_t len)
{
	spin_lock(&console_lock);
	write_locked(s, len);
	spin_unlock(&console_lock);
}

int printf(const char *fmt, ...)
{
	char buf[PRINTF_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return n;
	if ((size_t)n >= sizeof(buf)) {
		static const char cut[] = "[...]\n";

		spin_lock(&console_lock);
		write_locked(buf, sizeof(buf) - 1);
		write_locked(cut, sizeof(cut) - 1);
		spin_unlock(&console_lock);
		return n;
	}
	console_write(buf, (size_t)n);
	return n;
}
