/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CRC32C (Castagnoli: reflected polynomial 0x82f63b78, initial value and
 * final xor 0xffffffff), as iSCSI, ext4 and the handoff stream use it.
 */
#ifndef KEEL_RUNTIME_CRC32C_H
#define KEEL_RUNTIME_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the CRC32C of the bytes @crc covers followed by @buf: start with
 * 0, pass each result back in. crc32c_update(0, "123456789", 9) is
 * 0xe3069283, and crc32c_update(crc32c_update(0, a, n), b, m) equals the
 * CRC of a and b concatenated.
 */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);

#endif
