/* SPDX-License-Identifier: GPL-2.0 */
/* Descriptor tables and CPU exceptions in VMX root. */
#ifndef KEEL_ARCH_TRAPS_H
#define KEEL_ARCH_TRAPS_H

#include <stdint.h>

#include "arch-x86_64/percpu.h"

/* Saved by trap_entry.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Loads this CPU's GDT with its TSS and IST stacks, and the shared IDT.
 * @ist_stacks holds IST_COUNT stacks of IST_STACK_SIZE bytes. */
void traps_init_cpu(struct percpu *pc, uint64_t ist_stacks);

/* Builds the IDT once, on the boot CPU, before traps_init_cpu(). */
void traps_init_idt(void);

#endif
