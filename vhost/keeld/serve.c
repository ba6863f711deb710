// SPDX-License-Identifier: GPL-2.0
/*
 * keeld serve: keel's device lifecycle requests (vhost/keel_abi.h, struct
 * keel_chan_device) turned into vhost.c's start and stop, answered with
 * KEEL_IOC_ACK (KEEL_IOC_ACK_BASES for a handoff stop) or KEEL_IOC_FAIL on
 * /dev/keel (vhost/keel_dev.h).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vhost/keel_dev.h"
#include "vhost/keeld/dax.h"
#include "vhost/keeld/serve.h"
#include "vhost/keeld/snapshot.h"

_Static_assert(KEEL_CHAN_MAX_QUEUES <= VHOST_MAX_VQS,
	       "keel's queues do not fit vhost.c's");

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SERVE_WHAT_MAX 512

/* poll() slots: the channel, the signals, then queue q's err eventfd */
enum { PFD_CHANNEL, PFD_SIGNAL, PFD_ERR };

/*
 * Logs "<what>: <strerror> (errno N)" for the errno the failed call left
 * and returns -errno, errno kept.
 */
static __attribute__((format(printf, 2, 3))) int
serve_error(const struct serve *s, const char *fmt, ...)
{
	char what[SERVE_WHAT_MAX];
	int err = errno ? errno : EIO;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	keeld_logf(&s->log, "%s: %s (errno %d)", what, strerror(err), err);
	errno = err;
	return -err;
}

static void serve_close_fd(const struct serve *s, int *fd)
{
	if (*fd >= 0)
		s->ops->close(s->ctx, *fd);
	*fd = -1;
}

/* the channel: snapshots and ioctls */

/* One snapshot of the channel: keel's, in this ABI version, strings ended. */
static int serve_read(struct serve *s, struct keel_chan_shared *sh)
{
	int n;

	errno = 0;
	n = s->ops->keel_read(s->ctx, s->keel_fd, sh, sizeof(*sh));
	return snapshot_check(sh, n, "keeld", &s->log);
}

int serve_open(struct serve *s, const struct serve_config *cfg)
{
	int err;

	*s = (struct serve){
		.ops = cfg->ops,
		.ctx = cfg->ctx,
		.vhost_ops = cfg->vhost_ops,
		.vhost_ctx = cfg->vhost_ctx,
		.log = cfg->log,
		.keel_fd = -1,
		.signal_fd = -1,
		.vhost = { .fd = -1 },
		.answered = SERVE_NONE_ANSWERED,
	};
	for (unsigned int q = 0; q < KEEL_CHAN_MAX_QUEUES; q++)
		s->kick_fds[q] = s->call_fds[q] = s->err_fds[q] = -1;
	errno = 0;
	s->keel_fd = s->ops->keel_open(s->ctx);
	if (s->keel_fd < 0) {
		s->keel_fd = -1;
		err = errno ? errno : EIO;
		keeld_logf(&s->log, "open %s: %s (is keel.ko loaded?)",
			   KEEL_DEV_PATH, strerror(err));
		return -err;
	}
	return serve_read(s, &s->sh);
}

static int serve_set_fd(const struct serve *s, unsigned long req,
			const char *name, unsigned int q, int fd)
{
	struct keel_queue_fd qfd = { .queue = q, .fd = fd };

	errno = 0;
	if (s->ops->keel_ioctl(s->ctx, s->keel_fd, req, &qfd))
		return serve_error(s, "%s %s q=%u fd=%d", KEEL_DEV_PATH, name,
				   q, fd);
	return 0;
}

/*
 * KEEL_IOC_ACK(n) when @rc is 0, KEEL_IOC_ACK_BASES with @reply if there is
 * one (a handoff stop), else KEEL_IOC_FAIL(n); n is answered.
 */
static void serve_answer(struct serve *s, uint32_t n, int rc,
			 struct keel_chan_reply *reply)
{
	unsigned long req = KEEL_IOC_ACK;
	uint32_t arg = n;
	void *p = &arg;

	if (rc) {
		req = KEEL_IOC_FAIL;
	} else if (reply) {
		req = KEEL_IOC_ACK_BASES;
		p = reply;
	}
	s->answered = n;
	errno = 0;
	if (s->ops->keel_ioctl(s->ctx, s->keel_fd, req, p))
		serve_error(s, "request %u: %s", n, rc ? "fail" : "ack");
	else
		keeld_logf(&s->log, "request %u %s", n,
			   rc ? "failed" : "acknowledged");
}

/* start-up */

static int serve_count_queues(struct serve *s)
{
	if (s->sh.disk_queues > KEEL_CHAN_MAX_QUEUES - 2) {
		keeld_logf(&s->log,
			   "guest disk: %u request queues; keel's channel has "
			   "room for %u",
			   s->sh.disk_queues, KEEL_CHAN_MAX_QUEUES - 2);
		return -EINVAL;
	}
	s->nvqs = 2 + s->sh.disk_queues;
	return 0;
}

static int serve_signals(struct serve *s)
{
	errno = 0;
	s->signal_fd = s->ops->signalfd(s->ctx);
	if (s->signal_fd >= 0)
		return 0;
	s->signal_fd = -1;
	return serve_error(s, "signalfd");
}

/* The device-dax device keel's soft reserved guest window became. */
static int serve_map_ram(struct serve *s)
{
	unsigned long long phys = s->sh.guest_ram_phys;
	unsigned long long end = phys + s->sh.guest_ram_size;
	char dev[SERVE_DEV_MAX];

	errno = 0;
	if (s->ops->find_dax(s->ctx, phys, s->sh.guest_ram_size, dev,
			     sizeof(dev))) {
		if (errno != ENOENT)
			return serve_error(s, "dax devices for 0x%llx-0x%llx",
					   phys, end);
		keeld_logf(&s->log,
			   "no /dev/dax device covers guest RAM 0x%llx-0x%llx: "
			   "is dax_hmem loaded and the range soft reserved?",
			   phys, end);
		return -ENOENT;
	}
	errno = 0;
	s->ram = s->ops->map(s->ctx, dev, s->sh.guest_ram_size);
	if (!s->ram)
		return serve_error(s, "map %s", dev);
	s->ram_size = s->sh.guest_ram_size;
	keeld_logf(&s->log, "guest RAM 0x%llx-0x%llx: %s", phys, end, dev);
	return 0;
}

/* Queue @q's kick, call and err eventfds; keel.ko gets the kick and call. */
static int serve_queue_fds(struct serve *s, unsigned int q)
{
	int *fds[] = { &s->kick_fds[q], &s->call_fds[q], &s->err_fds[q] };
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		errno = 0;
		*fds[i] = s->ops->eventfd(s->ctx);
		if (*fds[i] < 0) {
			*fds[i] = -1;
			return serve_error(s, "eventfd q=%u", q);
		}
	}
	rc = serve_set_fd(s, KEEL_IOC_SET_KICK, "set_kick", q, s->kick_fds[q]);
	if (!rc)
		rc = serve_set_fd(s, KEEL_IOC_SET_CALL, "set_call", q,
				  s->call_fds[q]);
	return rc;
}

static int serve_open_vhost(struct serve *s)
{
	const struct vhost_dev_config cfg = {
		.ops = s->vhost_ops,
		.ctx = s->vhost_ctx,
		.log = s->log,
		.wwpn = s->sh.disk_wwpn,
		.nvqs = s->nvqs,
		.call_fds = s->call_fds,
		.err_fds = s->err_fds,
	};

	return vhost_open_device(&s->vhost, &cfg);
}

int serve_prepare(struct serve *s)
{
	int rc = serve_count_queues(s);

	if (!rc)
		rc = serve_signals(s);
	if (!rc)
		rc = serve_map_ram(s);
	for (unsigned int q = 0; !rc && q < s->nvqs; q++)
		rc = serve_queue_fds(s, q);
	if (!rc)
		rc = serve_open_vhost(s);
	if (!rc)
		keeld_logf(&s->log, "serving %u virtio queues from %s", s->nvqs,
			   s->sh.disk_wwpn);
	return rc;
}

/* reconcile */

/*
 * vhost_stop(), retried once: a failed stop resumes where it stopped.
 * s->bases gets each programmed queue's last_avail_idx; a queue not started
 * since keeps what the previous stop read.
 */
static int serve_stop_vhost(struct serve *s)
{
	if (!vhost_stop(&s->vhost, s->bases))
		return 0;
	keeld_logf(&s->log, "vhost: stop failed, retrying once");
	return vhost_stop(&s->vhost, s->bases);
}

/* " q<index>=<base>" appended to @buf */
static void serve_add_base(char *buf, size_t len, unsigned int q,
			   uint16_t base)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, " q%u=%u", q, base);
}

/*
 * The used ring's idx: where the avail ring is taken up again. After the
 * guest's reset the driver's fresh rings hold used.idx 0; after a previous
 * keeld died, the kernel drained every request in flight into the used
 * ring when it released that keeld's vhost fd, so used.idx is exactly the
 * avail index vhost had reached. QEMU re-reads the used index the same way.
 * The whole used ring must lie in guest RAM (vhost_start() checks the
 * three rings again).
 */
static int serve_used_idx(const struct serve *s,
			  const struct keel_chan_queue *q, uint16_t *idx)
{
	uint64_t len = 6 + 8ull * q->size; /* flags, idx, ring, avail_event */
	uint16_t le;

	if (q->used > s->ram_size || len > s->ram_size - q->used)
		return -EFAULT;
	memcpy(&le, s->ram + q->used + 2, sizeof(le));
	*idx = le16toh(le);
	return 0;
}

/*
 * A handoff start's bases (KEEL_DEV_BASES: the source's GET_VRING_BASE) are
 * where the rings stood when keel posted it. Once an earlier keeld has
 * answered it, the guest has run on and the used rings tell where they
 * stand now, as after any restart.
 */
static bool serve_keel_bases(uint32_t n, const struct keel_chan_device *dev)
{
	return (dev->flags & KEEL_DEV_BASES) && dev->acked != n;
}

/*
 * vhost's view of request @n's queues, each with its base: keel's for a
 * handoff start not answered yet, else the used ring's idx.
 */
static int serve_queues(const struct serve *s, uint32_t n,
			const struct keel_chan_device *dev,
			struct vhost_queue *vq)
{
	if (dev->nr_queues > s->nvqs) {
		keeld_logf(&s->log, "request %u: %u queues, the device has %u",
			   n, dev->nr_queues, s->nvqs);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < dev->nr_queues; i++) {
		const struct keel_chan_queue *q = &dev->queue[i];

		if (q->index >= s->nvqs) {
			keeld_logf(&s->log,
				   "request %u: queue %u, the device has %u", n,
				   q->index, s->nvqs);
			return -EINVAL;
		}
		vq[i] = (struct vhost_queue){
			.index = q->index,
			.size = q->size,
			.desc = q->desc,
			.avail = q->avail,
			.used = q->used,
			.kick_fd = s->kick_fds[q->index],
			.call_fd = s->call_fds[q->index],
		};
		if (serve_keel_bases(n, dev))
			vq[i].base = q->base;
		else if (q->desc && serve_used_idx(s, q, &vq[i].base)) {
			keeld_logf(&s->log,
				   "request %u: q=%u used ring 0x%llx "
				   "outside guest RAM",
				   n, q->index, (unsigned long long)q->used);
			return -EFAULT;
		}
	}
	return 0;
}

/*
 * One kick per started queue once the endpoint is set, as QEMU kicks its
 * host notifiers when it starts them: a kick vhost took before
 * SET_ENDPOINT, or one the guest made while no keeld was there, is lost,
 * and the requests it announced would wait for the next one.
 */
static void serve_kick(const struct serve *s, const struct vhost_start *req)
{
	for (unsigned int i = 0; i < req->nqueues; i++) {
		const struct vhost_queue *q = &req->queues[i];

		errno = 0;
		if (q->desc && s->ops->notify(s->ctx, q->kick_fd))
			serve_error(s, "kick q=%u", q->index);
	}
}

static int serve_start(struct serve *s, uint32_t n,
		       const struct keel_chan_device *dev)
{
	struct vhost_queue queues[KEEL_CHAN_MAX_QUEUES];
	char bases[SERVE_WHAT_MAX] = "";
	const struct vhost_region ram = {
		.gpa = 0,
		.size = s->ram_size,
		.uaddr = (uintptr_t)s->ram,
	};
	const struct vhost_start req = {
		.features = dev->features,
		.regions = &ram,
		.nregions = 1,
		.queues = queues,
		.nqueues = dev->nr_queues,
	};
	int rc;

	keeld_logf(&s->log, "request %u: start, %u queues, features 0x%llx", n,
		   dev->nr_queues, (unsigned long long)dev->features);
	/* whatever runs belongs to rings the guest has reset since */
	rc = serve_stop_vhost(s);
	if (!rc)
		rc = serve_queues(s, n, dev, queues);
	if (rc)
		return rc;
	for (unsigned int i = 0; i < dev->nr_queues; i++)
		serve_add_base(bases, sizeof(bases), queues[i].index,
			       queues[i].base);
	keeld_logf(&s->log, "request %u: %s%s", n,
		   serve_keel_bases(n, dev) ? "handoff start, bases" :
					      "bases from the used rings",
		   bases);
	rc = vhost_start(&s->vhost, &req);
	if (rc) {
		serve_stop_vhost(s); /* undo what the start did */
		return rc;
	}
	serve_kick(s, &req);
	return 0;
}

static int serve_stop(struct serve *s, uint32_t n)
{
	keeld_logf(&s->log, "request %u: stop", n);
	return serve_stop_vhost(s);
}

/*
 * The guest is paused for a handoff: its queues' bases go to keel in the
 * answer (@reply, by virtio queue index). A device stopped already (by a
 * previous handoff stop) answers with the bases that stop read; a queue
 * this keeld never started with 0.
 */
static int serve_handoff_stop(struct serve *s, uint32_t n,
			      struct keel_chan_reply *reply)
{
	char bases[SERVE_WHAT_MAX] = "";
	int rc = serve_stop_vhost(s);

	if (rc)
		return rc;
	memcpy(reply->base, s->bases, sizeof(reply->base));
	for (unsigned int q = 0; q < s->nvqs; q++)
		serve_add_base(bases, sizeof(bases), q, reply->base[q]);
	keeld_logf(&s->log, "request %u: handoff stop, bases%s", n, bases);
	return 0;
}

/* Stops vhost before keeld exits: the exit status. */
static int serve_quit(struct serve *s)
{
	return serve_stop_vhost(s) ? 1 : 0;
}

int serve_reconcile(struct serve *s, const struct keel_chan_shared *sh)
{
	const struct keel_chan_device *dev = &sh->device;
	uint32_t n = dev->seq / 2;
	struct keel_chan_reply reply = { .n = n };
	bool handoff = false;
	int rc;

	if (sh->guest_state == KEEL_GUEST_STOPPED) {
		rc = serve_quit(s);
		keeld_logf(&s->log, "guest stopped, exiting");
		return rc;
	}
	if (n == s->answered || dev->request == KEEL_REQ_NONE)
		return SERVE_RUNNING;
	if (dev->request == KEEL_REQ_START) {
		rc = serve_start(s, n, dev);
	} else if (dev->request == KEEL_REQ_STOP &&
		   (dev->flags & KEEL_DEV_HANDOFF)) {
		handoff = true;
		rc = serve_handoff_stop(s, n, &reply);
	} else if (dev->request == KEEL_REQ_STOP) {
		rc = serve_stop(s, n);
	} else {
		keeld_logf(&s->log, "request %u: unknown request %u", n,
			   dev->request);
		rc = -EINVAL;
	}
	serve_answer(s, n, rc, handoff ? &reply : NULL);
	return SERVE_RUNNING;
}

/* the loop */

static int serve_on_signal(struct serve *s)
{
	int signo = s->ops->read_signal(s->ctx, s->signal_fd);
	int rc;

	if (signo < 0)
		return SERVE_RUNNING; /* taken already: nothing to read */
	rc = serve_quit(s);
	keeld_logf(&s->log, "terminated (signal %d): vhost %s", signo,
		   rc ? "did not stop" : "stopped");
	return rc;
}

static int serve_on_channel(struct serve *s)
{
	if (serve_read(s, &s->sh)) {
		serve_quit(s);
		return 1;
	}
	return serve_reconcile(s, &s->sh);
}

/* vhost's vq_err: logged, and the loop goes on */
static void serve_on_err(const struct serve *s, unsigned int q)
{
	uint64_t count;

	if (!s->ops->read_eventfd(s->ctx, s->err_fds[q], &count))
		keeld_logf(&s->log, "vhost: queue %u reported an error", q);
}

static int serve_events(struct serve *s, const struct pollfd *pfd)
{
	if (pfd[PFD_SIGNAL].revents)
		return serve_on_signal(s);
	for (unsigned int q = 0; q < s->nvqs; q++)
		if (pfd[PFD_ERR + q].revents)
			serve_on_err(s, q);
	if (pfd[PFD_CHANNEL].revents)
		return serve_on_channel(s);
	return SERVE_RUNNING;
}

int serve_run(struct serve *s)
{
	struct pollfd pfd[PFD_ERR + KEEL_CHAN_MAX_QUEUES];
	int status = serve_reconcile(s, &s->sh);

	pfd[PFD_CHANNEL] =
		(struct pollfd){ .fd = s->keel_fd, .events = POLLIN };
	pfd[PFD_SIGNAL] =
		(struct pollfd){ .fd = s->signal_fd, .events = POLLIN };
	for (unsigned int q = 0; q < s->nvqs; q++)
		pfd[PFD_ERR + q] = (struct pollfd){ .fd = s->err_fds[q],
						    .events = POLLIN };
	while (status == SERVE_RUNNING) {
		errno = 0;
		if (s->ops->poll(s->ctx, pfd, PFD_ERR + s->nvqs) >= 0) {
			status = serve_events(s, pfd);
		} else if (errno != EINTR) {
			serve_error(s, "poll");
			serve_quit(s);
			status = 1;
		}
	}
	return status;
}

void serve_close(struct serve *s)
{
	vhost_close(&s->vhost);
	serve_close_fd(s, &s->keel_fd);
	for (unsigned int q = 0; q < KEEL_CHAN_MAX_QUEUES; q++) {
		serve_close_fd(s, &s->kick_fds[q]);
		serve_close_fd(s, &s->call_fds[q]);
		serve_close_fd(s, &s->err_fds[q]);
	}
	serve_close_fd(s, &s->signal_fd);
	if (s->ram)
		s->ops->unmap(s->ctx, s->ram, s->ram_size);
	s->ram = NULL;
}

/* the real system calls */

static const char *sys_root(void *ctx)
{
	return ctx ? ctx : "";
}

static int sys_keel_open(void *ctx)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s", sys_root(ctx), KEEL_DEV_PATH);
	return open(path, O_RDWR | O_CLOEXEC);
}

static int sys_keel_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	return (int)pread(fd, buf, len, 0);
}

static int sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg) < 0 ? -1 : 0;
}

static int sys_eventfd(void *ctx)
{
	(void)ctx;
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static int sys_read_eventfd(void *ctx, int fd, uint64_t *count)
{
	(void)ctx;
	return read(fd, count, sizeof(*count)) == sizeof(*count) ? 0 : -1;
}

static int sys_notify(void *ctx, int fd)
{
	uint64_t one = 1;

	(void)ctx;
	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static int sys_signalfd(void *ctx)
{
	sigset_t set;

	(void)ctx;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static int sys_read_signal(void *ctx, int fd)
{
	struct signalfd_siginfo si;

	(void)ctx;
	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return -1;
	return (int)si.ssi_signo;
}

static int sys_poll(void *ctx, struct pollfd *fds, unsigned int nfds)
{
	(void)ctx;
	return poll(fds, nfds, -1);
}

static int sys_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

static int sys_find_dax(void *ctx, uint64_t phys, uint64_t size, char *dev,
			size_t len)
{
	return dax_find(sys_root(ctx), phys, size, dev, len);
}

static void *sys_map(void *ctx, const char *dev, uint64_t size)
{
	return dax_map(sys_root(ctx), dev, size);
}

static void sys_unmap(void *ctx, void *addr, uint64_t size)
{
	(void)ctx;
	munmap(addr, size);
}

const struct serve_ops serve_sys_ops = {
	.keel_open = sys_keel_open,
	.keel_read = sys_keel_read,
	.keel_ioctl = sys_ioctl,
	.eventfd = sys_eventfd,
	.read_eventfd = sys_read_eventfd,
	.notify = sys_notify,
	.signalfd = sys_signalfd,
	.read_signal = sys_read_signal,
	.poll = sys_poll,
	.close = sys_close,
	.find_dax = sys_find_dax,
	.map = sys_map,
	.unmap = sys_unmap,
};
