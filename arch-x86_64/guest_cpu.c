// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID and MSR policy. Each partition owns its CPUs outright, so most of
 * the CPU passes through; what keel filters is what would reach beyond the
 * partition (VMX, MTRRs, machine-check banks, power management) or what
 * Linux must be told (a hypervisor is present, the TSC frequency).
 *
 * The guest is told it runs on KVM (signature at 0x40000000) with no
 * paravirtual feature but NOP_IO_DELAY: Linux then trusts x2APIC without
 * interrupt remapping (x2apic_available = kvm_para_available) and skips
 * port-0x80 delays, and uses nothing keel does not implement.
 */
#include <string.h>

#include "arch-x86_64/guest_cpu.h"
#include "arch-x86_64/vcpu.h"
#include "runtime/partition.h"

#define LEAF_HV_BASE 0x40000000u
#define KVM_FEATURE_NOP_IO_DELAY (1u << 1)

/* CPUID.1:ECX */
#define ECX_DTES64 (1u << 2)
#define ECX_MONITOR (1u << 3)
#define ECX_DSCPL (1u << 4)
#define ECX_VMX (1u << 5)
#define ECX_SMX (1u << 6)
#define ECX_EST (1u << 7)
#define ECX_TM2 (1u << 8)
#define ECX_PDCM (1u << 15)
#define ECX_OSXSAVE (1u << 27)
#define ECX_HYPERVISOR (1u << 31)
/* CPUID.1:EDX */
#define EDX_MCE (1u << 7)
#define EDX_MTRR (1u << 12)
#define EDX_MCA (1u << 14)
#define EDX_DS (1u << 21)
#define EDX_ACPI (1u << 22)
#define EDX_TM (1u << 29)
#define EDX_PBE (1u << 31)
/* CPUID.7.0:EBX, ECX */
#define EBX7_SGX (1u << 2)
#define EBX7_INVPCID (1u << 10)
#define EBX7_PT (1u << 25)
#define ECX7_WAITPKG (1u << 5)
#define ECX7_SGX_LC (1u << 30)

#define CR4_OSXSAVE (1ull << 18)

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_ARCH_CAPABILITIES 0x10A
#define MSR_FLUSH_CMD 0x10B
#define MSR_SYSENTER_CS 0x174
#define MSR_SYSENTER_EIP 0x176
#define MSR_MISC_ENABLE 0x1A0
#define MSR_PAT 0x277
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_SELF_IPI 0x83F
#define MSR_X2APIC_LAST 0x8FF
#define MSR_EFER 0xC0000080
#define MSR_STAR 0xC0000081
#define MSR_SFMASK 0xC0000084
#define MSR_FS_BASE 0xC0000100
#define MSR_TSC_AUX 0xC0000103

#define XAPIC_BASE 0xFEE00000ull
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define MISC_ENABLE_FAST_STRING 1ull

#define ICR_DEST_SHIFT 32
#define ICR_SHORTHAND(icr) (((icr) >> 18) & 3)
#define ICR_SHORTHAND_SELF 1
#define ICR_DELIVERY(icr) (((icr) >> 8) & 7)
#define ICR_DELIVERY_FIXED 0
#define ICR_LOGICAL (1u << 11)
#define ICR_VECTOR 0xFFu
#define ICR_SELF_FIXED (1u << 18) /* self shorthand, fixed, edge */

static struct guest_clock clock;

void guest_cpu_set_clock(const struct guest_clock *c)
{
	clock = *c;
}

static struct cpuid_regs guest_leaf(uint32_t leaf, uint32_t subleaf,
				    uint64_t cr4)
{
	struct cpuid_regs r = cpuid(leaf, subleaf);

	switch (leaf) {
	case 1:
		r.ecx &= ~(ECX_DTES64 | ECX_MONITOR | ECX_DSCPL | ECX_VMX |
			   ECX_SMX | ECX_EST | ECX_TM2 | ECX_PDCM |
			   ECX_OSXSAVE);
		r.ecx |= ECX_HYPERVISOR | ((cr4 & CR4_OSXSAVE) ? ECX_OSXSAVE : 0);
		r.edx &= ~(EDX_MCE | EDX_MTRR | EDX_MCA | EDX_DS | EDX_ACPI |
			   EDX_TM | EDX_PBE);
		break;
	case 5: /* MONITOR/MWAIT */
	case 6: /* thermal and power */
	case 0xA: /* performance monitoring */
	case 0x12: /* SGX */
	case 0x14: /* processor trace */
		r = (struct cpuid_regs){ 0 };
		break;
	case 7:
		if (subleaf == 0) {
			r.ebx &= ~(EBX7_SGX | EBX7_PT);
			r.ecx &= ~(ECX7_WAITPKG | ECX7_SGX_LC);
		}
		break;
	case LEAF_HV_BASE:
		r = (struct cpuid_regs){ LEAF_HV_BASE + 1, 0x4b4d564b,
					 0x564b4d56, 0x4d }; /* "KVMKVMKVM" */
		break;
	case LEAF_HV_BASE + 1:
		r = (struct cpuid_regs){ KVM_FEATURE_NOP_IO_DELAY, 0, 0, 0 };
		break;
	default:
		if ((leaf >= 0x8 && leaf <= 0x14 && leaf != 0xB &&
		     leaf != 0xD) ||
		    (leaf > LEAF_HV_BASE + 1 && leaf < 0x80000000))
			r = (struct cpuid_regs){ 0 };
		break;
	}
	return r;
}

/* The TSC and APIC timer frequencies keel measured: leaf 0x15 gives
 * TSC = crystal (the APIC timer clock) * ebx / eax. Linux trusts these over
 * its own calibration, so they must be what the CPU really does (an
 * emulator's CPUID may say otherwise). */
static bool clock_leaf(uint32_t leaf, struct cpuid_regs *r)
{
	if (leaf == 0x15)
		*r = (struct cpuid_regs){ clock.apic_khz, clock.tsc_khz,
					  clock.apic_khz * 1000, 0 };
	else if (leaf == 0x16)
		*r = (struct cpuid_regs){ clock.tsc_khz / 1000,
					  clock.tsc_khz / 1000,
					  clock.apic_khz / 1000, 0 };
	else
		return false;
	return true;
}

struct cpuid_regs guest_cpuid(const struct partition *p, uint32_t leaf,
			      uint32_t subleaf, uint64_t cr4)
{
	struct cpuid_regs r;

	if (clock_leaf(leaf, &r))
		return r;
	if (p->kind == PART_GUEST) {
		r = guest_leaf(leaf, subleaf, cr4);
	} else {
		r = cpuid(leaf, subleaf);
		if (leaf == 1) {
			r.ecx &= ~(ECX_VMX | ECX_SMX | ECX_OSXSAVE);
			r.ecx |= (cr4 & CR4_OSXSAVE) ? ECX_OSXSAVE : 0;
		}
	}
	if (leaf == 0 && r.eax < 0x16)
		r.eax = 0x16; /* so that the clock leaves are read */
	return r;
}

static void pass(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	/* read-low, read-high, write-low, write-high: 1 KiB each */
	unsigned int base = msr >= 0xC0000000 ? 1024 : 0;
	unsigned int bit = msr & 0x1FFF;

	if (read)
		bitmap[base + bit / 8] &= ~(1u << (bit % 8));
	if (write)
		bitmap[2048 + base + bit / 8] &= ~(1u << (bit % 8));
}

void guest_msr_bitmap(const struct partition *p, uint8_t *bitmap)
{
	if (p->kind == PART_COMPANION) {
		/* trusted, and alone on its CPUs: every MSR passes */
		memset(bitmap, 0, 4096);
		return;
	}
	memset(bitmap, 0xFF, 4096);
	pass(bitmap, MSR_TSC, true, false);
	pass(bitmap, MSR_SPEC_CTRL, true, true);
	pass(bitmap, MSR_PRED_CMD, false, true);
	pass(bitmap, MSR_FLUSH_CMD, false, true);
	pass(bitmap, MSR_ARCH_CAPABILITIES, true, false);
	for (uint32_t m = MSR_SYSENTER_CS; m <= MSR_SYSENTER_EIP; m++)
		pass(bitmap, m, true, true);
	pass(bitmap, MSR_PAT, true, true);
	pass(bitmap, MSR_TSC_DEADLINE, true, true);
	for (uint32_t m = MSR_X2APIC_FIRST; m <= MSR_X2APIC_LAST; m++)
		pass(bitmap, m, true, m != MSR_X2APIC_ICR);
	pass(bitmap, MSR_EFER, true, true);
	for (uint32_t m = MSR_STAR; m <= MSR_SFMASK; m++)
		pass(bitmap, m, true, true);
	for (uint32_t m = MSR_FS_BASE; m <= MSR_TSC_AUX; m++)
		pass(bitmap, m, true, true);
}

static void trap(uint8_t *bitmap, uint32_t msr)
{
	bitmap[msr / 8] |= 1u << (msr % 8);
	bitmap[2048 + msr / 8] |= 1u << (msr % 8);
}

void guest_trap_tsc_deadline(struct partition *p, bool on)
{
	uint8_t *bitmap = (uint8_t *)p->msr_bitmap;

	if (on)
		trap(bitmap, MSR_TSC_DEADLINE);
	else
		pass(bitmap, MSR_TSC_DEADLINE, true, true);
}

uint64_t guest_tsc_deadline_cpu(const struct vcpu *v, uint64_t guest)
{
	uint64_t cpu = guest - v->tsc_offset;

	if (!guest)
		return 0;
	return (int64_t)(cpu - rdtsc()) > 0 ? cpu : 1;
}

int guest_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	uint64_t cur;

	switch (msr) {
	case MSR_TSC_DEADLINE:
		cur = rdmsr(MSR_TSC_DEADLINE);
		*val = cur ? cur + v->tsc_offset : 0;
		return 0;
	case MSR_APIC_BASE:
		*val = rdmsr(MSR_APIC_BASE) | APIC_BASE_BSP;
		return 0;
	case MSR_MISC_ENABLE:
		*val = MISC_ENABLE_FAST_STRING;
		return 0;
	default:
		(void)v;
		return -1;
	}
}

/* The guest may only interrupt itself: a fixed IPI by the self shorthand
 * or to its own APIC ID in physical destination mode (a logical destination
 * may name other CPUs). Anything else is dropped, as a real APIC drops an
 * IPI nobody accepts, and counted. @dest is the destination field. */
static bool icr_allowed(struct partition *p, uint32_t icr_lo, uint32_t dest)
{
	bool self = ICR_SHORTHAND(icr_lo) == ICR_SHORTHAND_SELF ||
		    (ICR_SHORTHAND(icr_lo) == 0 && !(icr_lo & ICR_LOGICAL) &&
		     dest == p->apic_id);

	if (self && ICR_DELIVERY(icr_lo) == ICR_DELIVERY_FIXED)
		return true;
	p->refused.ipi++;
	return false;
}

/* What keel sends for an allowed IPI: only its vector, by the self
 * shorthand, whatever else the guest wrote. */
static uint32_t self_ipi(uint32_t icr_lo)
{
	return ICR_SELF_FIXED | (icr_lo & ICR_VECTOR);
}

static int write_icr(struct vcpu *v, uint64_t icr)
{
	if (icr_allowed(v->part, (uint32_t)icr,
			(uint32_t)(icr >> ICR_DEST_SHIFT)))
		wrmsr(MSR_X2APIC_ICR, self_ipi((uint32_t)icr));
	return 0;
}

int guest_xapic_write(struct vcpu *v, uint32_t offset, uint32_t val)
{
	volatile uint32_t *apic = (volatile uint32_t *)XAPIC_BASE;
	struct partition *p = v->part;

	if (offset & 0xF || offset >= 0x400)
		return -1;
	if (offset == XAPIC_ICR_HI) {
		p->xapic_icr_hi = val;
		return 0;
	}
	if (offset == XAPIC_ICR_LO) {
		if (icr_allowed(p, val, p->xapic_icr_hi >> 24))
			apic[XAPIC_ICR_LO / 4] = self_ipi(val);
		return 0;
	}
	/* the partition's CPU is this CPU: its own APIC */
	apic[offset / 4] = val;
	return 0;
}

int guest_wrmsr(struct vcpu *v, uint32_t msr, uint64_t val)
{
	uint64_t cur;

	switch (msr) {
	case MSR_TSC_DEADLINE:
		wrmsr(MSR_TSC_DEADLINE, guest_tsc_deadline_cpu(v, val));
		return 0;
	case MSR_X2APIC_ICR:
		return write_icr(v, val);
	case MSR_APIC_BASE:
		/* only the switch to x2APIC mode, at the same base */
		cur = rdmsr(MSR_APIC_BASE);
		if ((val & ~APIC_BASE_BSP) != (cur | APIC_BASE_EXTD))
			return (val & ~APIC_BASE_BSP) == cur ? 0 : -1;
		wrmsr(MSR_APIC_BASE, cur | APIC_BASE_EXTD);
		return 0;
	case MSR_MISC_ENABLE:
		return 0;
	default:
		return -1;
	}
}
