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

/* ---- the partition's local APIC, for the handoff ---- */

/* register offsets in the xAPIC page; the x2APIC MSR is 0x800 + offset/16 */
#define R_TPR 0x080
#define R_EOI 0x0B0
#define R_LDR 0x0D0
#define R_DFR 0x0E0
#define R_SVR 0x0F0
#define R_ISR 0x100
#define R_TMR 0x180
#define R_IRR 0x200
#define R_ESR 0x280
#define R_LVT_CMCI 0x2F0
#define R_LVT_TIMER 0x320
#define R_LVT_THERMAL 0x330
#define R_LVT_PERF 0x340
#define R_LVT_LINT0 0x350
#define R_LVT_LINT1 0x360
#define R_LVT_ERROR 0x370
#define R_TIMER_INITIAL 0x380
#define R_TIMER_CURRENT 0x390
#define R_TIMER_DIVIDE 0x3E0
#define MSR_TSC_DEADLINE 0x6E0
#define SVR_ALLOWED 0x11FFu /* vector, enable, EOI broadcast suppression */
#define LVT_ALLOWED 0x717FFu /* vector, delivery, level, mask, timer mode */
#define LVT_TIMER_MODE(v) (((v) >> 17) & 3)
#define LVT_TIMER_TSC_DEADLINE 2
#define DIVIDE_ALLOWED 0xBu
#define DFR_FLAT 0xFFFFFFFFu
#define DFR_CLUSTER 0x0FFFFFFFu
#define XAPIC_LDR_MASK 0xFF000000u /* the logical ID; the rest reserved */

/* The calling CPU's mode, which its partition may have set since keel's
 * own look at the BSP: each register goes the way the CPU is now. */
static bool here_x2apic(void)
{
	return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

static uint32_t reg_get(bool x2, unsigned int reg)
{
	return x2 ? (uint32_t)rdmsr(X2APIC_MSR_BASE + reg / 16) :
		    xapic[reg / 4];
}

static void reg_set(bool x2, unsigned int reg, uint32_t val)
{
	if (x2)
		wrmsr(X2APIC_MSR_BASE + reg / 16, val);
	else
		xapic[reg / 4] = val;
}

void lapic_save(struct lapic_state *st)
{
	bool x2 = here_x2apic();

	*st = (struct lapic_state){
		.x2apic = x2,
		.tpr = reg_get(x2, R_TPR),
		.svr = reg_get(x2, R_SVR),
		.ldr = reg_get(x2, R_LDR),
		/* no DFR in x2APIC mode: its logical IDs are fixed */
		.dfr = x2 ? 0 : reg_get(x2, R_DFR),
		.esr = reg_get(x2, R_ESR),
		.lvt_timer = reg_get(x2, R_LVT_TIMER),
		.lvt_thermal = reg_get(x2, R_LVT_THERMAL),
		.lvt_perf = reg_get(x2, R_LVT_PERF),
		.lvt_lint0 = reg_get(x2, R_LVT_LINT0),
		.lvt_lint1 = reg_get(x2, R_LVT_LINT1),
		.lvt_error = reg_get(x2, R_LVT_ERROR),
		.lvt_cmci = reg_get(x2, R_LVT_CMCI),
		.timer_initial = reg_get(x2, R_TIMER_INITIAL),
		.timer_current = reg_get(x2, R_TIMER_CURRENT),
		.timer_divide = reg_get(x2, R_TIMER_DIVIDE),
		.tsc_deadline = rdmsr(MSR_TSC_DEADLINE),
	};
	for (unsigned int i = 0; i < 8; i++) {
		st->isr[i] = reg_get(x2, R_ISR + i * 16);
		st->tmr[i] = reg_get(x2, R_TMR + i * 16);
		st->irr[i] = reg_get(x2, R_IRR + i * 16);
	}
}

int lapic_check(const struct lapic_state *st, bool x2apic_here, char *err,
		size_t len)
{
	const uint32_t lvt[] = { st->lvt_timer, st->lvt_thermal, st->lvt_perf,
				 st->lvt_lint0, st->lvt_lint1, st->lvt_error,
				 st->lvt_cmci };

	if (st->x2apic != x2apic_here) {
		snprintf(err, len, "lapic: captured in %s mode, this guest "
			 "CPU runs in %s mode", st->x2apic ? "x2APIC" : "xAPIC",
			 x2apic_here ? "x2APIC" : "xAPIC");
		return -1;
	}
	if (st->x2apic ? st->dfr != 0 :
			 (st->dfr != DFR_FLAT && st->dfr != DFR_CLUSTER) ||
				 (st->ldr & ~XAPIC_LDR_MASK)) {
		snprintf(err, len, "lapic: ldr %#x, dfr %#x", st->ldr, st->dfr);
		return -1;
	}
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
	bool x2 = st->x2apic;

	reg_set(x2, R_SVR, st->svr);
	if (!x2) {
		reg_set(x2, R_DFR, st->dfr);
		reg_set(x2, R_LDR, st->ldr);
	}
	reg_set(x2, R_TPR, st->tpr);
	reg_set(x2, R_ESR, 0);
	reg_set(x2, R_LVT_THERMAL, st->lvt_thermal);
	reg_set(x2, R_LVT_PERF, st->lvt_perf);
	reg_set(x2, R_LVT_LINT0, st->lvt_lint0);
	reg_set(x2, R_LVT_LINT1, st->lvt_lint1);
	reg_set(x2, R_LVT_ERROR, st->lvt_error);
	reg_set(x2, R_LVT_CMCI, st->lvt_cmci);
	reg_set(x2, R_TIMER_DIVIDE, st->timer_divide);
	reg_set(x2, R_LVT_TIMER, st->lvt_timer);
	/* a count-down timer goes on from what was left of it */
	if (LVT_TIMER_MODE(st->lvt_timer) == LVT_TIMER_TSC_DEADLINE)
		wrmsr(MSR_TSC_DEADLINE, st->tsc_deadline);
	else if (st->timer_current)
		reg_set(x2, R_TIMER_INITIAL, st->timer_current);
	for (unsigned int v = 16; v < 256; v++)
		if (st->irr[v / 32] & (1u << (v % 32)))
			send_ipi(0, ICR_SELF_FIXED | v); /* as if it came again */
}

void lapic_quiesce(void)
{
	bool x2 = here_x2apic();

	wrmsr(MSR_TSC_DEADLINE, 0);
	reg_set(x2, R_TIMER_INITIAL, 0);
	reg_set(x2, R_SVR, 0xFF); /* software-disabled: every LVT masked */
	for (unsigned int i = 0; i < 8; i++)
		while (reg_get(x2, R_ISR + i * 16))
			reg_set(x2, R_EOI, 0);
}
