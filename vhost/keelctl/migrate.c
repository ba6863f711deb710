// SPDX-License-Identifier: GPL-2.0
/*
 * keelctl migrate and receive: the guest handed to another keel over TCP,
 * stop-and-copy or after pre-copy rounds (precopy.h). The sender pauses
 * and stops the guest and streams it; the receiver drops the guest its
 * keel holds (keel refuses while it runs), writes the stream's RAM into it
 * as it arrives, checks all of it at END, loads keel's part and waits for
 * keeld to serve the disk. Then the guest is ready there, paused, and one
 * of the two must start it, never both:
 *
 *   receiver: READY     sender: GO     receiver: OK (it runs here)
 *
 * The sender lets its own guest go on after anything short of READY, or
 * after an ERR (the receiver dropped its copy). Once GO has left, only OK
 * lets it drop its guest, and a connection lost before OK leaves it paused
 * here (it may run there: the operator looks). The receiver starts the
 * guest on GO only, and drops its copy on anything else.
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
#define LINE_MAX_LEN 512
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
 * One line from @peer into @line (without its newline), within
 * k->reply_timeout_ms: 0, or -1 after logging why there is none. Read a
 * byte at a time: the next line stays in the connection.
 */
static int net_line(struct keelctl *k, int fd, const char *peer, char *line,
		    size_t len)
{
	uint64_t deadline = k->ops->now_ns(k->ctx) +
			    (uint64_t)k->reply_timeout_ms * 1000000;
	size_t n = 0;

	while (n < len - 1) {
		uint64_t now = k->ops->now_ns(k->ctx);
		ssize_t got = -1;
		int ready = 0;

		if (now < deadline)
			ready = k->ops->wait(k->ctx, fd,
					     (int)((deadline - now + 999999) /
						   1000000));
		if (!ready) {
			keeld_logf(&k->err, "%s: no answer in %d s", peer,
				   k->reply_timeout_ms / 1000);
			return -1;
		}
		errno = 0;
		if (ready > 0)
			got = k->ops->read(k->ctx, fd, line + n, 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			keeld_logf(&k->err, "%s: %s before its answer", peer,
				   got ? strerror(net_errno()) :
					 "connection closed");
			return -1;
		}
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	return 0;
}

/* @what on the connection: 0, or -1 after logging why not */
static int net_say(struct keelctl *k, int fd, const char *peer,
		   const char *what)
{
	errno = 0;
	if (!k->ops->write(k->ctx, fd, what, strlen(what)))
		return 0;
	keeld_logf(&k->err, "write %s: %s", peer, strerror(net_errno()));
	return -1;
}

/*
 * The receiver's answer, expected to be @want: 0, or -1 after logging
 * why not; *@err says whether it was an ERR (the receiver holds no guest).
 */
static int migrate_answer(struct keelctl *k, int fd, const char *target,
			  const char *want, bool *err)
{
	char line[LINE_MAX_LEN];

	*err = false;
	if (net_line(k, fd, target, line, sizeof(line)))
		return -1;
	if (!strcmp(line, want))
		return 0;
	*err = !strncmp(line, "ERR ", 4);
	if (*err)
		keeld_logf(&k->err, "%s: %s", target, line + 4);
	else
		keeld_logf(&k->err, "%s: \"%.40s\", not %s", target, line,
			   want);
	return -1;
}

/*
 * After a failed send: the receiver's reason, if it refused the stream
 * before its end and closed (what it wrote came before the reset).
 */
static void migrate_why(struct keelctl *k, int fd, const char *target)
{
	char line[LINE_MAX_LEN];
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

/* the guest into the connection; it stays paused and stopped */
static int migrate_send(struct keelctl *k, int fd, const char *target,
			bool precopy, struct handoff_report *r)
{
	struct capture c;

	if (capture_begin(&c, k, fd, target, "sending"))
		return -1;
	return precopy ? precopy_send(k, &c, r) : handoff_send(k, &c, r);
}

/* GO has left, OK has not come: the guest may run there now */
static int migrate_unknown(struct keelctl *k, const char *target)
{
	keeld_logf(&k->err,
		   "the guest was told to start on %s: it may run there "
		   "now. This keel holds it paused: `keelctl drop` here if "
		   "it runs there, `keelctl resume` only if it does not",
		   target);
	return -1;
}

static int migrate(struct keelctl *k, int fd, const char *target, bool precopy,
		   struct handoff_report *r)
{
	char summary[SUMMARY_MAX];
	uint64_t ok_ns;
	bool err;

	if (migrate_send(k, fd, target, precopy, r)) {
		migrate_why(k, fd, target);
		return -1;
	}
	if (migrate_answer(k, fd, target, "READY", &err) ||
	    net_say(k, fd, target, "GO\n"))
		return handoff_go_on(k);
	if (migrate_answer(k, fd, target, "OK", &err))
		return err ? handoff_go_on(k) : migrate_unknown(k, target);
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
	char first[LINE_MAX_LEN];
};

static void receive_err_line(void *arg, const char *line)
{
	struct receive_err *e = arg;

	if (!e->first[0])
		snprintf(e->first, sizeof(e->first), "%s", line);
	if (e->next.line)
		e->next.line(e->next.arg, line);
}

/* READY out, the sender's GO in: 0, or -1 after logging why not */
static int receive_go(struct keelctl *k, int fd)
{
	char line[LINE_MAX_LEN];

	if (net_say(k, fd, "the sender", "READY\n") ||
	    net_line(k, fd, "the sender", line, sizeof(line)))
		return -1;
	if (!strcmp(line, "GO"))
		return 0;
	keeld_logf(&k->err, "the sender: \"%.40s\", not GO", line);
	return -1;
}

/* the stream into the dropped guest, its disk served; started on GO */
static int receive(struct keelctl *k, int fd, struct load *l, bool *loaded)
{
	int n;

	if (handoff_clear(k))
		return -1;
	if (load_init(l, k, true, "receiving") ||
	    load_fd(l, fd, "the connection", true)) {
		keeld_logf(&k->err, "receive: %s", l->msg);
		return -1;
	}
	n = guest_state_set(k, l->part.buf, l->part.len);
	if (n < 0)
		return -1;
	*loaded = true;
	if ((n && guest_wait_acked(k, (uint32_t)n)) || receive_go(k, fd))
		return -1;
	return guest_ioctl(k, KEEL_IOC_RESUME, NULL) < 0 ? -1 : 0;
}

/* a guest loaded here but not started: its disk stopped, then dropped */
static void receive_undo(struct keelctl *k)
{
	if (!guest_unserve(k) && guest_ioctl(k, KEEL_IOC_DROP, NULL) >= 0)
		return;
	keeld_logf(&k->err, "the guest stays loaded here, paused, and runs "
			    "on at the sender: `keelctl drop` it here, never "
			    "resume it");
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
	if (rc && loaded)
		receive_undo(k);
	if (rc) {
		char line[LINE_MAX_LEN + 8];

		snprintf(line, sizeof(line), "ERR %s\n", e.first);
		net_say(k, fd, "the sender", line);
	} else {
		net_say(k, fd, "the sender", "OK\n");
	}
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
