/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's channel ABI: what keel and the companion (keel.ko, keeld) agree on.
 * One versioned header, included by keel (runtime/channel.c) and built into
 * keel.ko. Bump KEEL_CHAN_ABI_VERSION on any incompatible change.
 */
#ifndef KEEL_ABI_H
#define KEEL_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define KEEL_CHAN_ABI_VERSION 1

/* keel-private PCI IDs ("KE"): not a PCI-SIG assignment. The function only
 * exists on the bus keel shows its companion. */
#define KEEL_CHAN_VENDOR_ID 0x4B45
#define KEEL_CHAN_DEVICE_ID 0x0001

/* BAR0: 32-bit little-endian registers, read-only for the companion */
#define KEEL_CHAN_REGS_SIZE 0x1000
#define KEEL_CHAN_REG_ABI_VERSION 0x00

/* BAR2: memory keel and the companion share, write-back */
#define KEEL_CHAN_SHARED_BAR 2
#define KEEL_CHAN_SHARED_SIZE 0x4000
#define KEEL_CHAN_MAGIC 0x4C45454B /* "KEEL" */

struct keel_chan_shared {
	uint32_t magic;
	uint32_t abi_version;
	/* the guest's virtio-scsi disk, from keel's configuration */
	uint32_t disk_queues; /* request queues */
	uint32_t disk_queue_size;
	uint64_t disk_size; /* fileio: bytes; iblock: 0 */
	char disk_wwpn[64];
	char disk_backstore[16]; /* "fileio" or "iblock" */
	char disk_path[256];
	/* where the companion sees the guest's RAM (soft reserved in its e820) */
	uint64_t guest_ram_phys;
	uint64_t guest_ram_size;
};

#endif
