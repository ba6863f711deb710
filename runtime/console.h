/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's console: COM1 at 115200 8N1. printf() is keel's own, formatting with
 * newlib's vsnprintf and writing whole messages under one lock so that lines
 * from different CPUs never interleave.
 */
#ifndef KEEL_RUNTIME_CONSOLE_H
#define KEEL_RUNTIME_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *s, size_t len);

#endif
