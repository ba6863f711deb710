// SPDX-License-Identifier: GPL-2.0
/*
 * GDT, TSS and IDT for keel in VMX root. keel runs with interrupts off; the
 * only events it takes are exceptions and NMIs. NMI, #DF and #MC run on IST
 * stacks so that they work even on a broken stack. An NMI wakes a parked
 * CPU; every exception is fatal: a full register dump, then keel halts.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/traps.h"
#include "runtime/console.h"
#include "runtime/halt.h"

#define GDT_TSS_SEL 0x18
#define IDT_VECTORS 32
#define TRAP_STUB_SIZE 16

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct idt_entry idt[IDT_VECTORS] __attribute__((aligned(16)));

extern const char trap_stubs[];

static const char *const vector_names[IDT_VECTORS] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

static uint8_t ist_for_vector(unsigned int vec)
{
	switch (vec) {
	case 2:
		return IST_NMI;
	case 8:
		return IST_DF;
	case 18:
		return IST_MC;
	default:
		return 0;
	}
}

void traps_init_idt(void)
{
	for (unsigned int v = 0; v < IDT_VECTORS; v++) {
		uint64_t addr = (uint64_t)trap_stubs + v * TRAP_STUB_SIZE;

		idt[v] = (struct idt_entry){
			.offset_lo = (uint16_t)addr,
			.selector = BOOT_CS,
			.ist = ist_for_vector(v),
			.type_attr = 0x8E, /* present, DPL 0, interrupt gate */
			.offset_mid = (uint16_t)(addr >> 16),
			.offset_hi = (uint32_t)(addr >> 32),
		};
	}
}

static void set_tss_descriptor(uint64_t *slot, const struct tss64 *tss)
{
	uint64_t base = (uint64_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	slot[0] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) |
		  (0x89ull << 40) | /* present, 64-bit available TSS */
		  (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	slot[1] = base >> 32;
}

void traps_init_cpu(struct percpu *pc, uint64_t ist_stacks)
{
	struct desc_ptr gdtr = { sizeof(pc->gdt) - 1, (uint64_t)pc->gdt };
	struct desc_ptr idtr = { sizeof(idt) - 1, (uint64_t)idt };

	memset(&pc->tss, 0, sizeof(pc->tss));
	for (int i = 0; i < IST_COUNT; i++)
		pc->tss.ist[i] = ist_stacks + (uint64_t)(i + 1) * IST_STACK_SIZE;
	pc->tss.iomap_base = sizeof(pc->tss);

	pc->gdt[0] = 0;
	pc->gdt[1] = GDT_CODE64;
	pc->gdt[2] = GDT_DATA;
	set_tss_descriptor(&pc->gdt[3], &pc->tss);

	asm volatile("lgdt %0\n\t"
		     "pushq %1\n\t"
		     "leaq 1f(%%rip), %%rax\n\t"
		     "pushq %%rax\n\t"
		     "lretq\n"
		     "1:\n\t"
		     "mov %2, %%ds\n\t"
		     "mov %2, %%es\n\t"
		     "mov %2, %%ss\n\t"
		     "ltr %w3\n\t"
		     "lidt %4"
		     :
		     : "m"(gdtr), "i"(BOOT_CS), "r"(BOOT_DS),
		       "r"(GDT_TSS_SEL), "m"(idtr)
		     : "rax", "memory");
}

/* Walks saved frame pointers while they stay inside the CPU's stack. */
static void print_backtrace(uint64_t rbp, const struct percpu *pc)
{
	uint64_t lo = pc->stack_top - CPU_STACK_SIZE;

	printf("  backtrace:");
	for (int depth = 0; depth < 16; depth++) {
		if (rbp < lo || rbp + 16 > pc->stack_top || (rbp & 7))
			break;
		uint64_t *frame = (uint64_t *)rbp;

		printf(" %#llx", (unsigned long long)frame[1]);
		rbp = frame[0];
	}
	printf("\n");
}

#define R(x) ((unsigned long long)(x))

void trap_handler(struct trap_frame *f)
{
	struct percpu *pc = this_cpu();

	if (f->vector == 2) {
		/* keel's NMIs only wake a parked CPU */
		pc->nmis++;
		return;
	}

	printf("keel: fatal: %s (vector %llu, error %#llx) on cpu %u\n",
	       vector_names[f->vector % IDT_VECTORS], R(f->vector),
	       R(f->error_code), pc->index);
	printf("  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx\n",
	       R(f->rip), R(f->cs), R(f->rflags), R(f->rsp), R(f->ss));
	printf("  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n",
	       R(f->rax), R(f->rbx), R(f->rcx), R(f->rdx));
	printf("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx\n",
	       R(f->rsi), R(f->rdi), R(f->rbp), R(f->r8));
	printf("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx\n",
	       R(f->r9), R(f->r10), R(f->r11), R(f->r12));
	printf("  r13 %016llx r14 %016llx r15 %016llx\n", R(f->r13),
	       R(f->r14), R(f->r15));
	printf("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx\n",
	       R(read_cr0()), R(read_cr2()), R(read_cr3()), R(read_cr4()));
	print_backtrace(f->rbp, pc);
	keel_halt("fatal exception");
}
