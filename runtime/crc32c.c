// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "runtime/crc32c.h"

/* The CRC of each 4-bit value: two lookups a byte, 64 bytes of table. */
static const uint32_t crc32c_nibble[16] = {
	0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3,
	0x61c69362, 0x7198540d, 0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9,
	0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
};

static uint32_t crc32c_soft(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
		crc = (crc >> 4) ^ crc32c_nibble[crc & 15];
	}
	return crc;
}

#if defined(__x86_64__)
/*
 * SSE4.2's CRC32 instruction computes this very CRC eight bytes at a time
 * with general registers only (keel builds with -mgeneral-regs-only): a
 * guest's RAM goes through it in a fraction of the table's time, which
 * matters under an emulator.
 */
static int have_crc32_insn(void)
{
	static int have = -1;
	uint32_t a, b, c, d;

	if (have < 0) {
		__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1),
			"c"(0));
		have = (c >> 20) & 1;
	}
	return have;
}

static uint32_t crc32c_insn(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc, q;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&q, p, 8);
		__asm__("crc32q %1, %0" : "+r"(c) : "rm"(q));
	}
	return crc32c_soft((uint32_t)c, p, len);
}
#endif

uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len)
{
#if defined(__x86_64__)
	if (have_crc32_insn())
		return ~crc32c_insn(~crc, buf, len);
#endif
	return ~crc32c_soft(~crc, buf, len);
}
