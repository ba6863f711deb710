/* SPDX-License-Identifier: GPL-2.0 */
/* Single x86-64 instructions as C functions. */
#ifndef KEEL_ARCH_CPU_H
#define KEEL_ARCH_CPU_H

#include <stdint.h>

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
		     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
		     : "a"(leaf), "c"(subleaf));
	return r;
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t val)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)val),
		     "d"((uint32_t)(val >> 32))
		     : "memory");
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t val)
{
	__asm__ volatile("outb %0, %1" ::"a"(val), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t val;

	__asm__ volatile("inb %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline void outw(uint16_t port, uint16_t val)
{
	__asm__ volatile("outw %0, %1" ::"a"(val), "Nd"(port));
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t val;

	__asm__ volatile("inw %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

static inline void outl(uint16_t port, uint32_t val)
{
	__asm__ volatile("outl %0, %1" ::"a"(val), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t val;

	__asm__ volatile("inl %1, %0" : "=a"(val) : "Nd"(port));
	return val;
}

/* Port access of 1, 2 or 4 bytes. */
static inline uint32_t port_read(uint16_t port, unsigned int size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static inline void port_write(uint16_t port, unsigned int size, uint32_t val)
{
	if (size == 1)
		outb(port, (uint8_t)val);
	else if (size == 2)
		outw(port, (uint16_t)val);
	else
		outl(port, val);
}

#define DEFINE_CR_ACCESSORS(n)                                          \
	static inline uint64_t read_cr##n(void)                         \
	{                                                               \
		uint64_t v;                                             \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));           \
		return v;                                               \
	}                                                               \
	static inline void write_cr##n(uint64_t v)                      \
	{                                                               \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");    \
	}

DEFINE_CR_ACCESSORS(0)
DEFINE_CR_ACCESSORS(2)
DEFINE_CR_ACCESSORS(3)
DEFINE_CR_ACCESSORS(4)

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline _Noreturn void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
