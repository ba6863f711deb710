/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's channel device: the PCI function keel adds to the companion's bus
 * 0, through which the companion (keel.ko) will serve the guest's disk.
 * Today it presents its identity and a register window (BAR0) whose first
 * register is the channel ABI version; keel maps the window out of the
 * companion's EPT wherever the companion's Linux places it.
 */
#ifndef KEEL_RUNTIME_CHANNEL_H
#define KEEL_RUNTIME_CHANNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "arch-x86_64/pci_cfg.h"
#include "vhost/keel_abi.h"

struct partition;

struct channel {
	struct pci_cfg_space cfg;
	uint8_t devfn;      /* on the companion's bus 0 */
	uint64_t regs_gpa;  /* where BAR0 is mapped out of the EPT, 0: nowhere */
	struct partition *part;
};

void channel_init(struct channel *c, struct partition *companion,
		  uint8_t devfn);

/* Config space through the companion's 0xCF8/0xCFC: true when @addr (the
 * CONFIG_ADDRESS latch) names the channel; then @val is read or written. */
bool channel_cfg_access(struct channel *c, uint32_t addr, uint16_t port,
			unsigned int size, bool write, uint32_t *val);

/* A register access in BAR0; returns 0, or -1 when refused. */
int channel_mmio(struct channel *c, uint64_t gpa, unsigned int size,
		 bool write, uint64_t *val);

#endif
