/* SPDX-License-Identifier: GPL-2.0 */
/* Time in VMX root: the TSC, calibrated once against the 8254 PIT. */
#ifndef KEEL_ARCH_TIME_H
#define KEEL_ARCH_TIME_H

#include <stdbool.h>
#include <stdint.h>

/* Measures the TSC over 10 ms of PIT channel 2; returns kHz. */
uint64_t tsc_calibrate(void);
uint64_t tsc_khz(void);
uint64_t tsc_deadline_us(uint64_t us);
bool tsc_passed(uint64_t deadline);
void udelay(uint64_t us);

#endif
