// SPDX-License-Identifier: GPL-2.0
/*
 * keelctl: pauses, saves, restores and migrates keel's guest from the
 * companion. The commands are in control.c, save.c and migrate.c; this file
 * holds the system calls they make and the command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vhost/keel_dev.h"
#include "vhost/keelctl/commands.h"
#include "vhost/keeld/dax.h"

#define NET_TIMEOUT_S 60 /* a peer that sends or takes nothing that long */

static int sys_keel_open(void *ctx)
{
	(void)ctx;
	return open(KEEL_DEV_PATH, O_RDWR | O_CLOEXEC);
}

static int sys_keel_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	return (int)pread(fd, buf, len, 0);
}

static int sys_keel_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg);
}

static int sys_find_dax(void *ctx, uint64_t phys, uint64_t size, char *dev,
			size_t len)
{
	(void)ctx;
	return dax_find("", phys, size, dev, len);
}

static void *sys_map(void *ctx, const char *dev, uint64_t size)
{
	(void)ctx;
	return dax_map("", dev, size);
}

static void sys_unmap(void *ctx, void *addr, uint64_t size)
{
	(void)ctx;
	munmap(addr, size);
}

static int sys_create(void *ctx, const char *path)
{
	(void)ctx;
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

static int sys_open(void *ctx, const char *path)
{
	(void)ctx;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* a connection whose peer went quiet fails instead of hanging */
static int sys_net_timeouts(int fd)
{
	const struct timeval tv = { .tv_sec = NET_TIMEOUT_S };

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * An IPv4 TCP socket and the address @host:@port, both numbers (the
 * companion's initramfs resolves no names); @host NULL: any address.
 */
static int sys_socket(const char *host, const char *port,
		      struct sockaddr_in *sa)
{
	unsigned long n;
	char *end;

	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	errno = 0;
	n = strtoul(port, &end, 10);
	if (errno || end == port || *end || !n || n > 65535 ||
	    (host && inet_pton(AF_INET, host, &sa->sin_addr) != 1)) {
		errno = EINVAL;
		return -1;
	}
	sa->sin_port = htons((uint16_t)n);
	return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static int sys_connect(void *ctx, const char *host, const char *port)
{
	struct sockaddr_in sa;
	int fd = sys_socket(host, port, &sa), err;

	(void)ctx;
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return sys_net_timeouts(fd);
}

static int sys_accept(void *ctx, const char *port)
{
	const int one = 1;
	struct sockaddr_in sa;
	int lfd = sys_socket(NULL, port, &sa), fd = -1, err;

	(void)ctx;
	if (lfd < 0)
		return -1;
	if (!setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) &&
	    !bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) && !listen(lfd, 1))
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	close(lfd);
	errno = err;
	return fd < 0 ? -1 : sys_net_timeouts(fd);
}

static ssize_t sys_read(void *ctx, int fd, void *buf, size_t len)
{
	(void)ctx;
	return read(fd, buf, len);
}

static int sys_write(void *ctx, int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	(void)ctx;
	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sys_wait(void *ctx, int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	(void)ctx;
	return poll(&pfd, 1, timeout_ms);
}

static int sys_sync(void *ctx, int fd)
{
	(void)ctx;
	return fsync(fd);
}

static int sys_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

static uint64_t sys_now_ns(void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static const struct keelctl_ops sys_ops = {
	.keel_open = sys_keel_open,
	.keel_read = sys_keel_read,
	.keel_ioctl = sys_keel_ioctl,
	.find_dax = sys_find_dax,
	.map = sys_map,
	.unmap = sys_unmap,
	.create = sys_create,
	.open = sys_open,
	.connect = sys_connect,
	.accept = sys_accept,
	.read = sys_read,
	.write = sys_write,
	.wait = sys_wait,
	.sync = sys_sync,
	.close = sys_close,
	.now_ns = sys_now_ns,
};

static void out_line(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
	fflush(stdout);
}

static void err_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "keelctl: %s\n", line);
}

static const char usage[] =
	"usage: keelctl COMMAND\n"
	"  pause              pause the guest: its vCPU waits in keel\n"
	"  resume             let the paused guest go on (after a save,\n"
	"                     its disk is started again first)\n"
	"  save FILE          pause the guest, stop its disk, write its\n"
	"                     state and RAM to FILE; it stays paused\n"
	"  restore FILE       check all of FILE, then load it into keel's\n"
	"                     paused or dropped guest and let it run\n"
	"  migrate [--precopy] HOST:PORT\n"
	"                     hand the guest over TCP to `keelctl receive`\n"
	"                     at HOST (an IPv4 address); drop it here once\n"
	"                     it runs there. --precopy: send its RAM in\n"
	"                     rounds while it runs, pause it for the last\n"
	"                     dirty pages only\n"
	"  receive PORT       take a guest from `keelctl migrate` on TCP\n"
	"                     port PORT and let it run\n"
	"  stats              what /dev/keel says: guest state, device\n"
	"                     request, kicks\n"
	"  drop               discard the guest's state (keel zeroes its\n"
	"                     RAM)\n";

static int run(struct keelctl *k, int argc, char **argv)
{
	const char *cmd = argv[1];

	if (argc == 2 && !strcmp(cmd, "pause"))
		return cmd_pause(k);
	if (argc == 2 && !strcmp(cmd, "resume"))
		return cmd_resume(k);
	if (argc == 2 && !strcmp(cmd, "drop"))
		return cmd_drop(k);
	if (argc == 2 && !strcmp(cmd, "stats"))
		return cmd_stats(k);
	if (argc == 3 && !strcmp(cmd, "save"))
		return cmd_save(k, argv[2]);
	if (argc == 3 && !strcmp(cmd, "restore"))
		return cmd_restore(k, argv[2]);
	if (argc == 3 && !strcmp(cmd, "migrate"))
		return cmd_migrate(k, argv[2], false);
	if (argc == 4 && !strcmp(cmd, "migrate") &&
	    !strcmp(argv[2], "--precopy"))
		return cmd_migrate(k, argv[3], true);
	if (argc == 3 && !strcmp(cmd, "receive"))
		return cmd_receive(k, argv[2]);
	fputs(usage, stderr);
	return 2;
}

int main(int argc, char **argv)
{
	struct keelctl k = {
		.ops = &sys_ops,
		.out = { out_line, NULL },
		.err = { err_line, NULL },
		.progress = { err_line, NULL },
		.ack_timeout_ms = KEELCTL_ACK_TIMEOUT_MS,
		.reply_timeout_ms = KEELCTL_REPLY_TIMEOUT_MS,
		.precopy_pages = KEELCTL_PRECOPY_PAGES,
		.precopy_rounds = KEELCTL_PRECOPY_ROUNDS,
		.keel_fd = -1,
	};

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed connection is an EPIPE */
	return run(&k, argc, argv);
}
