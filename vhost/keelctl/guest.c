// SPDX-License-Identifier: GPL-2.0
/* keel's guest through /dev/keel: snapshots, RAM and the handoff ioctls. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "vhost/keel_dev.h"
#include "vhost/keel_state.h"
#include "vhost/keelctl/guest.h"
#include "vhost/keelctl/sections.h"
#include "vhost/keeld/snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define GUEST_POLL_MS 10 /* keel wakes no poller when a request is answered */
#define GUEST_DEV_MAX 256

static int guest_errno(void)
{
	return errno ? errno : EIO;
}

static int guest_snapshot(struct keelctl *k)
{
	int n;

	errno = 0;
	n = k->ops->keel_read(k->ctx, k->keel_fd, &k->sh, sizeof(k->sh));
	return snapshot_check(&k->sh, n, "keelctl", &k->err);
}

/* The device-dax device of the guest's window, mapped whole. */
static int guest_map_ram(struct keelctl *k)
{
	unsigned long long phys = k->sh.guest_ram_phys;
	unsigned long long end = phys + k->sh.guest_ram_size;
	char dev[GUEST_DEV_MAX];
	int err;

	if (!k->sh.guest_ram_size || k->sh.guest_ram_size % SECTION_PAGE) {
		keeld_logf(&k->err, "guest RAM: %llu bytes, not in 4 KiB pages",
			   (unsigned long long)k->sh.guest_ram_size);
		return -EPROTO;
	}
	errno = 0;
	if (k->ops->find_dax(k->ctx, phys, k->sh.guest_ram_size, dev,
			     sizeof(dev))) {
		err = guest_errno();
		keeld_logf(&k->err,
			   "guest RAM 0x%llx-0x%llx: no /dev/dax device (%s): "
			   "is dax_hmem loaded?",
			   phys, end, strerror(err));
		return -err;
	}
	errno = 0;
	k->ram = k->ops->map(k->ctx, dev, k->sh.guest_ram_size);
	if (!k->ram) {
		err = guest_errno();
		keeld_logf(&k->err, "map %s: %s", dev, strerror(err));
		return -err;
	}
	k->ram_size = k->sh.guest_ram_size;
	return 0;
}

int guest_open(struct keelctl *k, bool ram)
{
	int err;

	k->ram = NULL;
	k->ram_size = 0;
	errno = 0;
	k->keel_fd = k->ops->keel_open(k->ctx);
	if (k->keel_fd < 0) {
		k->keel_fd = -1;
		err = guest_errno();
		keeld_logf(&k->err, "open %s: %s (is keel.ko loaded?)",
			   KEEL_DEV_PATH, strerror(err));
		return -err;
	}
	err = guest_snapshot(k);
	if (!err && ram)
		err = guest_map_ram(k);
	return err;
}

void guest_close(struct keelctl *k)
{
	if (k->ram)
		k->ops->unmap(k->ctx, k->ram, k->ram_size);
	k->ram = NULL;
	if (k->keel_fd >= 0)
		k->ops->close(k->ctx, k->keel_fd);
	k->keel_fd = -1;
}

static const char *guest_ioctl_name(unsigned long req)
{
	static const struct {
		unsigned long req;
		const char *name;
	} names[] = {
		{ KEEL_IOC_PAUSE, "pause" },
		{ KEEL_IOC_RESUME, "resume" },
		{ KEEL_IOC_HANDOFF_STOP, "handoff stop" },
		{ KEEL_IOC_DROP, "drop" },
		{ KEEL_IOC_HANDOFF_START, "handoff start" },
		{ KEEL_IOC_STATE_GET, "state get" },
		{ KEEL_IOC_STATE_SET, "state set" },
		{ KEEL_IOC_STATE_CHECK, "state check" },
		{ KEEL_IOC_DIRTY_LOG, "dirty log" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].req == req)
			return names[i].name;
	return "ioctl";
}

/* the ioctl's value, or -errno unlogged */
static int guest_call(struct keelctl *k, unsigned long req, void *arg)
{
	int rc;

	errno = 0;
	rc = k->ops->keel_ioctl(k->ctx, k->keel_fd, req, arg);
	return rc >= 0 ? rc : -guest_errno();
}

static int guest_refused(struct keelctl *k, unsigned long req, int rc)
{
	keeld_logf(&k->err, "%s: keel refused: %s (errno %d)",
		   guest_ioctl_name(req), strerror(-rc), -rc);
	return rc;
}

int guest_ioctl(struct keelctl *k, unsigned long req, void *arg)
{
	int rc = guest_call(k, req, arg);

	return rc < 0 ? guest_refused(k, req, rc) : rc;
}

int guest_wait_acked(struct keelctl *k, uint32_t n)
{
	uint64_t start = k->ops->now_ns(k->ctx);
	uint64_t limit = (uint64_t)k->ack_timeout_ms * 1000000;
	const struct keel_chan_device *dev = &k->sh.device;
	int rc;

	for (;;) {
		rc = guest_snapshot(k);
		if (rc)
			return rc;
		if (dev->failed == n) {
			keeld_logf(&k->err, "request %u: keeld failed it", n);
			return -EIO;
		}
		if (dev->acked == n)
			return 0;
		if (dev->seq / 2 != n) {
			keeld_logf(&k->err,
				   "request %u: keel posted request %u since",
				   n, dev->seq / 2);
			return -ESTALE;
		}
		if (k->ops->now_ns(k->ctx) - start >= limit) {
			keeld_logf(&k->err,
				   "request %u: keeld has not answered in %d s",
				   n, k->ack_timeout_ms / 1000);
			return -ETIMEDOUT;
		}
		errno = 0;
		if (k->ops->wait(k->ctx, k->keel_fd, GUEST_POLL_MS) < 0 &&
		    errno != EINTR) {
			rc = -guest_errno();
			keeld_logf(&k->err, "poll %s: %s", KEEL_DEV_PATH,
				   strerror(-rc));
			return rc;
		}
	}
}

int guest_handoff_stop(struct keelctl *k)
{
	int n = guest_ioctl(k, KEEL_IOC_HANDOFF_STOP, NULL);

	return n <= 0 ? n : guest_wait_acked(k, (uint32_t)n);
}

int guest_unserve(struct keelctl *k)
{
	int n = guest_call(k, KEEL_IOC_HANDOFF_STOP, NULL);

	return n <= 0 ? 0 : guest_wait_acked(k, (uint32_t)n);
}

int guest_start(struct keelctl *k, uint32_t n)
{
	int rc = n ? guest_wait_acked(k, n) : 0;

	if (!rc)
		rc = guest_ioctl(k, KEEL_IOC_RESUME, NULL);
	return rc < 0 ? rc : 0;
}

int guest_go_on(struct keelctl *k)
{
	int n = guest_ioctl(k, KEEL_IOC_HANDOFF_START, NULL);

	return n < 0 ? n : guest_start(k, (uint32_t)n);
}

int guest_state_get(struct keelctl *k, void *buf, uint32_t *len)
{
	struct keel_state_buf sb = {
		.addr = (uintptr_t)buf,
		.len = KEEL_STATE_MAX,
	};
	int rc = guest_ioctl(k, KEEL_IOC_STATE_GET, &sb);

	if (rc < 0)
		return rc;
	if (sb.written > KEEL_STATE_MAX) {
		keeld_logf(&k->err, "state get: %u bytes, at most %u",
			   sb.written, KEEL_STATE_MAX);
		return -EPROTO;
	}
	*len = sb.written;
	return 0;
}

size_t guest_bitmap_len(const struct keelctl *k)
{
	return (k->ram_size / SECTION_PAGE + 63) / 64 * sizeof(uint64_t);
}

int guest_dirty_log(struct keelctl *k, uint64_t *bitmap, bool first)
{
	struct keel_state_buf sb = {
		.addr = (uintptr_t)bitmap,
		.len = (uint32_t)guest_bitmap_len(k),
	};
	int rc = guest_call(k, KEEL_IOC_DIRTY_LOG, &sb);

	if (rc == -EOPNOTSUPP && first)
		return rc;
	return rc < 0 ? guest_refused(k, KEEL_IOC_DIRTY_LOG, rc)
		      : (int)sb.written;
}

static int state_put(struct keelctl *k, unsigned long req, const void *buf,
		     size_t len)
{
	struct keel_state_buf sb = {
		.addr = (uintptr_t)buf,
		.len = (uint32_t)len,
	};

	return guest_ioctl(k, req, &sb);
}

int guest_state_set(struct keelctl *k, const void *buf, size_t len)
{
	return state_put(k, KEEL_IOC_STATE_SET, buf, len);
}

int guest_state_check(struct keelctl *k, const void *buf, size_t len)
{
	return state_put(k, KEEL_IOC_STATE_CHECK, buf, len);
}
