/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a partition's CPU sees of the real one: the CPUID view and the MSR
 * policy (which MSRs pass straight through the bitmap, which keel emulates,
 * which raise #GP). The companion sees nearly the real CPU; the guest a
 * filtered one that tells Linux what keel provides.
 */
#ifndef KEEL_ARCH_GUEST_CPU_H
#define KEEL_ARCH_GUEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch-x86_64/cpu.h"

struct vcpu;
struct partition;

/* Frequencies keel measured, for the guest's CPUID leaves 0x15/0x16. */
struct guest_clock {
	uint32_t tsc_khz;
	uint32_t apic_khz; /* local APIC timer input clock */
};

void guest_cpu_set_clock(const struct guest_clock *c);

/* CPUID as the partition sees it. */
struct cpuid_regs guest_cpuid(const struct partition *p, uint32_t leaf,
			      uint32_t subleaf, uint64_t guest_cr4);

/* Fills the partition's MSR bitmap (4 KiB at @bitmap). */
void guest_msr_bitmap(const struct partition *p, uint8_t *bitmap);

/* An intercepted RDMSR/WRMSR: returns 0 handled, -1 for #GP. */
/* TSC_DEADLINE exits (and is translated by the vCPU's TSC offset) or
 * passes: it must exit whenever the offset is not 0. */
void guest_trap_tsc_deadline(struct partition *p, bool on);
/* A TSC deadline in the guest's TSC as the CPU's TSC sees it: 0 stays 0
 * (disarmed), and a deadline already past fires at once. */
uint64_t guest_tsc_deadline_cpu(const struct vcpu *v, uint64_t guest);
int guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val);
int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val);

/* A guest write to its xAPIC page (CPUs without x2APIC: the page is mapped
 * read-only and every write traps here). Returns 0, or -1 for a bad
 * offset. */
int guest_xapic_write(struct vcpu *v, uint32_t offset, uint32_t val);

#endif
