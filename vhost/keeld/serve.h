/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `keeld serve`: follows keel's device lifecycle requests on /dev/keel and
 * drives /dev/vhost-scsi through vhost.c accordingly.
 *
 *   serve_open()       open /dev/keel, read and check the snapshot
 *   serve_prepare()    map guest RAM (its /dev/dax device), one kick, call
 *                      and err eventfd per virtio queue, kicks and calls
 *                      registered with keel.ko, /dev/vhost-scsi opened
 *   serve_run()        reconcile the snapshot, then poll /dev/keel, the err
 *                      eventfds and SIGTERM/SIGINT until the guest stops
 *   serve_close()      close everything, in any state
 *
 * A request n (device.seq / 2) is answered once: KEEL_IOC_ACK(n) when done,
 * KEEL_IOC_FAIL(n) when not. START stops whatever runs, then starts vhost
 * with each queue's base read from its used ring, or taken from the request
 * for a handoff start (KEEL_DEV_BASES) no keeld has answered yet; STOP
 * stops vhost, and the ACK comes only after vhost_stop() returned; a
 * handoff stop (KEEL_DEV_HANDOFF) is answered with KEEL_IOC_ACK_BASES, the
 * bases vhost_stop() read. Every system call goes through struct serve_ops
 * and struct vhost_ops.
 */
#ifndef KEELD_SERVE_H
#define KEELD_SERVE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/keel_abi.h"
#include "vhost/keeld/log.h"
#include "vhost/keeld/vhost.h"

#define SERVE_RUNNING (-1)	/* serve_reconcile(): keep serving */
#define SERVE_NONE_ANSWERED UINT32_MAX	/* never a request number */
#define SERVE_DEV_MAX 256	/* "/dev/<dax device>" */

/*
 * What the system calls return: an fd, 0, a count, or -1 with errno set.
 * keel_read() reads from offset 0 (pread) and returns the length read.
 * eventfd() makes an EFD_NONBLOCK | EFD_CLOEXEC eventfd; notify() adds 1 to
 * one. signalfd() blocks SIGTERM and SIGINT and returns an fd that reports
 * them; read_signal() returns the signal's number. find_dax() names the
 * device-dax device ("/dev/dax0.0") whose range is exactly [phys, +size),
 * ENOENT if none is; map() maps one read-write and shared (NULL on error).
 */
struct serve_ops {
	int (*keel_open)(void *ctx);
	int (*keel_read)(void *ctx, int fd, void *buf, size_t len);
	int (*keel_ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	int (*eventfd)(void *ctx);
	int (*read_eventfd)(void *ctx, int fd, uint64_t *count);
	int (*notify)(void *ctx, int fd);
	int (*signalfd)(void *ctx);
	int (*read_signal)(void *ctx, int fd);
	int (*poll)(void *ctx, struct pollfd *fds, unsigned int nfds);
	int (*close)(void *ctx, int fd);
	int (*find_dax)(void *ctx, uint64_t phys, uint64_t size, char *dev,
			size_t len);
	void *(*map)(void *ctx, const char *dev, uint64_t size);
	void (*unmap)(void *ctx, void *addr, uint64_t size);
};

/* the real system calls; ctx: a directory standing for / (tests), or NULL */
extern const struct serve_ops serve_sys_ops;

struct serve_config {
	const struct serve_ops *ops;
	void *ctx;		/* passed to every serve op */
	const struct vhost_ops *vhost_ops;
	void *vhost_ctx;	/* passed to every vhost op */
	struct keeld_log log;
};

struct serve {
	const struct serve_ops *ops;
	void *ctx;
	const struct vhost_ops *vhost_ops;
	void *vhost_ctx;
	struct keeld_log log;
	int keel_fd;		/* -1 when closed, and so below */
	int signal_fd;
	struct keel_chan_shared sh;	/* the last snapshot read */
	unsigned int nvqs;	/* 2 + request queues */
	int kick_fds[KEEL_CHAN_MAX_QUEUES];
	int call_fds[KEEL_CHAN_MAX_QUEUES];
	int err_fds[KEEL_CHAN_MAX_QUEUES];
	uint8_t *ram;		/* guest-physical 0, NULL when not mapped */
	uint64_t ram_size;
	struct vhost_dev vhost;
	uint16_t bases[KEEL_CHAN_MAX_QUEUES];	/* read by the last stop */
	uint32_t answered;	/* the last request acked or failed */
};

/*
 * Opens /dev/keel and reads its snapshot into s->sh: magic, ABI version
 * checked, strings terminated. Returns 0 or -errno (-EPROTO: not keel's
 * channel or another ABI version) after logging why. serve_close() must
 * follow either way.
 */
int serve_open(struct serve *s, const struct serve_config *cfg);

/* Everything the loop needs (see above). 0 or -errno, logged. */
int serve_prepare(struct serve *s);

/*
 * Applies snapshot @sh: answers a request not answered yet, or stops vhost
 * for good when the guest has stopped. Returns SERVE_RUNNING, or the status
 * keeld exits with.
 */
int serve_reconcile(struct serve *s, const struct keel_chan_shared *sh);

/* Reconciles s->sh, then serves until the guest stops or a signal ends
 * keeld; returns the exit status. vhost is stopped on return. */
int serve_run(struct serve *s);

/* Closes vhost, /dev/keel (keel.ko detaches the eventfds), the eventfds and
 * unmaps guest RAM. */
void serve_close(struct serve *s);

#endif
