/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The sections of keelctl's handoff stream (vhost/keel_state.h) as rules
 * for runtime/handoff_stream.h's decoder: keel's part first (what
 * STATE_GET writes and STATE_SET reads: COMPAT required, VCPU, LAPIC,
 * XSAVE, VIRTIO and UART at most once each), then MEMORY and ROUND, which
 * keelctl adds.
 */
#ifndef KEELCTL_SECTIONS_H
#define KEELCTL_SECTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/handoff_stream.h"
#include "vhost/keel_state.h"

#define SECTION_PART_RULES 6	/* keel's part: the first rules */
#define SECTION_RULES 8
#define SECTION_PAGE 4096u	/* MEMORY's pages */
/* a whole MEMORY chunk: its header, then the pages */
#define SECTION_MEMORY_MAX                      \
	(sizeof(struct keel_state_memory) + \
	 KEEL_STATE_MEMORY_MAX_PAGES * (size_t)SECTION_PAGE)

extern const struct hs_section_rule section_rules[SECTION_RULES];

#endif
