// SPDX-License-Identifier: GPL-2.0
/* I/O APIC register file for a partition (see ioapic_emul.h). */
#include <string.h>

#include "arch-x86_64/ioapic_emul.h"

#define ID_SHIFT 24
#define ID_MASK 0x0F

#define RTE_DELIVERY_STATUS (1u << 12)
#define RTE_REMOTE_IRR (1u << 14)
#define RTE_MASKED (1u << 16)

#define REDTBL_END (IOAPIC_REG_REDTBL + 2 * IOAPIC_EMUL_PINS)

void ioapic_emul_init(struct ioapic_emul *io, uint8_t id)
{
	unsigned int pin;

	memset(io, 0, sizeof(*io));
	io->id = id & ID_MASK;
	for (pin = 0; pin < IOAPIC_EMUL_PINS; pin++)
		io->redtbl[2 * pin] = RTE_MASKED;
}

static uint32_t read_reg(const struct ioapic_emul *io)
{
	unsigned int reg = io->regsel;

	if (reg == IOAPIC_REG_ID || reg == IOAPIC_REG_ARB)
		return (uint32_t)io->id << ID_SHIFT;
	if (reg == IOAPIC_REG_VER)
		return IOAPIC_VERSION;
	if (reg >= IOAPIC_REG_REDTBL && reg < REDTBL_END)
		return io->redtbl[reg - IOAPIC_REG_REDTBL];
	return 0;
}

static int write_reg(struct ioapic_emul *io, uint32_t val)
{
	unsigned int reg = io->regsel;
	uint32_t *rte;

	if (reg == IOAPIC_REG_ID) {
		io->id = (val >> ID_SHIFT) & ID_MASK;
		return 0;
	}
	if (reg < IOAPIC_REG_REDTBL || reg >= REDTBL_END)
		return 1;
	rte = &io->redtbl[reg - IOAPIC_REG_REDTBL];
	/* even index: the low dword, whose status bits keel never sets */
	if (!(reg & 1))
		val &= ~(RTE_DELIVERY_STATUS | RTE_REMOTE_IRR);
	*rte = val;
	return 0;
}

int ioapic_emul_read(struct ioapic_emul *io, uint64_t offset, unsigned int size,
		     uint32_t *val)
{
	*val = 0xFFFFFFFF;
	if (size != 4)
		return -1;
	switch (offset) {
	case IOAPIC_IOREGSEL:
		*val = io->regsel;
		return 0;
	case IOAPIC_IOWIN:
		*val = read_reg(io);
		return 0;
	case IOAPIC_EOI:
		*val = 0;
		return 0;
	default:
		return -1;
	}
}

int ioapic_emul_write(struct ioapic_emul *io, uint64_t offset,
		      unsigned int size, uint32_t val)
{
	if (size != 4)
		return -1;
	switch (offset) {
	case IOAPIC_IOREGSEL:
		io->regsel = (uint8_t)val;
		return 0;
	case IOAPIC_IOWIN:
		return write_reg(io, val);
	case IOAPIC_EOI:
		/* no interrupt is ever delivered, so none is ever ended */
		return 0;
	default:
		return -1;
	}
}
