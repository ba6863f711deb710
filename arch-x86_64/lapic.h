/* SPDX-License-Identifier: GPL-2.0 */
/* The local APIC as keel uses it in VMX root: IDs, start-up IPIs and NMIs,
 * and measuring its timer clock. */
#ifndef KEEL_ARCH_LAPIC_H
#define KEEL_ARCH_LAPIC_H

#include <stdbool.h>
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
/* The local APIC timer's input clock, measured against the TSC. */
uint32_t lapic_timer_khz(void);

#endif
