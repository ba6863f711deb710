/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A handoff stream's section rules like keel's will be, for the fuzzer and
 * its corpus generator: nine types, the memory chunk the only repeatable
 * one, and the check keel's on_section will make of a chunk.
 */
#ifndef KEEL_TESTS_FUZZ_HANDOFF_RULES_H
#define KEEL_TESTS_FUZZ_HANDOFF_RULES_H

#include <stdio.h>
#include <string.h>

#include "runtime/handoff_stream.h"

enum {
	HT_KEEL = 1, /* the sender: keel's version and features */
	HT_CONFIG, /* the guest's configuration */
	HT_CPU, /* the vCPU's registers */
	HT_LAPIC,
	HT_IOAPIC,
	HT_UART,
	HT_PCI,
	HT_DISK,
	HT_MEMORY, /* u64 guest-physical address, u64 size, the bytes */
};

#define HT_CHUNK_MAX (2u << 20)
#define HT_CHUNK_HDR 16u

static const struct hs_section_rule handoff_rules[] = {
	{ .type = HT_KEEL, .min_len = 16, .max_len = 64, .required = true },
	{ .type = HT_CONFIG, .min_len = 1, .max_len = 4096, .required = true },
	{ .type = HT_CPU, .min_len = 64, .max_len = 1024, .required = true },
	{ .type = HT_LAPIC, .min_len = 32, .max_len = 32, .required = true },
	{ .type = HT_IOAPIC, .min_len = 8, .max_len = 256, .required = true },
	{ .type = HT_UART, .min_len = 8, .max_len = 16 },
	{ .type = HT_PCI, .min_len = 0, .max_len = 256 },
	{ .type = HT_DISK, .min_len = 0, .max_len = 512 },
	{ .type = HT_MEMORY,
	  .min_len = HT_CHUNK_HDR,
	  .max_len = HT_CHUNK_MAX + HT_CHUNK_HDR,
	  .repeatable = true,
	  .required = true },
};

#define HT_NRULES (sizeof(handoff_rules) / sizeof(handoff_rules[0]))

/* on_section's check: a memory chunk is page-aligned and says its size */
static inline int handoff_check_section(void *ctx, const struct hs_section *sec,
					char *why, size_t whylen)
{
	uint64_t gpa, size;

	(void)ctx;
	if (sec->type != HT_MEMORY)
		return 0;
	memcpy(&gpa, sec->payload, 8);
	memcpy(&size, sec->payload + 8, 8);
	if (gpa & 0xfff) {
		snprintf(why, whylen, "chunk at 0x%llx is not page-aligned",
			 (unsigned long long)gpa);
		return -1;
	}
	if (size != sec->len - HT_CHUNK_HDR) {
		snprintf(why, whylen, "chunk says %llu bytes, holds %llu",
			 (unsigned long long)size,
			 (unsigned long long)(sec->len - HT_CHUNK_HDR));
		return -1;
	}
	return 0;
}

#endif
