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
 *           detaches the kicks first, then drops the call eventfds.
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

#endif
