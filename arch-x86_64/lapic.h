/* SPDX-License-Identifier: GPL-2.0 */
/* The local APIC as keel uses it in VMX root: IDs, start-up IPIs and NMIs,
 * and measuring its timer clock. */
#ifndef KEEL_ARCH_LAPIC_H
#define KEEL_ARCH_LAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Finds the mode (xAPIC or x2APIC) the firmware left; returns false when
 * the local APIC is globally disabled. */
bool lapic_init(void);
bool lapic_x2apic_mode(void);
uint32_t lapic_id(void);
/* Returns false if the IPI was not accepted in time. */
bool lapic_send_init(uint32_t apic_id);
bool lapic_send_sipi(uint32_t apic_id, uint8_t vector);
bool lapic_send_nmi(uint32_t apic_id);
/* A fixed, edge, physical-destination interrupt: what an MSI would be. */
bool lapic_send_fixed(uint32_t apic_id, uint8_t vector);
/*
 * The local APIC of the calling CPU as its partition programmed it, in
 * either mode (@x2apic: 1 for x2APIC; keel gives the guest x2APIC where
 * the CPU has it): the KEEL_STATE_LAPIC section. IRR bits are interrupts
 * accepted but not yet taken; lapic_load() raises them again as
 * self-IPIs. ISR and TMR are read-only: an interrupt in service at the
 * capture is simply ended by the guest's EOI on the other side, which then
 * finds no bit to clear. The local APIC ID is the CPU's own (COMPAT holds
 * it); LDR and DFR count only in xAPIC mode, where the guest sets them.
 */
struct lapic_state {
	uint32_t x2apic, tpr, svr, ldr, dfr, esr;
	uint32_t lvt_timer, lvt_thermal, lvt_perf, lvt_lint0, lvt_lint1,
		lvt_error, lvt_cmci;
	uint32_t timer_initial, timer_current, timer_divide;
	uint32_t isr[8], tmr[8], irr[8];
	uint64_t tsc_deadline;
};

void lapic_save(struct lapic_state *st);
/* 0 or -1 with one sentence in @err; @x2apic_here: the mode of the CPU
 * the state would be loaded on */
int lapic_check(const struct lapic_state *st, bool x2apic_here, char *err,
		size_t len);
/* on a CPU in the mode lapic_check() was given */
void lapic_load(const struct lapic_state *st);
/* software-disabled, timer stopped, nothing pending (a dropped guest) */
void lapic_quiesce(void);

/* The local APIC timer's input clock, measured against the TSC. */
uint32_t lapic_timer_khz(void);

#endif
