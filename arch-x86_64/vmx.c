// SPDX-License-Identifier: GPL-2.0
/*
 * VT-x backend of the vcpu interface: VMXON on the calling CPU, one VMCS per
 * vCPU with controls taken from the TRUE capability MSRs, the guest's boot
 * state, and the run loop that counts every exit per partition and reason.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/percpu.h"
#include "arch-x86_64/vcpu.h"
#include "arch-x86_64/vmx.h"
#include "arch-x86_64/vmx_caps.h"
#include "arch-x86_64/vmx_exit.h"
#include "runtime/handoff.h"
#include "runtime/partition.h"

#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_PAT 0x277
#define PAT_DEFAULT 0x0007040600070406ull

#define AR_UNUSABLE (1u << 16)
#define AR_CODE32 0xC09B /* present, DPL 0, execute/read accessed, D, G */
#define AR_CODE64 0xA09B /* ... L instead of D */
#define AR_DATA 0xC093
#define AR_TSS_BUSY 0x008B

_Static_assert(offsetof(struct vcpu, launched) == VCPU_LAUNCHED,
	       "vmx_entry.S reads the launched flag at VCPU_LAUNCHED");

extern char vmx_exit[];
int vmx_enter(struct vcpu *v);

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* Settles @want against a capability MSR: allowed-0 bits are forced on,
 * bits outside allowed-1 are an error. */
static int adjust(uint32_t want, uint32_t msr, const char *what,
		  uint32_t *out)
{
	uint64_t cap = rdmsr(msr);
	uint32_t ctl = (want | (uint32_t)cap) & (uint32_t)(cap >> 32);

	if ((ctl & want) != want) {
		printf("vmx: %s controls %#x not allowed (allowed-1 %#x)\n",
		       what, want, (uint32_t)(cap >> 32));
		return -1;
	}
	*out = ctl;
	return 0;
}

/* Optional controls: the subset of @want the CPU allows. */
static uint32_t allowed(uint32_t want, uint32_t msr)
{
	return want & (uint32_t)(rdmsr(msr) >> 32);
}

static int vmx_on(struct percpu *pc, uint64_t region)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	cr0 |= rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	cr0 &= rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	cr4 |= rdmsr(MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE;
	cr4 &= rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	write_cr0(cr0);
	write_cr4(cr4);
	*(uint32_t *)region = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7FFFFFFF;
	if (!vmxon(region)) {
		printf("vmx: cpu %u: VMXON failed\n", pc->index);
		return -1;
	}
	return 0;
}

static void setup_host_state(struct percpu *pc)
{
	struct desc_ptr idtr;
	uint32_t lo, hi;

	asm volatile("sidt %0" : "=m"(idtr));
	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	vmwrite(HOST_CS_SELECTOR, BOOT_CS);
	vmwrite(HOST_SS_SELECTOR, BOOT_DS);
	vmwrite(HOST_DS_SELECTOR, BOOT_DS);
	vmwrite(HOST_ES_SELECTOR, BOOT_DS);
	vmwrite(HOST_FS_SELECTOR, 0);
	vmwrite(HOST_GS_SELECTOR, 0);
	vmwrite(HOST_TR_SELECTOR, 0x18);
	vmwrite(HOST_FS_BASE, (uint64_t)pc);
	vmwrite(HOST_GS_BASE, 0);
	vmwrite(HOST_TR_BASE, (uint64_t)&pc->tss);
	vmwrite(HOST_GDTR_BASE, (uint64_t)pc->gdt);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	vmwrite(HOST_IA32_SYSENTER_CS, 0);
	vmwrite(HOST_IA32_SYSENTER_ESP, 0);
	vmwrite(HOST_IA32_SYSENTER_EIP, 0);
	asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
	vmwrite(HOST_IA32_EFER, ((uint64_t)hi << 32) | lo);
	vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(HOST_RIP, (uint64_t)vmx_exit);
}

static int setup_controls(struct partition *p)
{
	uint32_t pin, cpu, cpu2, exit, entry;

	if (adjust(PIN_NMI_EXITING, MSR_IA32_VMX_TRUE_PINBASED_CTLS, "pin",
		   &pin) ||
	    adjust(CPU_USE_TSC_OFFSETTING | CPU_USE_IO_BITMAPS |
			   CPU_USE_MSR_BITMAPS | CPU_SECONDARY,
		   MSR_IA32_VMX_TRUE_PROCBASED_CTLS, "processor", &cpu) ||
	    adjust(CPU2_EPT | CPU2_VPID | CPU2_UNRESTRICTED |
			   allowed(CPU2_RDTSCP | CPU2_INVPCID | CPU2_XSAVES,
				   MSR_IA32_VMX_PROCBASED_CTLS2),
		   MSR_IA32_VMX_PROCBASED_CTLS2, "secondary", &cpu2) ||
	    adjust(EXIT_HOST_64BIT | EXIT_SAVE_PAT | EXIT_LOAD_PAT |
			   EXIT_SAVE_EFER | EXIT_LOAD_EFER,
		   MSR_IA32_VMX_TRUE_EXIT_CTLS, "exit", &exit) ||
	    adjust(ENTRY_LOAD_PAT | ENTRY_LOAD_EFER,
		   MSR_IA32_VMX_TRUE_ENTRY_CTLS, "entry", &entry))
		return -1;
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, cpu);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, cpu2);
	vmwrite(VM_EXIT_CONTROLS, exit);
	vmwrite(VM_ENTRY_CONTROLS, entry);
	vmwrite(EXCEPTION_BITMAP, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_INTR_INFO, 0);
	vmwrite(IO_BITMAP_A, p->io_bitmap);
	vmwrite(IO_BITMAP_B, p->io_bitmap + 4096);
	vmwrite(MSR_BITMAP, p->msr_bitmap);
	vmwrite(TSC_OFFSET, 0);
	vmwrite(VIRTUAL_PROCESSOR_ID, p->id + 1);
	vmwrite(EPT_POINTER, ept_pointer(&p->ept));
	vmwrite(VMCS_LINK_POINTER, ~0ull);
	/* the partition owns CR0 and CR4 but for the bits VMX pins: NE in
	 * CR0, VMXE in CR4; it reads back what it wrote */
	vmwrite(CR0_GUEST_HOST_MASK, CR0_NE);
	vmwrite(CR4_GUEST_HOST_MASK, CR4_VMXE);
	return 0;
}

static void set_segment(enum vmcs_field sel, uint16_t selector, uint32_t ar)
{
	/* selector, limit, AR and base fields share their low bits' order */
	unsigned int i = (sel - GUEST_ES_SELECTOR) / 2;

	vmwrite(sel, selector);
	vmwrite(GUEST_ES_LIMIT + 2 * i, 0xFFFFFFFF);
	vmwrite(GUEST_ES_AR + 2 * i, ar);
	vmwrite(GUEST_ES_BASE + 2 * i, 0);
}

static void setup_guest_state(struct vcpu *v, const struct vcpu_boot_state *bs)
{
	uint64_t cr0 = CR0_PE | (1u << 4) /* ET */;
	uint64_t efer = 0;
	uint32_t code_ar = AR_CODE32;

	if (bs->long_mode) {
		cr0 |= CR0_PG;
		efer = EFER_LME | (1u << 10) /* LMA */;
		code_ar = AR_CODE64;
		vmwrite(VM_ENTRY_CONTROLS,
			vmread(VM_ENTRY_CONTROLS) | ENTRY_IA32E_GUEST);
	}
	vmwrite(CR0_READ_SHADOW, cr0);
	vmwrite(GUEST_CR0, cr0 | CR0_NE);
	vmwrite(CR4_READ_SHADOW, bs->long_mode ? CR4_PAE : 0);
	vmwrite(GUEST_CR4, CR4_VMXE | (bs->long_mode ? CR4_PAE : 0));
	vmwrite(GUEST_CR3, bs->cr3);
	vmwrite(GUEST_IA32_EFER, efer);
	vmwrite(GUEST_IA32_PAT, PAT_DEFAULT);
	vmwrite(GUEST_IA32_DEBUGCTL, 0);
	vmwrite(GUEST_DR7, 0x400);

	set_segment(GUEST_CS_SELECTOR, 0x10, code_ar);
	set_segment(GUEST_DS_SELECTOR, 0x18, AR_DATA);
	set_segment(GUEST_ES_SELECTOR, 0x18, AR_DATA);
	set_segment(GUEST_SS_SELECTOR, 0x18, AR_DATA);
	set_segment(GUEST_FS_SELECTOR, 0x18, AR_DATA);
	set_segment(GUEST_GS_SELECTOR, 0x18, AR_DATA);
	vmwrite(GUEST_LDTR_SELECTOR, 0);
	vmwrite(GUEST_LDTR_AR, AR_UNUSABLE);
	vmwrite(GUEST_LDTR_LIMIT, 0);
	vmwrite(GUEST_LDTR_BASE, 0);
	vmwrite(GUEST_TR_SELECTOR, 0);
	vmwrite(GUEST_TR_AR, AR_TSS_BUSY);
	vmwrite(GUEST_TR_LIMIT, 0x67);
	vmwrite(GUEST_TR_BASE, 0);
	vmwrite(GUEST_GDTR_BASE, bs->gdt_base);
	vmwrite(GUEST_GDTR_LIMIT, bs->gdt_limit);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0);

	vmwrite(GUEST_RIP, bs->rip);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RFLAGS, 0x2);
	vmwrite(GUEST_INTERRUPTIBILITY, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	memset(v->regs, 0, sizeof(v->regs));
	v->regs[GPR_RBX] = bs->rbx;
	v->regs[GPR_RSI] = bs->rsi;
}

int vcpu_setup(struct vcpu *v, struct partition *p,
	       const struct vcpu_boot_state *bs)
{
	struct percpu *pc = this_cpu();
	uint64_t pages = p->vcpu_pages;

	*v = (struct vcpu){ .part = p, .cpu = pc, .vmcs = pages + PAGE_SIZE };
	if (vmx_on(pc, pages))
		return -1;
	*(uint32_t *)v->vmcs = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7FFFFFFF;
	if (!vmclear(v->vmcs) || !vmptrld(v->vmcs)) {
		printf("vmx: cpu %u: VMCLEAR/VMPTRLD failed\n", pc->index);
		return -1;
	}
	setup_host_state(pc);
	if (setup_controls(p))
		return -1;
	setup_guest_state(v, bs);
	return 0;
}

void vcpu_run(struct vcpu *v)
{
	struct partition *p = v->part;

	while (!p->stopped) {
		if (handoff_pause_pending(p))
			handoff_park(v);
		if (vmx_enter(v)) {
			vcpu_fail(v, "VM entry failed (VMX instruction error)");
			break;
		}
		v->exit_tsc = rdtsc();
		v->launched = true;
		vmx_handle_exit(v);
	}
}

uint64_t vcpu_rip(const struct vcpu *v)
{
	(void)v;
	return vmread(GUEST_RIP);
}

uint64_t vcpu_code_linear(const struct vcpu *v)
{
	(void)v;
	return vmread(GUEST_CS_BASE) + vmread(GUEST_RIP);
}

void vcpu_skip_instruction(struct vcpu *v, unsigned int len)
{
	(void)v;
	vmwrite(GUEST_RIP, vmread(GUEST_RIP) + len);
	/* an instruction completed: STI/MOV-SS blocking ends with it */
	vmwrite(GUEST_INTERRUPTIBILITY, vmread(GUEST_INTERRUPTIBILITY) & ~3ull);
}

unsigned int vcpu_exit_instruction_len(const struct vcpu *v)
{
	(void)v;
	return (unsigned int)vmread(VM_EXIT_INSTRUCTION_LEN);
}

enum cpu_mode vcpu_mode(const struct vcpu *v)
{
	uint64_t cs_ar = vmread(GUEST_CS_AR);

	(void)v;
	if (!(vmread(GUEST_CR0) & CR0_PE))
		return MODE_REAL;
	if ((vmread(GUEST_IA32_EFER) & (1u << 10)) && (cs_ar & (1u << 13)))
		return MODE_LONG64;
	return (cs_ar & (1u << 14)) ? MODE_PROT32 : MODE_PROT16;
}

uint64_t vcpu_cr0(const struct vcpu *v)
{
	(void)v;
	return (vmread(GUEST_CR0) & ~CR0_NE) |
	       (vmread(CR0_READ_SHADOW) & CR0_NE);
}

uint64_t vcpu_cr3(const struct vcpu *v)
{
	(void)v;
	return vmread(GUEST_CR3);
}

uint64_t vcpu_cr4(const struct vcpu *v)
{
	(void)v;
	return (vmread(GUEST_CR4) & ~(uint64_t)CR4_VMXE) |
	       (vmread(CR4_READ_SHADOW) & CR4_VMXE);
}

uint64_t vcpu_efer(const struct vcpu *v)
{
	(void)v;
	return vmread(GUEST_IA32_EFER);
}

static void inject(uint32_t vector, bool error_code)
{
	vmwrite(VM_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION |
					    (error_code ? INTR_DELIVER_ERROR : 0) |
					    vector);
	vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
}

void vcpu_inject_gp(struct vcpu *v)
{
	(void)v;
	inject(13, true);
}

void vcpu_inject_ud(struct vcpu *v)
{
	(void)v;
	inject(6, false);
}

#define F(field) ((unsigned long long)vmread(field))

void vcpu_fail(struct vcpu *v, const char *why)
{
	const uint64_t *r = v->regs;

	printf("keel: %s stopped: %s\n", v->part->name, why);
	printf("  exit reason %#llx qualification %#llx instruction error "
	       "%llu\n",
	       F(VM_EXIT_REASON), F(EXIT_QUALIFICATION),
	       F(VM_INSTRUCTION_ERROR));
	printf("  rip %016llx rsp %016llx rflags %016llx\n", F(GUEST_RIP),
	       F(GUEST_RSP), F(GUEST_RFLAGS));
	printf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
	       (unsigned long long)r[GPR_RAX], (unsigned long long)r[GPR_RBX],
	       (unsigned long long)r[GPR_RCX], (unsigned long long)r[GPR_RDX]);
	printf("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
	       (unsigned long long)r[GPR_RSI], (unsigned long long)r[GPR_RDI],
	       (unsigned long long)r[GPR_RBP], (unsigned long long)r[GPR_R8]);
	printf("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n",
	       (unsigned long long)r[GPR_R9], (unsigned long long)r[GPR_R10],
	       (unsigned long long)r[GPR_R11], (unsigned long long)r[GPR_R12]);
	printf("  r13 %016llx r14 %016llx r15 %016llx\n",
	       (unsigned long long)r[GPR_R13], (unsigned long long)r[GPR_R14],
	       (unsigned long long)r[GPR_R15]);
	printf("  cr0 %016llx cr3 %016llx cr4 %016llx efer %016llx\n",
	       F(GUEST_CR0), F(GUEST_CR3), F(GUEST_CR4), F(GUEST_IA32_EFER));
	printf("  cs %04llx/%05llx ss %04llx/%05llx tr %04llx/%05llx gdtr "
	       "%llx/%llx idtr %llx/%llx\n",
	       F(GUEST_CS_SELECTOR), F(GUEST_CS_AR), F(GUEST_SS_SELECTOR),
	       F(GUEST_SS_AR), F(GUEST_TR_SELECTOR), F(GUEST_TR_AR),
	       F(GUEST_GDTR_BASE), F(GUEST_GDTR_LIMIT), F(GUEST_IDTR_BASE),
	       F(GUEST_IDTR_LIMIT));
	printf("  guest-physical %#llx linear %#llx interruptibility %#llx "
	       "activity %llu idt-vectoring %#llx\n",
	       F(GUEST_PHYSICAL_ADDRESS), F(GUEST_LINEAR_ADDRESS),
	       F(GUEST_INTERRUPTIBILITY), F(GUEST_ACTIVITY_STATE),
	       F(IDT_VECTORING_INFO));
	partition_stop(v->part, why);
}
