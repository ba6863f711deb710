// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/lapic.h"
#include "arch-x86_64/cpu.h"
#include "arch-x86_64/time.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1u << 10)
#define APIC_BASE_EN (1u << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull

#define XAPIC_ID 0x20
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3E0
#define X2APIC_MSR_ID 0x802
#define X2APIC_MSR_ICR 0x830
#define X2APIC_MSR_BASE 0x800
#define LVT_MASKED (1u << 16)
#define DIVIDE_BY_1 0xB
#define TIMER_MEASURE_US 10000

#define ICR_NMI 0x00000400u
#define ICR_INIT 0x00000500u
#define ICR_STARTUP 0x00000600u
#define ICR_LEVEL_ASSERT 0x00004000u
#define ICR_PENDING 0x00001000u
#define ICR_TIMEOUT_US 10000

static volatile uint32_t *xapic;
static bool x2apic;

bool lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	x2apic = base & APIC_BASE_EXTD;
	xapic = (volatile uint32_t *)(base & APIC_BASE_ADDR_MASK);
	return base & APIC_BASE_EN;
}

bool lapic_x2apic_mode(void)
{
	return x2apic;
}

static uint32_t lapic_read(unsigned int reg)
{
	return x2apic ? (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16) :
			xapic[reg / 4];
}

static void lapic_write(unsigned int reg, uint32_t val)
{
	if (x2apic)
		wrmsr(X2APIC_MSR_BASE + reg / 16, val);
	else
		xapic[reg / 4] = val;
}

uint32_t lapic_id(void)
{
	uint32_t id = lapic_read(XAPIC_ID);

	return x2apic ? id : id >> 24;
}

uint32_t lapic_timer_khz(void)
{
	uint32_t left;

	lapic_write(APIC_LVT_TIMER, LVT_MASKED);
	lapic_write(APIC_TIMER_DIVIDE, DIVIDE_BY_1);
	lapic_write(APIC_TIMER_INITIAL, 0xFFFFFFFF);
	udelay(TIMER_MEASURE_US);
	left = lapic_read(APIC_TIMER_CURRENT);
	lapic_write(APIC_TIMER_INITIAL, 0);
	return (uint32_t)((0xFFFFFFFFull - left) / (TIMER_MEASURE_US / 1000));
}

/*
 * The partition on this CPU owns its local APIC and may have switched it to
 * x2APIC (or back) since keel looked: ask the CPU each time. In xAPIC mode
 * the partition may sit between its two ICR writes, so its ICR high half
 * is put back.
 */
static bool send_ipi(uint32_t apic_id, uint32_t icr)
{
	uint32_t hi;
	bool done = true;

	if (rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD) {
		wrmsr(X2APIC_MSR_ICR, ((uint64_t)apic_id << 32) | icr);
		return true;
	}
	hi = xapic[XAPIC_ICR_HI / 4];
	xapic[XAPIC_ICR_HI / 4] = apic_id << 24;
	xapic[XAPIC_ICR_LO / 4] = icr;
	uint64_t deadline = tsc_deadline_us(ICR_TIMEOUT_US);

	while (xapic[XAPIC_ICR_LO / 4] & ICR_PENDING) {
		if (tsc_passed(deadline)) {
			done = false;
			break;
		}
		cpu_relax();
	}
	xapic[XAPIC_ICR_HI / 4] = hi;
	return done;
}

bool lapic_send_init(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT);
}

bool lapic_send_nmi(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_NMI | ICR_LEVEL_ASSERT);
}

bool lapic_send_fixed(uint32_t apic_id, uint8_t vector)
{
	return send_ipi(apic_id, ICR_LEVEL_ASSERT | vector);
}

bool lapic_send_sipi(uint32_t apic_id, uint8_t vector)
{
	return send_ipi(apic_id, ICR_STARTUP | ICR_LEVEL_ASSERT | vector);
}
