// SPDX-License-Identifier: GPL-2.0
/*
 * flip-relay: a TCP relay that corrupts one byte, for the migration test's
 * corrupt stream. It takes one connection on LISTEN_PORT, connects it to
 * HOST:PORT and copies both ways; the byte at OFFSET of what the client
 * sends is xored with 0x01. It ends when the server side closes (after
 * passing on what the server sent) or the client does.
 *   flip-relay LISTEN_PORT HOST:PORT OFFSET
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "flip-relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listen_accept(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0), fd;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
		die("listen");
	printf("flip-relay: listening on port %d\n", port);
	fflush(stdout);
	fd = accept(l, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(l);
	return fd;
}

static int connect_to(const char *target)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *colon = strrchr(target, ':');
	char host[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (!colon || (size_t)(colon - target) >= sizeof(host)) {
		fprintf(stderr, "flip-relay: %s is not HOST:PORT\n", target);
		exit(2);
	}
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die(target);
	return fd;
}

/* all of @buf to @fd: 0, or -1 once the peer is gone */
static int put(int fd, const char *buf, ssize_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[1 << 16];
	unsigned long long offset, passed = 0;
	struct pollfd p[2];
	int client, server;

	if (argc != 4) {
		fprintf(stderr, "usage: flip-relay LISTEN_PORT HOST:PORT OFFSET\n");
		return 2;
	}
	offset = strtoull(argv[3], NULL, 0);
	signal(SIGPIPE, SIG_IGN);
	client = listen_accept(atoi(argv[1]));
	server = connect_to(argv[2]);
	p[0] = (struct pollfd){ .fd = client, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = server, .events = POLLIN };
	for (;;) {
		ssize_t n;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (p[1].revents) {
			n = read(server, buf, sizeof(buf));
			/* the server is done: what it said goes back, then the end */
			if (n <= 0 || put(client, buf, n))
				break;
		}
		if (p[0].revents) {
			n = read(client, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(server, SHUT_WR);
				p[0].fd = -1;
				continue;
			}
			if (offset >= passed && offset < passed + (unsigned long long)n) {
				buf[offset - passed] ^= 0x01;
				printf("flip-relay: byte %llu flipped\n", offset);
				fflush(stdout);
			}
			passed += (unsigned long long)n;
			if (put(server, buf, n))
				break;
		}
	}
	printf("flip-relay: %llu bytes passed on\n", passed);
	close(server);
	close(client);
	return 0;
}
