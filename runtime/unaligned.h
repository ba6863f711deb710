/* SPDX-License-Identifier: GPL-2.0 */
/* Little-endian reads at any alignment from loader and firmware structures. */
#ifndef KEEL_RUNTIME_UNALIGNED_H
#define KEEL_RUNTIME_UNALIGNED_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DEFINE_RD(bits)                                                \
	static inline uint##bits##_t rd##bits(const uint8_t *p, size_t off) \
	{                                                              \
		uint##bits##_t v;                                      \
		memcpy(&v, p + off, sizeof(v));                        \
		return v;                                              \
	}

DEFINE_RD(16)
DEFINE_RD(32)
DEFINE_RD(64)

#undef DEFINE_RD

#endif
