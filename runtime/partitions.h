/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Building the two partitions from the configuration and the machine, and
 * running them: the guest on its CPU, the companion on the boot CPU.
 */
#ifndef KEEL_RUNTIME_PARTITIONS_H
#define KEEL_RUNTIME_PARTITIONS_H

#include <stdint.h>

#include "arch-x86_64/vmx_caps.h"
#include "runtime/acpi.h"
#include "runtime/bootinfo.h"
#include "runtime/config.h"
#include "runtime/memmap.h"
#include "runtime/page_alloc.h"

/* Everything keel learnt about the machine at boot. */
struct machine {
	const struct boot_info *bi;
	struct memmap *mm;
	struct page_pool *pool;
	const struct keel_config *cfg;
	const struct vmx_caps *caps;
	uint64_t fw_rsdp;
	uint64_t image_start, image_end;
	uint32_t tsc_khz, apic_khz;
	uint64_t entry_tsc; /* TSC at keel's first instruction in C */
	bool stamps;        /* "stamps" on keel's command line */
	phys_map_fn map;
};

/* The companion's memory at companion-physical @gpa, @len bytes (a buffer
 * it hands keel), or NULL when any of it is keel's, the guest's or beyond
 * what keel maps. */
void *partitions_companion_buffer(uint64_t gpa, uint64_t len);

/* Builds both partitions and runs them; returns when the companion has
 * stopped and the guest has stopped or did not within the grace time. */
void partitions_run(const struct machine *m);

#endif
