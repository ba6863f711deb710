/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keelctl: the companion's tool that pauses, saves, restores and migrates
 * keel's guest (vhost/keel_state.h). Its logic is driven through struct
 * keelctl_ops, the system calls main.c makes and the tests fake.
 */
#ifndef KEELCTL_H
#define KEELCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vhost/keel_abi.h"
#include "vhost/keeld/log.h"

#define KEELCTL_ACK_TIMEOUT_MS 30000	/* keeld's answer to a request */
#define KEELCTL_REPLY_TIMEOUT_MS 60000	/* a line from the other side */
#define KEELCTL_PRECOPY_PAGES 256	/* a live round below: the last */
#define KEELCTL_PRECOPY_ROUNDS 8	/* live rounds at the most */

/*
 * What the system calls return: an fd, 0, a count, or -1 with errno set.
 * keel_read() reads from offset 0 (pread); keel_ioctl() returns the ioctl's
 * value (>= 0). create() opens a file for writing (created, truncated),
 * open() one for reading. connect() makes a TCP connection to @host:@port
 * (IPv4), accept() listens on @port and accepts one connection. read()
 * returns what is there (0: the end), write() writes all of @buf, wait()
 * polls @fd for input for at most @timeout_ms (1: ready, 0: timed out),
 * sync() flushes a file to its disk. now_ns() is a monotonic clock.
 */
struct keelctl_ops {
	int (*keel_open)(void *ctx);
	int (*keel_read)(void *ctx, int fd, void *buf, size_t len);
	int (*keel_ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	int (*find_dax)(void *ctx, uint64_t phys, uint64_t size, char *dev,
			size_t len);
	void *(*map)(void *ctx, const char *dev, uint64_t size);
	void (*unmap)(void *ctx, void *addr, uint64_t size);
	int (*create)(void *ctx, const char *path);
	int (*open)(void *ctx, const char *path);
	int (*connect)(void *ctx, const char *host, const char *port);
	int (*accept)(void *ctx, const char *port);
	ssize_t (*read)(void *ctx, int fd, void *buf, size_t len);
	int (*write)(void *ctx, int fd, const void *buf, size_t len);
	int (*wait)(void *ctx, int fd, int timeout_ms);
	int (*sync)(void *ctx, int fd);
	int (*close)(void *ctx, int fd);
	uint64_t (*now_ns)(void *ctx);
};

struct keelctl {
	const struct keelctl_ops *ops;
	void *ctx;		/* passed to every op */
	struct keeld_log out;	/* what a command reports */
	struct keeld_log err;	/* why it failed */
	struct keeld_log progress;	/* how far a transfer is */
	int ack_timeout_ms;
	int reply_timeout_ms;
	/* pre-copy ends after a live round that sent fewer pages than
	 * precopy_pages, no fewer than the round before, or after
	 * precopy_rounds rounds */
	uint64_t precopy_pages;
	uint32_t precopy_rounds;
	/* the guest, from guest_open() to guest_close() */
	int keel_fd;		/* -1 when closed */
	struct keel_chan_shared sh;	/* the last snapshot */
	uint8_t *ram;		/* guest-physical 0; NULL: not mapped */
	uint64_t ram_size;
};

#endif
