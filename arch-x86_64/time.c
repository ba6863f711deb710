// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/time.h"
#include "arch-x86_64/cpu.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_GATE 0x61
#define GATE_CH2 0x01
#define GATE_SPEAKER 0x02
#define GATE_OUT2 0x20
#define CALIBRATE_MS 10

/* a safe guess until calibrated: delays only get longer */
static uint64_t khz = 4000000;

uint64_t tsc_calibrate(void)
{
	uint16_t latch = PIT_HZ / (1000 / CALIBRATE_MS);
	uint64_t t0, t1;

	/* channel 2, mode 0 (interrupt on terminal count), binary */
	outb(PIT_GATE, (inb(PIT_GATE) & ~GATE_SPEAKER) | GATE_CH2);
	outb(PIT_CMD, 0xB0);
	outb(PIT_CH2, latch & 0xFF);
	outb(PIT_CH2, latch >> 8);
	t0 = rdtsc();
	while (!(inb(PIT_GATE) & GATE_OUT2))
		cpu_relax();
	t1 = rdtsc();
	khz = (t1 - t0) / CALIBRATE_MS;
	return khz;
}

uint64_t tsc_khz(void)
{
	return khz;
}

uint64_t tsc_deadline_us(uint64_t us)
{
	return rdtsc() + us * khz / 1000;
}

bool tsc_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc() - deadline) >= 0;
}

void udelay(uint64_t us)
{
	uint64_t deadline = tsc_deadline_us(us);

	while (!tsc_passed(deadline))
		cpu_relax();
}
