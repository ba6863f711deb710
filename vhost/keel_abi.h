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

/* keel_chan_device.flags */
#define KEEL_DEV_BASES 0x1   /* start: take each queue's base, not used.idx
			      * (a handoff start: the source's GET_VRING_BASE) */
#define KEEL_DEV_HANDOFF 0x2 /* stop: the guest is paused for a handoff;
			      * answer with the queues' bases in the reply */

struct keel_chan_queue {
	uint16_t index; /* virtio queue index */
	uint16_t size;  /* entries, a power of two */
	uint16_t base;  /* KEEL_DEV_BASES: last_avail_idx to start from */
	uint16_t reserved;
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
	uint32_t flags;    /* KEEL_DEV_* */
	uint32_t failed;   /* the last request number answered with FAIL */
	struct keel_chan_queue queue[KEEL_CHAN_MAX_QUEUES];
};

/*
 * Written by the companion, read by keel at KEEL_HC_ACK of a handoff stop
 * (KEEL_DEV_HANDOFF): each queue's last_avail_idx from GET_VRING_BASE,
 * indexed by virtio queue index, for request number @n.
 */
struct keel_chan_reply {
	uint32_t n;
	uint16_t base[KEEL_CHAN_MAX_QUEUES];
	uint16_t reserved;
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
	struct keel_chan_reply reply; /* the companion's */
};

/*
 * Hypercalls: VMCALL on the companion's CPU with the number in RAX and the
 * arguments in RDI and RSI; keel returns a value >= 0 or a negative KEEL_E*
 * in RAX and leaves the other registers alone. The guest gets #UD for
 * VMCALL.
 */
#define KEEL_HC_RAISE 1 /* RDI: queue: used buffers there, interrupt the guest */
#define KEEL_HC_ACK 2   /* RDI: request number done (see keel_chan_device) */
#define KEEL_HC_FAIL 3  /* RDI: request number the backend cannot serve: the
			 * guest sees DEVICE_NEEDS_RESET */
/*
 * The handoff (vhost/keel_state.h). PAUSE returns once the guest's vCPU is
 * parked in keel, at an instruction boundary, with no exit half handled;
 * RESUME lets it go on. While paused: HANDOFF_STOP posts a stop request
 * with KEEL_DEV_HANDOFF (returns its number); STATE_GET writes the guest's
 * machine state as a handoff stream to RDI (companion-physical, RSI bytes)
 * and returns its length; STATE_SET loads one from RDI/RSI after checking
 * all of it (nothing changes on a refusal), then posts a start request with
 * KEEL_DEV_BASES for the restored device (returns its number, 0 when the
 * guest's driver had not started the device). HANDOFF_START posts that
 * start request for the guest keel still holds (the source going on after
 * a handoff stop, when the handoff failed). DROP discards the guest's
 * state (registers, local APIC, device, RAM zeroed) as if it had left.
 * The companion resumes only once it has answered the start request.
 */
#define KEEL_HC_PAUSE 4
#define KEEL_HC_RESUME 5
#define KEEL_HC_HANDOFF_STOP 6
#define KEEL_HC_STATE_GET 7
#define KEEL_HC_STATE_SET 8
#define KEEL_HC_DROP 9
#define KEEL_HC_HANDOFF_START 10
/* STATE_SET's checks alone, on a guest in any state: 0 or -KEEL_EBADMSG */
#define KEEL_HC_STATE_CHECK 11
/*
 * Pre-copy: RDI/RSI a bitmap (companion-physical, 8-byte aligned, a bit a
 * 4 KiB page of guest RAM); keel fills it with the pages written since the
 * last call (by the guest, or by the companion through the window) and
 * returns their count. The first call starts tracking and reports all,
 * and so does the first after a DROP or a STATE_SET.
 * -KEEL_ENOSYS without EPT dirty flags.
 */
#define KEEL_HC_DIRTY_LOG 12

#define KEEL_EBUSY 16   /* not in the state the call needs (e.g. not paused) */
#define KEEL_EFAULT 14  /* buffer outside the companion's memory */
#define KEEL_EINVAL 22  /* bad argument (queue, request number) */
#define KEEL_ENOSPC 28  /* buffer too small */
#define KEEL_ENOSYS 38  /* unknown hypercall */
#define KEEL_EBADMSG 74 /* a handoff stream keel refuses */
#define KEEL_ESTALE 116 /* not the current request */

#endif
