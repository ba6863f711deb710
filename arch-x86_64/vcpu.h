/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vendor-neutral virtual CPU: what generic code (device models, the
 * CPUID and MSR policies, partitions) may ask of a vCPU. vmx.c implements it
 * for Intel VT-x; an SVM backend would implement the same functions.
 */
#ifndef KEEL_ARCH_VCPU_H
#define KEEL_ARCH_VCPU_H

#include <stdbool.h>
#include <stddef.h>
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
	uint64_t tsc_offset; /* the partition's TSC less the CPU's (mod 2^64) */
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

/* A segment register as the handoff stream holds it. */
struct vcpu_segment {
	uint16_t selector;
	uint16_t reserved;
	uint32_t ar; /* access rights in VMX's layout, bit 16: unusable */
	uint32_t limit;
	uint32_t reserved2;
	uint64_t base;
};

/*
 * Everything of a vCPU that lives in the CPU or its VMCS, captured at an
 * instruction boundary with no exit half handled: the KEEL_STATE_VCPU
 * section. CR0 and CR4 are what the partition wrote (what it reads back).
 * @entry_intr_info: an event keel was about to inject (VMX's VM-entry
 * interruption information; its error code and instruction length next).
 */
enum vcpu_seg { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR,
		SEG_TR, SEG_COUNT };
struct vcpu_state {
	uint64_t gpr[GPR_COUNT]; /* RSP included */
	uint64_t rip, rflags;
	uint64_t cr0, cr2, cr3, cr4, xcr0;
	uint64_t dr[4], dr6, dr7;
	uint64_t efer, pat, debugctl;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux;
	uint64_t tsc; /* the partition's TSC at the capture */
	struct vcpu_segment seg[SEG_COUNT];
	uint64_t gdtr_base, idtr_base;
	uint32_t gdtr_limit, idtr_limit;
	uint32_t interruptibility, activity;
	uint64_t pending_dbg;
	uint32_t entry_intr_info, entry_error_code;
	uint32_t entry_instruction_len, reserved;
};

/* The x87/SSE/AVX... state: XSAVE's standard format for @xcr0. */
#define VCPU_XSAVE_MAX 8192
struct vcpu_xsave {
	uint64_t xcr0;
	uint32_t size; /* bytes of @area in use */
	uint32_t reserved;
	uint8_t area[VCPU_XSAVE_MAX] __attribute__((aligned(64)));
};

/*
 * On the vCPU's own CPU, between two entries: capture, check (any CPU; 0
 * or -1 with one sentence in @err, naming the field) and load. A state
 * vcpu_check() passed is one VM entry takes.
 */
void vcpu_save(struct vcpu *v, struct vcpu_state *st, struct vcpu_xsave *xs);
int vcpu_check(const struct vcpu_state *st, const struct vcpu_xsave *xs,
	       char *err, size_t len);
void vcpu_load(struct vcpu *v, const struct vcpu_state *st,
	       const struct vcpu_xsave *xs);
/* On the vCPU's CPU: its partition's TSC skips nothing of the @cycles the
 * CPU's TSC advanced (a pause), and a TSC deadline moves with it. */
void vcpu_tsc_skip(struct vcpu *v, uint64_t cycles);

/* The vCPU as if it had never run: halted, interrupts off, XSAVE state
 * reset (a dropped guest). */
void vcpu_reset(struct vcpu *v);

/* Stops the partition on this CPU with @why and a register dump. */
void vcpu_fail(struct vcpu *v, const char *why);

#endif
