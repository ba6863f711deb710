// SPDX-License-Identifier: GPL-2.0
/*
 * CPU numbering and AP start-up. keel numbers CPUs 0 (the boot CPU) then the
 * MADT's enabled CPUs in table order; the configuration refers to these
 * numbers. Each AP gets its stacks from keel's page pool, loads its own GDT,
 * TSS and the IDT, enables VMX in IA32_FEATURE_CONTROL if the firmware left
 * it unlocked, reports online and parks with interrupts off.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/lapic.h"
#include "arch-x86_64/percpu.h"
#include "arch-x86_64/smp.h"
#include "arch-x86_64/time.h"
#include "arch-x86_64/traps.h"
#include "arch-x86_64/vmx_caps.h"

#define TRAMPOLINE_MIN 0x1000ull
#define TRAMPOLINE_MAX 0x9F000ull
#define INIT_DELAY_US 10000
#define SIPI_DELAY_US 200
#define ONLINE_TIMEOUT_US 1000000
#define CPUID1_ECX_XSAVE (1u << 26)
#define CR4_OSXSAVE (1ull << 18)

struct trampoline_params {
	uint64_t cr3;
	uint64_t stack;
	uint64_t percpu;
	uint64_t entry;
};

extern const char trampoline_start[], trampoline_end[];
extern struct trampoline_params trampoline_params;
extern const char ap_entry64[];

struct percpu percpu[KEEL_MAX_CPUS];
static unsigned int cpu_count;

unsigned int smp_number_cpus(const struct madt_info *madt)
{
	uint32_t bsp = lapic_id();
	unsigned int n = 1;
	bool bsp_seen = false;

	percpu[0].index = 0;
	percpu[0].apic_id = bsp;
	percpu[0].online = 1;
	for (unsigned int i = 0; i < madt->cpu_count && n < KEEL_MAX_CPUS;
	     i++) {
		if (madt->cpus[i].apic_id == bsp) {
			bsp_seen = true;
			continue;
		}
		percpu[n].index = n;
		percpu[n].apic_id = madt->cpus[i].apic_id;
		n++;
	}
	cpu_count = bsp_seen ? n : 0;
	return cpu_count;
}

/* A free page in the first MiB that no module or boot info occupies. */
static uint64_t find_trampoline_page(const struct memmap *mm,
				     const struct boot_info *bi)
{
	for (uint64_t p = TRAMPOLINE_MAX - 0x1000; p >= TRAMPOLINE_MIN;
	     p -= 0x1000) {
		bool busy = memmap_overlaps_other(mm, p, 0x1000, OWNER_LOW) ||
			    (p < bi->info_end && p + 0x1000 > bi->info_start);

		for (unsigned int m = 0; m < bi->module_count && !busy; m++)
			busy = p < bi->modules[m].end &&
			       p + 0x1000 > bi->modules[m].start;
		if (!busy)
			return p;
	}
	return 0;
}

static bool start_one(struct percpu *pc, uint64_t page,
		      struct page_pool *pool)
{
	uint64_t stack = page_alloc(pool, CPU_STACK_SIZE / PAGE_SIZE, 1);
	uint64_t ist = page_alloc(pool, IST_COUNT, 1);

	if (!stack || !ist) {
		printf("smp: cpu %u: keel's page pool is exhausted\n",
		       pc->index);
		return false;
	}
	pc->self = pc;
	pc->stack_canary = rdtsc() * 0x9E3779B97F4A7C15ull ^ (uint64_t)pc;
	pc->stack_top = stack + CPU_STACK_SIZE;
	pc->ist_base = ist;
	trampoline_params = (struct trampoline_params){
		.cr3 = read_cr3(),
		.stack = pc->stack_top,
		.percpu = (uint64_t)pc,
		.entry = (uint64_t)ap_entry64,
	};
	memcpy((void *)page, trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));

	if (!lapic_send_init(pc->apic_id))
		return false;
	udelay(INIT_DELAY_US);
	for (int sipi = 0; sipi < 2 && !pc->online; sipi++) {
		if (!lapic_send_sipi(pc->apic_id, (uint8_t)(page >> 12)))
			return false;
		udelay(SIPI_DELAY_US);
	}
	uint64_t deadline = tsc_deadline_us(ONLINE_TIMEOUT_US);

	while (!__atomic_load_n(&pc->online, __ATOMIC_ACQUIRE)) {
		if (tsc_passed(deadline))
			return false;
		cpu_relax();
	}
	return true;
}

unsigned int smp_start_aps(struct memmap *mm, struct page_pool *pool,
			   const struct boot_info *bi)
{
	uint64_t page = find_trampoline_page(mm, bi);
	unsigned int online = 1;

	if (cpu_count > 1 && !page) {
		printf("smp: no free page below 640 KiB for the AP trampoline: "
		       "only cpu 0 runs\n");
		return online;
	}
	for (unsigned int i = 1; i < cpu_count; i++) {
		if (start_one(&percpu[i], page, pool))
			online++;
		else
			printf("smp: cpu %u (APIC ID %u) did not come online\n",
			       i, percpu[i].apic_id);
	}
	return online;
}

void cpu_init(struct percpu *pc, uint64_t ist_stacks)
{
	traps_init_cpu(pc, ist_stacks);
	if (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);
}

void smp_run_on(unsigned int index, void (*fn)(void *arg), void *arg)
{
	struct percpu *pc = &percpu[index];

	pc->work_arg = arg;
	__atomic_store_n(&pc->work, fn, __ATOMIC_RELEASE);
	lapic_send_nmi(pc->apic_id);
}

/* First C code on an AP; FS already points at @pc. It parks in HLT (an
 * NMI wakes it) until smp_run_on() gives it work. */
void ap_main(struct percpu *pc)
{
	struct vmx_raw raw;
	struct vmx_caps caps;

	cpu_init(pc, pc->ist_base);
	vmx_read_raw(&raw);
	vmx_caps_decode(&raw, &caps);
	if (caps.vmx && !caps.fc_locked) {
		vmx_enable_feature_control();
		vmx_read_raw(&raw);
		vmx_caps_decode(&raw, &caps);
	}
	printf("smp: cpu %u online (APIC ID %u), VMX %s\n", pc->index,
	       pc->apic_id,
	       caps.vmx && caps.fc_vmx_enabled ? "enabled" : "unavailable");
	__atomic_store_n(&pc->online, 1, __ATOMIC_RELEASE);
	for (;;) {
		void (*fn)(void *) = __atomic_exchange_n(&pc->work, NULL,
							 __ATOMIC_ACQUIRE);

		if (fn)
			fn(pc->work_arg);
		else
			asm volatile("hlt");
	}
}
