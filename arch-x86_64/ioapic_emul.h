/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O APIC registers a partition finds at the address its MADT gives
 * (0xFEC00000), so Linux can program its ISA IRQs. keel never delivers an
 * interrupt through it: this is the register file only.
 */
#ifndef KEEL_ARCH_IOAPIC_EMUL_H
#define KEEL_ARCH_IOAPIC_EMUL_H

#include <stdint.h>

#define IOAPIC_EMUL_PINS 24

/* MMIO offsets */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* register indices selected through IOREGSEL */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10 /* + 2 * pin: low dword, + 1: high dword */

#define IOAPIC_VERSION 0x00170011 /* 24 entries, version 0x11 */

struct ioapic_emul {
	uint8_t regsel;
	uint8_t id;
	uint32_t redtbl[2 * IOAPIC_EMUL_PINS];
};

void ioapic_emul_init(struct ioapic_emul *io, uint8_t id);
/*
 * 0 when done; -1 when refused (not 4 bytes, or not IOREGSEL, IOWIN or EOI),
 * which leaves *val all ones.
 */
int ioapic_emul_read(struct ioapic_emul *io, uint64_t offset, unsigned int size,
		     uint32_t *val);
/* 0 when done, 1 when the register is unknown or read-only, -1 refused */
int ioapic_emul_write(struct ioapic_emul *io, uint64_t offset,
		      unsigned int size, uint32_t val);

#endif
