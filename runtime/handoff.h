/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's handoff, keel's side: pausing its vCPU from the companion,
 * writing its machine state as a handoff stream (vhost/keel_state.h) and
 * loading one back, dropping it. The companion calls these through its
 * hypercalls (KEEL_HC_PAUSE ... KEEL_HC_HANDOFF_START); the vCPU state is
 * read and written by the guest's own CPU, parked in keel, on the
 * companion's request. Buffers are keel's own, static: nothing allocated.
 */
#ifndef KEEL_RUNTIME_HANDOFF_H
#define KEEL_RUNTIME_HANDOFF_H

#include <stdbool.h>
#include <stdint.h>

struct partition;
struct vcpu;
struct disk;
struct virtio_scsi_cfg;

/* The guest, its disk and what a stream's compatibility section must
 * match; once at boot. */
void handoff_init(struct partition *guest, struct partition *companion,
		  struct disk *disk, const struct virtio_scsi_cfg *disk_cfg,
		  uint32_t tsc_khz);

/* The guest starts held: paused and dropped until a state is loaded. */
void handoff_hold(void);
/* The guest holds nothing: dropped (after a handoff, or held waiting). */
bool handoff_dropped(void);

/* The guest's run loop, before each entry: parks the vCPU while a pause is
 * asked for, doing the companion's requests on this CPU meanwhile. */
bool handoff_pause_pending(const struct partition *p);
void handoff_park(struct vcpu *v);

/* A companion hypercall of the handoff; @buf is companion-physical. */
long handoff_hypercall(unsigned long nr, uint64_t buf, uint64_t len);

#endif
