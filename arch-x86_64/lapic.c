// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

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
#define ICR_SELF_FIXED (1u << 18) /* self shorthand, fixed, edge */

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

/* ---- the partition's x2APIC, for the handoff ---- */

#define X2_TPR 0x808
#define X2_LDR 0x80D
#define X2_SVR 0x80F
#define X2_ISR 0x810
#define X2_TMR 0x818
#define X2_IRR 0x820
#define X2_ESR 0x828
#define X2_LVT_CMCI 0x82F
#define X2_LVT_TIMER 0x832
#define X2_LVT_THERMAL 0x833
#define X2_LVT_PERF 0x834
#define X2_LVT_LINT0 0x835
#define X2_LVT_LINT1 0x836
#define X2_LVT_ERROR 0x837
#define X2_TIMER_INITIAL 0x838
#define X2_TIMER_CURRENT 0x839
#define X2_TIMER_DIVIDE 0x83E
#define MSR_TSC_DEADLINE 0x6E0
#define SVR_ALLOWED 0x11FFu /* vector, enable, EOI broadcast suppression */
#define LVT_ALLOWED 0x717FFu /* vector, delivery, level, mask, timer mode */
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define LVT_TIMER_TSC_DEADLINE 2
#define DIVIDE_ALLOWED 0xBu

int lapic_save(struct lapic_state *st)
{
	if (!(rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD))
		return -1;
	*st = (struct lapic_state){
		.tpr = (uint32_t)rdmsr(X2_TPR),
		.svr = (uint32_t)rdmsr(X2_SVR),
		.ldr = (uint32_t)rdmsr(X2_LDR),
		.esr = (uint32_t)rdmsr(X2_ESR),
		.lvt_timer = (uint32_t)rdmsr(X2_LVT_TIMER),
		.lvt_thermal = (uint32_t)rdmsr(X2_LVT_THERMAL),
		.lvt_perf = (uint32_t)rdmsr(X2_LVT_PERF),
		.lvt_lint0 = (uint32_t)rdmsr(X2_LVT_LINT0),
		.lvt_lint1 = (uint32_t)rdmsr(X2_LVT_LINT1),
		.lvt_error = (uint32_t)rdmsr(X2_LVT_ERROR),
		.lvt_cmci = (uint32_t)rdmsr(X2_LVT_CMCI),
		.timer_initial = (uint32_t)rdmsr(X2_TIMER_INITIAL),
		.timer_current = (uint32_t)rdmsr(X2_TIMER_CURRENT),
		.timer_divide = (uint32_t)rdmsr(X2_TIMER_DIVIDE),
		.tsc_deadline = rdmsr(MSR_TSC_DEADLINE),
	};
	for (unsigned int i = 0; i < 8; i++) {
		st->isr[i] = (uint32_t)rdmsr(X2_ISR + i);
		st->tmr[i] = (uint32_t)rdmsr(X2_TMR + i);
		st->irr[i] = (uint32_t)rdmsr(X2_IRR + i);
	}
	return 0;
}

int lapic_check(const struct lapic_state *st, char *err, size_t len)
{
	const uint32_t lvt[] = { st->lvt_timer, st->lvt_thermal, st->lvt_perf,
				 st->lvt_lint0, st->lvt_lint1, st->lvt_error,
				 st->lvt_cmci };

	if (st->tpr > 0xFF || (st->svr & ~SVR_ALLOWED) ||
	    (st->timer_divide & ~DIVIDE_ALLOWED) ||
	    LVT_TIMER_MODE(st->lvt_timer) == 3) {
		snprintf(err, len, "lapic: tpr %#x, svr %#x, divide %#x, timer "
			 "lvt %#x", st->tpr, st->svr, st->timer_divide,
			 st->lvt_timer);
		return -1;
	}
	for (unsigned int i = 0; i < sizeof(lvt) / sizeof(lvt[0]); i++) {
		if (lvt[i] & ~LVT_ALLOWED) {
			snprintf(err, len, "lapic: lvt %u: %#x", i, lvt[i]);
			return -1;
		}
	}
	if (st->irr[0] & 0xFFFF) {
		snprintf(err, len, "lapic: irr vectors below 16: %#x",
			 st->irr[0]);
		return -1;
	}
	return 0;
}

void lapic_load(const struct lapic_state *st)
{
	wrmsr(X2_SVR, st->svr);
	wrmsr(X2_TPR, st->tpr);
	wrmsr(X2_ESR, 0);
	wrmsr(X2_LVT_THERMAL, st->lvt_thermal);
	wrmsr(X2_LVT_PERF, st->lvt_perf);
	wrmsr(X2_LVT_LINT0, st->lvt_lint0);
	wrmsr(X2_LVT_LINT1, st->lvt_lint1);
	wrmsr(X2_LVT_ERROR, st->lvt_error);
	wrmsr(X2_LVT_CMCI, st->lvt_cmci);
	wrmsr(X2_TIMER_DIVIDE, st->timer_divide);
	wrmsr(X2_LVT_TIMER, st->lvt_timer);
	/* a count-down timer goes on from what was left of it */
	if (LVT_TIMER_MODE(st->lvt_timer) == LVT_TIMER_TSC_DEADLINE)
		wrmsr(MSR_TSC_DEADLINE, st->tsc_deadline);
	else if (st->timer_current)
		wrmsr(X2_TIMER_INITIAL, st->timer_current);
	for (unsigned int v = 16; v < 256; v++)
		if (st->irr[v / 32] & (1u << (v % 32)))
			wrmsr(X2APIC_MSR_ICR, ICR_SELF_FIXED | v);
}

void lapic_quiesce(void)
{
	wrmsr(MSR_TSC_DEADLINE, 0);
	wrmsr(X2_TIMER_INITIAL, 0);
	wrmsr(X2_SVR, 0xFF); /* software-disabled: every LVT masked */
	for (unsigned int i = 0; i < 8; i++)
		while (rdmsr(X2_ISR + i))
			wrmsr(X2APIC_MSR_BASE + 0xB0 / 16, 0); /* EOI */
}
