// SPDX-License-Identifier: GPL-2.0
/*
 * keelctl save and restore: the guest into a file and back. restore reads
 * the file twice: once to check all of it, changing nothing, then, with
 * keel's guest dropped, to write it into guest RAM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhost/keelctl/commands.h"
#include "vhost/keelctl/guest.h"
#include "vhost/keelctl/handoff.h"
#include "vhost/keelctl/load.h"

#define SUMMARY_MAX 128

static int save_create(struct keelctl *k, const char *path)
{
	int fd;

	errno = 0;
	fd = k->ops->create(k->ctx, path);
	if (fd < 0)
		keeld_logf(&k->err, "create %s: %s", path,
			   strerror(errno ? errno : EIO));
	return fd;
}

/* the stream on its disk, or the guest goes on */
static int save_sync(struct keelctl *k, int fd, const char *path)
{
	errno = 0;
	if (!k->ops->sync(k->ctx, fd))
		return 0;
	keeld_logf(&k->err, "sync %s: %s", path, strerror(errno ? errno : EIO));
	return handoff_go_on(k);
}

int cmd_save(struct keelctl *k, const char *path)
{
	struct handoff_report r = { .start_ns = k->ops->now_ns(k->ctx) };
	char summary[SUMMARY_MAX];
	struct capture c;
	int fd = -1;
	int rc = guest_open(k, true);

	if (!rc) {
		fd = save_create(k, path);
		rc = fd < 0 || capture_begin(&c, k, fd, path, "saving") ||
		     handoff_send(k, &c, &r);
	}
	if (!rc)
		rc = save_sync(k, fd, path);
	if (fd >= 0)
		k->ops->close(k->ctx, fd);
	if (!rc) {
		handoff_summary(k, &r, summary, sizeof(summary));
		keeld_logf(&k->out, "saved %s", summary);
		keeld_logf(&k->out,
			   "the guest stays paused with its device stopped: "
			   "`keelctl resume` lets it go on, `keelctl drop` "
			   "discards it");
	} else if (fd >= 0) {
		keeld_logf(&k->err, "%s holds no whole guest", path);
	}
	guest_close(k);
	return rc != 0;
}

/* all of @path through @l, which writes guest RAM if @apply */
static int restore_pass(struct keelctl *k, const char *path, struct load *l,
			bool apply, const char *what)
{
	int fd, rc;

	if (load_init(l, k, apply, what))
		return -1;
	errno = 0;
	fd = k->ops->open(k->ctx, path);
	if (fd < 0) {
		snprintf(l->msg, sizeof(l->msg), "open: %s",
			 strerror(errno ? errno : EIO));
		return -1;
	}
	rc = load_fd(l, fd, path, false);
	k->ops->close(k->ctx, fd);
	return rc;
}

int cmd_restore(struct keelctl *k, const char *path)
{
	struct handoff_report r = { 0 };
	char summary[SUMMARY_MAX];
	struct load l = { 0 };
	int n, rc = guest_open(k, true);

	if (rc)
		goto out;
	rc = -1;
	r.start_ns = k->ops->now_ns(k->ctx);
	if (restore_pass(k, path, &l, false, "checking")) {
		keeld_logf(&k->err, "restore %s: %s; nothing changed", path,
			   l.msg);
		goto out;
	}
	/* keel's checks too before the guest is dropped: it must match */
	if (guest_state_check(k, l.part.buf, l.part.len) < 0) {
		keeld_logf(&k->err, "restore %s: keel refuses its state (see "
			   "keel's console); nothing changed", path);
		goto out;
	}
	load_free(&l);
	if (handoff_clear(k))
		goto out;
	if (restore_pass(k, path, &l, true, "restoring")) {
		keeld_logf(&k->err, "restore %s: %s; the guest stays dropped",
			   path, l.msg);
		goto out;
	}
	n = guest_state_set(k, l.part.buf, l.part.len);
	if (n < 0) {
		keeld_logf(&k->err, "the guest stays dropped");
		goto out;
	}
	if (guest_start(k, (uint32_t)n)) {
		handoff_paused(k);
		goto out;
	}
	r.bytes = l.bytes;
	r.ram_bytes = k->ram_size;
	r.state_bytes = l.part.len;
	handoff_summary(k, &r, summary, sizeof(summary));
	keeld_logf(&k->out, "restored %s; the guest runs", summary);
	rc = 0;
out:
	load_free(&l);
	guest_close(k);
	return rc != 0;
}
