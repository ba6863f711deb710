/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's state as a handoff stream (runtime/handoff_stream.h: magic,
 * version, sections with lengths and CRC32C): what keel's STATE_GET writes
 * and STATE_SET reads, and what keelctl adds around it to save, restore
 * and migrate a guest. Little-endian throughout.
 *
 * keel's part (KEEL_HC_STATE_GET/SET) is one stream holding COMPAT, VCPU,
 * LAPIC, XSAVE, VIRTIO and UART, each once. keelctl's stream holds keel's
 * sections, then the guest's RAM as MEMORY chunks (pre-copy rounds end with
 * ROUND; later chunks of a page replace earlier ones), then END. The
 * payloads of VCPU, LAPIC, XSAVE, VIRTIO and UART belong to keel (their
 * layout is fixed by the stream version; keel checks every field on load);
 * COMPAT and MEMORY are keelctl's too.
 */
#ifndef KEEL_STATE_H
#define KEEL_STATE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define KEEL_STATE_COMPAT 1
#define KEEL_STATE_VCPU 2
#define KEEL_STATE_LAPIC 3
#define KEEL_STATE_XSAVE 4
#define KEEL_STATE_VIRTIO 5
#define KEEL_STATE_UART 6
#define KEEL_STATE_MEMORY 16 /* repeatable */
#define KEEL_STATE_ROUND 17  /* repeatable */

/* keel's part is at most this long */
#define KEEL_STATE_MAX 0x10000

/*
 * What the guest was shown and holds: a target keel refuses a stream whose
 * COMPAT differs from what it would show the same guest in any field.
 */
struct keel_state_compat {
	char cpu_vendor[12];
	uint32_t cpuid_1_ecx, cpuid_1_edx; /* as the guest saw them */
	uint32_t cpuid_7_ebx, cpuid_7_ecx, cpuid_7_edx;
	uint32_t cpuid_ext1_ecx, cpuid_ext1_edx; /* leaf 0x80000001 */
	uint32_t xsave_size; /* XSAVE area for the guest's XCR0 mask */
	uint32_t apic_id;    /* of the guest's CPU, which the guest keeps */
	uint64_t xcr0_mask;  /* what the guest may enable */
	uint64_t tsc_khz;
	uint64_t memory_size; /* the guest's RAM, bytes */
	uint32_t disk_queues, disk_queue_size;
	char disk_wwpn[64];
};

/* MEMORY: @pages 4 KiB pages from guest-physical @gpa follow */
#define KEEL_STATE_MEMORY_MAX_PAGES 512
struct keel_state_memory {
	uint64_t gpa;
	uint32_t pages;
	uint32_t reserved;
};

/* ROUND: the end of pre-copy round @round, which sent @pages pages */
struct keel_state_round {
	uint32_t round;
	uint32_t reserved;
	uint64_t pages;
};

#endif
