// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/vmx_caps.h"

#define CPUID1_ECX_VMX (1u << 5)
#define BASIC_TRUE_CTLS (1ull << 55)

/* allowed-1 settings live in the high 32 bits of a control MSR */
#define ALLOWED1(msr, bit) (((msr) >> 32) & (1ull << (bit)))

#define PIN_POSTED_INTR 7
#define PIN_PREEMPTION_TIMER 6
#define PROC_SECONDARY 31
#define PROC2_APIC_ACCESS 0
#define PROC2_EPT 1
#define PROC2_VPID 5
#define PROC2_UNRESTRICTED 7
#define PROC2_APIC_REG_VIRT 8
#define PROC2_VIRT_INTR_DELIVERY 9
#define PROC2_PML 17

#define EPT_CAP_4LEVEL (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_1G (1ull << 17)
#define EPT_CAP_AD (1ull << 21)

void vmx_caps_decode(const struct vmx_raw *raw, struct vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->vmx = raw->cpuid1_ecx & CPUID1_ECX_VMX;
	if (!c->vmx)
		return;
	c->fc_locked = raw->feature_control & FEATURE_CONTROL_LOCKED;
	c->fc_vmx_enabled =
		raw->feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	c->vmcs_revision = raw->basic & 0x7FFFFFFF;
	c->vmcs_size = (raw->basic >> 32) & 0x1FFF;
	c->true_ctls = raw->basic & BASIC_TRUE_CTLS;
	c->preemption_timer = ALLOWED1(raw->pinbased, PIN_PREEMPTION_TIMER);
	c->posted_intr = ALLOWED1(raw->pinbased, PIN_POSTED_INTR);
	c->secondary = ALLOWED1(raw->procbased, PROC_SECONDARY);
	if (!c->secondary)
		return;
	c->apic_access = ALLOWED1(raw->procbased2, PROC2_APIC_ACCESS);
	c->ept = ALLOWED1(raw->procbased2, PROC2_EPT);
	c->vpid = ALLOWED1(raw->procbased2, PROC2_VPID);
	c->unrestricted = ALLOWED1(raw->procbased2, PROC2_UNRESTRICTED);
	c->apic_reg_virt = ALLOWED1(raw->procbased2, PROC2_APIC_REG_VIRT);
	c->virt_intr_delivery =
		ALLOWED1(raw->procbased2, PROC2_VIRT_INTR_DELIVERY);
	c->pml = ALLOWED1(raw->procbased2, PROC2_PML);
	if (c->ept) {
		c->ept_4level = raw->ept_vpid & EPT_CAP_4LEVEL;
		c->ept_wb = raw->ept_vpid & EPT_CAP_WB;
		c->ept_2m = raw->ept_vpid & EPT_CAP_2M;
		c->ept_1g = raw->ept_vpid & EPT_CAP_1G;
		c->ept_ad = raw->ept_vpid & EPT_CAP_AD;
	}
}

struct need {
	bool have;
	const char *what;
};

int vmx_caps_check(const struct vmx_caps *c, char *err, size_t errlen)
{
	if (!c->vmx) {
		snprintf(err, errlen,
			 "vmx: VT-x not available: CPUID.1:ECX.VMX is 0. This "
			 "CPU or emulator offers no Intel VT-x (QEMU TCG cannot "
			 "emulate it): run keel on Intel hardware, under Bochs, "
			 "or under KVM with nested VMX");
		return -1;
	}
	if (c->fc_locked && !c->fc_vmx_enabled) {
		snprintf(err, errlen,
			 "vmx: VT-x disabled by firmware: IA32_FEATURE_CONTROL "
			 "is locked without VMX outside SMX; enable "
			 "virtualization in the firmware setup");
		return -1;
	}
	const struct need needs[] = {
		{ c->true_ctls, "TRUE control MSRs" },
		{ c->secondary, "secondary processor controls" },
		{ c->ept, "EPT" },
		{ c->ept && c->ept_4level, "4-level EPT" },
		{ c->ept && c->ept_wb, "write-back EPT" },
		{ c->unrestricted, "unrestricted guest" },
	};
	size_t n = 0;

	err[0] = '\0';
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		if (needs[i].have)
			continue;
		n += snprintf(err + n, n < errlen ? errlen - n : 0, "%s%s",
			      n ? ", " : "vmx: VT-x lacks what keel needs: ",
			      needs[i].what);
	}
	return n ? -1 : 0;
}

static const char *yn(bool b)
{
	return b ? "yes" : "no";
}

void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t len)
{
	snprintf(buf, len,
		 "vmx: EPT %s (2M %s, 1G %s), unrestricted guest %s, VPID %s, "
		 "EPT A/D %s, PML %s, preemption timer %s, APIC virtualization "
		 "%s (register %s, interrupt delivery %s, posted %s), VMCS "
		 "revision %#x",
		 yn(c->ept), yn(c->ept_2m), yn(c->ept_1g), yn(c->unrestricted),
		 yn(c->vpid), yn(c->ept_ad), yn(c->pml),
		 yn(c->preemption_timer), yn(c->apic_access),
		 yn(c->apic_reg_virt), yn(c->virt_intr_delivery),
		 yn(c->posted_intr), c->vmcs_revision);
}
