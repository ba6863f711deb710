/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A partition: its configuration, memory (EPT), the I/O and MSR bitmaps its
 * CPU runs with, the devices keel emulates for it, and what keel counted
 * about it. keel has two: the companion (identity-mapped, owns the
 * hardware) and the guest (a small virtual PC in its memory window).
 */
#ifndef KEEL_RUNTIME_PARTITION_H
#define KEEL_RUNTIME_PARTITION_H

#include <stdbool.h>
#include <stdint.h>

#include "arch-x86_64/ept.h"
#include "arch-x86_64/ioapic_emul.h"
#include "arch-x86_64/pci_cfg.h"
#include "arch-x86_64/uart_emul.h"
#include "arch-x86_64/vcpu.h"
#include "runtime/channel.h"
#include "runtime/config.h"
#include "runtime/disk.h"

enum partition_kind { PART_COMPANION, PART_GUEST };

struct exit_stat {
	uint64_t count;
	uint64_t cycles; /* TSC spent in keel handling these exits */
};

/* What keel refused a partition, each counted. */
struct refusals {
	uint64_t io;   /* port access to nothing keel emulates */
	uint64_t mmio; /* access to unmapped guest-physical memory */
	uint64_t insn; /* MMIO by an instruction keel does not emulate (#GP) */
	uint64_t msr;  /* MSR outside the partition's policy (#GP) */
	uint64_t ipi;  /* ICR write that was not a self-IPI */
	uint64_t dev;  /* device register write a model refused */
	uint16_t last_port; /* the port of the last refused io */
	uint64_t last_mmio; /* the address of the last refused mmio */
};

struct partition {
	const char *name;
	enum partition_kind kind;
	unsigned int id; /* VPID - 1 */
	const struct partition_cfg *cfg;
	struct ept ept;
	uint64_t io_bitmap;  /* physical: bitmaps A and B, 8 KiB */
	uint64_t msr_bitmap; /* physical, 4 KiB */
	uint64_t vcpu_pages; /* physical, VCPU_BACKEND_PAGES, zeroed */
	uint64_t ram_hpa;    /* host-physical address of GPA 0 */
	uint64_t ram_size;   /* guest: window size; companion: 0 (identity) */
	uint32_t apic_id;    /* the APIC ID of the partition's CPU */
	bool xapic_trapped;  /* no x2APIC: its xAPIC page is read-only */
	uint32_t xapic_icr_hi; /* ICR destination, until ICR low is written */
	uint16_t sleep_port; /* writes with SLP_EN here mean power-off */
	uint16_t sleep_en;   /* the SLP_EN bit at that port */
	bool sleep_real;     /* a real register: everything else passes */
	uint32_t sleep_value; /* the power-off write, to complete it later */
	struct uart_emul uart;
	struct ioapic_emul ioapic;
	struct pci_bus pci;
	struct pci_cfg_space host_bridge;
	struct channel *chan;  /* companion: keel's channel device */
	struct disk *disk;     /* the guest's disk: its device (guest), its
				* hypercalls (companion) */
	uint32_t cfg_addr;     /* companion: its CONFIG_ADDRESS (0xCF8) */
	struct exit_stat exits[VCPU_EXIT_REASONS];
	struct refusals refused;
	volatile bool stopped;
	const char *stop_reason;
	struct vcpu vcpu;
};

/* Host address keel uses for guest-physical @gpa of @p (NULL if @len bytes
 * there are not the partition's RAM). */
void *partition_gpa_to_hva(const struct partition *p, uint64_t gpa,
			   uint64_t len);

/* Port I/O and MMIO the vCPU exit handlers could not resolve in hardware:
 * returns 0, or -1 when nothing answers (reads then see all ones). */
int partition_pio(struct partition *p, uint16_t port, unsigned int size,
		  bool write, uint32_t *val);
int partition_mmio(struct vcpu *v, uint64_t gpa, unsigned int size,
		   bool write, uint64_t *val);

/* A VMCALL of @p: the companion's hypercalls (KEEL_HC_*, arguments from
 * RDI and RSI), whose result (a value >= 0 or -KEEL_E*) goes to @ret;
 * false when @p may make none (the caller raises #UD). */
bool partition_hypercall(struct partition *p, unsigned long nr, uint64_t arg,
			 uint64_t arg2, long *ret);

/* Marks @p stopped with @why (kept for the final report). */
void partition_stop(struct partition *p, const char *why);

/* Per-reason exit counts and cycles, refusals. */
void partition_print_stats(const struct partition *p);

#endif
