// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's state in and out of its VMCS, for the handoff: what VMX keeps
 * in the VMCS, plus what it leaves in the CPU because keel never touches
 * it in VMX root (CR2, DR0-DR3, DR6, XCR0 and the XSAVE state, the
 * SYSCALL and swapgs MSRs, TSC_AUX). Loading checks nothing: vcpu_check()
 * has, against the rules VM entry and XRSTOR apply, so that a state from a
 * stream can neither fail the entry nor fault keel.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/guest_cpu.h"
#include "arch-x86_64/vcpu.h"
#include "arch-x86_64/vmx.h"

#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_STAR 0xC0000081
#define MSR_LSTAR 0xC0000082
#define MSR_CSTAR 0xC0000083
#define MSR_SFMASK 0xC0000084
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_TSC_AUX 0xC0000103
#define MSR_TSC_DEADLINE 0x6E0

#define RFLAGS_FIXED1 0x2ull
#define RFLAGS_VM (1ull << 17)
#define RFLAGS_ALLOWED 0x3D7FD7ull /* CF..ID but the reserved bits and VM */
#define CR0_ALLOWED 0xE005003Full
#define CR4_PAE_BIT 0x20ull
#define EFER_SCE 0x1ull
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_ALLOWED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define AR_UNUSABLE (1u << 16)
#define AR_RESERVED 0xFFFE0F00u
#define AR_L (1u << 13)
#define INTR_VALID (1u << 31)
#define INTR_TYPE(i) (((i) >> 8) & 7)
#define INTR_TYPE_HW_EXC 3
#define INTR_RESERVED 0x7FFFF000u
#define PENDING_DBG_ALLOWED 0x1500Full
#define XSAVE_HDR 512
#define XSAVE_MIN (XSAVE_HDR + 64)
#define MXCSR_OFF 24
#define MXCSR_RESERVED 0xFFFF0000u

static const enum vmcs_field seg_selector[SEG_COUNT] = {
	GUEST_ES_SELECTOR, GUEST_CS_SELECTOR,	GUEST_SS_SELECTOR,
	GUEST_DS_SELECTOR, GUEST_FS_SELECTOR,	GUEST_GS_SELECTOR,
	GUEST_LDTR_SELECTOR, GUEST_TR_SELECTOR,
};

/* selector, limit, AR and base fields of one segment share their order */
static enum vmcs_field seg_field(enum vmcs_field first, unsigned int s)
{
	return first + (seg_selector[s] - GUEST_ES_SELECTOR);
}

static void save_drs(uint64_t dr[4], uint64_t *dr6)
{
	asm volatile("mov %%db0, %0" : "=r"(dr[0]));
	asm volatile("mov %%db1, %0" : "=r"(dr[1]));
	asm volatile("mov %%db2, %0" : "=r"(dr[2]));
	asm volatile("mov %%db3, %0" : "=r"(dr[3]));
	asm volatile("mov %%db6, %0" : "=r"(*dr6));
}

static void load_drs(const uint64_t dr[4], uint64_t dr6)
{
	asm volatile("mov %0, %%db0" ::"r"(dr[0]));
	asm volatile("mov %0, %%db1" ::"r"(dr[1]));
	asm volatile("mov %0, %%db2" ::"r"(dr[2]));
	asm volatile("mov %0, %%db3" ::"r"(dr[3]));
	asm volatile("mov %0, %%db6" ::"r"(dr6));
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

static void xsetbv0(uint64_t v)
{
	asm volatile("xsetbv" ::"c"(0), "a"((uint32_t)v),
		     "d"((uint32_t)(v >> 32)));
}

void vcpu_save(struct vcpu *v, struct vcpu_state *st, struct vcpu_xsave *xs)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->gpr, v->regs, sizeof(st->gpr));
	st->gpr[GPR_RSP] = vmread(GUEST_RSP);
	st->rip = vmread(GUEST_RIP);
	st->rflags = vmread(GUEST_RFLAGS);
	st->cr0 = vcpu_cr0(v);
	st->cr2 = read_cr2();
	st->cr3 = vmread(GUEST_CR3);
	st->cr4 = vcpu_cr4(v);
	st->xcr0 = xgetbv0();
	save_drs(st->dr, &st->dr6);
	st->dr7 = vmread(GUEST_DR7);
	st->efer = vmread(GUEST_IA32_EFER);
	st->pat = vmread(GUEST_IA32_PAT);
	st->debugctl = vmread(GUEST_IA32_DEBUGCTL);
	st->sysenter_cs = vmread(GUEST_SYSENTER_CS);
	st->sysenter_esp = vmread(GUEST_SYSENTER_ESP);
	st->sysenter_eip = vmread(GUEST_SYSENTER_EIP);
	st->star = rdmsr(MSR_STAR);
	st->lstar = rdmsr(MSR_LSTAR);
	st->cstar = rdmsr(MSR_CSTAR);
	st->sfmask = rdmsr(MSR_SFMASK);
	st->kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
	st->tsc_aux = rdmsr(MSR_TSC_AUX);
	st->tsc = rdtsc() + vmread(TSC_OFFSET);
	for (unsigned int s = 0; s < SEG_COUNT; s++) {
		st->seg[s].selector = (uint16_t)vmread(seg_selector[s]);
		st->seg[s].ar = (uint32_t)vmread(seg_field(GUEST_ES_AR, s));
		st->seg[s].limit = (uint32_t)vmread(seg_field(GUEST_ES_LIMIT, s));
		st->seg[s].base = vmread(seg_field(GUEST_ES_BASE, s));
	}
	st->gdtr_base = vmread(GUEST_GDTR_BASE);
	st->gdtr_limit = (uint32_t)vmread(GUEST_GDTR_LIMIT);
	st->idtr_base = vmread(GUEST_IDTR_BASE);
	st->idtr_limit = (uint32_t)vmread(GUEST_IDTR_LIMIT);
	st->interruptibility = (uint32_t)vmread(GUEST_INTERRUPTIBILITY);
	st->activity = (uint32_t)vmread(GUEST_ACTIVITY_STATE);
	st->pending_dbg = vmread(GUEST_PENDING_DBG_EXCEPTIONS);
	st->entry_intr_info = (uint32_t)vmread(VM_ENTRY_INTR_INFO);
	st->entry_error_code = (uint32_t)vmread(VM_ENTRY_EXCEPTION_ERROR_CODE);
	st->entry_instruction_len = (uint32_t)vmread(VM_ENTRY_INSTRUCTION_LEN);

	memset(xs, 0, sizeof(*xs));
	xs->xcr0 = st->xcr0;
	xs->size = cpuid(0xD, 0).ebx;
	asm volatile("xsave64 %0"
		     : "=m"(xs->area)
		     : "a"((uint32_t)xs->xcr0), "d"((uint32_t)(xs->xcr0 >> 32))
		     : "memory");
}

/* ---- checks ---- */

static unsigned int phys_bits(void)
{
	return cpuid(0x80000000, 0).eax >= 0x80000008 ?
		       cpuid(0x80000008, 0).eax & 0xFF :
		       36;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

#define CHECK(cond, ...)                                  \
	do {                                              \
		if (!(cond)) {                            \
			snprintf(err, len, __VA_ARGS__);  \
			return -1;                        \
		}                                         \
	} while (0)

static int check_control(const struct vcpu_state *st, char *err, size_t len)
{
	bool lma = st->efer & EFER_LMA;

	CHECK((st->rflags & RFLAGS_FIXED1) && !(st->rflags & ~RFLAGS_ALLOWED),
	      "vcpu: rflags %#llx: reserved bits or virtual-8086 mode",
	      (unsigned long long)st->rflags);
	CHECK(!(st->cr0 & ~CR0_ALLOWED), "vcpu: cr0 %#llx: reserved bits",
	      (unsigned long long)st->cr0);
	CHECK(!(st->cr0 & CR0_PG) || (st->cr0 & CR0_PE),
	      "vcpu: cr0 %#llx: paging without protection",
	      (unsigned long long)st->cr0);
	CHECK(!(st->cr0 & CR0_NW) || (st->cr0 & CR0_CD),
	      "vcpu: cr0 %#llx: NW without CD", (unsigned long long)st->cr0);
	CHECK(!(st->cr4 & (CR4_VMXE | ~rdmsr(MSR_IA32_VMX_CR4_FIXED1))),
	      "vcpu: cr4 %#llx: bits this CPU or keel does not allow",
	      (unsigned long long)st->cr4);
	CHECK(!(st->cr3 >> phys_bits()), "vcpu: cr3 %#llx beyond %u bits",
	      (unsigned long long)st->cr3, phys_bits());
	CHECK(!(st->efer & ~EFER_ALLOWED), "vcpu: efer %#llx: reserved bits",
	      (unsigned long long)st->efer);
	CHECK(lma == ((st->efer & EFER_LME) && (st->cr0 & CR0_PG)),
	      "vcpu: efer %#llx: LMA disagrees with LME and cr0.PG",
	      (unsigned long long)st->efer);
	CHECK(!lma || (st->cr4 & CR4_PAE_BIT), "vcpu: long mode without PAE");
	for (unsigned int i = 0; i < 8; i++) {
		unsigned int t = (st->pat >> (8 * i)) & 0xFF;

		CHECK(t <= 7 && t != 2 && t != 3, "vcpu: pat %#llx: type %u",
		      (unsigned long long)st->pat, t);
	}
	CHECK(!(st->dr7 >> 32) && !(st->dr6 >> 32), "vcpu: dr6/dr7 high bits");
	return 0;
}

static int check_segments(const struct vcpu_state *st, char *err, size_t len)
{
	for (unsigned int s = 0; s < SEG_COUNT; s++) {
		const struct vcpu_segment *g = &st->seg[s];

		CHECK((g->ar & AR_UNUSABLE) || !(g->ar & AR_RESERVED),
		      "vcpu: segment %u: access rights %#x", s, g->ar);
		CHECK(canonical(g->base), "vcpu: segment %u: base %#llx", s,
		      (unsigned long long)g->base);
	}
	CHECK(st->gdtr_limit <= 0xFFFF && st->idtr_limit <= 0xFFFF &&
		      canonical(st->gdtr_base) && canonical(st->idtr_base),
	      "vcpu: descriptor table registers");
	CHECK(!(st->seg[SEG_TR].ar & AR_UNUSABLE), "vcpu: TR unusable");
	return 0;
}

static int check_misc(const struct vcpu_state *st, char *err, size_t len)
{
	bool code64 = (st->efer & EFER_LMA) && (st->seg[SEG_CS].ar & AR_L);
	uint32_t ii = st->entry_intr_info;

	CHECK(code64 ? canonical(st->rip) : !(st->rip >> 32),
	      "vcpu: rip %#llx", (unsigned long long)st->rip);
	CHECK(canonical(st->sysenter_esp) && canonical(st->sysenter_eip) &&
		      canonical(st->lstar) && canonical(st->cstar) &&
		      canonical(st->kernel_gs_base) && !(st->sysenter_cs >> 32) &&
		      !(st->tsc_aux >> 32),
	      "vcpu: SYSENTER/SYSCALL/swapgs MSRs not canonical");
	CHECK(st->interruptibility <= 0xF, "vcpu: interruptibility %#x",
	      st->interruptibility);
	CHECK(st->activity <= 1, "vcpu: activity state %u (active or halted)",
	      st->activity);
	CHECK(!(st->pending_dbg & ~PENDING_DBG_ALLOWED),
	      "vcpu: pending debug exceptions %#llx",
	      (unsigned long long)st->pending_dbg);
	CHECK(!(ii & INTR_VALID) ||
		      (INTR_TYPE(ii) == INTR_TYPE_HW_EXC && (ii & 0xFF) < 32 &&
		       !(ii & INTR_RESERVED)),
	      "vcpu: pending event %#x: keel injects only exceptions", ii);
	CHECK(st->entry_instruction_len <= 15, "vcpu: instruction length %u",
	      st->entry_instruction_len);
	return 0;
}

static int check_xsave(const struct vcpu_state *st, const struct vcpu_xsave *xs,
		       char *err, size_t len)
{
	struct cpuid_regs d = cpuid(0xD, 0);
	uint64_t supported = ((uint64_t)d.edx << 32) | d.eax;
	uint64_t bv, comp;
	uint32_t mxcsr;

	CHECK(xs->xcr0 == st->xcr0, "xsave: xcr0 %#llx, the vcpu's %#llx",
	      (unsigned long long)xs->xcr0, (unsigned long long)st->xcr0);
	CHECK((xs->xcr0 & 1) && !(xs->xcr0 & ~supported) &&
		      (!(xs->xcr0 & 4) || (xs->xcr0 & 2)),
	      "xsave: xcr0 %#llx not valid on this CPU (%#llx)",
	      (unsigned long long)xs->xcr0, (unsigned long long)supported);
	CHECK(xs->size >= XSAVE_MIN && xs->size <= VCPU_XSAVE_MAX &&
		      xs->size <= d.ecx,
	      "xsave: size %u", xs->size);
	memcpy(&bv, xs->area + XSAVE_HDR, 8);
	memcpy(&comp, xs->area + XSAVE_HDR + 8, 8);
	CHECK(!(bv & ~xs->xcr0) && !comp, "xsave: header %#llx/%#llx",
	      (unsigned long long)bv, (unsigned long long)comp);
	for (unsigned int i = 16; i < 64; i++)
		CHECK(!xs->area[XSAVE_HDR + i], "xsave: reserved header byte %u",
		      i);
	memcpy(&mxcsr, xs->area + MXCSR_OFF, 4);
	CHECK(!(mxcsr & MXCSR_RESERVED), "xsave: mxcsr %#x", mxcsr);
	return 0;
}

int vcpu_check(const struct vcpu_state *st, const struct vcpu_xsave *xs,
	       char *err, size_t len)
{
	/* no rule ties xcr0 to CR4.OSXSAVE: keel sets XCR0 for the guest in
	 * VMX root (XSETBV exits), and under Bochs a running Linux guest
	 * showed CR4 0x3306b0 (no OSXSAVE) with XCR0 0xe7 */
	if (check_control(st, err, len) || check_segments(st, err, len) ||
	    check_misc(st, err, len) || check_xsave(st, xs, err, len))
		return -1;
	return 0;
}

/* ---- load ---- */

void vcpu_load(struct vcpu *v, const struct vcpu_state *st,
	       const struct vcpu_xsave *xs)
{
	uint64_t entry = vmread(VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_GUEST;

	memcpy(v->regs, st->gpr, sizeof(v->regs));
	vmwrite(GUEST_RSP, st->gpr[GPR_RSP]);
	vmwrite(GUEST_RIP, st->rip);
	vmwrite(GUEST_RFLAGS, st->rflags);
	vmwrite(CR0_READ_SHADOW, st->cr0);
	vmwrite(GUEST_CR0, st->cr0 | CR0_NE);
	vmwrite(CR4_READ_SHADOW, st->cr4);
	vmwrite(GUEST_CR4, st->cr4 | CR4_VMXE);
	vmwrite(GUEST_CR3, st->cr3);
	vmwrite(GUEST_DR7, st->dr7);
	vmwrite(GUEST_IA32_EFER, st->efer);
	vmwrite(VM_ENTRY_CONTROLS,
		entry | ((st->efer & EFER_LMA) ? ENTRY_IA32E_GUEST : 0));
	vmwrite(GUEST_IA32_PAT, st->pat);
	vmwrite(GUEST_IA32_DEBUGCTL, st->debugctl);
	vmwrite(GUEST_SYSENTER_CS, st->sysenter_cs);
	vmwrite(GUEST_SYSENTER_ESP, st->sysenter_esp);
	vmwrite(GUEST_SYSENTER_EIP, st->sysenter_eip);
	wrmsr(MSR_STAR, st->star);
	wrmsr(MSR_LSTAR, st->lstar);
	wrmsr(MSR_CSTAR, st->cstar);
	wrmsr(MSR_SFMASK, st->sfmask);
	wrmsr(MSR_KERNEL_GS_BASE, st->kernel_gs_base);
	wrmsr(MSR_TSC_AUX, st->tsc_aux);
	for (unsigned int s = 0; s < SEG_COUNT; s++) {
		vmwrite(seg_selector[s], st->seg[s].selector);
		vmwrite(seg_field(GUEST_ES_AR, s), st->seg[s].ar);
		vmwrite(seg_field(GUEST_ES_LIMIT, s), st->seg[s].limit);
		vmwrite(seg_field(GUEST_ES_BASE, s), st->seg[s].base);
	}
	vmwrite(GUEST_GDTR_BASE, st->gdtr_base);
	vmwrite(GUEST_GDTR_LIMIT, st->gdtr_limit);
	vmwrite(GUEST_IDTR_BASE, st->idtr_base);
	vmwrite(GUEST_IDTR_LIMIT, st->idtr_limit);
	vmwrite(GUEST_INTERRUPTIBILITY, st->interruptibility);
	vmwrite(GUEST_ACTIVITY_STATE, st->activity);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, st->pending_dbg);
	vmwrite(VM_ENTRY_INTR_INFO, st->entry_intr_info);
	vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, st->entry_error_code);
	vmwrite(VM_ENTRY_INSTRUCTION_LEN, st->entry_instruction_len);
	/* the guest's TSC goes on from where it was captured, whatever this
	 * CPU's TSC (another machine's) reads */
	v->tsc_offset = st->tsc - rdtsc();
	vmwrite(TSC_OFFSET, v->tsc_offset);
	guest_trap_tsc_deadline(v->part, v->tsc_offset != 0);
	load_drs(st->dr, st->dr6);
	/* CR2 last: nothing in keel may fault after it */
	asm volatile("mov %0, %%cr2" ::"r"(st->cr2));
	xsetbv0(xs->xcr0);
	asm volatile("xrstor64 %0" ::"m"(xs->area), "a"((uint32_t)xs->xcr0),
		     "d"((uint32_t)(xs->xcr0 >> 32))
		     : "memory");
}

void vcpu_tsc_skip(struct vcpu *v, uint64_t cycles)
{
	uint64_t deadline = rdmsr(MSR_TSC_DEADLINE);

	v->tsc_offset -= cycles;
	vmwrite(TSC_OFFSET, v->tsc_offset);
	guest_trap_tsc_deadline(v->part, v->tsc_offset != 0);
	if (deadline)
		wrmsr(MSR_TSC_DEADLINE, deadline + cycles);
}

void vcpu_reset(struct vcpu *v)
{
	static struct vcpu_xsave clean;

	memset(v->regs, 0, sizeof(v->regs));
	vmwrite(GUEST_RFLAGS, RFLAGS_FIXED1);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 1); /* halted, interrupts off */
	vmwrite(VM_ENTRY_INTR_INFO, 0);
	xsetbv0(1);
	clean.xcr0 = 1;
	asm volatile("xrstor64 %0" ::"m"(clean.area), "a"(1), "d"(0)
		     : "memory");
}
