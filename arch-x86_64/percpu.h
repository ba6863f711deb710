/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-CPU state. Each CPU's FS base points at its struct percpu: gcc (and
 * Debian's libfdt.a) read the stack-protector canary at %fs:0x28.
 */
#ifndef KEEL_ARCH_PERCPU_H
#define KEEL_ARCH_PERCPU_H

#include <stddef.h>
#include <stdint.h>

#include "arch-x86_64/asm.h"

#define KEEL_MAX_CPUS 64
#define CPU_STACK_SIZE BOOT_STACK_SIZE
#define IST_STACK_SIZE 4096

enum ist_slot { IST_NMI = 1, IST_DF = 2, IST_MC = 3, IST_COUNT = 3 };

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct percpu {
	struct percpu *self;
	uint64_t unused[4];
	uint64_t stack_canary; /* at PERCPU_CANARY */
	unsigned int index;    /* keel CPU number: 0 = boot CPU */
	uint32_t apic_id;
	volatile int online;
	uint64_t stack_top;
	uint64_t ist_base; /* IST_COUNT stacks of IST_STACK_SIZE */
	void (*volatile work)(void *arg); /* set by smp_run_on() */
	void *work_arg;
	uint64_t nmis; /* NMIs taken in VMX root */
	uint64_t gdt[5]; /* null, code, data, TSS (two slots) */
	struct tss64 tss;
};

_Static_assert(offsetof(struct percpu, stack_canary) == PERCPU_CANARY,
	       "the canary must sit where -fstack-protector reads it");

extern struct percpu percpu[KEEL_MAX_CPUS];

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	asm volatile("mov %%fs:0, %0" : "=r"(p));
	return p;
}

#endif
