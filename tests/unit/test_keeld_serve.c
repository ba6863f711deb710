// SPDX-License-Identifier: GPL-2.0
/*
 * keeld serve: keel's lifecycle requests against a fake /dev/keel (a
 * snapshot, SET_KICK/SET_CALL, ACK/FAIL), a fake /dev/vhost-scsi that
 * records every ioctl, fake guest RAM holding the used rings, and a poll()
 * that plays a script of events. Every test checks the exact sequence of
 * vhost ioctls, kicks and answers, and that nothing stays open.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/vhost.h>

#include "vhost/keel_dev.h"
#include "vhost/keeld/serve.h"
#include "vhost/keeld/snapshot.h"
#include "tests/unit/recorder.h"

#define WWPN "naa.5001405abcdef001"
#define OFFERED 0x13d00000aull /* what Debian 6.1's vhost-scsi offers */
#define FEATURES 0x130000000ull /* VERSION_1, EVENT_IDX, INDIRECT_DESC */
#define RAM_PHYS 0x2be00000ull
#define RAM_SIZE 0x100000ull
#define NVQS 3
#define QSIZE 128
#define DESC(q) (0x10000u * ((q) + 1))
#define AVAIL(q) (DESC(q) + 0x800)
#define USED(q) (DESC(q) + 0x1000)
#define KEEL_FD 3
#define VHOST_FD 4
#define SIGNAL_FD 5
#define FIRST_EVENTFD 10 /* then per queue: kick, call, err */
#define KICK_FD(q) (FIRST_EVENTFD + 3 * (q))
#define CALL_FD(q) (KICK_FD(q) + 1)
#define ERR_FD(q) (KICK_FD(q) + 2)

/* what the fake poll() reports next */
enum ev_kind {
	EV_REQUEST, /* keel posts request @arg of kind @request */
	EV_GUEST_STOPPED,
	EV_SIGNAL, /* signal @arg */
	EV_ERR, /* vhost's vq_err on queue @arg */
	EV_EINTR,
	EV_GONE, /* the channel device went away */
};

struct event {
	enum ev_kind kind;
	uint32_t arg, request;
};

struct fake {
	struct keel_chan_shared sh; /* the channel's window */
	int open_errno;
	int read_len; /* > 0: a short read */
	int read_errno;
	int set_fd_errno; /* SET_KICK / SET_CALL */
	int answer_errno; /* ACK / FAIL / ACK_BASES */
	uint16_t vring_base[NVQS]; /* what GET_VRING_BASE answers */
	int eventfd_fail_at; /* the n-th eventfd() fails */
	int neventfds;
	uint64_t dax_phys; /* the range of /dev/dax0.0 */
	uint8_t *ram;
	unsigned long fail_req; /* vhost: fail this request */
	int fail_times; /* that often, -1: always */
	int fail_errno;
	const struct event *events; /* the poll script */
	int nevents;
	int signo; /* what the signalfd holds */
	unsigned int err_pending; /* queues whose err eventfd is set */
};

static struct fake fk;
static struct serve s;

/* ---- /dev/keel, eventfds, signals, guest RAM ---- */

static int fake_keel_open(void *ctx)
{
	(void)ctx;
	if (fk.open_errno) {
		errno = fk.open_errno;
		return -1;
	}
	fd_opened(KEEL_FD);
	return KEEL_FD;
}

static int fake_keel_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	assert_int_equal(fd, KEEL_FD);
	assert_int_equal(len, sizeof(fk.sh));
	if (fk.read_errno) {
		errno = fk.read_errno;
		return -1;
	}
	memcpy(buf, &fk.sh, len);
	return fk.read_len ? fk.read_len : (int)len;
}

static int fake_keel_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	const struct keel_queue_fd *qfd = arg;
	const struct keel_chan_reply *reply = arg;
	const uint32_t *n = arg;

	(void)ctx;
	assert_int_equal(fd, KEEL_FD);
	switch (req) {
	case KEEL_IOC_SET_KICK:
	case KEEL_IOC_SET_CALL:
		record("%s %u %d",
		       req == KEEL_IOC_SET_KICK ? "SET_KICK" : "SET_CALL",
		       qfd->queue, qfd->fd);
		return fk.set_fd_errno ? failed(fk.set_fd_errno) : 0;
	case KEEL_IOC_ACK:
	case KEEL_IOC_FAIL:
		record("%s %u", req == KEEL_IOC_ACK ? "ACK" : "FAIL", *n);
		return fk.answer_errno ? failed(fk.answer_errno) : 0;
	case KEEL_IOC_ACK_BASES:
		for (unsigned int q = NVQS; q < KEEL_CHAN_MAX_QUEUES; q++)
			assert_int_equal(reply->base[q], 0);
		record("ACK_BASES %u q0=%u q1=%u q2=%u", reply->n,
		       reply->base[0], reply->base[1], reply->base[2]);
		return fk.answer_errno ? failed(fk.answer_errno) : 0;
	}
	fail_msg("unexpected /dev/keel ioctl %#lx", req);
	return -1;
}

static int fake_eventfd(void *ctx)
{
	int fd = FIRST_EVENTFD + fk.neventfds++;

	(void)ctx;
	if (fk.neventfds == fk.eventfd_fail_at) {
		errno = EMFILE;
		return -1;
	}
	fd_opened(fd);
	return fd;
}

static int fake_read_eventfd(void *ctx, int fd, uint64_t *count)
{
	unsigned int q = (unsigned int)(fd - FIRST_EVENTFD) / 3;

	(void)ctx;
	assert_int_equal(fd, ERR_FD(q));
	if (!(fk.err_pending & 1u << q)) {
		errno = EAGAIN;
		return -1;
	}
	fk.err_pending &= ~(1u << q);
	*count = 1;
	return 0;
}

static int fake_notify(void *ctx, int fd)
{
	(void)ctx;
	assert_true(rec.open_fds[fd]);
	record("NOTIFY %d", fd);
	return 0;
}

static int fake_signalfd(void *ctx)
{
	(void)ctx;
	fd_opened(SIGNAL_FD);
	return SIGNAL_FD;
}

static int fake_read_signal(void *ctx, int fd)
{
	int signo = fk.signo;

	(void)ctx;
	assert_int_equal(fd, SIGNAL_FD);
	fk.signo = 0;
	if (!signo)
		errno = EAGAIN;
	return signo ? signo : -1;
}

static int fake_find_dax(void *ctx, uint64_t phys, uint64_t size, char *dev,
			 size_t len)
{
	(void)ctx;
	if (phys != fk.dax_phys || size != RAM_SIZE) {
		errno = ENOENT;
		return -1;
	}
	snprintf(dev, len, "/dev/dax0.0");
	return 0;
}

static void *fake_map(void *ctx, const char *dev, uint64_t size)
{
	(void)ctx;
	record("MAP %s %#llx", dev, (unsigned long long)size);
	return ram_mapped(fk.ram, RAM_SIZE);
}

/* ---- the poll script ---- */

static struct pollfd *find_pollfd(struct pollfd *fds, unsigned int nfds, int fd)
{
	for (unsigned int i = 0; i < nfds; i++)
		if (fds[i].fd == fd)
			return &fds[i];
	fail_msg("fd %d is not polled", fd);
	return NULL;
}

static void set_request(uint32_t n, uint32_t request);

static int fake_poll(void *ctx, struct pollfd *fds, unsigned int nfds)
{
	const struct event *ev;
	int fd = KEEL_FD;

	(void)ctx;
	assert_int_equal(nfds, 2 + NVQS);
	for (unsigned int i = 0; i < nfds; i++) {
		assert_int_equal(fds[i].events, POLLIN);
		fds[i].revents = 0;
	}
	if (!fk.nevents)
		fail_msg("poll() after the end of the script");
	ev = fk.events++;
	fk.nevents--;
	switch (ev->kind) {
	case EV_REQUEST:
		set_request(ev->arg, ev->request);
		break;
	case EV_GUEST_STOPPED:
		fk.sh.guest_state = KEEL_GUEST_STOPPED;
		break;
	case EV_SIGNAL:
		fk.signo = (int)ev->arg;
		fd = SIGNAL_FD;
		break;
	case EV_ERR:
		fk.err_pending |= 1u << ev->arg;
		fd = ERR_FD(ev->arg);
		break;
	case EV_EINTR:
		errno = EINTR;
		return -1;
	case EV_GONE:
		fk.read_errno = ENODEV;
		find_pollfd(fds, nfds, fd)->revents = POLLERR | POLLHUP;
		return 1;
	}
	find_pollfd(fds, nfds, fd)->revents = POLLIN;
	return 1;
}

#define PLAY(...)                                                       \
	do {                                                            \
		static const struct event script[] = { __VA_ARGS__ };   \
		fk.events = script;                                     \
		fk.nevents = (int)(sizeof(script) / sizeof(script[0])); \
	} while (0)

static const struct serve_ops fake_ops = {
	.keel_open = fake_keel_open,
	.keel_read = fake_keel_read,
	.keel_ioctl = fake_keel_ioctl,
	.eventfd = fake_eventfd,
	.read_eventfd = fake_read_eventfd,
	.notify = fake_notify,
	.signalfd = fake_signalfd,
	.read_signal = fake_read_signal,
	.poll = fake_poll,
	.close = fd_closed,
	.find_dax = fake_find_dax,
	.map = fake_map,
	.unmap = ram_unmapped,
};

/* ---- /dev/vhost-scsi: records, answers the GETs ---- */

static int fake_vhost_open(void *ctx)
{
	(void)ctx;
	fd_opened(VHOST_FD);
	return VHOST_FD;
}

static unsigned long long ram_off(__u64 uaddr)
{
	return uaddr - (uintptr_t)fk.ram;
}

/* the shared record, but SET_MEM_TABLE's with its region, not the count */
static void record_vhost_req(unsigned long req, const void *arg)
{
	const struct vhost_memory *m = arg;

	if (req != VHOST_SET_MEM_TABLE) {
		record_vhost(req, arg, (uintptr_t)fk.ram);
		return;
	}
	assert_int_equal(m->nregions, 1);
	record("MEM gpa=%#llx size=%#llx uaddr=ram+%#llx",
	       m->regions[0].guest_phys_addr, m->regions[0].memory_size,
	       ram_off(m->regions[0].userspace_addr));
}

/* what the GETs answer */
static void answer_vhost(unsigned long req, void *arg)
{
	struct vhost_vring_state *st = arg;

	switch (req) {
	case VHOST_GET_FEATURES:
		*(__u64 *)arg = OFFERED;
		break;
	case VHOST_GET_VRING_BASE:
		st->num = fk.vring_base[st->index];
		break;
	case VHOST_SCSI_GET_ABI_VERSION:
		*(int *)arg = VHOST_SCSI_ABI_VERSION;
		break;
	}
}

static int fake_vhost_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	assert_int_equal(fd, VHOST_FD);
	record_vhost_req(req, arg);
	answer_vhost(req, arg);
	if (req != fk.fail_req || !fk.fail_times)
		return 0;
	if (fk.fail_times > 0)
		fk.fail_times--;
	return failed(fk.fail_errno);
}

static const struct vhost_ops fake_vhost_ops = {
	.open = fake_vhost_open,
	.ioctl = fake_vhost_ioctl,
	.close = fd_closed,
};

static const struct serve_config config = {
	.ops = &fake_ops,
	.vhost_ops = &fake_vhost_ops,
	.log = { .line = rec_log_line },
};

/* ---- keel's side: the snapshot and guest memory ---- */

static void set_request(uint32_t n, uint32_t request)
{
	struct keel_chan_device *d = &fk.sh.device;

	d->seq = 2 * n;
	d->request = request;
	d->flags = 0;
	d->features = 0;
	d->nr_queues = 0;
	memset(d->queue, 0, sizeof(d->queue));
	if (request != KEEL_REQ_START)
		return;
	d->features = FEATURES;
	d->nr_queues = NVQS;
	for (unsigned int q = 0; q < NVQS; q++)
		d->queue[q] = (struct keel_chan_queue){
			.index = (uint16_t)q,
			.size = QSIZE,
			.desc = DESC(q),
			.avail = AVAIL(q),
			.used = USED(q),
		};
}

/* a handoff's requests: a stop, or a start from keel's @bases */
static void set_handoff(uint32_t n, uint32_t request, const uint16_t *bases)
{
	set_request(n, request);
	if (request == KEEL_REQ_STOP) {
		fk.sh.device.flags = KEEL_DEV_HANDOFF;
		return;
	}
	fk.sh.device.flags = KEEL_DEV_BASES;
	for (unsigned int q = 0; q < NVQS; q++)
		fk.sh.device.queue[q].base = bases[q];
}

/* the device's used.idx of queue @q, little-endian in guest RAM */
static void set_used_idx(unsigned int q, uint16_t idx)
{
	fk.ram[USED(q) + 2] = (uint8_t)idx;
	fk.ram[USED(q) + 3] = (uint8_t)(idx >> 8);
}

static int fresh(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&rec, 0, sizeof(rec));
	fk.ram = calloc(1, RAM_SIZE);
	assert_non_null(fk.ram);
	fk.dax_phys = RAM_PHYS;
	fk.sh = (struct keel_chan_shared){
		.magic = KEEL_CHAN_MAGIC,
		.abi_version = KEEL_CHAN_ABI_VERSION,
		.disk_queues = NVQS - 2,
		.disk_queue_size = QSIZE,
		.disk_size = 64 << 20,
		.disk_wwpn = WWPN,
		.disk_backstore = "fileio",
		.disk_path = "/var/lib/keel/disk0.img",
		.guest_ram_phys = RAM_PHYS,
		.guest_ram_size = RAM_SIZE,
		.guest_state = KEEL_GUEST_RUNNING,
	};
	memset(&s, 0, sizeof(s));
	return 0;
}

static int ready(void **state)
{
	fresh(state);
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), 0);
	forget_history();
	return 0;
}

/* keeld has started the device for request 1 (in its start-up snapshot) */
static int started(void **state)
{
	fresh(state);
	set_request(1, KEEL_REQ_START);
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), 0);
	assert_int_equal(serve_reconcile(&s, &s.sh), SERVE_RUNNING);
	assert_string_equal(rec.calls[rec.ncalls - 1], "ACK 1");
	forget_history();
	return 0;
}

/* serve_close() leaves nothing open or mapped, whatever the state */
static int closed(void **state)
{
	(void)state;
	serve_close(&s);
	assert_fds_closed();
	assert_null(rec.mapped);
	free(fk.ram);
	return 0;
}

/* ---- expectations ---- */

static const uint16_t zero_bases[NVQS];

/* vhost_start() up to the endpoint: ABI, features, memory, the rings */
static void want_rings(const uint16_t *bases)
{
	want("ABI");
	want("FEATURES %#llx", FEATURES);
	want("MEM gpa=0 size=%#llx uaddr=ram+0", RAM_SIZE);
	for (unsigned int q = 0; q < NVQS; q++) {
		want("NUM %u %u", q, QSIZE);
		want("BASE %u %u", q, bases[q]);
		want("ADDR %u %#x %#x %#x", q, DESC(q), AVAIL(q), USED(q));
		want("KICK %u %d", q, KICK_FD(q));
		want("CALL %u %d", q, CALL_FD(q));
	}
}

/* a whole start, then one kick per queue */
static void want_start(const uint16_t *bases)
{
	want_rings(bases);
	want("SET_EP " WWPN);
	for (unsigned int q = 0; q < NVQS; q++)
		want("NOTIFY %d", KICK_FD(q));
}

static void want_detach(void)
{
	for (unsigned int q = 0; q < NVQS; q++)
		want("KICK %u -1", q);
}

static void want_bases(void)
{
	for (unsigned int q = 0; q < NVQS; q++)
		want("GET_BASE %u", q);
}

static void want_stop(void)
{
	want_detach();
	want("CLEAR_EP " WWPN);
	want_bases();
}

/* @lines were logged in this order (others may come between) */
static void assert_logged(const char *const *lines, int n)
{
	int i = 0;

	for (int l = 0; l < rec.nlog && i < n; l++)
		if (!strcmp(rec.log[l], lines[i]))
			i++;
	if (i < n) {
		for (int l = 0; l < rec.nlog; l++)
			print_message("log: %s\n", rec.log[l]);
		fail_msg("not logged (in order): \"%s\"", lines[i]);
	}
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__ })
#define NLINES(...) ((int)(sizeof(LINES(__VA_ARGS__)) / sizeof(char *)))
#define assert_log(...) assert_logged(LINES(__VA_ARGS__), NLINES(__VA_ARGS__))

static void reconcile(void)
{
	assert_int_equal(serve_reconcile(&s, &fk.sh), SERVE_RUNNING);
}

/* ---- start-up ---- */

static void test_prepare_sequence(void **state)
{
	(void)state;
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), 0);
	want("MAP /dev/dax0.0 %#llx", RAM_SIZE);
	for (unsigned int q = 0; q < NVQS; q++) {
		want("SET_KICK %u %d", q, KICK_FD(q));
		want("SET_CALL %u %d", q, CALL_FD(q));
	}
	want("OWNER");
	want("GET_FEATURES");
	for (unsigned int q = 0; q < NVQS; q++) {
		want("CALL %u %d", q, CALL_FD(q));
		want("ERR %u %d", q, ERR_FD(q));
	}
	assert_wanted();
	assert_log("guest RAM 0x2be00000-0x2bf00000: /dev/dax0.0",
		   "serving 3 virtio queues from " WWPN);
	assert_true(rec.open_fds[SIGNAL_FD]);
}

static void test_open_fails(void **state)
{
	(void)state;
	fk.open_errno = ENOENT;
	assert_int_equal(serve_open(&s, &config), -ENOENT);
	assert_int_equal(rec.nlog, 1);
	assert_log("open /dev/keel: No such file or directory "
		   "(is keel.ko loaded?)");
}

static void test_bad_magic_or_version(void **state)
{
	(void)state;
	fk.sh.magic = 0x12345678;
	assert_int_equal(serve_open(&s, &config), -EPROTO);
	serve_close(&s);
	fk.sh.magic = KEEL_CHAN_MAGIC;
	fk.sh.abi_version = 1;
	assert_int_equal(serve_open(&s, &config), -EPROTO);
	assert_int_equal(rec.nlog, 2);
	assert_log("/dev/keel: magic 0x12345678, ABI version 2; this keeld "
		   "speaks version 2",
		   "/dev/keel: magic 0x4c45454b, ABI version 1; this keeld "
		   "speaks version 2");
}

static void test_short_read(void **state)
{
	char line[REC_LINE_LEN];

	(void)state;
	fk.read_len = 100;
	assert_int_equal(serve_open(&s, &config), -EIO);
	snprintf(line, sizeof(line),
		 "read /dev/keel: short read (100 of %zu bytes)",
		 sizeof(struct keel_chan_shared));
	assert_log(line);
}

static void test_strings_terminated(void **state)
{
	(void)state;
	memset(fk.sh.disk_wwpn, 'n', sizeof(fk.sh.disk_wwpn));
	memset(fk.sh.disk_path, '/', sizeof(fk.sh.disk_path));
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(strlen(s.sh.disk_wwpn), sizeof(s.sh.disk_wwpn) - 1);
	assert_int_equal(strlen(s.sh.disk_path), sizeof(s.sh.disk_path) - 1);
}

static void test_no_dax_device(void **state)
{
	(void)state;
	fk.dax_phys = RAM_PHYS + RAM_SIZE;
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), -ENOENT);
	assert_int_equal(rec.ncalls, 0);
	assert_log("no /dev/dax device covers guest RAM 0x2be00000-0x2bf00000: "
		   "is dax_hmem loaded and the range soft reserved?");
}

static void test_too_many_queues(void **state)
{
	(void)state;
	fk.sh.disk_queues = KEEL_CHAN_MAX_QUEUES - 1;
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), -EINVAL);
	assert_int_equal(rec.ncalls, 0);
	assert_log("guest disk: 17 request queues; keel's channel has room "
		   "for 16");
}

/* another keeld owns the queues: keel.ko answers EBUSY */
static void test_queues_owned_elsewhere(void **state)
{
	(void)state;
	fk.set_fd_errno = EBUSY;
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), -EBUSY);
	want("MAP /dev/dax0.0 %#llx", RAM_SIZE);
	want("SET_KICK 0 %d !16", KICK_FD(0));
	assert_wanted();
	assert_log("/dev/keel set_kick q=0 fd=10: Device or resource busy "
		   "(errno 16)");
}

/* what was made before the failure is closed (checked by the teardown) */
static void test_eventfd_fails(void **state)
{
	(void)state;
	fk.eventfd_fail_at = 5;
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), -EMFILE);
	assert_log("eventfd q=1: Too many open files (errno 24)");
}

/* ---- reconcile ---- */

static void test_first_start(void **state)
{
	(void)state;
	set_request(1, KEEL_REQ_START);
	reconcile();
	want_start(zero_bases);
	want("ACK 1");
	assert_wanted();
	assert_log("request 1: start, 3 queues, features 0x130000000",
		   "request 1 acknowledged");
}

/* the guest has not set DRIVER_OK yet */
static void test_no_request(void **state)
{
	(void)state;
	reconcile();
	assert_int_equal(rec.ncalls, 0);
	assert_int_equal(rec.nlog, 0);
}

static void test_same_request_twice(void **state)
{
	(void)state;
	set_request(1, KEEL_REQ_START);
	fk.sh.device.acked = 1;
	fk.sh.kick_count = 77;
	reconcile();
	assert_int_equal(rec.ncalls, 0);
	assert_int_equal(rec.nlog, 0);
}

/* the ACK comes after the last GET_VRING_BASE, then a fresh start */
static void test_stop_then_start(void **state)
{
	(void)state;
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want_stop();
	want("ACK 2");
	assert_wanted();
	assert_log("request 2: stop", "request 2 acknowledged");
	set_request(3, KEEL_REQ_START);
	reconcile();
	want_start(zero_bases);
	want("ACK 3");
	assert_wanted();
}

/* the guest reset and restarted before keeld looked: stop, then start */
static void test_start_supersedes_unseen_stop(void **state)
{
	(void)state;
	set_request(3, KEEL_REQ_START);
	reconcile();
	want_stop();
	want_start(zero_bases);
	want("ACK 3");
	assert_wanted();
	assert_log("request 3: start, 3 queues, features 0x130000000",
		   "request 3 acknowledged");
}

/* a stop for a device this keeld never started: the previous one's vhost
 * fd is gone, so there is nothing left to stop */
static void test_stop_not_started(void **state)
{
	(void)state;
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want("ACK 2");
	assert_wanted();
}

/* vhost refuses: FAIL, nothing left attached, and the next start works */
static void test_start_fails(void **state)
{
	(void)state;
	fk.fail_req = VHOST_SCSI_SET_ENDPOINT;
	fk.fail_times = 1;
	fk.fail_errno = ENODEV;
	set_request(1, KEEL_REQ_START);
	reconcile();
	want_rings(zero_bases);
	want("SET_EP " WWPN " !19");
	want_detach();
	want_bases();
	want("FAIL 1");
	assert_wanted();
	assert_log("request 1: start, 3 queues, features 0x130000000",
		   "vhost: set_endpoint failed: No such device (errno 19)",
		   "request 1 failed");
	assert_false(s.vhost.endpoint);
	for (unsigned int q = 0; q < NVQS; q++)
		assert_false(s.vhost.kicked[q] || s.vhost.programmed[q]);
	reconcile();
	assert_int_equal(rec.ncalls, 0);
	/* the guest resets (DEVICE_NEEDS_RESET) and starts again */
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want("ACK 2");
	assert_wanted();
	set_request(3, KEEL_REQ_START);
	reconcile();
	want_start(zero_bases);
	want("ACK 3");
	assert_wanted();
}

static void test_stop_retried_once(void **state)
{
	(void)state;
	fk.fail_req = VHOST_SCSI_CLEAR_ENDPOINT;
	fk.fail_times = 1;
	fk.fail_errno = EINTR;
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want_detach();
	want("CLEAR_EP " WWPN " !4");
	want("CLEAR_EP " WWPN);
	want_bases();
	want("ACK 2");
	assert_wanted();
	assert_log("request 2: stop",
		   "vhost: clear_endpoint failed: Interrupted system call "
		   "(errno 4)",
		   "vhost: stop failed, retrying once",
		   "request 2 acknowledged");
}

/* two failed stops: FAIL; the next start stops first, from where it was */
static void test_stop_fails(void **state)
{
	(void)state;
	fk.fail_req = VHOST_SCSI_CLEAR_ENDPOINT;
	fk.fail_times = 2;
	fk.fail_errno = EIO;
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want_detach();
	want("CLEAR_EP " WWPN " !5");
	want("CLEAR_EP " WWPN " !5");
	want("FAIL 2");
	assert_wanted();
	assert_log("request 2: stop", "vhost: stop failed, retrying once",
		   "vhost: clear_endpoint failed: Input/output error (errno 5)",
		   "request 2 failed");
	reconcile();
	assert_int_equal(rec.ncalls, 0);
	set_request(3, KEEL_REQ_START);
	reconcile();
	want("CLEAR_EP " WWPN);
	want_bases();
	want_start(zero_bases);
	want("ACK 3");
	assert_wanted();
}

/* checked before any ioctl: the used ring keeld reads, then vhost's own
 * check of the other rings */
static void test_ring_outside_ram(void **state)
{
	(void)state;
	set_request(1, KEEL_REQ_START);
	fk.sh.device.queue[2].used = RAM_SIZE - 0x100;
	reconcile();
	want("FAIL 1");
	assert_wanted();
	assert_log("request 1: start, 3 queues, features 0x130000000",
		   "request 1: q=2 used ring 0xfff00 outside guest RAM",
		   "request 1 failed");
	set_request(2, KEEL_REQ_START);
	fk.sh.device.queue[1].desc = RAM_SIZE + 0x1000;
	reconcile();
	want("FAIL 2");
	assert_wanted();
	assert_log("vhost: translate q=1 desc=0x101000 failed: Bad address "
		   "(errno 14)",
		   "request 2 failed");
}

static void test_bad_queues(void **state)
{
	(void)state;
	set_request(1, KEEL_REQ_START);
	fk.sh.device.queue[2].index = NVQS;
	reconcile();
	set_request(2, KEEL_REQ_START);
	fk.sh.device.nr_queues = NVQS + 1;
	reconcile();
	want("FAIL 1");
	want("FAIL 2");
	assert_wanted();
	assert_log("request 1: queue 3, the device has 3",
		   "request 2: 4 queues, the device has 3");
}

static void test_unknown_request(void **state)
{
	(void)state;
	set_request(1, 7);
	reconcile();
	want("FAIL 1");
	assert_wanted();
	assert_log("request 1: unknown request 7", "request 1 failed");
}

/* keel moved on before the ACK: logged, the newer request follows */
static void test_ack_refused(void **state)
{
	(void)state;
	fk.answer_errno = ESTALE;
	set_request(1, KEEL_REQ_START);
	reconcile();
	want_start(zero_bases);
	want("ACK 1 !116");
	assert_wanted();
	assert_log("request 1: ack: Stale file handle (errno 116)");
	reconcile();
	assert_int_equal(rec.ncalls, 0);
	fk.answer_errno = 0;
	set_request(2, KEEL_REQ_STOP);
	reconcile();
	want_stop();
	want("ACK 2");
	assert_wanted();
}

/* ---- the loop ---- */

/*
 * A keeld restarted under a running guest: keel's START is acked already.
 * The bases come from the used rings, keel takes the ACK again, and a
 * SIGTERM stops vhost without answering anything.
 */
static void test_restart_then_sigterm(void **state)
{
	static const uint16_t bases[NVQS] = { 1, 0, 37 };

	(void)state;
	set_request(3, KEEL_REQ_START);
	fk.sh.device.acked = 3;
	set_used_idx(0, 1);
	set_used_idx(2, 37);
	assert_int_equal(serve_open(&s, &config), 0);
	assert_int_equal(serve_prepare(&s), 0);
	forget_history();
	PLAY({ EV_SIGNAL, SIGTERM, 0 });
	assert_int_equal(serve_run(&s), 0);
	want_start(bases);
	want("ACK 3");
	want_stop();
	assert_wanted();
	assert_log("request 3: start, 3 queues, features 0x130000000",
		   "vhost: set_vring_base q=2 base=37",
		   "request 3 acknowledged",
		   "terminated (signal 15): vhost stopped");
	assert_int_equal(fk.nevents, 0);
}

/* used.idx is little-endian in guest memory, whatever the value */
static void test_base_from_used_idx(void **state)
{
	static const uint16_t bases[NVQS] = { 0xffff, 0x100, 2 };

	(void)state;
	for (unsigned int q = 0; q < NVQS; q++)
		set_used_idx(q, bases[q]);
	set_request(1, KEEL_REQ_START);
	reconcile();
	want_start(bases);
	want("ACK 1");
	assert_wanted();
	assert_log("request 1: bases from the used rings q0=65535 q1=256 q2=2");
}

/* ---- the handoff ---- */

/* a handoff start takes keel's bases, not the used rings' idx */
static void test_handoff_start(void **state)
{
	static const uint16_t bases[NVQS] = { 5, 0, 300 };

	(void)state;
	for (unsigned int q = 0; q < NVQS; q++)
		set_used_idx(q, 7);
	set_handoff(1, KEEL_REQ_START, bases);
	reconcile();
	want_start(bases);
	want("ACK 1");
	assert_wanted();
	assert_log("request 1: start, 3 queues, features 0x130000000",
		   "request 1: handoff start, bases q0=5 q1=0 q2=300",
		   "request 1 acknowledged");
}

/*
 * A handoff stop: vhost stopped as for a reset, then the bases
 * GET_VRING_BASE read go to keel with the ACK; the source going on gets
 * them back in its handoff start.
 */
static void test_handoff_stop(void **state)
{
	static const uint16_t bases[NVQS] = { 3, 0, 42 };

	(void)state;
	memcpy(fk.vring_base, bases, sizeof(bases));
	set_handoff(2, KEEL_REQ_STOP, NULL);
	reconcile();
	want_stop();
	want("ACK_BASES 2 q0=3 q1=0 q2=42");
	assert_wanted();
	assert_log("request 2: handoff stop, bases q0=3 q1=0 q2=42",
		   "request 2 acknowledged");
	set_handoff(3, KEEL_REQ_START, bases);
	reconcile();
	want_start(bases);
	want("ACK 3");
	assert_wanted();
	assert_log("request 3: handoff start, bases q0=3 q1=0 q2=42",
		   "request 3 acknowledged");
}

/* a keeld restarted after the guest ran on from a handoff start: keel's
 * bases are old, the used rings tell */
static void test_handoff_start_answered(void **state)
{
	static const uint16_t old[NVQS] = { 5, 0, 300 };
	static const uint16_t now[NVQS] = { 9, 0, 345 };

	(void)state;
	for (unsigned int q = 0; q < NVQS; q++)
		set_used_idx(q, now[q]);
	set_handoff(1, KEEL_REQ_START, old);
	fk.sh.device.acked = 1;
	reconcile();
	want_start(now);
	want("ACK 1");
	assert_wanted();
	assert_log("request 1: bases from the used rings q0=9 q1=0 q2=345");
}

/* a second handoff stop (a second save): the bases of the first */
static void test_handoff_stop_twice(void **state)
{
	static const uint16_t bases[NVQS] = { 9, 0, 1000 };

	(void)state;
	memcpy(fk.vring_base, bases, sizeof(bases));
	set_handoff(2, KEEL_REQ_STOP, NULL);
	reconcile();
	set_handoff(3, KEEL_REQ_STOP, NULL);
	reconcile();
	want_stop();
	want("ACK_BASES 2 q0=9 q1=0 q2=1000");
	want("ACK_BASES 3 q0=9 q1=0 q2=1000");
	assert_wanted();
}

/* nothing started in this keeld: nothing to stop, every base 0 */
static void test_handoff_stop_not_started(void **state)
{
	(void)state;
	set_handoff(2, KEEL_REQ_STOP, NULL);
	reconcile();
	want("ACK_BASES 2 q0=0 q1=0 q2=0");
	assert_wanted();
}

/* a stop that fails twice: FAIL, as for a reset, and no bases */
static void test_handoff_stop_fails(void **state)
{
	(void)state;
	fk.fail_req = VHOST_GET_VRING_BASE;
	fk.fail_times = 2;
	fk.fail_errno = EIO;
	set_handoff(2, KEEL_REQ_STOP, NULL);
	reconcile();
	want_detach();
	want("CLEAR_EP " WWPN);
	want("GET_BASE 0 !5");
	want("GET_BASE 0 !5");
	want("FAIL 2");
	assert_wanted();
	assert_log("vhost: get_vring_base q=0 failed: Input/output error "
		   "(errno 5)",
		   "vhost: stop failed, retrying once", "request 2 failed");
}

static void test_guest_stopped(void **state)
{
	(void)state;
	PLAY({ EV_GUEST_STOPPED, 0, 0 });
	assert_int_equal(serve_run(&s), 0);
	want_stop();
	assert_wanted();
	assert_log("guest stopped, exiting");
}

static void test_sigint(void **state)
{
	(void)state;
	PLAY({ EV_SIGNAL, SIGINT, 0 });
	assert_int_equal(serve_run(&s), 0);
	want_stop();
	assert_wanted();
	assert_log("terminated (signal 2): vhost stopped");
}

/* reset, restart, a vq error and an interrupted poll, then SIGTERM */
static void test_loop(void **state)
{
	(void)state;
	PLAY({ EV_EINTR, 0, 0 }, { EV_REQUEST, 2, KEEL_REQ_STOP },
	     { EV_ERR, 2, 0 }, { EV_REQUEST, 3, KEEL_REQ_START },
	     { EV_SIGNAL, SIGTERM, 0 });
	assert_int_equal(serve_run(&s), 0);
	want_stop();
	want("ACK 2");
	want_start(zero_bases);
	want("ACK 3");
	want_stop();
	assert_wanted();
	assert_log("request 2: stop", "request 2 acknowledged",
		   "vhost: queue 2 reported an error",
		   "request 3: start, 3 queues, features 0x130000000",
		   "request 3 acknowledged",
		   "terminated (signal 15): vhost stopped");
	assert_int_equal(fk.nevents, 0);
}

/* keel.ko lost the device: vhost is stopped, keeld exits with 1 */
static void test_channel_gone(void **state)
{
	(void)state;
	PLAY({ EV_GONE, 0, 0 });
	assert_int_equal(serve_run(&s), 1);
	want_stop();
	assert_wanted();
	assert_log("read /dev/keel: No such device (errno 19)");
}

/* the stop fails even when retried: keeld still exits, with 1 */
static void test_sigterm_stop_fails(void **state)
{
	(void)state;
	fk.fail_req = VHOST_SCSI_CLEAR_ENDPOINT;
	fk.fail_times = -1;
	fk.fail_errno = EIO;
	PLAY({ EV_SIGNAL, SIGTERM, 0 });
	assert_int_equal(serve_run(&s), 1);
	want_detach();
	want("CLEAR_EP " WWPN " !5");
	want("CLEAR_EP " WWPN " !5");
	assert_wanted();
	assert_log("terminated (signal 15): vhost did not stop");
}

/* ---- keeld status ---- */

static void test_status(void **state)
{
	(void)state;
	set_request(3, KEEL_REQ_START);
	fk.sh.device.acked = 2;
	fk.sh.kick_count = 1234;
	assert_int_equal(serve_open(&s, &config), 0);
	snapshot_status(&s.sh, &s.log);
	assert_int_equal(rec.nlog, 9);
	assert_log("guest_state running", "request 3 start, seq 6, acked 2",
		   "kick_count 1234", "guest RAM 0x2be00000, 1 MiB",
		   "disk fileio /var/lib/keel/disk0.img",
		   "queues 3, features 0x130000000",
		   "queue 0 size 128 desc 0x10000 avail 0x10800 used 0x11000",
		   "queue 1 size 128 desc 0x20000 avail 0x20800 used 0x21000",
		   "queue 2 size 128 desc 0x30000 avail 0x30800 used 0x31000");
	serve_close(&s);
	fk.sh.guest_state = 0;
	fk.sh.device.request = 9;
	fk.sh.device.flags = KEEL_DEV_BASES | KEEL_DEV_HANDOFF;
	fk.sh.device.failed = 2;
	forget_history();
	assert_int_equal(serve_open(&s, &config), 0);
	snapshot_status(&s.sh, &s.log);
	assert_log("guest_state 0", "request 3 9, seq 6, acked 2, failed 2, "
				    "flags bases handoff");
}

/* ---- the real system calls: dax lookup in a tree standing for / ---- */

static void write_text(const char *root, const char *path, const char *text)
{
	char full[512];
	FILE *f;

	snprintf(full, sizeof(full), "%s%s", root, path);
	f = fopen(full, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void make_dirs(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s%s", root, path);
	for (char *p = full + strlen(root) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(full, 0755);
		*p = '/';
	}
	mkdir(full, 0755);
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void test_sys_dax(void **state)
{
	char root[] = "/tmp/keeld-serve-XXXXXX", dev[SERVE_DEV_MAX];
	char path[512];
	const struct serve_ops *o = &serve_sys_ops;
	uint8_t *ram;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(
		o->find_dax(root, RAM_PHYS, RAM_SIZE, dev, sizeof(dev)), -1);
	assert_int_equal(errno, ENOENT); /* no dax bus */
	make_dirs(root, "/sys/bus/dax/devices/dax0.0");
	make_dirs(root, "/sys/bus/dax/devices/dax1.0");
	make_dirs(root, "/dev");
	write_text(root, "/sys/bus/dax/devices/dax0.0/resource",
		   "0x2be00000\n");
	write_text(root, "/sys/bus/dax/devices/dax0.0/size", "2097152\n");
	write_text(root, "/sys/bus/dax/devices/dax1.0/resource",
		   "0x2be00000\n");
	write_text(root, "/sys/bus/dax/devices/dax1.0/size", "1048576\n");
	assert_int_equal(
		o->find_dax(root, RAM_PHYS, RAM_SIZE, dev, sizeof(dev)), 0);
	assert_string_equal(dev, "/dev/dax1.0");
	assert_int_equal(o->find_dax(root, RAM_PHYS + 0x200000, RAM_SIZE, dev,
				     sizeof(dev)),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_null(o->map(root, "/dev/dax1.0", RAM_SIZE));
	assert_int_equal(errno, ENOENT);
	snprintf(path, sizeof(path), "%s/dev/dax1.0", root);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, RAM_SIZE), 0);
	close(fd);
	ram = o->map(root, "/dev/dax1.0", RAM_SIZE);
	assert_non_null(ram);
	ram[RAM_SIZE - 1] = 0x5a;
	o->unmap(root, ram, RAM_SIZE);
	assert_int_equal(nftw(root, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_sys_eventfd(void **state)
{
	const struct serve_ops *o = &serve_sys_ops;
	uint64_t count = 0;
	int fd = o->eventfd(NULL);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(o->read_eventfd(NULL, fd, &count), -1);
	assert_int_equal(errno, EAGAIN); /* non-blocking */
	assert_int_equal(o->notify(NULL, fd), 0);
	assert_int_equal(o->notify(NULL, fd), 0);
	assert_int_equal(o->read_eventfd(NULL, fd, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(o->close(NULL, fd), 0);
}

#define T(f, setup) cmocka_unit_test_setup_teardown(f, setup, closed)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_prepare_sequence, fresh),
		T(test_open_fails, fresh),
		T(test_bad_magic_or_version, fresh),
		T(test_short_read, fresh),
		T(test_strings_terminated, fresh),
		T(test_no_dax_device, fresh),
		T(test_too_many_queues, fresh),
		T(test_queues_owned_elsewhere, fresh),
		T(test_eventfd_fails, fresh),
		T(test_first_start, ready),
		T(test_no_request, ready),
		T(test_same_request_twice, started),
		T(test_stop_then_start, started),
		T(test_start_supersedes_unseen_stop, started),
		T(test_stop_not_started, ready),
		T(test_start_fails, ready),
		T(test_stop_retried_once, started),
		T(test_stop_fails, started),
		T(test_ring_outside_ram, ready),
		T(test_bad_queues, ready),
		T(test_unknown_request, ready),
		T(test_ack_refused, ready),
		T(test_restart_then_sigterm, fresh),
		T(test_base_from_used_idx, ready),
		T(test_handoff_start, ready),
		T(test_handoff_start_answered, ready),
		T(test_handoff_stop, started),
		T(test_handoff_stop_twice, started),
		T(test_handoff_stop_not_started, ready),
		T(test_handoff_stop_fails, started),
		T(test_guest_stopped, started),
		T(test_sigint, started),
		T(test_loop, started),
		T(test_channel_gone, started),
		T(test_sigterm_stop_fails, started),
		T(test_status, fresh),
		cmocka_unit_test(test_sys_dax),
		cmocka_unit_test(test_sys_eventfd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
