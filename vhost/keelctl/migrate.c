// SPDX-License-Identifier: GPL-2.0
/*
 * keelctl migrate and receive: the guest handed to another keel over TCP,
 * stop-and-copy or after pre-copy rounds (precopy.h). The sender pauses
 * and stops the guest, streams it and half-closes the connection; the
 * receiver drops the guest its keel holds (keel refuses while it runs),
 * writes the stream's RAM into it as it arrives, checks all of it at the
 * end, loads keel's part and starts the guest, and answers one line: "OK"
 * once the guest runs there, or "ERR <why>". On OK the sender drops its
 * guest; on anything else its guest goes on, and the receiver's stays
 * dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhost/keel_dev.h"
#include "vhost/keelctl/commands.h"
#include "vhost/keelctl/guest.h"
#include "vhost/keelctl/handoff.h"
#include "vhost/keelctl/load.h"
#include "vhost/keelctl/precopy.h"
#include "vhost/keelctl/progress.h"

#define HOST_MAX 256
#define REPLY_MAX 512
#define SUMMARY_MAX 128
#define WHY_WAIT_MS 1000

static int net_errno(void)
{
	return errno ? errno : EIO;
}

/* HOST:PORT, split at the last colon */
static int migrate_target(struct keelctl *k, const char *target, char *host,
			  const char **port)
{
	const char *colon = strrchr(target, ':');

	if (!colon || colon == target || !colon[1] ||
	    (size_t)(colon - target) >= HOST_MAX) {
		keeld_logf(&k->err, "migrate: %s is not HOST:PORT", target);
		return -1;
	}
	memcpy(host, target, (size_t)(colon - target));
	host[colon - target] = '\0';
	*port = colon + 1;
	return 0;
}

/*
 * What there is of the receiver's answer, by @deadline: the count of bytes
 * read into @buf (0 after a signal), or -1 after logging why there is none.
 */
static ssize_t migrate_read(struct keelctl *k, int fd, const char *target,
			    uint64_t deadline, char *buf, size_t len)
{
	uint64_t now = k->ops->now_ns(k->ctx);
	ssize_t n = -1;
	int ready = 0;

	if (now < deadline)
		ready = k->ops->wait(
			k->ctx, fd, (int)((deadline - now + 999999) / 1000000));
	if (!ready) {
		keeld_logf(&k->err, "%s: no answer in %d s", target,
			   k->reply_timeout_ms / 1000);
		return -1;
	}
	errno = 0;
	if (ready > 0)
		n = k->ops->read(k->ctx, fd, buf, len);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n <= 0)
		keeld_logf(&k->err, "%s: %s before its answer", target,
			   n ? strerror(net_errno()) : "connection closed");
	return n <= 0 ? -1 : n;
}

/* One line from the receiver, within k->reply_timeout_ms: 0 for "OK". */
static int migrate_reply(struct keelctl *k, int fd, const char *target)
{
	uint64_t deadline = k->ops->now_ns(k->ctx) +
			    (uint64_t)k->reply_timeout_ms * 1000000;
	char line[REPLY_MAX];
	size_t len = 0;
	ssize_t n;

	while (!memchr(line, '\n', len) && len < sizeof(line) - 1) {
		n = migrate_read(k, fd, target, deadline, line + len,
				 sizeof(line) - 1 - len);
		if (n < 0)
			return -1;
		len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strcmp(line, "OK"))
		return 0;
	keeld_logf(&k->err, "%s: %s", target,
		   strncmp(line, "ERR ", 4) ? "no OK" : line + 4);
	return -1;
}

/*
 * After a failed send: the receiver's reason, if it refused the stream
 * before its end and closed (what it wrote came before the reset).
 */
static void migrate_why(struct keelctl *k, int fd, const char *target)
{
	char line[REPLY_MAX];
	ssize_t n = 0;

	if (k->ops->wait(k->ctx, fd, WHY_WAIT_MS) > 0)
		n = k->ops->read(k->ctx, fd, line, sizeof(line) - 1);
	if (n <= 4)
		return;
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!strncmp(line, "ERR ", 4))
		keeld_logf(&k->err, "%s refused the stream: %s", target,
			   line + 4);
}

/* the connection carried all of it: the receiver sees its end */
static int migrate_shutdown(struct keelctl *k, int fd, const char *target)
{
	errno = 0;
	if (!k->ops->shutdown(k->ctx, fd))
		return 0;
	keeld_logf(&k->err, "%s: %s", target, strerror(net_errno()));
	return handoff_go_on(k);
}

/* the guest into the connection; it stays paused and stopped */
static int migrate_send(struct keelctl *k, int fd, const char *target,
			bool precopy, struct handoff_report *r)
{
	struct capture c;

	if (capture_begin(&c, k, fd, target, "sending"))
		return -1;
	return precopy ? precopy_send(k, &c, r) : handoff_send(k, &c, r);
}

static int migrate(struct keelctl *k, int fd, const char *target, bool precopy,
		   struct handoff_report *r)
{
	char summary[SUMMARY_MAX];
	uint64_t ok_ns;

	if (migrate_send(k, fd, target, precopy, r)) {
		migrate_why(k, fd, target);
		return -1;
	}
	if (migrate_shutdown(k, fd, target))
		return -1;
	if (migrate_reply(k, fd, target))
		return handoff_go_on(k);
	ok_ns = k->ops->now_ns(k->ctx);
	if (guest_ioctl(k, KEEL_IOC_DROP, NULL) < 0) {
		keeld_logf(&k->err,
			   "the guest runs on %s; this keel still "
			   "holds it paused: `keelctl drop`",
			   target);
		return -1;
	}
	handoff_summary(k, r, summary, sizeof(summary));
	keeld_logf(&k->out,
		   "migrated %s to %s, downtime %.2f s, total %.2f s, %u "
		   "pre-copy rounds, %llu bytes sent",
		   summary, target, progress_seconds(ok_ns - r->paused_ns),
		   progress_seconds(ok_ns - r->start_ns), r->rounds,
		   (unsigned long long)r->bytes);
	return 0;
}

static int migrate_connect(struct keelctl *k, const char *host,
			   const char *port, const char *target)
{
	int fd, err;

	errno = 0;
	fd = k->ops->connect(k->ctx, host, port);
	if (fd >= 0)
		return fd;
	err = net_errno();
	keeld_logf(&k->err, "connect %s: %s%s", target, strerror(err),
		   err == EINVAL ? " (HOST: an IPv4 address)" : "");
	return -1;
}

int cmd_migrate(struct keelctl *k, const char *target, bool precopy)
{
	struct handoff_report r = { .start_ns = k->ops->now_ns(k->ctx) };
	char host[HOST_MAX];
	const char *port;
	int fd = -1;
	int rc = migrate_target(k, target, host, &port);

	if (!rc)
		rc = guest_open(k, true);
	if (!rc)
		fd = migrate_connect(k, host, port, target);
	if (fd >= 0) {
		rc = migrate(k, fd, target, precopy, &r);
		k->ops->close(k->ctx, fd);
	}
	guest_close(k);
	return rc || fd < 0;
}

/* k->err's lines pass through: the first after a failure is its cause */
struct receive_err {
	struct keeld_log next;
	char first[REPLY_MAX];
};

static void receive_err_line(void *arg, const char *line)
{
	struct receive_err *e = arg;

	if (!e->first[0])
		snprintf(e->first, sizeof(e->first), "%s", line);
	if (e->next.line)
		e->next.line(e->next.arg, line);
}

/* the stream into the dropped guest, then started */
static int receive(struct keelctl *k, int fd, struct load *l, bool *loaded)
{
	int n;

	if (handoff_clear(k))
		return -1;
	if (load_init(l, k, true, "receiving") ||
	    load_fd(l, fd, "the connection")) {
		keeld_logf(&k->err, "receive: %s", l->msg);
		return -1;
	}
	n = guest_state_set(k, l->part.buf, l->part.len);
	if (n < 0)
		return -1;
	*loaded = true;
	return guest_start(k, (uint32_t)n);
}

static void receive_answer(struct keelctl *k, int fd, const char *why)
{
	char line[REPLY_MAX + 8];

	snprintf(line, sizeof(line), "%s%s\n", why ? "ERR " : "OK",
		 why ? why : "");
	errno = 0;
	if (k->ops->write(k->ctx, fd, line, strlen(line)))
		keeld_logf(&k->err, "answering the sender: %s",
			   strerror(net_errno()));
}

int cmd_receive(struct keelctl *k, const char *port)
{
	struct handoff_report r = { 0 };
	struct receive_err e = { .next = k->err };
	char summary[SUMMARY_MAX];
	struct load l = { 0 };
	bool loaded = false;
	int fd = -1, rc;

	k->err = (struct keeld_log){ receive_err_line, &e };
	rc = guest_open(k, true);
	if (!rc) {
		keeld_logf(&k->out, "waiting for the guest on port %s", port);
		errno = 0;
		fd = k->ops->accept(k->ctx, port);
		if (fd < 0)
			keeld_logf(&k->err, "accept on port %s: %s", port,
				   strerror(net_errno()));
	}
	if (fd < 0)
		goto out;
	r.start_ns = k->ops->now_ns(k->ctx);
	rc = receive(k, fd, &l, &loaded);
	/* the sender's guest goes on: this one must never run */
	if (rc && loaded && guest_ioctl(k, KEEL_IOC_DROP, NULL) < 0)
		keeld_logf(&k->err,
			   "the guest stays loaded here, paused, and "
			   "runs on at the sender: `keelctl drop` it here, "
			   "never resume it");
	receive_answer(k, fd, rc ? e.first : NULL);
	k->ops->close(k->ctx, fd);
	if (!rc) {
		r.bytes = l.bytes;
		r.ram_bytes = k->ram_size;
		r.state_bytes = l.part.len;
		handoff_summary(k, &r, summary, sizeof(summary));
		keeld_logf(&k->out, "received %s; the guest runs", summary);
	}
out:
	load_free(&l);
	guest_close(k);
	k->err = e.next;
	return rc || fd < 0;
}
