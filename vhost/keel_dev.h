/* SPDX-License-Identifier: GPL-2.0 */
/*
 * /dev/keel: keel.ko's interface to keeld (companion user space).
 *
 * read(2)   a consistent snapshot of struct keel_chan_shared (the device
 *           part copied under its sequence lock): at offset 0 with a
 *           buffer of at least its size, else -EINVAL. The file is then at
 *           its end; pread(2) at 0 takes a fresh snapshot.
 * poll(2)   POLLIN when the device's seq or the guest state differs from
 *           what this open file last read (a fresh file: always).
 * ioctl(2)  below. One open file owns the queues' eventfds; closing it
 *           detaches the kicks first, then drops the call eventfds. The
 *           handoff's ioctls return keel's non-negative answer (0 or a
 *           request number) or -1 with errno: EBUSY (not in the state the
 *           call needs), EFAULT, EINVAL, ENOSPC, EBADMSG (a stream keel
 *           refuses), ESTALE (not the current request), EOPNOTSUPP (a keel
 *           without the hypercall), EIO (any other answer).
 */
#ifndef KEEL_DEV_H
#define KEEL_DEV_H

#ifdef __KERNEL__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <stdint.h>
#include <sys/ioctl.h>
#endif

#include "keel_abi.h"

#define KEEL_DEV_PATH "/dev/keel"

struct keel_queue_fd {
	uint32_t queue; /* < KEEL_CHAN_MAX_QUEUES */
	int32_t fd;     /* an eventfd, or -1 to detach */
};

/* keel.ko signals @fd whenever keel sets the queue's kick bit */
#define KEEL_IOC_SET_KICK _IOW('K', 1, struct keel_queue_fd)
/* each signal of @fd becomes one KEEL_HC_RAISE(queue) (irqfd) */
#define KEEL_IOC_SET_CALL _IOW('K', 2, struct keel_queue_fd)
/* KEEL_HC_ACK / KEEL_HC_FAIL with a request number */
#define KEEL_IOC_ACK _IOW('K', 3, uint32_t)
#define KEEL_IOC_FAIL _IOW('K', 4, uint32_t)

/* The handoff (keel_abi.h, keel_state.h): the hypercalls of the same names */
#define KEEL_IOC_PAUSE _IO('K', 5)
#define KEEL_IOC_RESUME _IO('K', 6)
/* returns the stop request's number; 0: none (the device is not started) */
#define KEEL_IOC_HANDOFF_STOP _IO('K', 7)
#define KEEL_IOC_DROP _IO('K', 8)
/* returns the start request's number; 0: none (the device is not stopped
 * for a handoff) */
#define KEEL_IOC_HANDOFF_START _IO('K', 9)

/* a buffer for keel's part of the handoff stream (at most KEEL_STATE_MAX)
 * or for a dirty bitmap (at most KEEL_DIRTY_LOG_MAX) */
struct keel_state_buf {
	uint64_t addr; /* user-space pointer */
	uint32_t len;
	uint32_t written; /* STATE_GET: the stream's length; DIRTY_LOG: the
			   * count of dirty pages */
};

/* keel's stream into @addr (ENOSPC: longer than @len) */
#define KEEL_IOC_STATE_GET _IOWR('K', 10, struct keel_state_buf)
/* loads @len bytes from @addr; returns the start request's number, 0 when
 * the guest's driver had not started the device */
#define KEEL_IOC_STATE_SET _IOW('K', 11, struct keel_state_buf)
/* answers handoff stop @n with each queue's base: the reply in the shared
 * window, then KEEL_HC_ACK(n) */
#define KEEL_IOC_ACK_BASES _IOW('K', 12, struct keel_chan_reply)
/* every check STATE_SET makes, nothing loaded: 0 or -EBADMSG */
#define KEEL_IOC_STATE_CHECK _IOW('K', 13, struct keel_state_buf)
/*
 * KEEL_HC_DIRTY_LOG: the bitmap of the guest's pages written since the last
 * call (a bit a 4 KiB page of guest RAM; the first call reports all) into
 * @addr, @len bytes: a multiple of 8 and at most KEEL_DIRTY_LOG_MAX (a
 * 32 GiB guest), else EINVAL; fewer than a bit a page: EFAULT (keel's
 * check). Their count into @written. EOPNOTSUPP: keel tracks no dirty
 * pages (no EPT dirty flags).
 */
#define KEEL_DIRTY_LOG_MAX 0x100000
#define KEEL_IOC_DIRTY_LOG _IOWR('K', 14, struct keel_state_buf)

#endif
