/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vendor-neutral virtual CPU: what generic code (device models, the
 * CPUID and MSR policies, partitions) may ask of a vCPU. vmx.c implements it
 * for Intel VT-x; an SVM backend would implement the same functions.
 */
#ifndef KEEL_ARCH_VCPU_H
#define KEEL_ARCH_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch-x86_64/asm.h"
#include "arch-x86_64/decoder.h"

struct partition;
struct percpu;

/* Exit reasons the backend counts per partition (VMX: its basic exit
 * reasons) and their names. */
#define VCPU_EXIT_REASONS 70
const char *vcpu_exit_name(unsigned int reason);

/* How a partition's CPU starts (PVH: 32-bit flat protected mode; Linux's
 * 64-bit boot protocol: long mode with the loader's page tables). */
struct vcpu_boot_state {
	bool long_mode;
	uint64_t rip, rbx, rsi, cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

struct vcpu {
	uint64_t regs[GPR_COUNT]; /* first: vmx_entry.S saves them here */
	struct partition *part;
	struct percpu *cpu;
	uint64_t vmcs;     /* physical address of the VMCS */
	bool launched; /* at VCPU_LAUNCHED, read by vmx_entry.S */
	uint64_t exit_tsc; /* when the current exit began */
};

/* Pages the backend needs per vCPU (VMX: the VMXON region and the VMCS),
 * allocated by the boot CPU: keel's page pool is not shared between CPUs. */
#define VCPU_BACKEND_PAGES 2

/* Sets the vCPU up on the calling CPU in @p->vcpu_pages: VMXON, VMCS,
 * controls, boot state. Returns 0, or -1 with the reason printed. */
int vcpu_setup(struct vcpu *v, struct partition *p,
	       const struct vcpu_boot_state *bs);

/* Enters the partition and handles its exits; returns only when the
 * partition stops (it has then been reported). */
void vcpu_run(struct vcpu *v);

uint64_t vcpu_rip(const struct vcpu *v);
/* CS.base + RIP: the linear address of the current instruction. */
uint64_t vcpu_code_linear(const struct vcpu *v);
void vcpu_skip_instruction(struct vcpu *v, unsigned int len);
/* Length of the instruction that caused the current exit. */
unsigned int vcpu_exit_instruction_len(const struct vcpu *v);
enum cpu_mode vcpu_mode(const struct vcpu *v);
uint64_t vcpu_cr0(const struct vcpu *v);
uint64_t vcpu_cr3(const struct vcpu *v);
uint64_t vcpu_cr4(const struct vcpu *v);
uint64_t vcpu_efer(const struct vcpu *v);
void vcpu_inject_gp(struct vcpu *v);
void vcpu_inject_ud(struct vcpu *v);

/* Stops the partition on this CPU with @why and a register dump. */
void vcpu_fail(struct vcpu *v, const char *why);

#endif
