/* SPDX-License-Identifier: GPL-2.0 */
/* Bringing up the application processors and parking them. */
#ifndef KEEL_ARCH_SMP_H
#define KEEL_ARCH_SMP_H

#include <stdint.h>

#include "arch-x86_64/percpu.h"
#include "runtime/acpi.h"
#include "runtime/memmap.h"
#include "runtime/page_alloc.h"

/* Numbers the CPUs (0 = this boot CPU, then the MADT's order) and prepares
 * CPU 0's per-CPU area. Returns the number of CPUs, or 0 if the boot CPU is
 * not in the MADT. */
unsigned int smp_number_cpus(const struct madt_info *madt);

/* Starts every other CPU with INIT-SIPI-SIPI through a trampoline page in
 * the first MiB, waits for each to report online, and returns how many came
 * up (the boot CPU included). */
unsigned int smp_start_aps(struct memmap *mm, struct page_pool *pool,
			   const struct boot_info *bi);

/* Per-CPU setup every CPU runs first: descriptor tables and IST stacks,
 * and XSAVE enabled so that keel can execute the partitions' XSETBV. */
void cpu_init(struct percpu *pc, uint64_t ist_stacks);

/* Has parked CPU @index run @fn(@arg); returns at once. */
void smp_run_on(unsigned int index, void (*fn)(void *arg), void *arg);

#endif
