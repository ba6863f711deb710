/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What this CPU's VT-x offers: decoded from CPUID, IA32_FEATURE_CONTROL and
 * the VMX capability MSRs (the TRUE control MSRs when IA32_VMX_BASIC[55]
 * says they exist). Decoding is pure so the host tests can feed it any CPU.
 */
#ifndef KEEL_ARCH_VMX_CAPS_H
#define KEEL_ARCH_VMX_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSR_IA32_FEATURE_CONTROL 0x3A
#define FEATURE_CONTROL_LOCKED (1u << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)

#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* Raw register values, as read by vmx_read_raw(). */
struct vmx_raw {
	uint32_t cpuid1_ecx;
	uint64_t feature_control;
	uint64_t basic;
	uint64_t pinbased;   /* TRUE variant when basic[55] */
	uint64_t procbased;  /* TRUE variant when basic[55] */
	uint64_t procbased2; /* 0 when secondary controls are not allowed */
	uint64_t exit;
	uint64_t entry;
	uint64_t ept_vpid;   /* 0 when neither EPT nor VPID is allowed */
};

struct vmx_caps {
	bool vmx;             /* CPUID.1:ECX.VMX */
	bool fc_locked;       /* IA32_FEATURE_CONTROL lock bit */
	bool fc_vmx_enabled;  /* ... and VMX outside SMX allowed */
	bool true_ctls;
	bool secondary;
	bool ept, ept_wb, ept_4level, ept_2m, ept_1g, ept_ad;
	bool unrestricted, vpid, pml, preemption_timer;
	bool apic_access, apic_reg_virt, virt_intr_delivery, posted_intr;
	uint32_t vmcs_revision;
	uint32_t vmcs_size;
};

void vmx_caps_decode(const struct vmx_raw *raw, struct vmx_caps *caps);

/* 0 if keel can run on these capabilities, else -1 and one message naming
 * everything missing. An unlocked IA32_FEATURE_CONTROL is fine: keel enables
 * VMX in it and locks it. */
int vmx_caps_check(const struct vmx_caps *caps, char *err, size_t errlen);

/* One summary line, e.g. "vmx: EPT yes (4-level, WB, 2M, 1G, A/D yes), ..." */
void vmx_caps_describe(const struct vmx_caps *caps, char *buf, size_t len);

/* Reads the raw values on the running CPU. */
void vmx_read_raw(struct vmx_raw *raw);

/* Sets IA32_FEATURE_CONTROL (VMX outside SMX, lock) when firmware left it
 * unlocked. Returns the register's final value. */
uint64_t vmx_enable_feature_control(void);

#endif
