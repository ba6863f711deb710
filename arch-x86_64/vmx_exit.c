// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-exit table: one entry per basic exit reason, nothing implicit.
 * Reasons keel never enables (HLT, RDTSC, MONITOR, ...) stop the partition
 * with a dump: seeing one means keel's controls and reality disagree.
 * Every exit is counted per partition and reason with the TSC cycles keel
 * spent on it.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/decoder.h"
#include "arch-x86_64/guest_cpu.h"
#include "arch-x86_64/guest_walk.h"
#include "arch-x86_64/vmx.h"
#include "arch-x86_64/vmx_exit.h"
#include "runtime/partition.h"

#define MSR_XCR0 0
#define MMIO_LOG_LIMIT 8

_Static_assert(EXIT_REASON_COUNT == VCPU_EXIT_REASONS,
	       "partitions count exits by basic exit reason");

typedef void (*exit_handler)(struct vcpu *v);

static void stop_unexpected(struct vcpu *v)
{
	char why[80];
	unsigned int reason = (unsigned int)vmread(VM_EXIT_REASON) & 0xFFFF;

	snprintf(why, sizeof(why), "unexpected exit %u (%s)", reason,
		 vcpu_exit_name(reason));
	vcpu_fail(v, why);
}

static void stop_triple_fault(struct vcpu *v)
{
	vcpu_fail(v, "triple fault");
}

static void stop_failed_entry(struct vcpu *v)
{
	char why[80];
	unsigned int reason = (unsigned int)vmread(VM_EXIT_REASON) & 0xFFFF;

	snprintf(why, sizeof(why), "VM entry failed: %s",
		 vcpu_exit_name(reason));
	vcpu_fail(v, why);
}

/* Instructions a partition may not use: #UD, as on a CPU without them. */
static void inject_ud(struct vcpu *v)
{
	vcpu_inject_ud(v);
}

/* INIT/SIPI aimed at a running partition, SMIs: nothing to do. */
static void ignore(struct vcpu *v)
{
	(void)v;
}

static void skip(struct vcpu *v)
{
	vcpu_skip_instruction(v, vcpu_exit_instruction_len(v));
}

static void handle_exception_nmi(struct vcpu *v)
{
	uint32_t info = (uint32_t)vmread(VM_EXIT_INTR_INFO);

	if ((info & INTR_INFO_VALID) && (info & 0x700) == INTR_TYPE_NMI)
		return; /* keel's own NMI: it only wakes the CPU for now */
	stop_unexpected(v);
}

static void set_gpr32(struct vcpu *v, enum gpr r, uint32_t val)
{
	v->regs[r] = val;
}

static void handle_cpuid(struct vcpu *v)
{
	struct cpuid_regs r = guest_cpuid(v->part, (uint32_t)v->regs[GPR_RAX],
					  (uint32_t)v->regs[GPR_RCX],
					  vcpu_cr4(v));

	set_gpr32(v, GPR_RAX, r.eax);
	set_gpr32(v, GPR_RBX, r.ebx);
	set_gpr32(v, GPR_RCX, r.ecx);
	set_gpr32(v, GPR_RDX, r.edx);
	skip(v);
}

static void handle_rdmsr(struct vcpu *v)
{
	uint64_t val;

	if (guest_rdmsr(v, (uint32_t)v->regs[GPR_RCX], &val)) {
		v->part->refused.msr++;
		vcpu_inject_gp(v);
		return;
	}
	set_gpr32(v, GPR_RAX, (uint32_t)val);
	set_gpr32(v, GPR_RDX, (uint32_t)(val >> 32));
	skip(v);
}

static void handle_wrmsr(struct vcpu *v)
{
	uint64_t val = (v->regs[GPR_RDX] << 32) | (uint32_t)v->regs[GPR_RAX];

	if (guest_wrmsr(v, (uint32_t)v->regs[GPR_RCX], val)) {
		v->part->refused.msr++;
		vcpu_inject_gp(v);
		return;
	}
	skip(v);
}

static void handle_io(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	unsigned int size = (q & 7) + 1;
	bool in = q & (1u << 3), string = q & (1u << 4);
	uint16_t port = (uint16_t)(q >> 16);
	uint32_t val = (uint32_t)v->regs[GPR_RAX];
	uint64_t mask = size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;

	if (string) {
		/* no emulated device uses INS/OUTS */
		v->part->refused.io++;
		skip(v);
		return;
	}
	if (partition_pio(v->part, port, size, !in, &val)) {
		v->part->refused.io++;
		v->part->refused.last_port = port;
		val = 0xFFFFFFFF;
	}
	if (in) {
		if (size == 4)
			v->regs[GPR_RAX] = val; /* 32-bit writes zero 63:32 */
		else
			v->regs[GPR_RAX] =
				(v->regs[GPR_RAX] & ~mask) | (val & mask);
	}
	skip(v);
}

static void handle_mmio(struct vcpu *v)
{
	uint8_t code[MMIO_INSN_MAX];
	struct mmio_insn insn;
	char err[96];
	uint64_t gpa = vmread(GUEST_PHYSICAL_ADDRESS), val = 0;
	size_t got = guest_fetch(v, code, sizeof(code));

	if (mmio_decode(code, got, vcpu_mode(v), &insn, err, sizeof(err))) {
		/* keel emulates only plain moves: anything else is the
		 * guest's fault, as on hardware that would not accept it */
		if (v->part->refused.insn++ < MMIO_LOG_LIMIT)
			printf("keel: %s: refused access to %#llx at rip "
			       "%#llx: %s\n",
			       v->part->name, (unsigned long long)gpa,
			       (unsigned long long)vcpu_rip(v), err);
		vcpu_inject_gp(v);
		return;
	}
	if (insn.write)
		val = mmio_store_value(&insn, v->regs);
	if (partition_mmio(v, gpa, insn.size, insn.write, &val)) {
		v->part->refused.mmio++;
		v->part->refused.last_mmio = gpa;
		val = ~0ull;
	}
	if (!insn.write)
		mmio_load_result(&insn, v->regs, val);
	vcpu_skip_instruction(v, insn.len);
}

static void handle_cr_access(struct vcpu *v)
{
	uint64_t q = vmread(EXIT_QUALIFICATION);
	unsigned int cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
	uint64_t val = v->regs[reg];

	if (type != 0 || reg == GPR_RSP) {
		stop_unexpected(v);
		return;
	}
	if (cr == 0) {
		uint64_t efer = vmread(GUEST_IA32_EFER);

		vmwrite(CR0_READ_SHADOW, val);
		vmwrite(GUEST_CR0, val | CR0_NE);
		if ((val & CR0_PG) && (efer & EFER_LME)) {
			vmwrite(GUEST_IA32_EFER, efer | (1u << 10));
			vmwrite(VM_ENTRY_CONTROLS, vmread(VM_ENTRY_CONTROLS) |
							   ENTRY_IA32E_GUEST);
		}
		skip(v);
	} else if (cr == 4) {
		vcpu_inject_gp(v); /* only CR4.VMXE exits: no nested VMX */
	} else {
		stop_unexpected(v);
	}
}

static void handle_xsetbv(struct vcpu *v)
{
	struct cpuid_regs xs = cpuid(0xD, 0);
	uint64_t supported = ((uint64_t)xs.edx << 32) | xs.eax;
	uint64_t val = (v->regs[GPR_RDX] << 32) | (uint32_t)v->regs[GPR_RAX];

	/* x87 always on, AVX needs SSE, nothing the CPU lacks */
	if ((uint32_t)v->regs[GPR_RCX] != MSR_XCR0 || !(val & 1) ||
	    (val & ~supported) || ((val & 4) && !(val & 2))) {
		vcpu_inject_gp(v);
		return;
	}
	asm volatile("xsetbv" ::"c"(0), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32)));
	skip(v);
}

static void handle_vmcall(struct vcpu *v)
{
	long rc;

	if (!partition_hypercall(v->part, v->regs[GPR_RAX], v->regs[GPR_RDI],
				 v->regs[GPR_RSI], &rc)) {
		inject_ud(v);
		return;
	}
	v->regs[GPR_RAX] = (uint64_t)rc;
	skip(v);
}

#define E(reason, fn) [reason] = { fn, #reason }

static const struct {
	exit_handler fn;
	const char *name;
} exit_table[EXIT_REASON_COUNT] = {
	E(EXIT_EXCEPTION_NMI, handle_exception_nmi),
	E(EXIT_EXTERNAL_INTERRUPT, stop_unexpected),
	E(EXIT_TRIPLE_FAULT, stop_triple_fault),
	E(EXIT_INIT, ignore),
	E(EXIT_SIPI, ignore),
	E(EXIT_IO_SMI, ignore),
	E(EXIT_OTHER_SMI, ignore),
	E(EXIT_INTERRUPT_WINDOW, stop_unexpected),
	E(EXIT_NMI_WINDOW, stop_unexpected),
	E(EXIT_TASK_SWITCH, stop_unexpected),
	E(EXIT_CPUID, handle_cpuid),
	E(EXIT_GETSEC, inject_ud),
	E(EXIT_HLT, stop_unexpected),
	E(EXIT_INVD, skip),
	E(EXIT_INVLPG, stop_unexpected),
	E(EXIT_RDPMC, stop_unexpected),
	E(EXIT_RDTSC, stop_unexpected),
	E(EXIT_RSM, inject_ud),
	E(EXIT_VMCALL, handle_vmcall),
	E(EXIT_VMCLEAR, inject_ud),
	E(EXIT_VMLAUNCH, inject_ud),
	E(EXIT_VMPTRLD, inject_ud),
	E(EXIT_VMPTRST, inject_ud),
	E(EXIT_VMREAD, inject_ud),
	E(EXIT_VMRESUME, inject_ud),
	E(EXIT_VMWRITE, inject_ud),
	E(EXIT_VMXOFF, inject_ud),
	E(EXIT_VMXON, inject_ud),
	E(EXIT_CR_ACCESS, handle_cr_access),
	E(EXIT_DR_ACCESS, stop_unexpected),
	E(EXIT_IO_INSTRUCTION, handle_io),
	E(EXIT_RDMSR, handle_rdmsr),
	E(EXIT_WRMSR, handle_wrmsr),
	E(EXIT_INVALID_GUEST_STATE, stop_failed_entry),
	E(EXIT_MSR_LOADING, stop_failed_entry),
	E(EXIT_RESERVED_35, stop_unexpected),
	E(EXIT_MWAIT, stop_unexpected),
	E(EXIT_MONITOR_TRAP_FLAG, stop_unexpected),
	E(EXIT_RESERVED_38, stop_unexpected),
	E(EXIT_MONITOR, stop_unexpected),
	E(EXIT_PAUSE, stop_unexpected),
	E(EXIT_MACHINE_CHECK, stop_failed_entry),
	E(EXIT_RESERVED_42, stop_unexpected),
	E(EXIT_TPR_BELOW_THRESHOLD, stop_unexpected),
	E(EXIT_APIC_ACCESS, stop_unexpected),
	E(EXIT_VIRTUALIZED_EOI, stop_unexpected),
	E(EXIT_GDTR_IDTR, stop_unexpected),
	E(EXIT_LDTR_TR, stop_unexpected),
	E(EXIT_EPT_VIOLATION, handle_mmio),
	E(EXIT_EPT_MISCONFIG, stop_unexpected),
	E(EXIT_INVEPT, inject_ud),
	E(EXIT_RDTSCP, stop_unexpected),
	E(EXIT_PREEMPTION_TIMER, stop_unexpected),
	E(EXIT_INVVPID, inject_ud),
	E(EXIT_WBINVD, stop_unexpected),
	E(EXIT_XSETBV, handle_xsetbv),
	E(EXIT_APIC_WRITE, stop_unexpected),
	E(EXIT_RDRAND, stop_unexpected),
	E(EXIT_INVPCID, stop_unexpected),
	E(EXIT_VMFUNC, inject_ud),
	E(EXIT_ENCLS, inject_ud),
	E(EXIT_RDSEED, stop_unexpected),
	E(EXIT_PML_FULL, stop_unexpected),
	E(EXIT_XSAVES, stop_unexpected),
	E(EXIT_XRSTORS, stop_unexpected),
	E(EXIT_RESERVED_65, stop_unexpected),
	E(EXIT_SPP, stop_unexpected),
	E(EXIT_UMWAIT, stop_unexpected),
	E(EXIT_TPAUSE, stop_unexpected),
	E(EXIT_LOADIWKEY, inject_ud),
};

const char *vcpu_exit_name(unsigned int reason)
{
	return reason < EXIT_REASON_COUNT ? exit_table[reason].name + 5 :
					    "unknown";
}

void vmx_handle_exit(struct vcpu *v)
{
	uint32_t raw = (uint32_t)vmread(VM_EXIT_REASON);
	unsigned int reason = raw & 0xFFFF;
	struct partition *p = v->part;

	if (reason >= EXIT_REASON_COUNT) {
		stop_unexpected(v);
		return;
	}
	if (raw & EXIT_REASON_FAILED_ENTRY)
		stop_failed_entry(v);
	else
		exit_table[reason].fn(v);
	p->exits[reason].count++;
	p->exits[reason].cycles += rdtsc() - v->exit_tsc;
}
