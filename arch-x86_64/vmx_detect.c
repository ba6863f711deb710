// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/cpu.h"
#include "arch-x86_64/vmx_caps.h"

#define PROC_SECONDARY_ALLOWED (1ull << (32 + 31))
#define PROC2_EPT_OR_VPID_ALLOWED ((1ull << (32 + 1)) | (1ull << (32 + 5)))

void vmx_read_raw(struct vmx_raw *raw)
{
	*raw = (struct vmx_raw){ .cpuid1_ecx = cpuid(1, 0).ecx };
	if (!(raw->cpuid1_ecx & (1u << 5)))
		return;
	raw->feature_control = rdmsr(MSR_IA32_FEATURE_CONTROL);
	raw->basic = rdmsr(MSR_IA32_VMX_BASIC);
	bool true_ctls = raw->basic & (1ull << 55);

	raw->pinbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
					  MSR_IA32_VMX_PINBASED_CTLS);
	raw->procbased = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
					   MSR_IA32_VMX_PROCBASED_CTLS);
	raw->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
				      MSR_IA32_VMX_EXIT_CTLS);
	raw->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
				       MSR_IA32_VMX_ENTRY_CTLS);
	if (raw->procbased & PROC_SECONDARY_ALLOWED)
		raw->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	if (raw->procbased2 & PROC2_EPT_OR_VPID_ALLOWED)
		raw->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

uint64_t vmx_enable_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		fc |= FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	}
	return fc;
}
