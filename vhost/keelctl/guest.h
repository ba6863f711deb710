/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's guest through /dev/keel (vhost/keel_dev.h): its snapshot, its RAM
 * (the device-dax device of its window) and the handoff's ioctls, with
 * keeld's answers to the device requests they post waited for.
 *
 * Every function returns 0 (or the ioctl's value) or -errno after logging
 * one line on k->err.
 */
#ifndef KEELCTL_GUEST_H
#define KEELCTL_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/keelctl/keelctl.h"

/* Opens /dev/keel and reads its snapshot; with @ram maps guest RAM too.
 * guest_close() must follow either way. */
int guest_open(struct keelctl *k, bool ram);
void guest_close(struct keelctl *k);

/* One of /dev/keel's handoff ioctls: its value, or -errno. */
int guest_ioctl(struct keelctl *k, unsigned long req, void *arg);

/*
 * A paused guest's disk stopped, if keeld still serves it (a receive that
 * ended after the load): 0 then, and when there is no paused guest or its
 * disk is not served (nothing said); < 0 if keeld did not answer.
 */
int guest_unserve(struct keelctl *k);

/*
 * Waits until keeld has answered request @n (device.acked), polling
 * /dev/keel, for at most k->ack_timeout_ms: -ETIMEDOUT after that, -EIO if
 * keeld failed it, -ESTALE if keel has posted a newer request.
 */
int guest_wait_acked(struct keelctl *k, uint32_t n);

/* The paused guest's device stopped for a handoff: HANDOFF_STOP, then
 * keeld's answer (the queues' bases are keel's then); nothing to wait for
 * when keel posts no request (the device was not started). */
int guest_handoff_stop(struct keelctl *k);

/* The guest let go after a load or handoff start: keeld's answer to start
 * request @n (0: none), then RESUME. */
int guest_start(struct keelctl *k, uint32_t n);

/*
 * The paused guest goes on where it was: HANDOFF_START (keel posts a start
 * request if the device is stopped for a handoff, else answers 0), keeld's
 * answer, RESUME.
 */
int guest_go_on(struct keelctl *k);

/* keel's part of the stream into @buf (KEEL_STATE_MAX bytes); @len: its
 * length. */
int guest_state_get(struct keelctl *k, void *buf, uint32_t *len);

/* The bytes of a dirty bitmap of the guest's RAM: a bit a page, in whole
 * 64-bit words. */
size_t guest_bitmap_len(const struct keelctl *k);

/*
 * The pages written since the last call (the first: all) into @bitmap
 * (guest_bitmap_len() bytes, 8-byte aligned): their count as keel says, or
 * -errno. With @first, -EOPNOTSUPP (keel tracks no dirty pages: its CPU's
 * EPT keeps no dirty flags) is not logged: the caller goes without.
 */
int guest_dirty_log(struct keelctl *k, uint64_t *bitmap, bool first);

/* Loads keel's part @buf; returns the start request's number (0: none). */
int guest_state_set(struct keelctl *k, const void *buf, size_t len);
/* keel's checks of STATE_SET alone: 0, or < 0 (keel logs why) */
int guest_state_check(struct keelctl *k, const void *buf, size_t len);

#endif
