// SPDX-License-Identifier: GPL-2.0
/*
 * keeld's /dev/vhost-scsi sequencing: the ioctl order of QEMU's
 * hw/scsi/vhost-scsi.c and hw/virtio/vhost.c, plus the kick detach the lab
 * needed before SCSI_CLEAR_ENDPOINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vhost.h>

#include "vhost/keeld/vhost.h"

_Static_assert(sizeof(((struct vhost_scsi_target *)0)->vhost_wwpn) ==
	       VHOST_WWPN_MAX, "VHOST_WWPN_MAX differs from the uapi");

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VRING_MAX_SIZE 32768
#define VH_STEP_MAX 128

/* what a successful request reports after its name */
enum vh_detail {
	VH_NONE,
	VH_U64,		/* feature bits */
	VH_REGIONS,
	VH_NUM,
	VH_BASE,
	VH_ADDR,
	VH_FD,
	VH_WWPN,
	VH_INT,
};

struct vh_req {
	unsigned long req;
	const char *name;
	bool per_queue;		/* arg starts with the __u32 queue index */
	enum vh_detail detail;
};

static const struct vh_req vh_reqs[] = {
	{ VHOST_SET_OWNER, "set_owner", false, VH_NONE },
	{ VHOST_GET_FEATURES, "get_features", false, VH_U64 },
	{ VHOST_SET_FEATURES, "set_features", false, VH_U64 },
	{ VHOST_SET_MEM_TABLE, "set_mem_table", false, VH_REGIONS },
	{ VHOST_SET_VRING_NUM, "set_vring_num", true, VH_NUM },
	{ VHOST_SET_VRING_BASE, "set_vring_base", true, VH_BASE },
	{ VHOST_GET_VRING_BASE, "get_vring_base", true, VH_BASE },
	{ VHOST_SET_VRING_ADDR, "set_vring_addr", true, VH_ADDR },
	{ VHOST_SET_VRING_KICK, "set_vring_kick", true, VH_FD },
	{ VHOST_SET_VRING_CALL, "set_vring_call", true, VH_FD },
	{ VHOST_SET_VRING_ERR, "set_vring_err", true, VH_FD },
	{ VHOST_SCSI_SET_ENDPOINT, "set_endpoint", false, VH_WWPN },
	{ VHOST_SCSI_CLEAR_ENDPOINT, "clear_endpoint", false, VH_WWPN },
	{ VHOST_SCSI_GET_ABI_VERSION, "get_abi_version", false, VH_INT },
};

static const struct vh_req *vh_find(unsigned long req)
{
	static const struct vh_req unknown = { 0, "ioctl", false, VH_NONE };

	for (size_t i = 0; i < ARRAY_SIZE(vh_reqs); i++)
		if (vh_reqs[i].req == req)
			return &vh_reqs[i];
	return &unknown;
}

static void vh_detail(const struct vh_req *r, const void *arg, char *buf,
		      size_t len)
{
	const struct vhost_vring_state *state = arg;
	const struct vhost_vring_file *file = arg;
	const struct vhost_vring_addr *addr = arg;
	const struct vhost_scsi_target *target = arg;
	const struct vhost_memory *mem = arg;
	__u64 bits;

	switch (r->detail) {
	case VH_U64:
		memcpy(&bits, arg, sizeof(bits));
		snprintf(buf, len, " 0x%llx", bits);
		break;
	case VH_REGIONS:
		snprintf(buf, len, " %u regions", mem->nregions);
		break;
	case VH_NUM:
		snprintf(buf, len, " num=%u", state->num);
		break;
	case VH_BASE:
		snprintf(buf, len, " base=%u", state->num);
		break;
	case VH_ADDR:
		snprintf(buf, len, " desc=0x%llx avail=0x%llx used=0x%llx",
			 addr->desc_user_addr, addr->avail_user_addr,
			 addr->used_user_addr);
		break;
	case VH_FD:
		snprintf(buf, len, " fd=%d", file->fd);
		break;
	case VH_WWPN:
		snprintf(buf, len, " wwpn=%.*s", VHOST_WWPN_MAX,
			 target->vhost_wwpn);
		break;
	case VH_INT:
		snprintf(buf, len, " %d", *(const int *)arg);
		break;
	default:
		buf[0] = '\0';
	}
}

static int vh_failed(struct vhost_dev *d, const char *step)
{
	int err = errno ? errno : EIO;

	keeld_logf(&d->log, "vhost: %s failed: %s (errno %d)", step,
		   strerror(err), err);
	errno = err;
	return -err;
}

static int vh_fail_with(struct vhost_dev *d, const char *step, int err)
{
	errno = err;
	return vh_failed(d, step);
}

/* The one way keeld issues a request: run it, log it, report its errno. */
static int vh_ioctl(struct vhost_dev *d, unsigned long req, void *arg)
{
	const struct vh_req *r = vh_find(req);
	char step[VH_STEP_MAX], detail[VHOST_WWPN_MAX + 64];

	if (r->per_queue)
		snprintf(step, sizeof(step), "%s q=%u", r->name,
			 *(const __u32 *)arg);
	else
		snprintf(step, sizeof(step), "%s", r->name);
	errno = 0;
	if (d->ops->ioctl(d->ctx, d->fd, req, arg) < 0)
		return vh_failed(d, step);
	vh_detail(r, arg, detail, sizeof(detail));
	keeld_logf(&d->log, "vhost: %s%s", step, detail);
	return 0;
}

static int vh_set_file(struct vhost_dev *d, unsigned long req,
		       unsigned int index, int fd)
{
	struct vhost_vring_file file = { .index = index, .fd = fd };

	return vh_ioctl(d, req, &file);
}

static int vh_endpoint(struct vhost_dev *d, unsigned long req)
{
	/* abi_version and vhost_tpgt 0, as QEMU; tpgt is ignored since ABI 1 */
	struct vhost_scsi_target target;

	memset(&target, 0, sizeof(target));
	memcpy(target.vhost_wwpn, d->wwpn, sizeof(target.vhost_wwpn));
	return vh_ioctl(d, req, &target);
}

static bool vh_active(const struct vhost_dev *d)
{
	for (unsigned int q = 0; q < d->nvqs; q++)
		if (d->programmed[q] || d->kicked[q])
			return true;
	return d->endpoint;
}

static int vh_check_config(struct vhost_dev *d,
			   const struct vhost_dev_config *cfg)
{
	if (!cfg->wwpn || !*cfg->wwpn || strlen(cfg->wwpn) >= VHOST_WWPN_MAX ||
	    !cfg->nvqs || cfg->nvqs > VHOST_MAX_VQS || !cfg->call_fds ||
	    !cfg->err_fds)
		return vh_fail_with(d, "config", EINVAL);
	return 0;
}

static int vh_bind(struct vhost_dev *d, const struct vhost_dev_config *cfg)
{
	int rc = vh_ioctl(d, VHOST_SET_OWNER, NULL);

	if (!rc)
		rc = vh_ioctl(d, VHOST_GET_FEATURES, &d->features);
	for (unsigned int q = 0; !rc && q < d->nvqs; q++) {
		rc = vh_set_file(d, VHOST_SET_VRING_CALL, q, cfg->call_fds[q]);
		if (!rc)
			rc = vh_set_file(d, VHOST_SET_VRING_ERR, q,
					 cfg->err_fds[q]);
	}
	return rc;
}

int vhost_open_device(struct vhost_dev *d, const struct vhost_dev_config *cfg)
{
	int rc;

	*d = (struct vhost_dev){
		.ops = cfg->ops, .ctx = cfg->ctx, .log = cfg->log,
		.fd = -1, .nvqs = cfg->nvqs,
	};
	rc = vh_check_config(d, cfg);
	if (rc)
		return rc;
	strcpy(d->wwpn, cfg->wwpn);
	errno = 0;
	d->fd = d->ops->open(d->ctx);
	if (d->fd < 0) {
		d->fd = -1;
		return vh_failed(d, "open");
	}
	keeld_logf(&d->log, "vhost: open fd=%d", d->fd);
	rc = vh_bind(d, cfg);
	if (rc)
		vhost_close(d);
	return rc;
}

/* where @len bytes at guest address @gpa are mapped; 0: not in one region */
static uint64_t vh_translate(const struct vhost_start *s, uint64_t gpa,
			     uint64_t len)
{
	for (unsigned int i = 0; i < s->nregions; i++) {
		const struct vhost_region *r = &s->regions[i];
		uint64_t off = gpa - r->gpa;

		if (gpa >= r->gpa && off < r->size && len <= r->size - off)
			return r->uaddr + off;
	}
	return 0;
}

/* the three rings of a split virtqueue, event fields included */
static int vh_map_rings(struct vhost_dev *d, const struct vhost_start *s,
			const struct vhost_queue *q,
			struct vhost_vring_addr *addr)
{
	const struct {
		const char *name;
		uint64_t gpa, len;
		__u64 *uaddr;
	} ring[] = {
		{ "desc", q->desc, 16ull * q->size, &addr->desc_user_addr },
		{ "avail", q->avail, 6 + 2ull * q->size,
		  &addr->avail_user_addr },
		{ "used", q->used, 6 + 8ull * q->size, &addr->used_user_addr },
	};
	char step[VH_STEP_MAX];

	*addr = (struct vhost_vring_addr){ .index = q->index };
	for (size_t i = 0; i < ARRAY_SIZE(ring); i++) {
		*ring[i].uaddr = vh_translate(s, ring[i].gpa, ring[i].len);
		if (!*ring[i].uaddr) {
			snprintf(step, sizeof(step), "translate q=%u %s=0x%llx",
				 q->index, ring[i].name,
				 (unsigned long long)ring[i].gpa);
			return vh_fail_with(d, step, EFAULT);
		}
	}
	return 0;
}

static bool vh_size_ok(uint16_t size)
{
	return size && size <= VRING_MAX_SIZE && !(size & (size - 1));
}

/* Checks the whole request before the first ioctl; fills @addrs. */
static int vh_check_start(struct vhost_dev *d, const struct vhost_start *s,
			  struct vhost_vring_addr *addrs)
{
	bool seen[VHOST_MAX_VQS] = { false };
	char step[VH_STEP_MAX];
	int rc;

	if (d->fd < 0)
		return vh_fail_with(d, "start", EBADF);
	if (vh_active(d))
		return vh_fail_with(d, "start", EBUSY);
	if (s->nqueues > d->nvqs)
		return vh_fail_with(d, "start", EINVAL);
	for (unsigned int i = 0; i < s->nqueues; i++) {
		const struct vhost_queue *q = &s->queues[i];

		snprintf(step, sizeof(step), "start q=%u", q->index);
		if (q->index >= d->nvqs || seen[q->index])
			return vh_fail_with(d, step, EINVAL);
		seen[q->index] = true;
		if (!q->desc)
			continue;
		if (!vh_size_ok(q->size))
			return vh_fail_with(d, step, EINVAL);
		rc = vh_map_rings(d, s, q, &addrs[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int vh_check_abi(struct vhost_dev *d)
{
	int abi = 0;
	int rc = vh_ioctl(d, VHOST_SCSI_GET_ABI_VERSION, &abi);

	if (rc || abi <= VHOST_SCSI_ABI_VERSION)
		return rc;
	return vh_fail_with(d, "get_abi_version", ENOSYS); /* as QEMU */
}

static int vh_set_mem_table(struct vhost_dev *d, const struct vhost_start *s)
{
	struct vhost_memory *mem;
	int rc;

	mem = calloc(1, sizeof(*mem) + s->nregions * sizeof(mem->regions[0]));
	if (!mem)
		return vh_fail_with(d, "set_mem_table", ENOMEM);
	mem->nregions = s->nregions;
	for (unsigned int i = 0; i < s->nregions; i++)
		mem->regions[i] = (struct vhost_memory_region){
			.guest_phys_addr = s->regions[i].gpa,
			.memory_size = s->regions[i].size,
			.userspace_addr = s->regions[i].uaddr,
		};
	rc = vh_ioctl(d, VHOST_SET_MEM_TABLE, mem);
	free(mem);
	return rc;
}

static int vh_start_queue(struct vhost_dev *d, const struct vhost_queue *q,
			  struct vhost_vring_addr *addr)
{
	struct vhost_vring_state num = { .index = q->index, .num = q->size };
	struct vhost_vring_state base = { .index = q->index, .num = q->base };
	int rc = vh_ioctl(d, VHOST_SET_VRING_NUM, &num);

	if (!rc)
		rc = vh_ioctl(d, VHOST_SET_VRING_BASE, &base);
	if (!rc)
		rc = vh_ioctl(d, VHOST_SET_VRING_ADDR, addr);
	if (rc)
		return rc;
	d->programmed[q->index] = true;
	rc = vh_set_file(d, VHOST_SET_VRING_KICK, q->index, q->kick_fd);
	if (rc)
		return rc;
	d->kicked[q->index] = q->kick_fd >= 0;
	return vh_set_file(d, VHOST_SET_VRING_CALL, q->index, q->call_fd);
}

int vhost_start(struct vhost_dev *d, const struct vhost_start *s)
{
	struct vhost_vring_addr addrs[VHOST_MAX_VQS];
	__u64 features = s->features;
	int rc = vh_check_start(d, s, addrs);

	if (!rc)
		rc = vh_check_abi(d);
	if (!rc)
		rc = vh_ioctl(d, VHOST_SET_FEATURES, &features);
	if (!rc)
		rc = vh_set_mem_table(d, s);
	for (unsigned int i = 0; !rc && i < s->nqueues; i++)
		if (s->queues[i].desc)
			rc = vh_start_queue(d, &s->queues[i], &addrs[i]);
	if (!rc)
		rc = vh_endpoint(d, VHOST_SCSI_SET_ENDPOINT);
	if (!rc)
		d->endpoint = true;
	return rc;
}

static int vh_detach_kicks(struct vhost_dev *d)
{
	for (unsigned int q = 0; q < d->nvqs; q++) {
		int rc;

		if (!d->kicked[q])
			continue;
		rc = vh_set_file(d, VHOST_SET_VRING_KICK, q, -1);
		if (rc)
			return rc;
		d->kicked[q] = false;
	}
	return 0;
}

static int vh_save_bases(struct vhost_dev *d, uint16_t *saved_bases)
{
	for (unsigned int q = 0; q < d->nvqs; q++) {
		struct vhost_vring_state state = { .index = q };
		int rc;

		if (!d->programmed[q])
			continue;
		rc = vh_ioctl(d, VHOST_GET_VRING_BASE, &state);
		if (rc)
			return rc;
		if (saved_bases)
			saved_bases[q] = (uint16_t)state.num;
		d->programmed[q] = false;
	}
	return 0;
}

int vhost_stop(struct vhost_dev *d, uint16_t *saved_bases)
{
	int rc = vh_detach_kicks(d);

	if (!rc && d->endpoint) {
		rc = vh_endpoint(d, VHOST_SCSI_CLEAR_ENDPOINT);
		d->endpoint = rc != 0;
	}
	return rc ? rc : vh_save_bases(d, saved_bases);
}

void vhost_close(struct vhost_dev *d)
{
	int err = errno;

	if (d->fd >= 0) {
		d->ops->close(d->ctx, d->fd);
		keeld_logf(&d->log, "vhost: close fd=%d", d->fd);
	}
	d->fd = -1;
	d->endpoint = false;
	memset(d->programmed, 0, sizeof(d->programmed));
	memset(d->kicked, 0, sizeof(d->kicked));
	errno = err;
}

/* the real system calls */

static int sys_open(void *ctx)
{
	return open(ctx ? ctx : VHOST_SCSI_PATH, O_RDWR | O_CLOEXEC);
}

static int sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg) < 0 ? -1 : 0;
}

static int sys_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

const struct vhost_ops vhost_sys_ops = {
	.open = sys_open,
	.ioctl = sys_ioctl,
	.close = sys_close,
};
