/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtio-scsi device on /dev/vhost-scsi, driven in QEMU's order:
 *
 *   vhost_open_device()  open, SET_OWNER, GET_FEATURES, per queue
 *                        SET_VRING_CALL and SET_VRING_ERR
 *   vhost_start()        on DRIVER_OK: SCSI_GET_ABI_VERSION, SET_FEATURES,
 *                        SET_MEM_TABLE, per configured queue SET_VRING_NUM,
 *                        _BASE, _ADDR, _KICK, _CALL; SCSI_SET_ENDPOINT
 *   vhost_stop()         on reset or handoff: SET_VRING_KICK -1 per queue,
 *                        SCSI_CLEAR_ENDPOINT, GET_VRING_BASE per queue
 *
 * Detaching the kicks before the clear stops the worker from handing LIO a
 * request the clear would then fail with BAD_TARGET (measured in the lab).
 * Every step logs one line; the first failing step logs
 * "vhost: <step> failed: <strerror> (errno N)" and ends the sequence, whose
 * function returns -errno. The device is then left as far as it got.
 */
#ifndef KEELD_VHOST_H
#define KEELD_VHOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vhost/keeld/log.h"

#define VHOST_SCSI_PATH "/dev/vhost-scsi"
#define VHOST_MAX_VQS 32	/* control, event and up to 30 request queues */
#define VHOST_WWPN_MAX 224	/* struct vhost_scsi_target.vhost_wwpn */

/* 0 or the fd / -1 with errno set, as the system calls. */
struct vhost_ops {
	int (*open)(void *ctx);
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	int (*close)(void *ctx, int fd);
};

/* the real system calls; ctx: a device path, or NULL for VHOST_SCSI_PATH */
extern const struct vhost_ops vhost_sys_ops;

struct vhost_dev_config {
	const struct vhost_ops *ops;
	void *ctx;		/* passed to every op */
	struct keeld_log log;
	const char *wwpn;	/* the LIO target, "naa...." */
	unsigned int nvqs;	/* 2 + request queues */
	const int *call_fds;	/* nvqs placeholder eventfds until a start */
	const int *err_fds;	/* nvqs eventfds the kernel's vq_err signals */
};

struct vhost_dev {
	const struct vhost_ops *ops;
	void *ctx;
	struct keeld_log log;
	int fd;			/* -1 when closed */
	unsigned int nvqs;
	uint64_t features;	/* offered by the kernel */
	char wwpn[VHOST_WWPN_MAX];
	bool endpoint;		/* SCSI_SET_ENDPOINT done, not yet cleared */
	bool programmed[VHOST_MAX_VQS];	/* ring set since the last stop */
	bool kicked[VHOST_MAX_VQS];	/* kick eventfd attached */
};

/* a piece of guest memory and where it is mapped in keeld */
struct vhost_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
};

struct vhost_queue {
	unsigned int index;
	uint16_t size;		/* power of 2, at most 32768 */
	uint16_t base;		/* last_avail_idx: 0, or saved by a stop */
	uint64_t desc, avail, used;	/* GPAs; desc 0: queue not set up */
	int kick_fd;
	int call_fd;
};

struct vhost_start {
	uint64_t features;	/* acked by the guest */
	const struct vhost_region *regions;
	unsigned int nregions;
	const struct vhost_queue *queues;
	unsigned int nqueues;
};

/*
 * Opens the device and binds it to this process. Returns 0, or -errno with
 * the device closed again (dev->fd == -1).
 */
int vhost_open_device(struct vhost_dev *dev,
		      const struct vhost_dev_config *cfg);

/*
 * Starts the device as QEMU does on DRIVER_OK; also the restart after a
 * stop, with each queue's base taken from the caller (0 after a guest
 * reset, the saved value for a handoff). Queues whose desc GPA is 0 are
 * skipped. The request is checked (queue index and size, every ring inside
 * one region) before the first ioctl. -EBUSY if the device is started.
 */
int vhost_start(struct vhost_dev *dev, const struct vhost_start *start);

/*
 * Stops the device: detaches every attached kick, clears the endpoint
 * (blocks until LIO has completed every request in flight) and stores each
 * programmed queue's last_avail_idx in @saved_bases[index] (nvqs entries,
 * others left alone; NULL: not kept). Nothing to do when not started.
 * A failed stop can be retried; it resumes where it stopped.
 */
int vhost_stop(struct vhost_dev *dev, uint16_t *saved_bases);

/* Closes the fd (the kernel clears a set endpoint on release). */
void vhost_close(struct vhost_dev *dev);

#endif
