/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading through a partition's own page tables: linear to guest-physical
 * for the paging modes Linux uses (none, 32-bit, PAE, 4-level), and fetching
 * the bytes of the instruction at CS:RIP for the MMIO decoder.
 */
#ifndef KEEL_ARCH_GUEST_WALK_H
#define KEEL_ARCH_GUEST_WALK_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;

struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	/* reads @len bytes at guest-physical @gpa, NULL if not RAM */
	const void *(*read)(void *ctx, uint64_t gpa, size_t len);
	void *ctx;
};

/* Returns 0 and the guest-physical address, or -1 (not present, or a page
 * table outside RAM). */
int guest_linear_to_phys(const struct guest_paging *pg, uint64_t la,
			 uint64_t *gpa);

/* Copies up to @len bytes of the instruction at the vCPU's CS:RIP into
 * @buf; returns how many could be read (fewer at an unmapped page). */
size_t guest_fetch(struct vcpu *v, uint8_t *buf, size_t len);

#endif
