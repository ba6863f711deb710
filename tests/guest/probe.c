// SPDX-License-Identifier: GPL-2.0
/*
 * probe: a bare-metal program that keel boots as its guest instead of Linux,
 * to check from the inside what the guest must and must not reach: the CPUID
 * and MSR policy, refused ports and memory, the devices keel emulates, the
 * MMIO instruction forms keel decodes and those it refuses, IPIs, and its own
 * exceptions. One line per check on COM1:
 *
 *	probe: PASS <name>
 *	probe: FAIL <name>: <detail>
 *
 * then "probe: summary N passed, M failed", the refusals it provoked (in the
 * form of keel's "stats: guest: refused ..." line), and a deliberate triple
 * fault: keel must stop the guest there and leave the companion running.
 * tests/system/bochs-isolation.sh checks both sides.
 *
 * Faults the probe expects are caught through an exception table, as in
 * Linux: a faulting instruction listed in __extable resumes at its fixup and
 * the vector is recorded in fault_vector.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ALL_ONES (~0ull)

#define COM1 0x3F8
#define HVM_START_MAGIC 0x336ec578u
#define E820_RAM 1
#define RAM_END (64 * MiB) /* tests/system/configs/probe.dts */

#define IOAPIC_BASE 0xFEC00000ull
#define IOAPIC_IOWIN 0x10
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_REDTBL 0x10
#define IOAPIC_VERSION 0x00170011u
#define IOAPIC_NO_REG 0x80 /* in the I/O APIC's page, but no register */
#define XAPIC_BASE 0xFEE00000ull
#define UNMAPPED_LINEAR (4 * GiB) /* the page tables stop at 4 GiB */

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_SMBASE 0x9E
#define MSR_MTRRCAP 0xFE
#define MSR_MISC_ENABLE 0x1A0
#define MSR_MC0_CTL 0x400
#define MSR_VMX_BASIC 0x480
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_EOI 0x80B
#define MSR_X2APIC_SVR 0x80F
#define MSR_X2APIC_ICR 0x830
#define MSR_X2APIC_SELF_IPI 0x83F
#define MSR_EFER 0xC0000080
#define MSR_LSTAR 0xC0000082
#define MSR_TSC_AUX 0xC0000103

#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR(v) ((v) & 0x000FFFFFFFFFF000ull)
#define SVR_ENABLE 0x100
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define CR0_PE 1u
#define CR0_PG (1u << 31)

#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_SIPI (6u << 8)
#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_SELF (1u << 18)
#define ICR_ALL (2u << 18)
#define ICR_OTHERS (3u << 18)
#define ICR_DEST(id) ((uint64_t)(id) << 32)
#define COMPANION_APIC_ID 0

#define VEC_DE 0
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_SELF 0xF0
/* Aimed at the companion: a vector Linux leaves unused, so that one that
 * got through shows there as a spurious interrupt. */
#define VEC_STRAY 0xF5
#define VEC_SPURIOUS 0xFF
#define IRQ_WAIT 100000 /* PAUSE loops to wait for an interrupt */

/* include/xen/interface/hvm/start_info.h, version 1 */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

/* What trap_common (probe_entry.S) pushed, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

struct extable_entry {
	uint64_t insn, fixup;
};

struct idt_gate {
	uint16_t offset0, selector;
	uint8_t ist, type;
	uint16_t offset1;
	uint32_t offset2, reserved;
};

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

void probe_main(uint32_t start_info);
void trap(struct trap_frame *f);

extern const struct extable_entry __start_extable[], __stop_extable[];
extern const char trap_stubs[];
extern const char probe_triple_fault_insn[];
extern uint32_t entry_cr0, entry_efer;
_Noreturn void probe_triple_fault(void);

/* The instruction at label 1 may fault: the trap handler resumes at @fixup. */
#define EXTABLE(fixup)                                                   \
	".pushsection __extable, \"a\"\n\t.balign 8\n\t.quad 1b, " #fixup \
	"\n\t.popsection\n\t"

static volatile int fault_vector;
static volatile uint64_t fault_error, fault_cr2;
static volatile unsigned int irqs[256];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static unsigned int passed, failed;

/* What the probe asked of keel that keel must refuse, and count. */
static struct {
	unsigned int io, mmio, insn, msr, ipi, dev;
} provoked;

/* ---- the CPU ---- */

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	asm volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	asm volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void arm(void)
{
	fault_vector = -1;
}

/* RDMSR and WRMSR that may fault; they return the vector raised, or -1. */
static int rdmsr_safe(uint32_t msr, uint64_t *val)
{
	uint32_t lo = 0, hi = 0;

	arm();
	asm volatile("1: rdmsr\n2:\n\t" EXTABLE(2b)
		     : "+a"(lo), "+d"(hi)
		     : "c"(msr)
		     : "memory");
	*val = (uint64_t)hi << 32 | lo;
	return fault_vector;
}

static int wrmsr_safe(uint32_t msr, uint64_t val)
{
	arm();
	asm volatile("1: wrmsr\n2:\n\t" EXTABLE(2b)
		     :
		     : "c"(msr), "a"((uint32_t)val), "d"((uint32_t)(val >> 32))
		     : "memory");
	return fault_vector;
}

static uint64_t rdmsr(uint32_t msr)
{
	uint64_t v;

	return rdmsr_safe(msr, &v) < 0 ? v : ALL_ONES;
}

/* Memory accesses that may fault (or that keel may refuse). */
static int peek32(uint64_t addr, uint32_t *val)
{
	uint32_t v = 0;

	arm();
	asm volatile("1: movl (%1), %0\n2:\n\t" EXTABLE(2b)
		     : "+r"(v)
		     : "r"(addr)
		     : "memory");
	*val = v;
	return fault_vector;
}

static int peek64(uint64_t addr, uint64_t *val)
{
	uint64_t v = 0;

	arm();
	asm volatile("1: movq (%1), %0\n2:\n\t" EXTABLE(2b)
		     : "+r"(v)
		     : "r"(addr)
		     : "memory");
	*val = v;
	return fault_vector;
}

static int poke32(uint64_t addr, uint32_t val)
{
	arm();
	asm volatile("1: movl %0, (%1)\n2:\n\t" EXTABLE(2b)
		     :
		     : "r"(val), "r"(addr)
		     : "memory");
	return fault_vector;
}

static int poke64(uint64_t addr, uint64_t val)
{
	arm();
	asm volatile("1: movq %0, (%1)\n2:\n\t" EXTABLE(2b)
		     :
		     : "r"(val), "r"(addr)
		     : "memory");
	return fault_vector;
}

/* ---- console ---- */

/* keel's 16550 is always ready to transmit: no LSR polling (an exit each) */
static void putc(char c)
{
	outb(COM1, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned int base, int width, char pad)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (width-- > n)
		putc(pad);
	while (n)
		putc(buf[--n]);
}

/* printf for %c %s %d %u %x with l/ll, a width, the 0 and # flags */
static void vpr(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool alt = false, lng = false;
		char pad = ' ';
		int width = 0;
		const char *s;
		int64_t d;
		uint64_t u;

		if (*fmt != '%') {
			putc(*fmt);
			continue;
		}
		if (*++fmt == '#') {
			alt = true;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + *fmt++ - '0';
		for (; *fmt == 'l'; fmt++)
			lng = true;
		switch (*fmt) {
		case 'c':
			putc((char)va_arg(ap, int));
			break;
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				putc(*s);
			break;
		case 'd':
			d = lng ? va_arg(ap, long) : va_arg(ap, int);
			if (d < 0)
				putc('-');
			put_num(d < 0 ? -(uint64_t)d : (uint64_t)d, 10, width,
				pad);
			break;
		case 'u':
		case 'x':
			u = lng ? va_arg(ap, unsigned long) :
				  va_arg(ap, unsigned int);
			if (alt && *fmt == 'x') {
				putc('0');
				putc('x');
			}
			put_num(u, *fmt == 'x' ? 16 : 10, width, pad);
			break;
		default:
			putc(*fmt);
			break;
		}
	}
}

static void __attribute__((format(printf, 1, 2))) pr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vpr(fmt, ap);
	va_end(ap);
}

/* One check's verdict: PASS when @ok, else FAIL with the formatted detail. */
static void __attribute__((format(printf, 3, 4)))
verdict(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		pr("probe: PASS %s\n", name);
		return;
	}
	failed++;
	pr("probe: FAIL %s: ", name);
	va_start(ap, fmt);
	vpr(fmt, ap);
	va_end(ap);
	pr("\n");
}

/* ---- exceptions and interrupts ---- */

static _Noreturn void finish(void)
{
	pr("probe: summary %u passed, %u failed\n", passed, failed);
	pr("probe: provoked io %u, mmio %u, mmio instructions %u, msr %u, "
	   "ipi %u, device writes %u\n",
	   provoked.io, provoked.mmio, provoked.insn, provoked.msr, provoked.ipi,
	   provoked.dev);
	pr("probe: triple fault at rip %#lx\n",
	   (unsigned long)probe_triple_fault_insn);
	probe_triple_fault();
}

void trap(struct trap_frame *f)
{
	const struct extable_entry *e;

	if (f->vector == VEC_NMI || f->vector >= 32) {
		irqs[f->vector]++;
		if (f->vector >= 32 && f->vector != VEC_SPURIOUS)
			asm volatile("wrmsr" : : "c"(MSR_X2APIC_EOI), "a"(0),
				     "d"(0));
		return;
	}
	fault_vector = (int)f->vector;
	fault_error = f->error;
	fault_cr2 = f->vector == VEC_PF ? read_cr2() : 0;
	for (e = __start_extable; e < __stop_extable; e++) {
		if (e->insn == f->rip) {
			f->rip = e->fixup;
			return;
		}
	}
	failed++;
	pr("probe: FAIL unexpected exception: vector %lu, error %#lx at rip "
	   "%#lx\n", (unsigned long)f->vector, (unsigned long)f->error,
	   (unsigned long)f->rip);
	finish();
}

static void idt_init(void)
{
	struct desc_ptr d = { sizeof(idt) - 1, (uint64_t)idt };

	for (unsigned int v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)trap_stubs + 16 * v;

		/* 64-bit interrupt gate: IF stays clear in the handlers */
		idt[v] = (struct idt_gate){ .offset0 = (uint16_t)a,
					    .selector = 0x08,
					    .type = 0x8E,
					    .offset1 = (uint16_t)(a >> 16),
					    .offset2 = (uint32_t)(a >> 32) };
	}
	asm volatile("lidt %0" : : "m"(d));
}

/* Interrupts on for a while: long enough for an IPI to arrive. */
static void irq_window(void)
{
	asm volatile("sti");
	for (unsigned int i = 0; i < IRQ_WAIT; i++)
		asm volatile("pause");
	asm volatile("cli");
}

static unsigned int irq_total(void)
{
	unsigned int n = 0;

	for (unsigned int v = 0; v < 256; v++)
		n += irqs[v];
	return n;
}

/* ---- the checks ---- */

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static uint64_t check_boot(uint32_t pa)
{
	const struct hvm_start_info *si = (const void *)(uint64_t)pa;
	const struct hvm_memmap_table_entry *mm;
	const char *rsdp;
	uint64_t ram_end = 0;

	verdict((entry_cr0 & CR0_PE) && !(entry_cr0 & CR0_PG) &&
			!(entry_efer & EFER_LMA),
		"boot: entered in 32-bit protected mode, paging off",
		"cr0 %#x efer %#x", entry_cr0, entry_efer);
	if (si->magic != HVM_START_MAGIC) {
		verdict(false, "boot: PVH start info", "magic %#x at %#x",
			si->magic, pa);
		return RAM_END;
	}
	mm = (const void *)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (mm[i].type == E820_RAM && mm[i].addr + mm[i].size > ram_end)
			ram_end = mm[i].addr + mm[i].size;
	rsdp = (const char *)si->rsdp_paddr;
	verdict(si->nr_modules == 0 && si->cmdline_paddr &&
			streq((const char *)si->cmdline_paddr, "probe") &&
			rsdp && rsdp[0] == 'R' && rsdp[1] == 'S' &&
			rsdp[2] == 'D' && rsdp[3] == ' ',
		"boot: PVH start info, cmdline, no modules, RSDP",
		"%u modules, cmdline at %#lx, rsdp at %#lx", si->nr_modules,
		(unsigned long)si->cmdline_paddr,
		(unsigned long)si->rsdp_paddr);
	verdict(ram_end == RAM_END, "boot: RAM ends at 64 MiB",
		"the memory map's RAM ends at %#lx", (unsigned long)ram_end);
	return ram_end;
}

static void check_cpuid(void)
{
	struct cpuid_regs r = cpuid(1, 0), hv, kvm, tsc;
	uint32_t hidden = (1u << 7) | (1u << 12) | (1u << 14);
	uint64_t hz;

	verdict(r.ecx & (1u << 31), "cpuid: hypervisor bit set",
		"leaf 1 ecx %#x", r.ecx);
	verdict(!(r.ecx & (1u << 5)), "cpuid: VMX hidden", "leaf 1 ecx %#x",
		r.ecx);
	verdict(!(r.edx & hidden), "cpuid: MCE, MTRR and MCA hidden",
		"leaf 1 edx %#x", r.edx);
	hv = cpuid(0x40000000, 0);
	/* "KVMKVMKVM\0\0\0" */
	verdict(hv.eax >= 0x40000001 && hv.ebx == 0x4b4d564b &&
			hv.ecx == 0x564b4d56 && hv.edx == 0x4d,
		"cpuid: KVM signature at 0x40000000",
		"eax %#x ebx %#x ecx %#x edx %#x", hv.eax, hv.ebx, hv.ecx,
		hv.edx);
	kvm = cpuid(0x40000001, 0);
	verdict(kvm.eax == 0x2, "cpuid: KVM features are NOP_IO_DELAY only",
		"eax %#x", kvm.eax);
	tsc = cpuid(0x15, 0);
	hz = tsc.eax ? (uint64_t)tsc.ecx * tsc.ebx / tsc.eax : 0;
	verdict(hz, "cpuid: leaf 0x15 gives the TSC frequency",
		"eax %u ebx %u ecx %u", tsc.eax, tsc.ebx, tsc.ecx);
	pr("probe: TSC %lu kHz\n", (unsigned long)(hz / 1000));
}

static void msr_refused(uint32_t msr, const char *name)
{
	uint64_t v;
	int vec = rdmsr_safe(msr, &v);

	provoked.msr++;
	verdict(vec == VEC_GP, name, "vector %d, read %#lx", vec,
		(unsigned long)v);
}

static void check_msrs(void)
{
	uint64_t base, efer, v, t0, t1, t2;
	int vec, vec2;

	msr_refused(MSR_FEATURE_CONTROL,
		    "msr: IA32_FEATURE_CONTROL read raises #GP");
	msr_refused(MSR_VMX_BASIC, "msr: IA32_VMX_BASIC read raises #GP");
	msr_refused(MSR_MTRRCAP, "msr: IA32_MTRRCAP read raises #GP");
	msr_refused(MSR_MC0_CTL, "msr: IA32_MC0_CTL read raises #GP");
	msr_refused(MSR_SMBASE, "msr: SMBASE 0x9e read raises #GP");
	msr_refused(0x12345678, "msr: nonsense 0x12345678 read raises #GP");
	vec = wrmsr_safe(MSR_FEATURE_CONTROL, 0x5);
	vec2 = wrmsr_safe(MSR_TSC, 0);
	provoked.msr += 2;
	verdict(vec == VEC_GP && vec2 == VEC_GP,
		"msr: IA32_FEATURE_CONTROL and TSC writes raise #GP",
		"vectors %d, %d", vec, vec2);

	vec = rdmsr_safe(MSR_APIC_BASE, &base);
	verdict(vec < 0 && (base & APIC_BASE_EXTD) && (base & APIC_BASE_EN) &&
			APIC_BASE_ADDR(base) == XAPIC_BASE,
		"msr: IA32_APIC_BASE reads x2APIC mode at 0xfee00000",
		"vector %d, %#lx", vec, (unsigned long)base);
	vec = wrmsr_safe(MSR_APIC_BASE, base + 0x1000);
	vec2 = wrmsr_safe(MSR_APIC_BASE, base & ~APIC_BASE_EXTD);
	provoked.msr += 2;
	verdict(vec == VEC_GP && vec2 == VEC_GP &&
			rdmsr(MSR_APIC_BASE) == base,
		"msr: IA32_APIC_BASE move or x2APIC exit raises #GP",
		"vectors %d, %d, now %#lx", vec, vec2,
		(unsigned long)rdmsr(MSR_APIC_BASE));
	vec = wrmsr_safe(MSR_APIC_BASE, base);
	verdict(vec < 0, "msr: IA32_APIC_BASE rewrite of its value accepted",
		"vector %d", vec);
	vec = rdmsr_safe(MSR_MISC_ENABLE, &v);
	verdict(vec < 0 && v == 1, "msr: IA32_MISC_ENABLE reads fast strings",
		"vector %d, %#lx", vec, (unsigned long)v);

	vec = rdmsr_safe(MSR_EFER, &efer);
	verdict(vec < 0 && (efer & EFER_LME) && (efer & EFER_LMA),
		"msr: EFER reads long mode", "vector %d, %#lx", vec,
		(unsigned long)efer);
	vec = wrmsr_safe(MSR_LSTAR, 0xffffffff81234560ull);
	verdict(vec < 0 && rdmsr(MSR_LSTAR) == 0xffffffff81234560ull,
		"msr: LSTAR write reads back", "vector %d, %#lx", vec,
		(unsigned long)rdmsr(MSR_LSTAR));
	vec = wrmsr_safe(MSR_TSC_AUX, 0x12345);
	verdict(vec < 0 && rdmsr(MSR_TSC_AUX) == 0x12345,
		"msr: TSC_AUX write reads back", "vector %d, %#lx", vec,
		(unsigned long)rdmsr(MSR_TSC_AUX));
	vec = rdmsr_safe(MSR_TSC, &t0);
	t1 = rdtsc();
	vec2 = rdmsr_safe(MSR_TSC, &t2);
	verdict(vec < 0 && vec2 < 0 && t0 < t1 && t1 < t2,
		"msr: TSC reads are monotonic", "vectors %d %d, %#lx %#lx %#lx",
		vec, vec2, (unsigned long)t0, (unsigned long)t1,
		(unsigned long)t2);
}

/* I/O keel refuses: counted here as keel counts it */
static uint8_t refused_inb(uint16_t port)
{
	provoked.io++;
	return inb(port);
}

static void refused_outb(uint16_t port, uint8_t v)
{
	provoked.io++;
	outb(port, v);
}

static void check_ports(void)
{
	uint8_t a, b, c, buf[4] = { 0 };
	uint16_t narrow;
	uint32_t wide, keep = 0x12345600;
	uint64_t count = sizeof(buf);
	void *dst = buf;

	a = refused_inb(0x64);
	verdict(a == 0xFF, "ports: keyboard controller 0x64 reads all ones",
		"%#x", a);
	refused_outb(0x70, 0x0A);
	a = refused_inb(0x71);
	b = refused_inb(0x70);
	verdict(a == 0xFF && b == 0xFF, "ports: CMOS 0x70/0x71 reads all ones",
		"%#x %#x", b, a);
	refused_outb(0x43, 0x34);
	a = refused_inb(0x40);
	verdict(a == 0xFF, "ports: PIT 0x40 reads all ones", "%#x", a);
	refused_outb(0x21, 0x00);
	a = refused_inb(0x20);
	b = refused_inb(0x21);
	verdict(a == 0xFF && b == 0xFF,
		"ports: PIC 0x20/0x21 reads all ones, ignores writes",
		"%#x %#x", a, b);
	/*
	 * A reset here would end the run: no summary, no triple fault, keel's
	 * banner twice (the system test checks). 0xCF9 shares a dword with
	 * PCI's CONFIG_ADDRESS, which only dword accesses reach: with
	 * CONFIG_ADDRESS set, a byte of it must not show through.
	 */
	refused_outb(0xCF9, 0x06);
	verdict(true, "ports: reset control 0xcf9 ignores a reset", "%s", "");
	outl(0xCF8, 0x80000800);
	a = refused_inb(0xCF9);
	outl(0xCF8, 0);
	verdict(a == 0xFF, "ports: 0xcf9 reads all ones, not CONFIG_ADDRESS",
		"%#x with CONFIG_ADDRESS 0x80000800", a);
	refused_outb(0x2FF, 0xA5); /* COM2's scratch register */
	a = refused_inb(0x2FF);
	b = refused_inb(0x2FD);
	c = refused_inb(0x2F8);
	verdict(a == 0xFF && b == 0xFF && c == 0xFF,
		"ports: COM2 0x2f8 reads all ones, ignores writes",
		"scratch %#x lsr %#x data %#x", a, b, c);

	/* the access width: 16 and 32 bits, 8 bits keep the rest of EAX */
	provoked.io += 3;
	narrow = inw(0x64);
	wide = inl(0x40);
	asm volatile("inb %1, %b0" : "+a"(keep) : "Nd"((uint16_t)0x64));
	verdict(narrow == 0xFFFF && wide == 0xFFFFFFFF && keep == 0x123456FF,
		"ports: 16- and 32-bit reads all ones, 8-bit keeps EAX",
		"inw %#x, inl %#x, inb into 0x12345600 gives %#x", narrow,
		wide, keep);

	provoked.io++;
	asm volatile("rep insb" : "+D"(dst), "+c"(count) : "d"(0x64)
		     : "memory");
	verdict(true, "ports: string input from a refused port completes",
		"%s", "");
	pr("probe: rep insb from 0x64 left %#x %#x %#x %#x, rcx %lu\n", buf[0],
	   buf[1], buf[2], buf[3], (unsigned long)count);
}

static void check_pci(void)
{
	uint32_t id, addr, absent, ro;
	uint16_t dev;

	outl(0xCF8, 0x80000000); /* 00:00.0, register 0 */
	addr = inl(0xCF8);
	id = inl(0xCFC);
	dev = inw(0xCFE);
	verdict(addr == 0x80000000 && id == 0x29C08086 && dev == 0x29C0,
		"pci: host bridge 00:00.0 is 8086:29c0",
		"CONFIG_ADDRESS %#x, id %#x, device %#x", addr, id, dev);
	outl(0xCFC, 0xFFFFFFFF);
	ro = inl(0xCFC);
	verdict(ro == 0x29C08086, "pci: host bridge IDs are read-only",
		"after writing all ones: %#x", ro);
	outl(0xCF8, 0x80000800); /* 00:01.0 */
	id = inl(0xCFC);
	verdict(id == 0x10481AF4, "pci: 00:01.0 is the virtio-scsi device 1af4:1048",
		"%#x", id);
	outl(0xCF8, 0x8000F800); /* 00:1f.0 */
	absent = inl(0xCFC);
	verdict(absent == 0xFFFFFFFF, "pci: absent device 00:1f.0 reads all ones",
		"%#x", absent);
	outl(0xCF8, 0);
}

/* keel's virtio registers (BAR4, where keel placed it): hostile writes are
 * refused, counted, and change nothing */
#define VIRTIO_COMMON 0xC0000000ul
#define VIRTIO_DF_SELECT 0
#define VIRTIO_DF 4
#define VIRTIO_MSIX_CONFIG 16
#define VIRTIO_FEATURES_LO 0x30000000u /* INDIRECT_DESC, EVENT_IDX */

static void check_virtio(void)
{
	uint32_t df = 0, after = 0;
	int v1, v2, v3, v4;

	v1 = poke32(VIRTIO_COMMON + VIRTIO_DF_SELECT, 0);
	v2 = peek32(VIRTIO_COMMON + VIRTIO_DF, &df);
	verdict(v1 < 0 && v2 < 0 && df == VIRTIO_FEATURES_LO,
		"virtio: device features 31:0 read 0x30000000",
		"vectors %d %d, %#x", v1, v2, df);
	v1 = poke32(VIRTIO_COMMON + VIRTIO_DF, 0xFFFFFFFF); /* read-only */
	v2 = poke32(VIRTIO_COMMON + VIRTIO_MSIX_CONFIG, 0); /* 16-bit only */
	v3 = poke32(VIRTIO_COMMON + VIRTIO_DF_SELECT, 0);
	v4 = peek32(VIRTIO_COMMON + VIRTIO_DF, &after);
	provoked.dev += 2;
	verdict(v1 < 0 && v2 < 0 && v3 < 0 && v4 < 0 &&
			after == VIRTIO_FEATURES_LO,
		"virtio: writes to a read-only register and of a wrong size "
		"are refused",
		"vectors %d %d %d %d, features now %#x", v1, v2, v3, v4, after);
}

/*
 * Memory accesses keel cannot emulate: it must inject #GP (its policy) and
 * the guest goes on. They run before any other refused MMIO, so that keel
 * still logs them (it logs the first few refusals).
 */
static void check_malformed_mmio(uint64_t refused)
{
	uint32_t v = 1;

	arm();
	asm volatile("1: lock addl %0, (%1)\n2:\n\t" EXTABLE(2b)
		     : : "r"(v), "r"(refused) : "memory");
	provoked.insn++;
	verdict(fault_vector == VEC_GP,
		"mmio: lock add to a refused address raises #GP",
		"vector %d", fault_vector);
	arm();
	asm volatile("1: addl %0, (%1)\n2:\n\t" EXTABLE(2b)
		     : : "r"(v), "r"(2 * GiB) : "memory");
	provoked.insn++;
	verdict(fault_vector == VEC_GP,
		"mmio: add to an unmapped address raises #GP",
		"vector %d", fault_vector);
}

/* Writes a pattern to @addr, outside the guest's RAM: nothing must be there. */
static void check_nothing_at(uint64_t addr, const char *name)
{
	uint64_t before = 0, after = 0;
	int v1 = peek64(addr, &before);
	int v2 = poke64(addr, 0x0123456789abcdefull);
	int v3 = peek64(addr, &after);

	provoked.mmio += 3;
	verdict(v1 < 0 && v2 < 0 && v3 < 0 && before == ALL_ONES &&
			after == ALL_ONES,
		name, "vectors %d %d %d, read %#lx, after the write %#lx", v1,
		v2, v3, (unsigned long)before, (unsigned long)after);
}

static void check_memory(uint64_t ram_end)
{
	uint64_t last = ram_end - 8, v = 0;
	uint32_t id = 0, ver = 0;
	int v1, v2, v3;

	v1 = poke64(last, 0x0123456789abcdefull);
	v2 = peek64(last, &v);
	verdict(v1 < 0 && v2 < 0 && v == 0x0123456789abcdefull,
		"memory: the last bytes of RAM hold a pattern",
		"vectors %d %d, read %#lx", v1, v2, (unsigned long)v);
	check_nothing_at(ram_end, "memory: nothing right after the RAM");
	check_nothing_at(ram_end + MiB, "memory: nothing at RAM end + 1 MiB");
	check_nothing_at(2 * GiB, "memory: nothing at 2 GiB");
	check_nothing_at(3 * GiB + GiB / 2, "memory: nothing at 3.5 GiB");
	v1 = peek32(XAPIC_BASE + 0x20, &id);
	v2 = peek32(XAPIC_BASE + 0x30, &ver);
	v3 = poke32(XAPIC_BASE + 0xB0, 0); /* EOI */
	provoked.mmio += 3;
	verdict(v1 < 0 && v2 < 0 && v3 < 0 && id == 0xFFFFFFFF &&
			ver == 0xFFFFFFFF,
		"memory: the xAPIC page is not mapped",
		"vectors %d %d %d, id %#x version %#x", v1, v2, v3, id, ver);
}

static void check_ioapic(void)
{
	uint32_t ver = 0, ver2 = 0, rte = 0;
	int v1, v2, v3;

	v1 = poke32(IOAPIC_BASE, IOAPIC_REG_VER);
	v2 = peek32(IOAPIC_BASE + IOAPIC_IOWIN, &ver);
	verdict(v1 < 0 && v2 < 0 && ver == IOAPIC_VERSION,
		"ioapic: version register reads 0x00170011",
		"vectors %d %d, %#x", v1, v2, ver);
	v1 = poke32(IOAPIC_BASE + IOAPIC_IOWIN, 0); /* read-only */
	v2 = peek32(IOAPIC_BASE + IOAPIC_IOWIN, &ver2);
	provoked.dev++;
	verdict(v1 < 0 && v2 < 0 && ver2 == IOAPIC_VERSION,
		"ioapic: a write to the version register is refused",
		"vectors %d %d, now %#x", v1, v2, ver2);
	/* pin 0: masked, vector 0x30 */
	v1 = poke32(IOAPIC_BASE, IOAPIC_REG_REDTBL);
	v2 = poke32(IOAPIC_BASE + IOAPIC_IOWIN, 0x00010030);
	v3 = peek32(IOAPIC_BASE + IOAPIC_IOWIN, &rte);
	verdict(v1 < 0 && v2 < 0 && v3 < 0 && rte == 0x00010030,
		"ioapic: redirection entry 0 holds what is written",
		"vectors %d %d %d, %#x", v1, v2, v3, rte);
	poke32(IOAPIC_BASE + IOAPIC_IOWIN, 0x00010000);
}

/*
 * The MMIO instruction forms keel decodes. FORM runs @insn, an access
 * through %rdi (the same address is in %r12 and %r13, %rsi is 0 for an
 * index) with its data in @reg, then four one-byte pushes: all four run
 * only if keel resumed the probe exactly after the instruction. Nothing
 * answers at the addresses used: loads see all ones.
 */
struct forms {
	unsigned int bad;
	const char *insn; /* the first that went wrong, and how */
	int vector;
	unsigned int pushes;
	uint64_t got, want;
};

#define FORM(f, insn, reg, addr, in, want)                                   \
	do {                                                                 \
		register uint64_t data_ asm(reg) = (in);                     \
		register uint64_t r12_ asm("r12") = (addr);                  \
		register uint64_t r13_ asm("r13") = (addr);                  \
		uint64_t pushed_;                                            \
                                                                             \
		arm();                                                       \
		asm volatile("mov %%rsp, %%rdx\n\t"                          \
			     "xor %%ecx, %%ecx\n"                            \
			     "1:\t" insn "\n\t"                              \
			     "push %%rax\n\tpush %%rax\n\t"                  \
			     "push %%rax\n\tpush %%rax\n\t"                  \
			     "mov %%rdx, %%rcx\n\t"                          \
			     "sub %%rsp, %%rcx\n"                            \
			     "2:\tmov %%rdx, %%rsp\n\t" EXTABLE(2b)          \
			     : "+r"(data_), "=&c"(pushed_)                   \
			     : "D"(addr), "S"(0ul), "r"(r12_), "r"(r13_)     \
			     : "rdx", "memory");                             \
		provoked.mmio++;                                             \
		form_result(f, insn, (unsigned int)(pushed_ / 8), data_,     \
			    want);                                           \
	} while (0)

#define LOAD(f, insn, reg, addr, want) \
	FORM(f, insn, reg, addr, 0x1111111111111111ull, want)
#define STORE(f, insn, reg, addr) \
	FORM(f, insn, reg, addr, 0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull)

static void form_result(struct forms *f, const char *insn,
			unsigned int pushes, uint64_t got, uint64_t want)
{
	if (fault_vector < 0 && pushes == 4 && got == want)
		return;
	if (f->bad++)
		return;
	*f = (struct forms){ 1, insn, fault_vector, pushes, got, want };
}

static void forms_verdict(const struct forms *f, const char *name)
{
	char text[64];
	unsigned int n = 0;

	/* the asm template doubles every % */
	for (const char *s = f->bad ? f->insn : ""; *s && n < sizeof(text) - 1;
	     s++)
		if (s[0] != '%' || s[1] != '%')
			text[n++] = *s;
	text[n] = 0;
	verdict(!f->bad, name,
		"%u wrong, first `%s`: vector %d, %u of 4 pushes after it, "
		"read %#lx, want %#lx",
		f->bad, text, f->vector, f->pushes, (unsigned long)f->got,
		(unsigned long)f->want);
}

#define STR_(x) #x
#define STR(x) STR_(x)
#define REFUSED_GPA 0x4100000 /* RAM_END + 1 MiB */
#define IOAPIC_HOLE_GPA 0xFEC00080 /* IOAPIC_BASE + IOAPIC_NO_REG */

/* the forms that take an address in the instruction (moffs) */
#define MOFFS_FORMS(lf, sf, gpa)                                            \
	do {                                                                \
		LOAD(lf, "movabs " STR(gpa) ", %%eax", "rax", 0,            \
		     0xFFFFFFFFull);                                        \
		STORE(sf, "movabs %%rax, " STR(gpa), "rax", 0);             \
	} while (0)

static void check_mmio_forms(uint64_t a, bool ioapic)
{
	struct forms ld = { 0 }, st = { 0 }, imm = { 0 };

	LOAD(&ld, "movb (%%rdi), %%r9b", "r9", a, 0x11111111111111ffull);
	LOAD(&ld, "movw (%%r12), %%r10w", "r10", a, 0x111111111111ffffull);
	LOAD(&ld, "movl (%%r13), %%r11d", "r11", a, 0xffffffffull);
	LOAD(&ld, "movq (%%rdi), %%r14", "r14", a, ALL_ONES);
	LOAD(&ld, "movzbl (%%rdi), %%r15d", "r15", a, 0xffull);
	LOAD(&ld, "movzbw (%%rdi), %%r9w", "r9", a, 0x11111111111100ffull);
	LOAD(&ld, "movzwq 0x10(%%rdi), %%r8", "r8", a, 0xffffull);
	LOAD(&ld, "movb (%%rdi), %%ah", "rax", a, 0x111111111111ff11ull);
	LOAD(&ld, "movq 0x1000(%%rdi,%%rsi,8), %%rbx", "rbx", a, ALL_ONES);
	LOAD(&ld, "movl 0x20(%%r12,%%rsi,4), %%r10d", "r10", a, 0xffffffffull);
	STORE(&st, "movb %%r9b, (%%rdi)", "r9", a);
	STORE(&st, "movw %%r10w, (%%r12)", "r10", a);
	STORE(&st, "movl %%r11d, (%%r13)", "r11", a);
	STORE(&st, "movq %%r14, 0x1000(%%rdi)", "r14", a);
	STORE(&st, "movb %%ah, 0x10(%%rdi)", "rax", a);
	STORE(&st, "movl %%ebx, 0x20(%%rdi,%%rsi,4)", "rbx", a);
	STORE(&imm, "movb $0xa5, (%%rdi)", "r8", a);
	STORE(&imm, "movw $0x1234, 0x10(%%r12)", "r8", a);
	STORE(&imm, "movl $0x12345678, (%%r13)", "r8", a);
	STORE(&imm, "movq $-2, 0x1000(%%rdi)", "r8", a);
	if (ioapic)
		MOFFS_FORMS(&ld, &st, IOAPIC_HOLE_GPA);
	else
		MOFFS_FORMS(&ld, &st, REFUSED_GPA);

	forms_verdict(&ld, ioapic ? "mmio: loads in the I/O APIC page" :
				    "mmio: loads at a refused address");
	forms_verdict(&st, ioapic ? "mmio: stores in the I/O APIC page" :
				    "mmio: stores at a refused address");
	forms_verdict(&imm, ioapic ?
				    "mmio: immediate stores in the I/O APIC page" :
				    "mmio: immediate stores at a refused address");
}

/* A self-IPI of VEC_SELF, written as @val to @msr, must arrive once. */
static void ipi_delivered(uint32_t msr, uint64_t val, const char *name)
{
	unsigned int before = irqs[VEC_SELF], all = irq_total();
	int vec = wrmsr_safe(msr, val);

	irq_window();
	verdict(vec < 0 && irqs[VEC_SELF] == before + 1 &&
			irq_total() == all + 1,
		name, "vector %d, %u arrived, %u interrupts in all", vec,
		irqs[VEC_SELF] - before, irq_total() - all);
}

/* An IPI keel must drop: nothing may come back to the probe either. */
static void ipi_dropped(uint64_t icr, const char *name)
{
	unsigned int all = irq_total();
	int vec = wrmsr_safe(MSR_X2APIC_ICR, icr);

	provoked.ipi++;
	irq_window();
	verdict(vec < 0 && irq_total() == all, name,
		"vector %d, %u interrupts arrived (%u of vector %#x, %u NMIs)",
		vec, irq_total() - all, irqs[VEC_STRAY], VEC_STRAY,
		irqs[VEC_NMI]);
}

static void check_ipis(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE), svr, id;

	if (base == ALL_ONES || !(base & APIC_BASE_EXTD)) {
		verdict(false, "ipi: x2APIC enabled", "IA32_APIC_BASE %#lx",
			(unsigned long)base);
		return;
	}
	id = rdmsr(MSR_X2APIC_ID);
	svr = rdmsr(MSR_X2APIC_SVR);
	verdict(wrmsr_safe(MSR_X2APIC_SVR, svr | SVR_ENABLE | VEC_SPURIOUS) < 0 &&
			id != COMPANION_APIC_ID,
		"ipi: x2APIC software-enabled", "id %lu, svr %#lx",
		(unsigned long)id, (unsigned long)svr);

	ipi_delivered(MSR_X2APIC_ICR, ICR_DEST(id) | VEC_SELF,
		      "ipi: fixed IPI to its own APIC ID arrives");
	ipi_delivered(MSR_X2APIC_ICR, ICR_SELF | VEC_SELF,
		      "ipi: fixed IPI by the self shorthand arrives");
	ipi_delivered(MSR_X2APIC_SELF_IPI, VEC_SELF,
		      "ipi: x2APIC SELF IPI register arrives");

	ipi_dropped(ICR_DEST(COMPANION_APIC_ID) | VEC_STRAY,
		    "ipi: fixed IPI to APIC ID 0 dropped");
	ipi_dropped(ICR_DEST(COMPANION_APIC_ID) | ICR_INIT | ICR_ASSERT,
		    "ipi: INIT to APIC ID 0 dropped");
	ipi_dropped(ICR_DEST(COMPANION_APIC_ID) | ICR_SIPI | 0x10,
		    "ipi: SIPI to APIC ID 0 dropped");
	ipi_dropped(ICR_DEST(COMPANION_APIC_ID) | ICR_NMI,
		    "ipi: NMI to APIC ID 0 dropped");
	ipi_dropped(ICR_OTHERS | VEC_STRAY,
		    "ipi: broadcast to all excluding self dropped");
	ipi_dropped(ICR_ALL | VEC_STRAY,
		    "ipi: broadcast to all including self dropped");
	ipi_dropped(ICR_DEST(0xFFFFFFFF) | VEC_STRAY,
		    "ipi: fixed IPI to the broadcast ID dropped");
	ipi_dropped(ICR_SELF | ICR_NMI, "ipi: NMI to itself dropped");
	/*
	 * x2APIC logical destination: the probe's own APIC ID, read as a
	 * logical ID, is cluster 0 member bit 0 (for ID 1): the companion's
	 * CPU (APIC ID 0), not the probe (logical ID bit 1).
	 */
	ipi_dropped(ICR_DEST(id) | ICR_LOGICAL | VEC_STRAY,
		    "ipi: logical-destination IPI dropped");
}

static void check_exceptions(void)
{
	uint64_t a = 1, d = 0, zero = 0, v = 0;

	arm();
	asm volatile("1: divq %2\n2:\n\t" EXTABLE(2b)
		     : "+a"(a), "+d"(d) : "r"(zero) : "memory");
	verdict(fault_vector == VEC_DE, "exceptions: divide error is the guest's",
		"vector %d", fault_vector);
	arm();
	asm volatile("1: ud2\n2:\n\t" EXTABLE(2b) : : : "memory");
	verdict(fault_vector == VEC_UD, "exceptions: #UD is the guest's",
		"vector %d", fault_vector);
	/* a trap: the CPU reports the address after int3 */
	arm();
	asm volatile("int3\n1:\n\t" EXTABLE(1b) : : : "memory");
	verdict(fault_vector == VEC_BP, "exceptions: int3 is the guest's",
		"vector %d", fault_vector);
	arm();
	asm volatile("1: movq (%1), %0\n2:\n\t" EXTABLE(2b)
		     : "+r"(v) : "r"(UNMAPPED_LINEAR) : "memory");
	verdict(fault_vector == VEC_PF && fault_cr2 == UNMAPPED_LINEAR &&
			!(fault_error & 1),
		"exceptions: page fault is the guest's",
		"vector %d, error %#lx, cr2 %#lx", fault_vector,
		(unsigned long)fault_error, (unsigned long)fault_cr2);
	arm();
	asm volatile("1: movq (%1), %0\n2:\n\t" EXTABLE(2b)
		     : "+r"(v) : "r"(0x8000000000000000ull) : "memory");
	verdict(fault_vector == VEC_GP && fault_error == 0,
		"exceptions: non-canonical #GP is the guest's",
		"vector %d, error %#lx", fault_vector,
		(unsigned long)fault_error);
}

void probe_main(uint32_t start_info)
{
	uint64_t ram_end;

	pr("\nprobe: keel guest probe starting\n");
	idt_init();
	ram_end = check_boot(start_info);
	check_cpuid();
	check_msrs();
	check_ports();
	check_pci();
	check_virtio();
	check_malformed_mmio(ram_end + MiB);
	check_memory(ram_end);
	check_ioapic();
	/* the moffs forms need the address when the probe is built */
	if (ram_end + MiB == REFUSED_GPA)
		check_mmio_forms(REFUSED_GPA, false);
	else
		verdict(false, "mmio: forms", "RAM ends at %#lx, not 64 MiB",
			(unsigned long)ram_end);
	check_mmio_forms(IOAPIC_HOLE_GPA, true);
	check_ipis();
	check_exceptions();
	finish();
}
