/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's channel ABI: what keel and the companion (keel.ko, keeld) agree on.
 * One versioned header, included by keel (runtime/channel.c) and built into
 * keel.ko. Bump KEEL_CHAN_ABI_VERSION on any incompatible change.
 */
#ifndef KEEL_ABI_H
#define KEEL_ABI_H

#define KEEL_CHAN_ABI_VERSION 1

/* keel-private PCI IDs ("KE"): not a PCI-SIG assignment. The function only
 * exists on the bus keel shows its companion. */
#define KEEL_CHAN_VENDOR_ID 0x4B45
#define KEEL_CHAN_DEVICE_ID 0x0001

/* BAR0: 32-bit little-endian registers, read-only for the companion */
#define KEEL_CHAN_REGS_SIZE 0x1000
#define KEEL_CHAN_REG_ABI_VERSION 0x00

#endif
