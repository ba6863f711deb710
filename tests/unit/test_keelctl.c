// SPDX-License-Identifier: GPL-2.0
/*
 * keelctl against fakes: /dev/keel as a small model of keel (pause, the
 * handoff's requests, keel's part of the stream) with a keeld that answers
 * requests after a number of polls, guest RAM as a buffer, files in memory,
 * one TCP connection as buffers and a clock that moves only when keelctl
 * waits. Each test checks the exact sequence of ioctls (and file and
 * connection calls), what keelctl printed, and guest RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"
#include "vhost/keel_dev.h"
#include "vhost/keel_state.h"
#include "vhost/keelctl/commands.h"
#include "tests/unit/recorder.h"

#define WWPN "naa.5001405abcdef001"
#define RAM_PHYS 0x2be00000ull
#define RAM_SIZE (5u << 20) /* 1280 pages: chunks of 512, 512 and 256 */
#define PAGES (RAM_SIZE / 4096)
#define KEEL_FD 3
#define SOCK_FD 4
#define FILE_FD 5 /* and up */
#define MAX_FILES 4
#define MAX_LINES 64
#define LINE_LEN REC_LINE_LEN
#define PATH "/var/lib/keel/guest.keel"
#define TARGET "10.0.0.2:7000"
#define RECORDS(x) ((int)(sizeof(x) / sizeof((x)[0])))

struct mfile {
	char name[64];
	uint8_t *buf;
	size_t len;
};

enum reply { REPLY_LINE, REPLY_EOF, REPLY_NONE };

/* the guest writes @pages pages from @page: @seed's pattern, 0: zeros */
struct guest_write {
	int log; /* while keelctl sends after the @log'th DIRTY_LOG */
	uint32_t page, pages;
	unsigned int seed;
};

struct lines {
	char line[MAX_LINES][LINE_LEN];
	int n;
};

struct fake {
	struct keel_chan_shared sh;
	uint8_t *ram;
	uint64_t now;
	/* keel */
	bool paused;
	bool stopped; /* the device is stopped for a handoff */
	bool dropped;
	bool started; /* the guest's driver started its device */
	unsigned long refuse_req;
	int refuse_errno;
	uint8_t state[KEEL_STATE_MAX]; /* what STATE_GET writes */
	uint32_t state_len;
	uint8_t loaded[KEEL_STATE_MAX]; /* what STATE_SET read */
	uint32_t loaded_len;
	/* keel's dirty log: on from the first DIRTY_LOG */
	bool tracking;
	uint64_t dirty[PAGES / 64];
	int logs; /* DIRTY_LOGs answered */
	/* what the running guest writes, in order of @log */
	const struct guest_write *writes;
	int nwrites, next_write;
	/* what vhost writes before keeld answers a handoff stop */
	const struct guest_write *stop_write;
	/* keeld: answers a request at the @answer_after'th poll */
	uint32_t pending;
	int answer_after, polls;
	bool ignore_stop;
	/* files */
	struct mfile files[MAX_FILES];
	int nfiles;
	size_t file_pos[MAX_FILES];
	/* the connection */
	uint8_t *wire; /* what the sender wrote */
	size_t wire_len;
	size_t wire_fail_at; /* the sender's writes past it fail; 0: none */
	const uint8_t *in; /* what the receiver reads */
	size_t in_len, in_pos;
	const size_t *frags; /* the receiver's read sizes, in turn */
	int nfrags, frag;
	enum reply reply;
	const char *reply_line; /* what the sender reads back */
	const char *go; /* what the receiver reads once it said READY */
	char answer[LINE_LEN]; /* what the receiver wrote back */
	/* what keelctl printed */
	struct lines out, err, progress;
};

static struct fake fk;
static struct keelctl k;
static uint8_t ram_before[RAM_SIZE]; /* guest RAM as a test left it */
static uint8_t ram_paused[RAM_SIZE]; /* guest RAM at STATE_GET */

/* a keelctl log's sink */
static void log_line(void *arg, const char *line)
{
	struct lines *l = arg;

	assert_true(l->n < MAX_LINES);
	snprintf(l->line[l->n++], LINE_LEN, "%s", line);
}

/* @want[0..n) are exactly the lines of @l */
static void assert_lines(const struct lines *l, const char *const *want, int n)
{
	for (int i = 0; i < l->n && i < n; i++)
		if (strcmp(l->line[i], want[i]))
			fail_msg("line %d: \"%s\", wanted \"%s\"", i,
				 l->line[i], want[i]);
	if (l->n != n) {
		for (int i = 0; i < l->n; i++)
			print_message("logged: %s\n", l->line[i]);
		fail_msg("%d lines, wanted %d", l->n, n);
	}
}

#define LINES(...) ((const char *const[]){ __VA_ARGS__ })
#define NLINES(...) ((int)(sizeof(LINES(__VA_ARGS__)) / sizeof(char *)))
#define assert_out(...) \
	assert_lines(&fk.out, LINES(__VA_ARGS__), NLINES(__VA_ARGS__))
#define assert_err(...) \
	assert_lines(&fk.err, LINES(__VA_ARGS__), NLINES(__VA_ARGS__))

/* ---- /dev/keel: a model of keel, and keeld ---- */

static int fake_keel_open(void *ctx)
{
	(void)ctx;
	fd_opened(KEEL_FD);
	return KEEL_FD;
}

static int fake_keel_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	assert_int_equal(fd, KEEL_FD);
	assert_int_equal(len, sizeof(fk.sh));
	memcpy(buf, &fk.sh, len);
	return (int)len;
}

/* keel posts a request; keeld answers it at its answer_after'th poll */
static uint32_t post(uint32_t request, uint32_t flags)
{
	struct keel_chan_device *d = &fk.sh.device;

	d->seq += 2;
	d->request = request;
	d->flags = flags;
	fk.pending = d->seq / 2;
	fk.polls = 0;
	return fk.pending;
}

/* the guest, or vhost through the window, writes: keel marks it dirty */
static void guest_write(const struct guest_write *w)
{
	for (uint32_t p = w->page; p < w->page + w->pages; p++) {
		for (size_t i = 0; i < 4096; i++)
			fk.ram[p * 4096 + i] =
				w->seed ? (uint8_t)((i * 13 + p + w->seed) | 1)
					: 0;
		fk.dirty[p / 64] |= 1ull << (p % 64);
	}
}

/* the running guest's writes due after the DIRTY_LOGs so far */
static void guest_runs(void)
{
	while (!fk.paused && fk.next_write < fk.nwrites &&
	       fk.writes[fk.next_write].log <= fk.logs)
		guest_write(&fk.writes[fk.next_write++]);
}

/* keel's DIRTY_LOG: the pages written since the last (the first: all) */
static int dirty_log(struct keel_state_buf *sb)
{
	uint32_t n = 0;

	assert_int_equal(sb->len, PAGES / 8);
	assert_int_equal(sb->addr % 8, 0);
	if (fk.dropped) {
		record("DIRTY_LOG");
		return failed(EBUSY);
	}
	if (!fk.tracking)
		memset(fk.dirty, 0xFF, sizeof(fk.dirty));
	fk.tracking = true;
	memcpy((void *)(uintptr_t)sb->addr, fk.dirty, sizeof(fk.dirty));
	for (size_t i = 0; i < PAGES / 64; i++)
		n += (uint32_t)__builtin_popcountll(fk.dirty[i]);
	memset(fk.dirty, 0, sizeof(fk.dirty));
	fk.logs++;
	sb->written = n;
	record("DIRTY_LOG %u", n);
	return 0;
}

/* the disk keel serves: the driver started it, no handoff stopped it */
static bool served(void)
{
	return fk.started && !fk.stopped && !fk.dropped;
}

/* what keel's runtime/handoff.c answers, as far as keelctl cares */
static int keel_call(unsigned long req, void *arg)
{
	struct keel_state_buf *sb = arg;
	uint32_t n = 0;

	switch (req) {
	case KEEL_IOC_PAUSE:
		record("PAUSE");
		if (fk.paused)
			return failed(EBUSY);
		fk.paused = true;
		return 0;
	case KEEL_IOC_RESUME:
		record("RESUME");
		if (!fk.paused || fk.dropped || fk.stopped)
			return failed(EBUSY);
		fk.paused = false;
		return 0;
	case KEEL_IOC_HANDOFF_STOP:
	case KEEL_IOC_HANDOFF_START:
		record("HANDOFF_%s",
		       req == KEEL_IOC_HANDOFF_STOP ? "STOP" : "START");
		if (!fk.paused || fk.dropped)
			return failed(EBUSY);
		if (req == KEEL_IOC_HANDOFF_STOP && served())
			n = post(KEEL_REQ_STOP, KEEL_DEV_HANDOFF);
		else if (req == KEEL_IOC_HANDOFF_START && fk.stopped)
			n = post(KEEL_REQ_START, KEEL_DEV_BASES);
		if (n)
			fk.stopped = req == KEEL_IOC_HANDOFF_STOP;
		if (n && fk.stopped && fk.stop_write)
			guest_write(fk.stop_write);
		break;
	case KEEL_IOC_STATE_GET:
		record("STATE_GET");
		assert_int_equal(sb->len, KEEL_STATE_MAX);
		if (!fk.paused || fk.dropped || served())
			return failed(EBUSY);
		memcpy((void *)(uintptr_t)sb->addr, fk.state, fk.state_len);
		sb->written = fk.state_len;
		memcpy(ram_paused, fk.ram, RAM_SIZE);
		return 0;
	case KEEL_IOC_DIRTY_LOG:
		return dirty_log(sb);
	case KEEL_IOC_STATE_CHECK:
		record("STATE_CHECK");
		assert_true(sb->len <= KEEL_STATE_MAX);
		return 0;
	case KEEL_IOC_STATE_SET:
		record("STATE_SET");
		assert_true(sb->len <= KEEL_STATE_MAX);
		if (!fk.paused || served())
			return failed(EBUSY);
		memcpy(fk.loaded, (void *)(uintptr_t)sb->addr, sb->len);
		fk.loaded_len = sb->len;
		fk.dropped = fk.stopped = false;
		if (fk.started)
			n = post(KEEL_REQ_START, KEEL_DEV_BASES);
		break;
	case KEEL_IOC_DROP:
		record("DROP");
		if (!fk.paused || served())
			return failed(EBUSY);
		memset(fk.ram, 0, RAM_SIZE);
		fk.dropped = true;
		fk.stopped = false;
		return 0;
	default:
		fail_msg("unexpected /dev/keel ioctl %#lx", req);
	}
	/* the request posted: its number */
	snprintf(rec.calls[rec.ncalls - 1] + strlen(rec.calls[rec.ncalls - 1]),
		 16, " %u", n);
	return (int)n;
}

static int fake_keel_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	assert_int_equal(fd, KEEL_FD);
	if (req != fk.refuse_req || !fk.refuse_errno)
		return keel_call(req, arg);
	record("ioctl %#lx", req);
	return failed(fk.refuse_errno);
}

static void keeld_poll(void)
{
	struct keel_chan_device *d = &fk.sh.device;

	if (!fk.pending || fk.answer_after < 0 || ++fk.polls < fk.answer_after)
		return;
	if (fk.ignore_stop && d->request == KEEL_REQ_STOP)
		return;
	d->acked = fk.pending;
	fk.pending = 0;
}

/* ---- guest RAM, time ---- */

static int fake_find_dax(void *ctx, uint64_t phys, uint64_t size, char *dev,
			 size_t len)
{
	(void)ctx;
	assert_int_equal(phys, RAM_PHYS);
	assert_int_equal(size, RAM_SIZE);
	snprintf(dev, len, "/dev/dax0.0");
	return 0;
}

static void *fake_map(void *ctx, const char *dev, uint64_t size)
{
	(void)ctx;
	assert_string_equal(dev, "/dev/dax0.0");
	assert_int_equal(size, RAM_SIZE);
	return ram_mapped(fk.ram, RAM_SIZE);
}

static uint64_t fake_now(void *ctx)
{
	(void)ctx;
	return fk.now;
}

/* ---- files in memory ---- */

static struct mfile *find_file(const char *path)
{
	for (int i = 0; i < fk.nfiles; i++)
		if (!strcmp(fk.files[i].name, path))
			return &fk.files[i];
	return NULL;
}

static struct mfile *new_file(const char *path)
{
	struct mfile *f = find_file(path);

	if (!f) {
		assert_true(fk.nfiles < MAX_FILES);
		f = &fk.files[fk.nfiles++];
		snprintf(f->name, sizeof(f->name), "%s", path);
	}
	free(f->buf);
	f->buf = NULL;
	f->len = 0;
	return f;
}

static int fake_create(void *ctx, const char *path)
{
	int i = (int)(new_file(path) - fk.files);

	(void)ctx;
	record("CREATE %s", path);
	fd_opened(FILE_FD + i);
	return FILE_FD + i;
}

static int fake_open(void *ctx, const char *path)
{
	struct mfile *f = find_file(path);
	int i;

	(void)ctx;
	record("OPEN %s", path);
	if (!f)
		return failed(ENOENT);
	i = (int)(f - fk.files);
	fk.file_pos[i] = 0;
	fd_opened(FILE_FD + i);
	return FILE_FD + i;
}

static void append(uint8_t **buf, size_t *len, const void *data, size_t n)
{
	if (!n)
		return;
	*buf = realloc(*buf, *len + n);
	assert_non_null(*buf);
	memcpy(*buf + *len, data, n);
	*len += n;
}

static int fake_sync(void *ctx, int fd)
{
	(void)ctx;
	assert_true(fd >= FILE_FD && rec.open_fds[fd]);
	record("SYNC");
	return 0;
}

/* ---- the connection ---- */

static int fake_connect(void *ctx, const char *host, const char *port)
{
	(void)ctx;
	record("CONNECT %s:%s", host, port);
	fd_opened(SOCK_FD);
	return SOCK_FD;
}

static int fake_accept(void *ctx, const char *port)
{
	(void)ctx;
	record("ACCEPT %s", port);
	fd_opened(SOCK_FD);
	return SOCK_FD;
}

static ssize_t read_socket(void *buf, size_t len)
{
	size_t n;

	if (fk.reply_line) { /* the sender reads the receiver's answer */
		n = strlen(fk.reply_line) < len ? strlen(fk.reply_line) : len;
		memcpy(buf, fk.reply_line, n);
		fk.reply_line += n;
		return (ssize_t)n;
	}
	n = fk.in_len - fk.in_pos;
	if (!n && fk.go && strstr(fk.answer, "READY\n")) {
		n = strlen(fk.go) < len ? strlen(fk.go) : len;
		memcpy(buf, fk.go, n);
		fk.go += n;
		return (ssize_t)n;
	}
	if (fk.nfrags && fk.frags[fk.frag % fk.nfrags] < n)
		n = fk.frags[fk.frag++ % fk.nfrags];
	n = n < len ? n : len;
	if (n)
		memcpy(buf, fk.in + fk.in_pos, n);
	fk.in_pos += n;
	return (ssize_t)n;
}

static ssize_t fake_read(void *ctx, int fd, void *buf, size_t len)
{
	struct mfile *f;
	size_t *pos, n;

	(void)ctx;
	assert_true(rec.open_fds[fd]);
	if (fd == SOCK_FD)
		return read_socket(buf, len);
	f = &fk.files[fd - FILE_FD];
	pos = &fk.file_pos[fd - FILE_FD];
	n = f->len - *pos < len ? f->len - *pos : len;
	if (n)
		memcpy(buf, f->buf + *pos, n);
	*pos += n;
	return (ssize_t)n;
}

static int failed_write(int err)
{
	errno = err;
	return -1;
}

/* the sender's bytes; the guest, running, writes meanwhile */
static void send_wire(const void *buf, size_t len)
{
	append(&fk.wire, &fk.wire_len, buf, len);
	guest_runs();
}

static int fake_write(void *ctx, int fd, const void *buf, size_t len)
{
	(void)ctx;
	assert_true(rec.open_fds[fd]);
	if (fd != SOCK_FD)
		append(&fk.files[fd - FILE_FD].buf, &fk.files[fd - FILE_FD].len,
		       buf, len);
	else if (fk.in) /* the receiver answers */
		strncat(fk.answer, buf, len);
	else if (fk.wire_fail_at && fk.wire_len + len > fk.wire_fail_at)
		return failed_write(EPIPE);
	else if (len == 3 && !memcmp(buf, "GO\n", 3))
		record("GO");
	else
		send_wire(buf, len);
	return 0;
}

/* /dev/keel is never readable (keel wakes nobody when keeld answers);
 * the connection is when the answer is there */
static int fake_wait(void *ctx, int fd, int timeout_ms)
{
	(void)ctx;
	assert_true(timeout_ms > 0);
	if (fd == SOCK_FD && fk.reply != REPLY_NONE)
		return 1;
	fk.now += (uint64_t)timeout_ms * 1000000;
	if (fd == KEEL_FD)
		keeld_poll();
	return 0;
}

static const struct keelctl_ops fake_ops = {
	.keel_open = fake_keel_open,
	.keel_read = fake_keel_read,
	.keel_ioctl = fake_keel_ioctl,
	.find_dax = fake_find_dax,
	.map = fake_map,
	.unmap = ram_unmapped,
	.create = fake_create,
	.open = fake_open,
	.connect = fake_connect,
	.accept = fake_accept,
	.read = fake_read,
	.write = fake_write,
	.wait = fake_wait,
	.sync = fake_sync,
	.close = fd_closed,
	.now_ns = fake_now,
};

/* ---- streams ---- */

static const struct keel_state_compat compat = {
	.cpu_vendor = "GenuineIntel",
	.xsave_size = 2696,
	.xcr0_mask = 0x7,
	.tsc_khz = 3000000,
	.memory_size = RAM_SIZE,
	.disk_queues = 1,
	.disk_queue_size = 128,
	.disk_wwpn = WWPN,
};

/* keel's sections but COMPAT: payloads of these lengths, made up */
static const struct {
	uint32_t type;
	size_t len;
} keel_sections[] = {
	{ KEEL_STATE_VCPU, 600 },   { KEEL_STATE_LAPIC, 1024 },
	{ KEEL_STATE_XSAVE, 2696 }, { KEEL_STATE_VIRTIO, 300 },
	{ KEEL_STATE_UART, 16 },
};

struct stream {
	uint8_t buf[2 * RAM_SIZE + 2 * KEEL_STATE_MAX];
	struct hs_membuf mem;
	struct hs_encoder enc;
};

static struct stream st;

static void stream_begin(void)
{
	st.mem = (struct hs_membuf){ .buf = st.buf, .cap = sizeof(st.buf) };
	assert_int_equal(hs_encoder_init(&st.enc, hs_membuf_write, &st.mem), 0);
}

/* keel's part: COMPAT (@c, NULL: none), then the others */
static void stream_keel(const struct keel_state_compat *c)
{
	uint8_t payload[4096];

	if (c)
		assert_int_equal(hs_encode_section(&st.enc, KEEL_STATE_COMPAT,
						   c, sizeof(*c)),
				 0);
	for (size_t i = 0; i < sizeof(keel_sections) / sizeof(keel_sections[0]);
	     i++) {
		memset(payload, (int)keel_sections[i].type * 17,
		       keel_sections[i].len);
		assert_int_equal(
			hs_encode_section(&st.enc, keel_sections[i].type,
					  payload, keel_sections[i].len),
			0);
	}
}

/* MEMORY: @pages of @ram from @gpa */
static void stream_memory(const uint8_t *ram, uint64_t gpa, uint32_t pages)
{
	struct keel_state_memory m = { .gpa = gpa, .pages = pages };
	const struct hs_iovec iov[] = { { &m, sizeof(m) },
					{ ram + gpa, pages * 4096ul } };

	assert_int_equal(hs_encode_sectionv(&st.enc, KEEL_STATE_MEMORY, iov, 2),
			 0);
}

/* all of @ram, in the chunks keelctl writes */
static void stream_ram(const uint8_t *ram)
{
	stream_memory(ram, 0, 512);
	stream_memory(ram, 2 << 20, 512);
	stream_memory(ram, 4 << 20, 256);
}

static void stream_round(uint32_t round, uint64_t pages)
{
	struct keel_state_round r = { .round = round, .pages = pages };

	assert_int_equal(
		hs_encode_section(&st.enc, KEEL_STATE_ROUND, &r, sizeof(r)), 0);
}

static void stream_end(void)
{
	assert_int_equal(hs_encode_end(&st.enc), 0);
}

/* what keel's STATE_GET answers */
static void make_keel_part(void)
{
	stream_begin();
	stream_keel(&compat);
	stream_end();
	memcpy(fk.state, st.buf, st.mem.len);
	fk.state_len = (uint32_t)st.mem.len;
}

static void put_file(const char *path, const void *buf, size_t len)
{
	struct mfile *f = new_file(path);

	append(&f->buf, &f->len, buf, len);
}

/* ---- set-ups ---- */

static void fill_ram(uint8_t *ram, unsigned int seed)
{
	for (size_t i = 0; i < RAM_SIZE; i++)
		ram[i] = (uint8_t)((i / 4096) * 31 + i * 7 + seed);
}

/* a running guest whose device the driver started (request 1, acked) */
static int fresh(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&rec, 0, sizeof(rec));
	fk.ram = malloc(RAM_SIZE);
	assert_non_null(fk.ram);
	fill_ram(fk.ram, 0);
	fk.sh = (struct keel_chan_shared){
		.magic = KEEL_CHAN_MAGIC,
		.abi_version = KEEL_CHAN_ABI_VERSION,
		.disk_queues = 1,
		.disk_queue_size = 128,
		.disk_wwpn = WWPN,
		.disk_backstore = "fileio",
		.disk_path = "/var/lib/keel/disk0.img",
		.guest_ram_phys = RAM_PHYS,
		.guest_ram_size = RAM_SIZE,
		.kick_count = 4321,
		.guest_state = KEEL_GUEST_RUNNING,
		.device = { .seq = 2,
			    .request = KEEL_REQ_START,
			    .acked = 1,
			    .nr_queues = 3 },
	};
	fk.started = true;
	fk.answer_after = 1;
	make_keel_part();
	k = (struct keelctl){
		.ops = &fake_ops,
		.out = { log_line, &fk.out },
		.err = { log_line, &fk.err },
		.progress = { log_line, &fk.progress },
		.ack_timeout_ms = KEELCTL_ACK_TIMEOUT_MS,
		.reply_timeout_ms = KEELCTL_REPLY_TIMEOUT_MS,
		.precopy_pages = KEELCTL_PRECOPY_PAGES,
		.precopy_rounds = KEELCTL_PRECOPY_ROUNDS,
		.keel_fd = -1,
	};
	return 0;
}

/* nothing left open or mapped */
static int closed(void **state)
{
	(void)state;
	assert_fds_closed();
	assert_null(rec.mapped);
	for (int i = 0; i < fk.nfiles; i++)
		free(fk.files[i].buf);
	free(fk.wire);
	free(fk.ram);
	return 0;
}

static void forget(void)
{
	rec.ncalls = rec.nwant = 0;
	fk.out.n = fk.err.n = fk.progress.n = 0;
}

/* the stream keelctl writes for the guest: its length */
static size_t stream_len(void)
{
	return fk.state_len +
	       3 * (HS_SECTION_HEADER_LEN + sizeof(struct keel_state_memory)) +
	       RAM_SIZE;
}

/* keelctl save PATH, which the tests below build on */
static void save(void)
{
	char line[LINE_LEN];

	assert_int_equal(cmd_save(&k, PATH), 0);
	want("CREATE " PATH);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("STATE_GET");
	want("SYNC");
	assert_wanted();
	snprintf(line, sizeof(line),
		 "saved %zu bytes (5 MiB RAM, %u bytes state) in 0.01 s",
		 stream_len(), fk.state_len);
	assert_out(line,
		   "the guest stays paused with its device stopped: `keelctl "
		   "resume` lets it go on, `keelctl drop` discards it");
	assert_int_equal(fk.err.n, 0);
	fk.out.n = 0;
}

/* ---- save ---- */

static void test_save(void **state)
{
	const struct mfile *f;

	(void)state;
	save();
	assert_true(fk.paused && fk.stopped);
	f = find_file(PATH);
	assert_non_null(f);
	assert_int_equal(f->len, stream_len());
	/* keel's part as it came, but its END; RAM after it */
	assert_memory_equal(f->buf, fk.state, fk.state_len - 24);
	assert_memory_equal(f->buf + fk.state_len - 24 + 40, fk.ram, 2 << 20);
	assert_lines(&fk.progress,
		     LINES("saving: 2 of 5 MiB (40 %), 0.0 MiB/s",
			   "saving: 4 of 5 MiB (80 %), 0.0 MiB/s",
			   "saving: 5 of 5 MiB (100 %), 0.0 MiB/s"),
		     3);
}

/* a device the guest's driver never started: no request, nothing to wait
 * for, on the way out or back */
static void test_save_device_not_started(void **state)
{
	(void)state;
	fk.started = false;
	assert_int_equal(cmd_save(&k, PATH), 0);
	assert_int_equal(cmd_resume(&k), 0);
	want("CREATE " PATH);
	want("PAUSE");
	want("HANDOFF_STOP 0");
	want("STATE_GET");
	want("SYNC");
	want("HANDOFF_START 0");
	want("RESUME");
	assert_wanted();
	assert_int_equal(fk.now, 0);
	assert_false(fk.paused);
}

/* keeld never answers the stop: after 30 s the guest goes on */
static void test_save_no_answer(void **state)
{
	(void)state;
	fk.ignore_stop = true;
	assert_int_equal(cmd_save(&k, PATH), 1);
	want("CREATE " PATH);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_err("request 2: keeld has not answered in 30 s",
		   "the guest goes on", PATH " holds no whole guest");
	assert_false(fk.paused);
	assert_int_equal(fk.out.n, 0);
}

/* keel's part does not decode: the guest goes on */
static void test_save_bad_keel_part(void **state)
{
	(void)state;
	fk.state[fk.state_len - 30] ^= 1; /* UART's payload */
	assert_int_equal(cmd_save(&k, PATH), 1);
	want("CREATE " PATH);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("STATE_GET");
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_true(strstr(fk.err.line[0], "keel's state (") == fk.err.line[0]);
	assert_non_null(strstr(fk.err.line[0], "(type 6): payload crc32c"));
}

/* after a save the device is started again before the guest goes on */
static void test_resume_after_save(void **state)
{
	(void)state;
	save();
	assert_int_equal(cmd_resume(&k), 0);
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_out("guest resumed");
	assert_false(fk.paused || fk.stopped);
}

static void test_pause_resume_drop_stats(void **state)
{
	(void)state;
	assert_int_equal(cmd_pause(&k), 0);
	assert_int_equal(cmd_pause(&k), 1);
	assert_int_equal(cmd_resume(&k), 0);
	assert_int_equal(cmd_drop(&k), 1);
	want("PAUSE");
	want("PAUSE !16");
	want("HANDOFF_START 0");
	want("RESUME");
	want("HANDOFF_STOP !16");
	want("DROP !16");
	assert_wanted();
	assert_out("guest paused", "guest resumed");
	assert_err("pause: keel refused: Device or resource busy (errno 16)",
		   "drop: keel refused: Device or resource busy (errno 16)");
	forget();
	assert_int_equal(cmd_stats(&k), 0);
	assert_int_equal(rec.ncalls, 0);
	assert_out("guest_state running", "request 1 start, seq 2, acked 1",
		   "kick_count 4321", "guest RAM 0x2be00000, 5 MiB",
		   "disk fileio /var/lib/keel/disk0.img",
		   "queues 3, features 0x0",
		   "queue 0 size 0 desc 0x0 avail 0x0 used 0x0",
		   "queue 0 size 0 desc 0x0 avail 0x0 used 0x0",
		   "queue 0 size 0 desc 0x0 avail 0x0 used 0x0");
	forget();
	save();
	assert_int_equal(cmd_drop(&k), 0);
	want("HANDOFF_STOP 0");
	want("DROP");
	assert_wanted();
	assert_out("guest dropped");
}

/* a paused guest whose disk keeld serves: the disk stopped, then dropped */
static void test_drop_paused_served(void **state)
{
	(void)state;
	assert_int_equal(cmd_pause(&k), 0);
	assert_int_equal(cmd_drop(&k), 0);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("DROP");
	assert_wanted();
	assert_out("guest paused", "guest dropped");
	assert_int_equal(fk.err.n, 0);
	assert_true(fk.dropped);
}

/* ---- restore ---- */

/* the saved guest into a dropped one */
static void test_save_restore(void **state)
{
	char line[LINE_LEN];

	(void)state;
	save();
	memcpy(ram_before, fk.ram, RAM_SIZE);
	assert_int_equal(cmd_drop(&k), 0);
	forget();
	assert_int_equal(cmd_restore(&k, PATH), 0);
	want("OPEN " PATH);
	want("STATE_CHECK");
	want("DROP");
	want("OPEN " PATH);
	want("STATE_SET 3");
	want("RESUME");
	assert_wanted();
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
	/* keel gets back exactly what it gave */
	assert_int_equal(fk.loaded_len, fk.state_len);
	assert_memory_equal(fk.loaded, fk.state, fk.state_len);
	snprintf(line, sizeof(line),
		 "restored %zu bytes (5 MiB RAM, %u bytes state) in 0.01 s; "
		 "the guest runs",
		 stream_len(), fk.state_len);
	assert_out(line);
	assert_int_equal(fk.err.n, 0);
	assert_false(fk.paused);
	assert_int_equal(fk.sh.device.acked, 3);
}

/* the guest's driver had not started its device: no request to wait for */
static void test_restore_device_not_started(void **state)
{
	(void)state;
	save();
	fk.started = false;
	assert_int_equal(cmd_restore(&k, PATH), 0);
	want("OPEN " PATH);
	want("STATE_CHECK");
	want("DROP");
	want("OPEN " PATH);
	want("STATE_SET 0");
	want("RESUME");
	assert_wanted();
}

/*
 * A stream restore refuses: nothing but reading the file happens, guest
 * RAM and keel are as they were, and one line says why.
 */
static void restore_refuses(const void *buf, size_t len)
{
	put_file(PATH, buf, len);
	memcpy(ram_before, fk.ram, RAM_SIZE);
	forget();
	assert_int_equal(cmd_restore(&k, PATH), 1);
	want("OPEN " PATH);
	assert_wanted();
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
	assert_int_equal(fk.loaded_len, 0);
	assert_int_equal(fk.out.n, 0);
	assert_int_equal(fk.err.n, 1);
}

/* ... with this reason */
static void refused(const void *buf, size_t len, const char *why)
{
	char line[LINE_LEN];

	restore_refuses(buf, len);
	snprintf(line, sizeof(line), "restore " PATH ": %s; nothing changed",
		 why);
	assert_err(line);
}

/* a saved stream, to spoil */
static uint8_t *saved_copy(size_t *len)
{
	const struct mfile *f;
	uint8_t *copy;

	save();
	f = find_file(PATH);
	copy = malloc(f->len);
	assert_non_null(copy);
	memcpy(copy, f->buf, f->len);
	*len = f->len;
	fill_ram(fk.ram, 99); /* whatever the guest holds now */
	return copy;
}

static void test_restore_bad_magic(void **state)
{
	size_t len;
	uint8_t *s = saved_copy(&len);

	(void)state;
	s[0] = 'X';
	refused(s, len, "stream header: no \"KEELSTRM\" magic, at byte 0");
	free(s);
}

static void test_restore_bad_crc(void **state)
{
	char why[LINE_LEN];
	size_t len, chunk2 = fk.state_len - 24 + 40 + (2 << 20);
	uint8_t *s = saved_copy(&len);
	uint32_t good;

	(void)state;
	memcpy(&good, s + chunk2 + 16, 4);
	s[chunk2 + 24 + 16 + 12345] ^= 0x40;
	snprintf(why, sizeof(why),
		 "section 7 (type 16): payload crc32c 0x%08x, expected "
		 "0x%08x, at byte %zu",
		 crc32c_update(0, s + chunk2 + 24, 16 + (2 << 20)), good,
		 chunk2 + 24);
	refused(s, len, why);
	free(s);
}

static void test_restore_truncated(void **state)
{
	static const size_t cuts[] = { 0, 10, 24, 30, 5000, 3 << 20 };
	char why[LINE_LEN];
	size_t len;
	uint8_t *s = saved_copy(&len);

	(void)state;
	for (int i = 0; i < RECORDS(cuts); i++) {
		restore_refuses(s, cuts[i]);
		snprintf(why, sizeof(why), "at byte %zu; nothing changed",
			 cuts[i]);
		assert_non_null(strstr(fk.err.line[0], "stream ends at byte"));
		assert_non_null(strstr(fk.err.line[0], why));
	}
	snprintf(why, sizeof(why),
		 "stream ends at byte %zu, before section 9 (no END), at "
		 "byte %zu",
		 len - 24, len - 24);
	refused(s, len - 24, why);
	free(s);
}

static void test_restore_no_compat(void **state)
{
	char why[LINE_LEN];

	(void)state;
	stream_begin();
	stream_keel(NULL);
	stream_ram(fk.ram);
	stream_end();
	snprintf(why, sizeof(why),
		 "section 8 (END): no section of required type 1, at byte %zu",
		 st.mem.len - 24);
	fill_ram(fk.ram, 5);
	refused(st.buf, st.mem.len, why);
}

static void test_restore_chunk_outside_ram(void **state)
{
	static uint8_t larger[RAM_SIZE + 4096];
	char why[LINE_LEN];

	(void)state;
	stream_begin();
	stream_keel(&compat);
	stream_memory(fk.ram, 0, 512);
	stream_memory(larger, RAM_SIZE - 4096, 2);
	stream_end();
	snprintf(why, sizeof(why),
		 "section 7 (type 16): rejected: pages 0x4ff000-0x501000 "
		 "outside guest RAM [0, 0x500000), at byte %zu",
		 (size_t)fk.state_len - 24 + 40 + (2 << 20));
	refused(st.buf, st.mem.len, why);
}

/*
 * All-zero pages stay out of the stream (a saved guest's RAM is mostly
 * zero): the guest is dropped, its RAM zeroed, before a restore writes
 * the pages the stream holds.
 */
static void test_restore_sparse(void **state)
{
	const struct mfile *f;

	(void)state;
	memset(fk.ram + (1 << 20), 0, 3 << 20);
	memset(fk.ram + RAM_SIZE - 4096, 0, 4096);
	memcpy(ram_before, fk.ram, RAM_SIZE);
	assert_int_equal(cmd_save(&k, PATH), 0);
	f = find_file(PATH);
	assert_non_null(f);
	assert_true(f->len < RAM_SIZE - (3 << 20) + 4 * 4096 + fk.state_len +
				     64 * HS_SECTION_HEADER_LEN);
	assert_int_equal(cmd_drop(&k), 0);
	memset(fk.ram + (1 << 20), 0xAA, 3 << 20); /* DROP zeroes all this */
	forget();
	assert_int_equal(cmd_restore(&k, PATH), 0);
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
}

/* keel's part with COMPAT @c, refused for @why */
static void refused_compat(const struct keel_state_compat *c, const char *why)
{
	stream_begin();
	stream_keel(c);
	stream_end();
	refused(st.buf, st.mem.len, why);
}

static void test_restore_other_guest(void **state)
{
	struct keel_state_compat c = compat;

	(void)state;
	c.memory_size = 4 << 20;
	refused_compat(&c, "section 0 (type 1): rejected: the guest has 4 MiB "
			   "of RAM, here 5 MiB, at byte 24");
	c = compat;
	c.disk_queues = 2;
	refused_compat(&c, "section 0 (type 1): rejected: the guest's disk has "
			   "2 request queue(s) of 128, here 1 of 128, at byte "
			   "24");
	c = compat;
	snprintf(c.disk_wwpn, sizeof(c.disk_wwpn), "naa.5001405abcdef002");
	refused_compat(&c, "section 0 (type 1): rejected: the guest's disk is "
			   "naa.5001405abcdef002, here " WWPN ", at byte 24");
}

static void test_restore_no_file(void **state)
{
	(void)state;
	refused(NULL, 0,
		"stream ends at byte 0, inside the stream header, "
		"at byte 0");
	fk.nfiles = 0;
	forget();
	assert_int_equal(cmd_restore(&k, "/nothing"), 1);
	want("OPEN /nothing !2");
	assert_wanted();
	assert_err("restore /nothing: open: No such file or directory; "
		   "nothing changed");
}

/* keel refuses keel's part after RAM was written: the guest is dropped */
static void test_restore_state_refused(void **state)
{
	(void)state;
	save();
	fk.refuse_req = KEEL_IOC_STATE_SET;
	fk.refuse_errno = EBADMSG;
	assert_int_equal(cmd_restore(&k, PATH), 1);
	want("OPEN " PATH);
	want("STATE_CHECK");
	want("DROP");
	want("OPEN " PATH);
	want("ioctl %#lx !74", (unsigned long)KEEL_IOC_STATE_SET);
	assert_wanted();
	assert_err("state set: keel refused: Bad message (errno 74)",
		   "the guest stays dropped");
}

/* keel's checks refuse the state: the guest is not even dropped */
static void test_restore_check_refused(void **state)
{
	(void)state;
	save();
	memcpy(ram_before, fk.ram, RAM_SIZE);
	fk.refuse_req = KEEL_IOC_STATE_CHECK;
	fk.refuse_errno = EBADMSG;
	assert_int_equal(cmd_restore(&k, PATH), 1);
	want("OPEN " PATH);
	want("ioctl %#lx !74", (unsigned long)KEEL_IOC_STATE_CHECK);
	assert_wanted();
	assert_err("state check: keel refused: Bad message (errno 74)",
		   "restore " PATH ": keel refuses its state (see keel's "
		   "console); nothing changed");
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
	assert_false(fk.dropped);
	assert_int_equal(fk.loaded_len, 0);
}

/* a running guest is not overwritten: keel refuses to drop it */
static void test_restore_guest_running(void **state)
{
	(void)state;
	stream_begin();
	stream_keel(&compat);
	stream_ram(fk.ram);
	stream_end();
	put_file(PATH, st.buf, st.mem.len);
	memcpy(ram_before, fk.ram, RAM_SIZE);
	assert_int_equal(cmd_restore(&k, PATH), 1);
	want("OPEN " PATH);
	want("STATE_CHECK");
	want("DROP !16");
	assert_wanted();
	assert_err("drop: keel refused: Device or resource busy (errno 16)",
		   "keel's guest must be dropped, or paused with its disk "
		   "stopped (by `keelctl save`)");
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
	assert_int_equal(fk.loaded_len, 0);
}

/* keeld never answers the start: the loaded guest stays paused */
static void test_restore_no_answer(void **state)
{
	(void)state;
	save();
	fk.answer_after = -1;
	assert_int_equal(cmd_restore(&k, PATH), 1);
	want("OPEN " PATH);
	want("STATE_CHECK");
	want("DROP");
	want("OPEN " PATH);
	want("STATE_SET 3");
	assert_wanted();
	assert_err("request 3: keeld has not answered in 30 s",
		   "the guest stays paused: `keelctl resume` once keeld "
		   "serves its disk");
	assert_true(fk.paused);
}

/* ---- migrate ---- */

static void migrate(const char *reply_line, enum reply reply, int rc)
{
	fk.reply_line = reply_line;
	fk.reply = reply;
	assert_int_equal(cmd_migrate(&k, TARGET, false), rc);
	want("CONNECT " TARGET);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("STATE_GET");
	if (reply_line && !strncmp(reply_line, "READY\n", 6))
		want("GO");
}

/* the sender's report: keeld answered each request at its answer_after'th
 * poll, the receiver at once */
static void assert_migrated(int rounds)
{
	char line[LINE_LEN];
	double t = fk.answer_after / 100.0;

	snprintf(line, sizeof(line),
		 "migrated %zu bytes (5 MiB RAM, %u bytes state) in %.2f s "
		 "to " TARGET ", downtime %.2f s, total %.2f s, %d pre-copy "
		 "rounds, %zu bytes sent",
		 fk.wire_len, fk.state_len, t, t, t, rounds, fk.wire_len);
	assert_out(line);
}

/*
 * What the sender wrote, into the receiver's dropped guest (read in
 * fragments of all sizes): it runs there with the source's RAM as it was
 * at the pause and keel's part.
 */
static void receive_wire(void)
{
	static const size_t frags[] = { 1, 7, 4093, 65536, 24, 3, 100000 };
	char line[LINE_LEN];

	forget();
	fk.in = fk.wire;
	fk.in_len = fk.wire_len;
	fk.frags = frags;
	fk.nfrags = RECORDS(frags);
	fk.reply_line = NULL;
	fk.go = "GO\n";
	assert_int_equal(cmd_receive(&k, "7000"), 0);
	want("ACCEPT 7000");
	want("DROP");
	want("STATE_SET 3");
	want("RESUME");
	assert_wanted();
	assert_string_equal(fk.answer, "READY\nOK\n");
	assert_memory_equal(fk.ram, ram_paused, RAM_SIZE);
	assert_memory_equal(fk.loaded, fk.state, fk.state_len);
	snprintf(line, sizeof(line),
		 "received %zu bytes (5 MiB RAM, %u bytes state) in %.2f s; "
		 "the guest runs",
		 fk.wire_len, fk.state_len, fk.answer_after / 100.0);
	assert_out("waiting for the guest on port 7000", line);
	assert_int_equal(fk.err.n, 0);
	assert_false(fk.paused);
}

/* the sender's side, then the receiver's: the same guest, running there */
static void test_migrate_receive(void **state)
{
	(void)state;
	fk.answer_after = 3;
	migrate("READY\nOK\n", REPLY_LINE, 0);
	want("DROP");
	assert_wanted();
	assert_migrated(0);
	assert_int_equal(fk.wire_len, stream_len());
	fill_ram(ram_before, 0);
	assert_memory_equal(ram_paused, ram_before, RAM_SIZE);
	receive_wire();
}

/* guest RAM as fill_ram(..., 0) left it, which the failure must keep */
static void migrate_failed(const char *reply_line, enum reply reply,
			   const char *why)
{
	fill_ram(ram_before, 0);
	migrate(reply_line, reply, 1);
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_err(why, "the guest goes on");
	assert_int_equal(fk.out.n, 0);
	assert_false(fk.paused || fk.stopped);
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
}

static void test_migrate_refused(void **state)
{
	(void)state;
	migrate_failed("ERR the guest's disk differs\n", REPLY_LINE,
		       TARGET ": the guest's disk differs");
}

static void test_migrate_cut(void **state)
{
	(void)state;
	migrate_failed("", REPLY_EOF,
		       TARGET ": connection closed before its answer");
}

/*
 * The receiver refuses the stream before its end (a crc32c mismatch) and
 * closes: the sender's write fails, its guest goes on, and the receiver's
 * reason, there before the reset, is in its report.
 */
static void test_migrate_refused_early(void **state)
{
	(void)state;
	fill_ram(ram_before, 0);
	fk.wire_fail_at = 100000;
	fk.reply_line = "ERR receive: section 5 (type 16): payload crc32c "
			"0x1, expected 0x2, at byte 4242\n";
	fk.reply = REPLY_LINE;
	assert_int_equal(cmd_migrate(&k, TARGET, false), 1);
	want("CONNECT " TARGET);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("STATE_GET");
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_err("write " TARGET ": Broken pipe", "the guest goes on",
		   TARGET " refused the stream: receive: section 5 (type 16): "
			  "payload crc32c 0x1, expected 0x2, at byte 4242");
	assert_int_equal(fk.out.n, 0);
	assert_false(fk.paused || fk.stopped || fk.dropped);
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
}

/* an answer that is not READY: the receiver holds nothing to start */
static void test_migrate_not_ready(void **state)
{
	(void)state;
	migrate_failed("HELLO\n", REPLY_LINE, TARGET ": \"HELLO\", not READY");
}

/* GO, then ERR: the receiver could not start it and dropped it */
static void test_migrate_err_after_go(void **state)
{
	(void)state;
	migrate_failed("READY\nERR resume: keel refused\n", REPLY_LINE,
		       TARGET ": resume: keel refused");
}

/*
 * GO has left and the connection ends before OK: the guest may run there,
 * so it must not run here too; it stays paused, the operator is told
 */
static void test_migrate_cut_after_go(void **state)
{
	(void)state;
	fill_ram(ram_before, 0);
	migrate("READY\n", REPLY_EOF, 1);
	assert_wanted();
	assert_err(TARGET ": connection closed before its answer",
		   "the guest was told to start on " TARGET ": it may run "
		   "there now. This keel holds it paused: `keelctl drop` here "
		   "if it runs there, `keelctl resume` only if it does not");
	assert_int_equal(fk.out.n, 0);
	assert_true(fk.paused && fk.stopped);
	assert_false(fk.dropped);
}

static void test_migrate_no_answer(void **state)
{
	(void)state;
	migrate_failed(NULL, REPLY_NONE, TARGET ": no answer in 60 s");
	assert_true(fk.now >= 60000000000ull);
}

static void test_migrate_bad_target(void **state)
{
	(void)state;
	assert_int_equal(cmd_migrate(&k, "10.0.0.2", false), 1);
	assert_int_equal(cmd_migrate(&k, ":7000", true), 1);
	assert_int_equal(rec.ncalls, 0);
	assert_err("migrate: 10.0.0.2 is not HOST:PORT",
		   "migrate: :7000 is not HOST:PORT");
}

/* ---- migrate --precopy ---- */

/* the running guest writes @w as keelctl sends, vhost @stop after the
 * pause */
#define SCRIPT(w, stop) \
	(fk.writes = (w), fk.nwrites = RECORDS(w), fk.stop_write = (stop))

/* the progress lines of pre-copy's rounds start with @want[0..n) */
static void assert_rounds(const char *const *want, int n)
{
	int r = 0;

	for (int i = 0; i < fk.progress.n; i++) {
		if (strncmp(fk.progress.line[i], "round ", 6))
			continue;
		assert_true(r < n);
		if (strncmp(fk.progress.line[i], want[r], strlen(want[r])))
			fail_msg("\"%s\", wanted \"%s...\"",
				 fk.progress.line[i], want[r]);
		r++;
	}
	assert_int_equal(r, n);
}

/*
 * migrate --precopy, answered OK: a DIRTY_LOG for each of @rounds live
 * rounds (keel's counts @dirty), then PAUSE, the stop, the last DIRTY_LOG
 * (@last), STATE_GET; a progress line a round, the report
 */
static void precopy(const uint32_t *dirty, int rounds, uint32_t last)
{
	char lines[KEELCTL_PRECOPY_ROUNDS][LINE_LEN];
	const char *want_lines[KEELCTL_PRECOPY_ROUNDS];

	fk.reply_line = "READY\nOK\n";
	fk.reply = REPLY_LINE;
	assert_int_equal(cmd_migrate(&k, TARGET, true), 0);
	want("CONNECT " TARGET);
	for (int i = 0; i < rounds; i++) {
		want("DIRTY_LOG %u", dirty[i]);
		snprintf(lines[i], LINE_LEN, "round %d: %u pages dirty, ", i,
			 dirty[i]);
		want_lines[i] = lines[i];
	}
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("DIRTY_LOG %u", last);
	want("STATE_GET");
	want("GO");
	want("DROP");
	assert_wanted();
	assert_rounds(want_lines, rounds);
	assert_migrated(rounds);
	assert_int_equal(fk.err.n, 0);
}

/*
 * Rounds until one sends fewer than 256 pages, then the last pages with
 * the guest paused; the receiver gets the guest as it was at the pause.
 * Pages written while their chunk is sent are sent whole (copied first),
 * and again in the next round; pages that became zero are sent too.
 */
static void test_precopy_receive(void **state)
{
	static const struct guest_write w[] = {
		{ 1, 0, 600, 1 }, /* 300-599 were zero in round 0 */
		{ 2, 100, 300, 2 }, { 2, 1000, 10, 0 }, { 3, 200, 50, 3 },
		{ 3, 1279, 1, 3 },  { 4, 250, 10, 4 },
	};
	static const struct guest_write vhost = { 0, 210, 1, 5 };
	static const uint32_t dirty[] = { PAGES, 600, 310, 51 };

	(void)state;
	memset(fk.ram + 300 * 4096, 0, 400 * 4096);
	SCRIPT(w, &vhost);
	precopy(dirty, 4, 11);
	assert_rounds(LINES("round 0: 1280 pages dirty, 4.6 MiB sent, 0.00 s",
			    "round 1: 600 pages dirty, 2.3 MiB sent, 0.00 s",
			    "round 2: 310 pages dirty, 1.2 MiB sent, 0.00 s",
			    "round 3: 51 pages dirty, 0.2 MiB sent, 0.00 s"),
		      4);
	assert_true(fk.wire_len > RAM_SIZE + (3 << 20));
	receive_wire();
	/* pages that come again are no progress: 1180 pages are not zero */
	assert_string_equal(fk.progress.line[fk.progress.n - 1],
			    "receiving: 5 of 5 MiB (92 %), 0.0 MiB/s");
}

/* a page the last live round sent, written again after the pause (vhost
 * completing a request before keeld answers the stop): sent again */
static void test_precopy_page_again(void **state)
{
	static const struct guest_write w[] = { { 1, 7, 1, 1 } };
	static const struct guest_write vhost = { 0, 7, 1, 2 };
	static const uint32_t dirty[] = { PAGES, 1 };

	(void)state;
	SCRIPT(w, &vhost);
	precopy(dirty, 2, 1);
	receive_wire();
	assert_int_equal(fk.ram[7 * 4096], (7 + 2) | 1);
}

/* a round that sends no fewer pages than the one before is the last */
static void test_precopy_no_shrink(void **state)
{
	static const struct guest_write w[] = { { 1, 0, 600, 1 },
						{ 2, 0, 700, 2 } };
	static const uint32_t dirty[] = { PAGES, 600, 700 };

	(void)state;
	SCRIPT(w, NULL);
	precopy(dirty, 3, 0);
	receive_wire();
}

/* at most precopy_rounds live rounds; the last pages go paused */
static void test_precopy_max_rounds(void **state)
{
	static const struct guest_write w[] = { { 1, 0, 600, 1 },
						{ 2, 0, 500, 2 },
						{ 3, 0, 400, 3 } };
	static const uint32_t dirty[] = { PAGES, 600, 500 };

	(void)state;
	k.precopy_rounds = 3;
	SCRIPT(w, NULL);
	precopy(dirty, 3, 400);
	receive_wire();
}

/*
 * The connection fails in a live round: the guest was never paused, and
 * nothing is done to it. Tried again, keel's first DIRTY_LOG reports only
 * what was written since the last: round 0 sends all of RAM regardless.
 */
static void test_precopy_write_error(void **state)
{
	static const struct guest_write w[] = { { 1, 0, 600, 1 } };
	static const uint32_t dirty[] = { 0, 0 };

	(void)state;
	SCRIPT(w, NULL);
	fk.wire_fail_at = RAM_SIZE + (1 << 20);
	assert_int_equal(cmd_migrate(&k, TARGET, true), 1);
	want("CONNECT " TARGET);
	want("DIRTY_LOG 1280");
	want("DIRTY_LOG 600");
	assert_wanted();
	assert_err("write " TARGET ": Broken pipe", "the guest goes on");
	assert_rounds(LINES("round 0: 1280 pages dirty, "), 1);
	assert_int_equal(fk.out.n, 0);
	assert_false(fk.paused || fk.stopped || fk.dropped);
	forget();
	fk.wire_len = fk.wire_fail_at = 0;
	precopy(dirty, 2, 0);
	receive_wire();
}

/* the receiver refuses after the pause: the guest goes on */
static void test_precopy_refused(void **state)
{
	(void)state;
	fk.reply_line = "ERR the guest's disk differs\n";
	fk.reply = REPLY_LINE;
	assert_int_equal(cmd_migrate(&k, TARGET, true), 1);
	want("CONNECT " TARGET);
	want("DIRTY_LOG 1280");
	want("DIRTY_LOG 0");
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("DIRTY_LOG 0");
	want("STATE_GET");
	want("HANDOFF_START 3");
	want("RESUME");
	assert_wanted();
	assert_err(TARGET ": the guest's disk differs", "the guest goes on");
	assert_int_equal(fk.out.n, 0);
	assert_false(fk.paused || fk.stopped);
}

/* a keel without dirty tracking: stop-and-copy, said in one line */
static void test_precopy_unsupported(void **state)
{
	(void)state;
	fk.refuse_req = KEEL_IOC_DIRTY_LOG;
	fk.refuse_errno = EOPNOTSUPP;
	fk.reply_line = "READY\nOK\n";
	fk.reply = REPLY_LINE;
	assert_int_equal(cmd_migrate(&k, TARGET, true), 0);
	want("CONNECT " TARGET);
	want("ioctl %#lx !95", (unsigned long)KEEL_IOC_DIRTY_LOG);
	want("PAUSE");
	want("HANDOFF_STOP 2");
	want("STATE_GET");
	want("GO");
	want("DROP");
	assert_wanted();
	assert_string_equal(fk.progress.line[0],
			    "keel tracks no dirty pages (its CPU's EPT keeps "
			    "no dirty flags): stop-and-copy");
	assert_int_equal(fk.err.n, 0);
	assert_migrated(0);
	assert_int_equal(fk.wire_len, stream_len());
	receive_wire();
}

/* ---- receive ---- */

/* cmd_receive() of @buf, the sender's line after READY @go */
static void receive_go(const void *buf, size_t len, const char *go, int rc)
{
	fk.in = buf;
	fk.in_len = len;
	fk.go = go;
	assert_int_equal(cmd_receive(&k, "7000"), rc);
	want("ACCEPT 7000");
	want("DROP");
}

static void receive(const void *buf, size_t len, int rc)
{
	receive_go(buf, len, "GO\n", rc);
}

/* a guest the target's keel holds dropped */
static void dropped(void)
{
	fk.paused = fk.dropped = true;
	memset(fk.ram, 0, RAM_SIZE);
}

/* the stream breaks in its second chunk: RAM written so far is dropped */
static void test_receive_corrupt(void **state)
{
	char answer[LINE_LEN];
	size_t len, chunk2 = fk.state_len - 24 + 40 + (2 << 20);
	uint8_t *s = saved_copy(&len);

	(void)state;
	forget();
	s[chunk2 + 24 + 16 + 99] ^= 1;
	receive(s, len, 1);
	assert_wanted();
	assert_true(strncmp(fk.answer,
			    "ERR receive: section 7 (type 16): "
			    "payload crc32c ",
			    48) == 0);
	snprintf(answer, sizeof(answer), "expected 0x%08x, at byte %zu\n",
		 *(uint32_t *)(s + chunk2 + 16), chunk2 + 24);
	assert_non_null(strstr(fk.answer, answer));
	free(s);
}

/* refused before any RAM was written: nothing to drop */
static void test_receive_bad_magic(void **state)
{
	static const char junk[] = "GET / HTTP/1.0\r\nHost: keel\r\n\r\n";

	(void)state;
	dropped();
	receive(junk, sizeof(junk) - 1, 1);
	assert_wanted();
	assert_string_equal(fk.answer,
			    "ERR receive: stream header: no \"KEELSTRM\" "
			    "magic, at byte 0\n");
	assert_err("receive: stream header: no \"KEELSTRM\" magic, at byte 0");
}

/*
 * keeld does not answer the start on the target: never READY; the stop
 * goes unanswered too, so the loaded guest stays, paused, and ERR
 */
static void test_receive_no_answer(void **state)
{
	size_t len;
	uint8_t *s = saved_copy(&len);

	(void)state;
	fk.answer_after = -1;
	forget();
	receive(s, len, 1);
	want("STATE_SET 3");
	want("HANDOFF_STOP 4");
	assert_wanted();
	assert_string_equal(fk.answer, "ERR request 3: keeld has not answered "
				       "in 30 s\n");
	assert_err("request 3: keeld has not answered in 30 s",
		   "request 4: keeld has not answered in 30 s",
		   "the guest stays loaded here, paused, and runs on at the "
		   "sender: `keelctl drop` it here, never resume it");
	assert_true(fk.paused);
	free(s);
}

/*
 * The sender's line after READY is @go: not GO, so the loaded guest's
 * disk is stopped and the guest dropped; nothing ran here
 */
static void receive_without_go(const char *go, const char *answer)
{
	size_t len;
	uint8_t *s = saved_copy(&len);

	forget();
	receive_go(s, len, go, 1);
	want("STATE_SET 3");
	want("HANDOFF_STOP 4");
	want("DROP");
	assert_wanted();
	assert_string_equal(fk.answer, answer);
	assert_true(fk.dropped);
	free(s);
}

/* the sender's connection ends after READY */
static void test_receive_no_go(void **state)
{
	(void)state;
	receive_without_go("", "READY\nERR the sender: connection closed "
			       "before its answer\n");
	assert_err("the sender: connection closed before its answer");
}

static void test_receive_not_go(void **state)
{
	(void)state;
	receive_without_go("GET / HTTP/1.0\n", "READY\nERR the sender: \"GET "
						"/ HTTP/1.0\", not GO\n");
}

/* bytes after END on the connection: the sender broke the protocol */
static void test_receive_after_end(void **state)
{
	size_t len;
	uint8_t *s = saved_copy(&len);
	uint8_t *more = malloc(len + 3);

	(void)state;
	assert_non_null(more);
	memcpy(more, s, len);
	memcpy(more + len, "GO\n", 3);
	forget();
	receive_go(more, len + 3, "", 1);
	assert_wanted();
	assert_non_null(strstr(fk.answer, "ERR receive: "));
	assert_non_null(strstr(fk.answer, "after the END section"));
	assert_true(fk.dropped);
	free(more);
	free(s);
}

/*
 * Pre-copy: rounds of MEMORY chunks, each ended by a ROUND, then keel's
 * part and the pages dirtied since; later chunks of a page win.
 */
static void test_receive_rounds(void **state)
{
	uint8_t *second = malloc(RAM_SIZE);

	(void)state;
	assert_non_null(second);
	fill_ram(second, 1);
	fill_ram(ram_before, 0);
	memcpy(ram_before + 3 * 4096, second + 3 * 4096, 2 * 4096);
	memcpy(ram_before + (4 << 20), second + (4 << 20), 4096);
	stream_begin();
	stream_memory(ram_before, 0, 512);
	stream_memory(ram_before, 2 << 20, 512);
	stream_memory(second, 4 << 20, 256);
	stream_round(0, PAGES);
	stream_memory(second, 3 * 4096, 2);
	stream_round(1, 2);
	stream_keel(&compat);
	stream_memory(ram_before, 4 << 20, 256);
	stream_end();
	dropped();
	receive(st.buf, st.mem.len, 0);
	want("STATE_SET 2");
	want("RESUME");
	assert_wanted();
	assert_string_equal(fk.answer, "READY\nOK\n");
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
	assert_memory_equal(fk.loaded, fk.state, fk.state_len);
	free(second);
}

static void test_receive_bad_round(void **state)
{
	(void)state;
	stream_begin();
	stream_memory(fk.ram, 0, 512);
	stream_round(0, 511);
	stream_end();
	dropped();
	receive(st.buf, st.mem.len, 1);
	assert_wanted();
	assert_string_equal(fk.answer,
			    "ERR receive: section 1 (type 17): rejected: round "
			    "0 of 511 pages, expected round 0 of 512, at byte "
			    "2097216\n");
}

/* the target's guest runs: keel refuses to drop it, nothing is read */
static void test_receive_guest_running(void **state)
{
	(void)state;
	memcpy(ram_before, fk.ram, RAM_SIZE);
	fk.in_len = 1;
	fk.in = (const uint8_t *)"K";
	assert_int_equal(cmd_receive(&k, "7000"), 1);
	want("ACCEPT 7000");
	want("DROP !16");
	assert_wanted();
	assert_string_equal(fk.answer, "ERR drop: keel refused: Device or "
				       "resource busy (errno 16)\n");
	assert_int_equal(fk.in_pos, 0);
	assert_memory_equal(fk.ram, ram_before, RAM_SIZE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fresh, closed)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_save),
		T(test_save_device_not_started),
		T(test_save_no_answer),
		T(test_save_bad_keel_part),
		T(test_resume_after_save),
		T(test_pause_resume_drop_stats),
		T(test_drop_paused_served),
		T(test_save_restore),
		T(test_restore_device_not_started),
		T(test_restore_bad_magic),
		T(test_restore_bad_crc),
		T(test_restore_truncated),
		T(test_restore_no_compat),
		T(test_restore_chunk_outside_ram),
		T(test_restore_sparse),
		T(test_restore_other_guest),
		T(test_restore_no_file),
		T(test_restore_check_refused),
		T(test_restore_state_refused),
		T(test_restore_guest_running),
		T(test_restore_no_answer),
		T(test_migrate_receive),
		T(test_migrate_refused),
		T(test_migrate_cut),
		T(test_migrate_refused_early),
		T(test_migrate_not_ready),
		T(test_migrate_err_after_go),
		T(test_migrate_cut_after_go),
		T(test_migrate_no_answer),
		T(test_migrate_bad_target),
		T(test_precopy_receive),
		T(test_precopy_page_again),
		T(test_precopy_no_shrink),
		T(test_precopy_max_rounds),
		T(test_precopy_write_error),
		T(test_precopy_refused),
		T(test_precopy_unsupported),
		T(test_receive_corrupt),
		T(test_receive_bad_magic),
		T(test_receive_no_answer),
		T(test_receive_rounds),
		T(test_receive_bad_round),
		T(test_receive_guest_running),
		T(test_receive_no_go),
		T(test_receive_not_go),
		T(test_receive_after_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
