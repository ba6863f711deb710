// SPDX-License-Identifier: GPL-2.0
/*
 * keeld's /dev/vhost-scsi sequencing against a fake device that checks the
 * state as drivers/vhost/{vhost,scsi}.c do: owner first, -EBUSY for NUM and
 * BASE while an endpoint is set, SET_ENDPOINT needs a mem table and answers
 * -EEXIST when set and -ENODEV without a matching target, ring alignment,
 * unknown feature bits...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <linux/vhost.h>

#include "vhost/keeld/vhost.h"
#include "tests/unit/recorder.h"

#define WWPN "naa.5001405abcdef001"
#define OFFERED 0x13d00000aull	/* what Debian 6.1's vhost-scsi offers */
#define ACKED 0x130000000ull	/* VERSION_1, EVENT_IDX, INDIRECT_DESC */
#define FD 3
#define NVQS 3
#define QSIZE 128

struct fake_vq {
	unsigned int num, last_avail, consumed;
	bool addr_set;
	struct vhost_vring_addr addr;
	int kick, call, err;
};

struct fake {
	bool open, owner, endpoint, mem_set;
	int open_errno;
	__u64 acked;
	int abi;
	char target[VHOST_WWPN_MAX];	/* the TPG with a nexus LIO has */
	struct vhost_memory_region regions[8];
	unsigned int nregions;
	struct fake_vq vq[NVQS];
	bool kicks_at_clear;		/* any kick attached at CLEAR */
	int fail_at;			/* fail the n-th ioctl (1-based) */
	unsigned long fail_req;		/* or every ioctl of this request */
	int fail_errno;
};

static struct fake fk;
static struct vhost_dev dev;

static int fake_open(void *ctx)
{
	(void)ctx;
	if (fk.open_errno) {
		errno = fk.open_errno;
		return -1;
	}
	fk.open = true;
	return FD;
}

static int fake_close(void *ctx, int fd)
{
	(void)ctx;
	assert_int_equal(fd, FD);
	record("CLOSE");
	fk.open = false;
	return 0;
}

static bool in_mem_table(__u64 uaddr, __u64 len)
{
	for (unsigned int i = 0; i < fk.nregions; i++) {
		const struct vhost_memory_region *r = &fk.regions[i];

		if (uaddr >= r->userspace_addr &&
		    uaddr + len <= r->userspace_addr + r->memory_size)
			return true;
	}
	return false;
}

/* vhost_vq_access_ok() over every ring that has addresses */
static bool rings_ok(void)
{
	if (!fk.mem_set)
		return false;
	for (int q = 0; q < NVQS; q++) {
		const struct fake_vq *v = &fk.vq[q];

		if (v->addr_set &&
		    (!in_mem_table(v->addr.desc_user_addr, 16 * v->num) ||
		     !in_mem_table(v->addr.avail_user_addr, 6 + 2 * v->num) ||
		     !in_mem_table(v->addr.used_user_addr, 6 + 8 * v->num)))
			return false;
	}
	return true;
}

static int set_mem_table(const struct vhost_memory *m)
{
	if (m->padding)
		return -EOPNOTSUPP;
	if (m->nregions > 64)
		return -E2BIG;
	assert_true(m->nregions <= 8);
	memcpy(fk.regions, m->regions, m->nregions * sizeof(m->regions[0]));
	fk.nregions = m->nregions;
	fk.mem_set = true;
	return 0;
}

static int set_endpoint(const struct vhost_scsi_target *t)
{
	if (t->reserved)
		return -EOPNOTSUPP;
	if (!rings_ok())
		return -EFAULT;
	if (fk.endpoint)
		return -EEXIST;
	if (strcmp(t->vhost_wwpn, fk.target))
		return -ENODEV;
	fk.endpoint = true;
	return 0;
}

/* requests completed while running move last_avail_idx on */
static int clear_endpoint(const struct vhost_scsi_target *t)
{
	if (!fk.endpoint)
		return 0;
	if (strcmp(t->vhost_wwpn, fk.target))
		return -EINVAL;
	for (int q = 0; q < NVQS; q++) {
		fk.kicks_at_clear |= fk.vq[q].kick >= 0;
		if (fk.vq[q].addr_set)
			fk.vq[q].last_avail += fk.vq[q].consumed;
	}
	fk.endpoint = false;
	return 0;
}

static int set_addr(struct fake_vq *v, const struct vhost_vring_addr *a)
{
	if (a->flags)
		return -EOPNOTSUPP;
	if ((a->avail_user_addr & 1) || (a->used_user_addr & 3))
		return -EINVAL;
	v->addr = *a;
	v->addr_set = true;
	return 0;
}

static int vring_ioctl(unsigned long req, void *arg)
{
	struct vhost_vring_state *s = arg;
	const struct vhost_vring_file *f = arg;
	struct fake_vq *v;

	if (s->index >= NVQS)
		return -ENOBUFS;
	v = &fk.vq[s->index];
	switch (req) {
	case VHOST_SET_VRING_NUM:
		if (fk.endpoint)
			return -EBUSY;
		if (!s->num || s->num > 0xffff || (s->num & (s->num - 1)))
			return -EINVAL;
		v->num = s->num;
		return 0;
	case VHOST_SET_VRING_BASE:
		if (fk.endpoint)
			return -EBUSY;
		if (s->num > 0xffff)
			return -EINVAL;
		v->last_avail = s->num;
		return 0;
	case VHOST_GET_VRING_BASE:
		s->num = v->last_avail;
		return 0;
	case VHOST_SET_VRING_ADDR:
		return set_addr(v, arg);
	}
	if (f->fd < -1)
		return -EBADF;
	if (req == VHOST_SET_VRING_KICK)
		v->kick = f->fd;
	else if (req == VHOST_SET_VRING_CALL)
		v->call = f->fd;
	else
		v->err = f->fd;
	return 0;
}

static int device_ioctl(unsigned long req, void *arg)
{
	if (req == VHOST_SET_OWNER) {
		if (fk.owner)
			return -EBUSY;
		fk.owner = true;
		return 0;
	}
	if (!fk.owner)
		return -EPERM;
	switch (req) {
	case VHOST_GET_FEATURES:
		*(__u64 *)arg = OFFERED;
		return 0;
	case VHOST_SET_FEATURES:
		if (*(__u64 *)arg & ~OFFERED)
			return -EOPNOTSUPP;
		fk.acked = *(__u64 *)arg;
		return 0;
	case VHOST_SET_MEM_TABLE:
		return set_mem_table(arg);
	case VHOST_SCSI_SET_ENDPOINT:
		return set_endpoint(arg);
	case VHOST_SCSI_CLEAR_ENDPOINT:
		return clear_endpoint(arg);
	case VHOST_SCSI_GET_ABI_VERSION:
		*(int *)arg = fk.abi;
		return 0;
	}
	return vring_ioctl(req, arg);
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	int rc;

	(void)ctx;
	assert_int_equal(fd, FD);
	assert_true(fk.open);
	record_vhost(req, arg, 0);
	if (rec.ncalls == fk.fail_at || req == fk.fail_req)
		rc = -fk.fail_errno;
	else
		rc = device_ioctl(req, arg);
	return rc < 0 ? failed(-rc) : 0;
}

static const struct vhost_ops fake_ops = {
	.open = fake_open,
	.ioctl = fake_ioctl,
	.close = fake_close,
};

static const int call_fds[NVQS] = { 10, 11, 12 };
static const int err_fds[NVQS] = { 20, 21, 22 };

static const struct vhost_dev_config dev_cfg = {
	.ops = &fake_ops,
	.log = { .line = rec_log_line },
	.wwpn = WWPN,
	.nvqs = NVQS,
	.call_fds = call_fds,
	.err_fds = err_fds,
};

/* low RAM and a window above 4 GiB, mapped at two places in keeld */
static const struct vhost_region regions[] = {
	{ .gpa = 0, .size = 0x100000, .uaddr = 0x7f0000000000 },
	{ .gpa = 0x100000000, .size = 0x100000, .uaddr = 0x7f1000000000 },
};

static struct vhost_queue queues[NVQS];
static struct vhost_start start_req;

static void reset_request(void)
{
	for (unsigned int q = 0; q < NVQS; q++)
		queues[q] = (struct vhost_queue){
			.index = q, .size = QSIZE,
			.desc = 0x10000 * (q + 1),
			.avail = 0x10000 * (q + 1) + 0x800,
			.used = 0x10000 * (q + 1) + 0x1000,
			.kick_fd = 30 + (int)q, .call_fd = 40 + (int)q,
		};
	queues[2].desc = 0x100000000;
	queues[2].avail = 0x100000800;
	queues[2].used = 0x100001000;
	start_req = (struct vhost_start){
		.features = ACKED, .regions = regions, .nregions = 2,
		.queues = queues, .nqueues = NVQS,
	};
}

static int fresh_device(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&rec, 0, sizeof(rec));
	fk.abi = VHOST_SCSI_ABI_VERSION;
	snprintf(fk.target, sizeof(fk.target), "%s", WWPN);
	for (int q = 0; q < NVQS; q++)
		fk.vq[q].kick = fk.vq[q].call = fk.vq[q].err = -1;
	reset_request();
	memset(&dev, 0, sizeof(dev));
	dev.fd = -1;
	return 0;
}

static int opened_device(void **state)
{
	fresh_device(state);
	assert_int_equal(vhost_open_device(&dev, &dev_cfg), 0);
	forget_history();
	return 0;
}

static int started_device(void **state)
{
	opened_device(state);
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	forget_history();
	return 0;
}

static void assert_lines(char got[][REC_LINE_LEN], int n,
			 const char *const *want, int nwant)
{
	for (int i = 0; i < n && i < nwant; i++)
		assert_string_equal(got[i], want[i]);
	assert_int_equal(n, nwant);
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__ })
#define NLINES(...) ((int)(sizeof(LINES(__VA_ARGS__)) / sizeof(char *)))
#define assert_calls(...)                                                 \
	assert_lines(rec.calls, rec.ncalls, LINES(__VA_ARGS__),           \
		     NLINES(__VA_ARGS__))
#define assert_log(...)                                                   \
	assert_lines(rec.log, rec.nlog, LINES(__VA_ARGS__), NLINES(__VA_ARGS__))

/* one step of the full start: the fake's record, keeld's step, its line */
struct step {
	const char *call, *step, *line;
};

static const struct step start_steps[] = {
	{ "ABI", "get_abi_version", "vhost: get_abi_version 1" },
	{ "FEATURES 0x130000000", "set_features",
	  "vhost: set_features 0x130000000" },
	{ "MEM 2", "set_mem_table", "vhost: set_mem_table 2 regions" },
#define QUEUE_STEPS(q, d, a, u)                                              \
	{ "NUM " #q " 128", "set_vring_num q=" #q,                           \
	  "vhost: set_vring_num q=" #q " num=128" },                         \
	{ "BASE " #q " 0", "set_vring_base q=" #q,                           \
	  "vhost: set_vring_base q=" #q " base=0" },                         \
	{ "ADDR " #q " " d " " a " " u, "set_vring_addr q=" #q,              \
	  "vhost: set_vring_addr q=" #q " desc=" d " avail=" a " used=" u }, \
	{ "KICK " #q " 3" #q, "set_vring_kick q=" #q,                        \
	  "vhost: set_vring_kick q=" #q " fd=3" #q },                        \
	{ "CALL " #q " 4" #q, "set_vring_call q=" #q,                        \
	  "vhost: set_vring_call q=" #q " fd=4" #q }
	QUEUE_STEPS(0, "0x7f0000010000", "0x7f0000010800", "0x7f0000011000"),
	QUEUE_STEPS(1, "0x7f0000020000", "0x7f0000020800", "0x7f0000021000"),
	QUEUE_STEPS(2, "0x7f1000000000", "0x7f1000000800", "0x7f1000001000"),
#undef QUEUE_STEPS
	{ "SET_EP " WWPN, "set_endpoint", "vhost: set_endpoint wwpn=" WWPN },
};

#define NSTART ((int)(sizeof(start_steps) / sizeof(start_steps[0])))

#define STOP_STEP(call, step, detail) { call, step, "vhost: " step detail }
static const struct step stop_steps[] = {
	STOP_STEP("KICK 0 -1", "set_vring_kick q=0", " fd=-1"),
	STOP_STEP("KICK 1 -1", "set_vring_kick q=1", " fd=-1"),
	STOP_STEP("KICK 2 -1", "set_vring_kick q=2", " fd=-1"),
	STOP_STEP("CLEAR_EP " WWPN, "clear_endpoint", " wwpn=" WWPN),
	STOP_STEP("GET_BASE 0", "get_vring_base q=0", " base=1"),
	STOP_STEP("GET_BASE 1", "get_vring_base q=1", " base=0"),
	STOP_STEP("GET_BASE 2", "get_vring_base q=2", " base=37"),
};
#undef STOP_STEP

#define NSTOP ((int)(sizeof(stop_steps) / sizeof(stop_steps[0])))

static void assert_steps(const struct step *steps, int n)
{
	assert_int_equal(rec.ncalls, n);
	assert_int_equal(rec.nlog, n);
	for (int i = 0; i < n; i++) {
		assert_string_equal(rec.calls[i], steps[i].call);
		assert_string_equal(rec.log[i], steps[i].line);
	}
}

/* the k-th step failed with @err: the calls stop there, one failure line */
static void assert_failed_at(const struct step *steps, int k, int err,
			     const char *errstr)
{
	char call[REC_LINE_LEN], line[REC_LINE_LEN];

	assert_int_equal(rec.ncalls, k + 1);
	assert_int_equal(rec.nlog, k + 1);
	for (int i = 0; i < k; i++) {
		assert_string_equal(rec.calls[i], steps[i].call);
		assert_string_equal(rec.log[i], steps[i].line);
	}
	snprintf(call, sizeof(call), "%s !%d", steps[k].call, err);
	snprintf(line, sizeof(line), "vhost: %s failed: %s (errno %d)",
		 steps[k].step, errstr, err);
	assert_string_equal(rec.calls[k], call);
	assert_string_equal(rec.log[k], line);
}

static void test_open_sequence(void **state)
{
	(void)state;
	assert_int_equal(vhost_open_device(&dev, &dev_cfg), 0);
	assert_int_equal(dev.fd, FD);
	assert_int_equal(dev.features, OFFERED);
	assert_calls("OWNER", "GET_FEATURES", "CALL 0 10", "ERR 0 20",
		     "CALL 1 11", "ERR 1 21", "CALL 2 12", "ERR 2 22");
	assert_log("vhost: open fd=3", "vhost: set_owner",
		   "vhost: get_features 0x13d00000a",
		   "vhost: set_vring_call q=0 fd=10",
		   "vhost: set_vring_err q=0 fd=20",
		   "vhost: set_vring_call q=1 fd=11",
		   "vhost: set_vring_err q=1 fd=21",
		   "vhost: set_vring_call q=2 fd=12",
		   "vhost: set_vring_err q=2 fd=22");
}

static void test_open_fails(void **state)
{
	(void)state;
	fk.open_errno = ENOENT;
	assert_int_equal(vhost_open_device(&dev, &dev_cfg), -ENOENT);
	assert_int_equal(dev.fd, -1);
	assert_int_equal(rec.ncalls, 0);
	assert_log("vhost: open failed: No such file or directory (errno 2)");
}

/* someone else owns the fd's device: keeld reports it and closes again */
static void test_open_owner_busy(void **state)
{
	(void)state;
	fk.owner = true;
	assert_int_equal(vhost_open_device(&dev, &dev_cfg), -EBUSY);
	assert_int_equal(dev.fd, -1);
	assert_false(fk.open);
	assert_calls("OWNER !16", "CLOSE");
	assert_log("vhost: open fd=3",
		   "vhost: set_owner failed: Device or resource busy "
		   "(errno 16)",
		   "vhost: close fd=3");
}

static void test_open_get_features_fails(void **state)
{
	(void)state;
	fk.fail_req = VHOST_GET_FEATURES;
	fk.fail_errno = EFAULT;
	assert_int_equal(vhost_open_device(&dev, &dev_cfg), -EFAULT);
	assert_calls("OWNER", "GET_FEATURES !14", "CLOSE");
	assert_string_equal(rec.log[2], "vhost: get_features failed: "
			    "Bad address (errno 14)");
}

static void test_open_bad_config(void **state)
{
	struct vhost_dev_config cfg = dev_cfg;
	char wwpn[VHOST_WWPN_MAX + 1];

	(void)state;
	memset(wwpn, 'n', sizeof(wwpn) - 1);
	wwpn[sizeof(wwpn) - 1] = '\0';
	cfg.wwpn = wwpn;
	assert_int_equal(vhost_open_device(&dev, &cfg), -EINVAL);
	cfg = dev_cfg;
	cfg.nvqs = VHOST_MAX_VQS + 1;
	assert_int_equal(vhost_open_device(&dev, &cfg), -EINVAL);
	assert_false(fk.open);
	assert_log("vhost: config failed: Invalid argument (errno 22)",
		   "vhost: config failed: Invalid argument (errno 22)");
}

static void test_start_sequence(void **state)
{
	(void)state;
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	assert_steps(start_steps, NSTART);
	assert_true(fk.endpoint);
	assert_int_equal(fk.acked, ACKED);
	assert_int_equal(fk.regions[1].guest_phys_addr, 0x100000000);
	assert_int_equal(fk.regions[1].memory_size, 0x100000);
	assert_int_equal(fk.regions[1].userspace_addr, 0x7f1000000000);
	assert_int_equal(fk.vq[2].kick, 32);
	assert_int_equal(fk.vq[2].call, 42);
	assert_int_equal(fk.vq[2].err, 22);
}

/* firmware that set up only the request queue: QEMU skips the others */
static void test_start_skips_unset_queues(void **state)
{
	(void)state;
	queues[0].desc = 0;
	queues[1].desc = 0;
	queues[1].size = 0;	/* not looked at */
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	assert_calls("ABI", "FEATURES 0x130000000", "MEM 2", "NUM 2 128",
		     "BASE 2 0",
		     "ADDR 2 0x7f1000000000 0x7f1000000800 0x7f1000001000",
		     "KICK 2 32", "CALL 2 42", "SET_EP " WWPN);
}

static void test_stop_sequence(void **state)
{
	uint16_t saved[NVQS] = { 0 };

	(void)state;
	fk.vq[0].consumed = 1;
	fk.vq[2].consumed = 37;
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_steps(stop_steps, NSTOP);
	assert_false(fk.kicks_at_clear);
	assert_false(fk.endpoint);
	assert_int_equal(saved[0], 1);
	assert_int_equal(saved[1], 0);
	assert_int_equal(saved[2], 37);
}

static void test_stop_skips_unset_queues(void **state)
{
	uint16_t saved[NVQS] = { 0xbeef, 0xbeef, 0xbeef };

	fresh_device(state);
	opened_device(state);
	queues[0].desc = 0;
	queues[1].desc = 0;
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	fk.vq[2].consumed = 5;
	forget_history();
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_calls("KICK 2 -1", "CLEAR_EP " WWPN, "GET_BASE 2");
	assert_int_equal(saved[0], 0xbeef);
	assert_int_equal(saved[1], 0xbeef);
	assert_int_equal(saved[2], 5);
}

/* handoff: the saved bases go back in, kicks are attached again */
static void test_restart_with_saved_bases(void **state)
{
	uint16_t saved[NVQS] = { 0 };

	(void)state;
	fk.vq[2].consumed = 37;
	assert_int_equal(vhost_stop(&dev, saved), 0);
	for (int q = 0; q < NVQS; q++)
		queues[q].base = saved[q];
	forget_history();
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	assert_int_equal(rec.ncalls, NSTART);
	assert_string_equal(rec.calls[14], "BASE 2 37");
	assert_string_equal(rec.log[14], "vhost: set_vring_base q=2 base=37");
	assert_string_equal(rec.calls[16], "KICK 2 32");
	assert_int_equal(fk.vq[2].last_avail, 37);
	assert_int_equal(fk.vq[2].kick, 32);
	assert_true(fk.endpoint);
}

/* guest reset: stop, then the next DRIVER_OK starts from base 0 */
static void test_restart_after_reset(void **state)
{
	uint16_t saved[NVQS] = { 0 };

	(void)state;
	fk.vq[2].consumed = 9;
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_int_equal(saved[2], 9);
	forget_history();
	assert_int_equal(vhost_start(&dev, &start_req), 0);
	assert_steps(start_steps, NSTART);
	assert_int_equal(fk.vq[2].last_avail, 0);
}

static void test_stop_when_not_started(void **state)
{
	uint16_t saved[NVQS] = { 7, 7, 7 };

	(void)state;
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_int_equal(rec.ncalls, 0);
	assert_int_equal(rec.nlog, 0);
	assert_int_equal(saved[0], 7);
}

/* a reset need not keep the bases */
static void test_stop_twice(void **state)
{
	uint16_t saved[NVQS];

	(void)state;
	assert_int_equal(vhost_stop(&dev, NULL), 0);
	assert_int_equal(rec.ncalls, NSTOP);
	forget_history();
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_int_equal(rec.ncalls, 0);
}

static void test_start_each_step_fails(void **state)
{
	for (int k = 0; k < NSTART; k++) {
		opened_device(state);
		fk.fail_at = k + 1;
		fk.fail_errno = EIO;
		assert_int_equal(vhost_start(&dev, &start_req), -EIO);
		assert_failed_at(start_steps, k, EIO, "Input/output error");
		assert_false(fk.endpoint);
		fresh_device(state);
	}
}

static void test_stop_each_step_fails(void **state)
{
	uint16_t saved[NVQS];

	for (int k = 0; k < NSTOP; k++) {
		started_device(state);
		fk.vq[0].consumed = 1;
		fk.vq[2].consumed = 37;
		fk.fail_at = k + 1;
		fk.fail_errno = EINTR;
		assert_int_equal(vhost_stop(&dev, saved), -EINTR);
		assert_failed_at(stop_steps, k, EINTR,
				 "Interrupted system call");
		fresh_device(state);
	}
}

/* a failed stop is retried from where it stopped */
static void test_stop_retry_resumes(void **state)
{
	uint16_t saved[NVQS] = { 0 };

	(void)state;
	fk.fail_req = VHOST_SCSI_CLEAR_ENDPOINT;
	fk.fail_errno = EINTR;
	assert_int_equal(vhost_stop(&dev, saved), -EINTR);
	fk.fail_req = 0;
	forget_history();
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_calls("CLEAR_EP " WWPN, "GET_BASE 0", "GET_BASE 1",
		     "GET_BASE 2");
}

/* the kernel still has an endpoint: NUM is refused with -EBUSY */
static void test_start_kernel_busy(void **state)
{
	(void)state;
	fk.endpoint = true;
	assert_int_equal(vhost_start(&dev, &start_req), -EBUSY);
	assert_failed_at(start_steps, 3, EBUSY, "Device or resource busy");
}

static void test_start_endpoint_exists(void **state)
{
	(void)state;
	for (int q = 0; q < NVQS; q++)
		queues[q].desc = 0;
	fk.endpoint = true;
	assert_int_equal(vhost_start(&dev, &start_req), -EEXIST);
	assert_calls("ABI", "FEATURES 0x130000000", "MEM 2",
		     "SET_EP " WWPN " !17");
	assert_string_equal(rec.log[3], "vhost: set_endpoint failed: "
			    "File exists (errno 17)");
}

/* no TPG with a nexus under the WWPN */
static void test_start_no_target(void **state)
{
	(void)state;
	snprintf(fk.target, sizeof(fk.target), "naa.5001405abcdef002");
	assert_int_equal(vhost_start(&dev, &start_req), -ENODEV);
	assert_failed_at(start_steps, NSTART - 1, ENODEV, "No such device");
}

static void test_start_rings_refused(void **state)
{
	(void)state;
	fk.fail_req = VHOST_SCSI_SET_ENDPOINT;
	fk.fail_errno = EFAULT;
	assert_int_equal(vhost_start(&dev, &start_req), -EFAULT);
	assert_failed_at(start_steps, NSTART - 1, EFAULT, "Bad address");
}

/* after a failed start the caller stops (no clear: no endpoint) first */
static void test_failed_start_needs_stop(void **state)
{
	uint16_t saved[NVQS];

	(void)state;
	snprintf(fk.target, sizeof(fk.target), "naa.5001405abcdef002");
	assert_int_equal(vhost_start(&dev, &start_req), -ENODEV);
	forget_history();
	assert_int_equal(vhost_start(&dev, &start_req), -EBUSY);
	assert_log("vhost: start failed: Device or resource busy (errno 16)");
	assert_int_equal(rec.ncalls, 0);
	forget_history();
	assert_int_equal(vhost_stop(&dev, saved), 0);
	assert_calls("KICK 0 -1", "KICK 1 -1", "KICK 2 -1", "GET_BASE 0",
		     "GET_BASE 1", "GET_BASE 2");
	snprintf(fk.target, sizeof(fk.target), WWPN);
	assert_int_equal(vhost_start(&dev, &start_req), 0);
}

static void test_start_while_started(void **state)
{
	(void)state;
	assert_int_equal(vhost_start(&dev, &start_req), -EBUSY);
	assert_int_equal(rec.ncalls, 0);
	assert_log("vhost: start failed: Device or resource busy (errno 16)");
}

static void test_start_closed_device(void **state)
{
	(void)state;
	vhost_close(&dev);
	forget_history();
	assert_int_equal(vhost_start(&dev, &start_req), -EBADF);
	assert_int_equal(rec.ncalls, 0);
	assert_log("vhost: start failed: Bad file descriptor (errno 9)");
}

static void test_start_newer_abi(void **state)
{
	(void)state;
	fk.abi = 2;
	assert_int_equal(vhost_start(&dev, &start_req), -ENOSYS);
	assert_calls("ABI");
	assert_log("vhost: get_abi_version 2",
		   "vhost: get_abi_version failed: Function not implemented "
		   "(errno 38)");
}

static void test_start_feature_refused(void **state)
{
	(void)state;
	start_req.features = ACKED | 1ull << 34;	/* RING_PACKED */
	assert_int_equal(vhost_start(&dev, &start_req), -EOPNOTSUPP);
	assert_calls("ABI", "FEATURES 0x530000000 !95");
	assert_string_equal(rec.log[1], "vhost: set_features failed: "
			    "Operation not supported (errno 95)");
}

static void test_start_misaligned_used_ring(void **state)
{
	(void)state;
	queues[2].used = 0x100001002;
	assert_int_equal(vhost_start(&dev, &start_req), -EINVAL);
	assert_int_equal(rec.ncalls, 16);
	assert_string_equal(rec.log[15], "vhost: set_vring_addr q=2 failed: "
			    "Invalid argument (errno 22)");
}

/* checked before the first ioctl: the device is not touched */
static void test_start_ring_outside_memory(void **state)
{
	(void)state;
	queues[2].used = 0x1000ffc00;	/* 6 + 8 * 128 bytes cross the end */
	assert_int_equal(vhost_start(&dev, &start_req), -EFAULT);
	assert_int_equal(rec.ncalls, 0);
	assert_log("vhost: translate q=2 used=0x1000ffc00 failed: "
		   "Bad address (errno 14)");
	queues[2].used = 0x100001000;
	queues[1].desc = 0x200000;
	forget_history();
	assert_int_equal(vhost_start(&dev, &start_req), -EFAULT);
	assert_log("vhost: translate q=1 desc=0x200000 failed: "
		   "Bad address (errno 14)");
}

static void test_start_bad_queues(void **state)
{
	(void)state;
	queues[2].size = 100;
	assert_int_equal(vhost_start(&dev, &start_req), -EINVAL);
	queues[2].size = QSIZE;
	queues[2].index = NVQS;
	assert_int_equal(vhost_start(&dev, &start_req), -EINVAL);
	queues[2].index = 1;
	assert_int_equal(vhost_start(&dev, &start_req), -EINVAL);
	assert_int_equal(rec.ncalls, 0);
	assert_log("vhost: start q=2 failed: Invalid argument (errno 22)",
		   "vhost: start q=3 failed: Invalid argument (errno 22)",
		   "vhost: start q=1 failed: Invalid argument (errno 22)");
}

static void test_close(void **state)
{
	uint16_t saved[NVQS] = { 0 };

	(void)state;
	vhost_close(&dev);
	assert_int_equal(dev.fd, -1);
	assert_false(fk.open);
	assert_calls("CLOSE");
	assert_log("vhost: close fd=3");
	assert_int_equal(vhost_stop(&dev, saved), 0);
	vhost_close(&dev);
	assert_int_equal(rec.ncalls, 1);
}

#define fresh(f) cmocka_unit_test_setup(f, fresh_device)
#define opened(f) cmocka_unit_test_setup(f, opened_device)
#define started(f) cmocka_unit_test_setup(f, started_device)

int main(void)
{
	const struct CMUnitTest tests[] = {
		fresh(test_open_sequence),
		fresh(test_open_fails),
		fresh(test_open_owner_busy),
		fresh(test_open_get_features_fails),
		fresh(test_open_bad_config),
		opened(test_start_sequence),
		opened(test_start_skips_unset_queues),
		started(test_stop_sequence),
		fresh(test_stop_skips_unset_queues),
		started(test_restart_with_saved_bases),
		started(test_restart_after_reset),
		opened(test_stop_when_not_started),
		started(test_stop_twice),
		fresh(test_start_each_step_fails),
		fresh(test_stop_each_step_fails),
		started(test_stop_retry_resumes),
		opened(test_start_kernel_busy),
		opened(test_start_endpoint_exists),
		opened(test_start_no_target),
		opened(test_start_rings_refused),
		opened(test_failed_start_needs_stop),
		started(test_start_while_started),
		opened(test_start_closed_device),
		opened(test_start_newer_abi),
		opened(test_start_feature_refused),
		opened(test_start_misaligned_used_ring),
		opened(test_start_ring_outside_memory),
		opened(test_start_bad_queues),
		opened(test_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
