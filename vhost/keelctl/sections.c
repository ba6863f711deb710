// SPDX-License-Identifier: GPL-2.0
/* The handoff stream's sections, as keelctl accepts them. */
#include "vhost/keelctl/sections.h"

const struct hs_section_rule section_rules[SECTION_RULES] = {
	{ KEEL_STATE_COMPAT, sizeof(struct keel_state_compat),
	  sizeof(struct keel_state_compat), false, true },
	{ KEEL_STATE_VCPU, 0, KEEL_STATE_MAX, false, false },
	{ KEEL_STATE_LAPIC, 0, KEEL_STATE_MAX, false, false },
	{ KEEL_STATE_XSAVE, 0, KEEL_STATE_MAX, false, false },
	{ KEEL_STATE_VIRTIO, 0, KEEL_STATE_MAX, false, false },
	{ KEEL_STATE_UART, 0, KEEL_STATE_MAX, false, false },
	{ KEEL_STATE_MEMORY, sizeof(struct keel_state_memory) + SECTION_PAGE,
	  SECTION_MEMORY_MAX, true, false },
	{ KEEL_STATE_ROUND, sizeof(struct keel_state_round),
	  sizeof(struct keel_state_round), true, false },
};
