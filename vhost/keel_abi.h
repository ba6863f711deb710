/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's channel ABI: what keel and the companion (keel.ko, keeld) agree on.
 * One versioned header, included by keel (runtime/channel.c, runtime/disk.c)
 * and built into keel.ko and keeld. Bump KEEL_CHAN_ABI_VERSION on any
 * incompatible change.
 *
 * The channel device is a PCI function on the companion's bus 0:
 *   BAR0  registers (read-only, 32-bit)
 *   BAR2  keel's pages, shared with the companion: struct keel_chan_shared
 *   MSI   one vector, 64-bit address: keel sends it when it sets kick bits,
 *         posts a device request or changes the guest state, but only while
 *         MSI and bus mastering are enabled (else it counts it as lost:
 *         the companion reads the window after enabling them)
 * and the companion calls keel with VMCALL (KEEL_HC_*).
 */
#ifndef KEEL_ABI_H
#define KEEL_ABI_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define KEEL_CHAN_ABI_VERSION 2

/* keel-private PCI IDs ("KE"): not a PCI-SIG assignment. The function only
 * exists on the bus keel shows its companion. */
#define KEEL_CHAN_VENDOR_ID 0x4B45
#define KEEL_CHAN_DEVICE_ID 0x0001

/* BAR0: 32-bit little-endian registers, read-only for the companion */
#define KEEL_CHAN_REGS_SIZE 0x1000
#define KEEL_CHAN_REG_ABI_VERSION 0x00 /* in every version */

/* BAR2: memory keel and the companion share, write-back */
#define KEEL_CHAN_SHARED_BAR 2
#define KEEL_CHAN_SHARED_SIZE 0x4000
#define KEEL_CHAN_MAGIC 0x4C45454B /* "KEEL" */

/* virtio queues of the guest's disk: control 0, event 1, requests 2.. */
#define KEEL_CHAN_MAX_QUEUES 18

/* keel_chan_device.request */
#define KEEL_REQ_NONE 0  /* the guest has not started the device yet */
#define KEEL_REQ_START 1 /* serve the queues below (guest set DRIVER_OK) */
#define KEEL_REQ_STOP 2  /* stop serving: the guest reset the device */

struct keel_chan_queue {
	uint16_t index; /* virtio queue index */
	uint16_t size;  /* entries, a power of two */
	uint32_t reserved;
	uint64_t desc; /* guest-physical addresses of the split ring */
	uint64_t avail;
	uint64_t used;
};

/*
 * The guest device's lifecycle, written by keel only. @seq is a sequence
 * lock: odd while keel rewrites the fields, even when they are consistent;
 * a reader copies them between two equal even reads of @seq. Request number
 * n = seq / 2 names the current request. The companion answers it with
 * KEEL_HC_ACK(n) once done (for a stop: kicks detached, endpoint cleared,
 * ring bases read) or KEEL_HC_FAIL(n); keel records the answer in @acked
 * and, for an acknowledged stop, completes the guest's reset. A newer
 * request supersedes an older one that was not answered.
 */
struct keel_chan_device {
	uint32_t seq;
	uint32_t request; /* KEEL_REQ_* */
	uint32_t acked;   /* the last request number answered */
	uint32_t nr_queues;
	uint64_t features; /* negotiated with the guest */
	struct keel_chan_queue queue[KEEL_CHAN_MAX_QUEUES];
};

/* keel_chan_shared.guest_state; keel sends the MSI when it changes */
#define KEEL_GUEST_RUNNING 1
#define KEEL_GUEST_STOPPED 2 /* for good: powered off or failed */

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
	/*
	 * Kicks: keel sets bit q (atomic or) when the guest notifies queue q;
	 * the companion takes them with an atomic exchange to 0.
	 */
	uint64_t kicks;
	uint64_t kick_count; /* notifies the guest made, ever */
	uint32_t guest_state; /* KEEL_GUEST_* */
	uint32_t reserved;
	struct keel_chan_device device;
};

/*
 * Hypercalls: VMCALL on the companion's CPU with the number in RAX and the
 * argument in RDI; keel returns 0 or a negative KEEL_E* in RAX and leaves
 * the other registers alone. The guest gets #UD for VMCALL.
 */
#define KEEL_HC_RAISE 1 /* RDI: queue: used buffers there, interrupt the guest */
#define KEEL_HC_ACK 2   /* RDI: request number done (see keel_chan_device) */
#define KEEL_HC_FAIL 3  /* RDI: request number the backend cannot serve: the
			 * guest sees DEVICE_NEEDS_RESET */

#define KEEL_EINVAL 22 /* bad argument (queue, request number) */
#define KEEL_ENOSYS 38 /* unknown hypercall */
#define KEEL_ESTALE 116 /* not the current request */

#endif
