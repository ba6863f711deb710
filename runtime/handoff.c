// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's handoff, keel's side (runtime/handoff.h).
 *
 * Pause: the companion sets the request and sends the guest's CPU an NMI,
 * which makes it exit (or, in VMX root, end its exit); before its next
 * entry the CPU parks in handoff_park(), at an instruction boundary with no
 * exit half handled, and serves the companion's requests there: capture,
 * load, drop. Everything else (the device, the UART, the stream) runs on
 * the companion's CPU while the guest's is parked: nothing races with it.
 *
 * A stream keel reads is checked whole before anything changes: the
 * container (CRC32C, structure), the compatibility section against this
 * machine, then every field of every section; the device and the UART
 * load into copies first. Only then are they committed and does the
 * guest's CPU load its part.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/ept.h"
#include "arch-x86_64/guest_cpu.h"
#include "arch-x86_64/lapic.h"
#include "arch-x86_64/time.h"
#include "arch-x86_64/vcpu.h"
#include "runtime/disk.h"
#include "runtime/handoff.h"
#include "runtime/handoff_stream.h"
#include "runtime/partition.h"
#include "runtime/partitions.h"
#include "vhost/keel_abi.h"
#include "vhost/keel_state.h"

#define PAUSE_TIMEOUT_US (1000ull * 1000)
#define ERR_LEN 200
#define XSAVE_HEAD (offsetof(struct vcpu_xsave, reserved) + 4)

enum op { OP_NONE, OP_CAPTURE, OP_LOAD, OP_DROP, OP_FLUSH_EPT };

/* the guest's machine state, as captured or as read from a stream */
struct machine_state {
	struct keel_state_compat compat;
	struct vcpu_state vcpu;
	struct lapic_state lapic;
	struct vcpu_xsave xsave;
	struct virtio_pci_state virtio;
	struct uart_emul_state uart;
};

static struct {
	struct partition *guest;
	struct partition *companion;
	bool dirty_log; /* both EPTs' dirty flags track the guest's RAM */
	struct disk *disk;
	const struct virtio_scsi_cfg *disk_cfg;
	uint32_t tsc_khz;
	volatile bool pause;  /* asked by the companion */
	volatile bool parked; /* the guest's CPU is in handoff_park() */
	volatile int op;      /* for the parked CPU; OP_NONE when done */
	int op_result;
	bool dropped;
	struct machine_state st; /* captured, or checked and being loaded */
	struct machine_state in; /* a stream being read */
	struct virtio_pci_dev dev_copy;
	struct uart_emul uart_copy;
	uint8_t section[sizeof(struct vcpu_xsave)];
	char err[ERR_LEN];
} ho;

void handoff_init(struct partition *guest, struct partition *companion,
		  struct disk *disk, const struct virtio_scsi_cfg *disk_cfg,
		  uint32_t tsc_khz)
{
	ho.guest = guest;
	ho.companion = companion;
	ho.disk = disk;
	ho.disk_cfg = disk_cfg;
	ho.tsc_khz = tsc_khz;
}

bool handoff_dropped(void)
{
	return ho.dropped;
}

void handoff_hold(void)
{
	ho.pause = true;
	ho.dropped = true;
	printf("handoff: the guest waits, dropped, for a state to load "
	       "(start = \"wait\")\n");
}

/* ---- the guest's CPU ---- */

bool handoff_pause_pending(const struct partition *p)
{
	return p == ho.guest && __atomic_load_n(&ho.pause, __ATOMIC_ACQUIRE);
}

static int run_op(struct vcpu *v, int op)
{
	switch (op) {
	case OP_CAPTURE:
		vcpu_save(v, &ho.st.vcpu, &ho.st.xsave);
		lapic_save(&ho.st.lapic);
		/* the stream holds the deadline in the guest's TSC */
		if (ho.st.lapic.tsc_deadline)
			ho.st.lapic.tsc_deadline += v->tsc_offset;
		return 0;
	case OP_LOAD:
		vcpu_load(v, &ho.st.vcpu, &ho.st.xsave);
		if (ho.st.lapic.tsc_deadline)
			ho.st.lapic.tsc_deadline = guest_tsc_deadline_cpu(
				v, ho.st.lapic.tsc_deadline);
		lapic_load(&ho.st.lapic);
		return 0;
	case OP_DROP:
		vcpu_reset(v);
		lapic_quiesce();
		return 0;
	case OP_FLUSH_EPT:
		ept_invalidate(&v->part->ept);
		return 0;
	}
	return -1;
}

void handoff_park(struct vcpu *v)
{
	uint64_t parked_tsc = rdtsc();
	bool loaded = false;

	__atomic_store_n(&ho.parked, true, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ho.pause, __ATOMIC_ACQUIRE)) {
		int op = __atomic_load_n(&ho.op, __ATOMIC_ACQUIRE);

		if (op != OP_NONE) {
			ho.op_result = run_op(v, op);
			loaded |= op == OP_LOAD;
			__atomic_store_n(&ho.op, OP_NONE, __ATOMIC_RELEASE);
		}
		cpu_relax();
	}
	/* the guest's time stood still while it was parked, as after a load:
	 * a pause of a minute must not look like a lockup to its kernel */
	if (!loaded)
		vcpu_tsc_skip(v, rdtsc() - parked_tsc);
	__atomic_store_n(&ho.parked, false, __ATOMIC_RELEASE);
}

/* ---- the companion's CPU ---- */

static int on_guest_cpu(int op)
{
	__atomic_store_n(&ho.op, op, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ho.op, __ATOMIC_ACQUIRE) != OP_NONE)
		cpu_relax();
	return ho.op_result;
}

static long refuse(long rc, const char *why)
{
	printf("handoff: refused: %s\n", why);
	return rc;
}

/* Parks the guest's CPU: 0, or -KEEL_EBUSY (said why). */
static long pause_quietly(void)
{
	uint64_t deadline = tsc_deadline_us(PAUSE_TIMEOUT_US);

	if (ho.guest->stopped)
		return refuse(-KEEL_EBUSY, "the guest has stopped");
	__atomic_store_n(&ho.pause, true, __ATOMIC_RELEASE);
	lapic_send_nmi(ho.guest->apic_id);
	while (!__atomic_load_n(&ho.parked, __ATOMIC_ACQUIRE)) {
		if (tsc_passed(deadline)) {
			__atomic_store_n(&ho.pause, false, __ATOMIC_RELEASE);
			return refuse(-KEEL_EBUSY,
				      "the guest's CPU did not park in time");
		}
		cpu_relax();
	}
	return 0;
}

static long pause_guest(void)
{
	if (ho.pause)
		return refuse(-KEEL_EBUSY, "the guest is paused already");
	if (pause_quietly())
		return -KEEL_EBUSY;
	printf("handoff: guest paused\n");
	return 0;
}

static long resume_guest(void)
{
	if (!ho.pause)
		return refuse(-KEEL_EBUSY, "the guest is not paused");
	if (ho.dropped)
		return refuse(-KEEL_EBUSY, "the guest was dropped: restore a "
					   "state first");
	if (!disk_serving(ho.disk))
		return refuse(-KEEL_EBUSY, "the guest's disk is stopped for a "
					   "handoff: start it first");
	__atomic_store_n(&ho.pause, false, __ATOMIC_RELEASE);
	printf("handoff: guest resumed\n");
	return 0;
}

/* What this machine shows the guest: a stream must match all of it. */
static void compat(struct keel_state_compat *c)
{
	struct cpuid_regs v = cpuid(0, 0);
	struct cpuid_regs l1 = guest_cpuid(ho.guest, 1, 0, 0);
	struct cpuid_regs l7 = guest_cpuid(ho.guest, 7, 0, 0);
	struct cpuid_regs e1 = guest_cpuid(ho.guest, 0x80000001, 0, 0);
	struct cpuid_regs xs = guest_cpuid(ho.guest, 0xD, 0, 0);

	memset(c, 0, sizeof(*c));
	memcpy(c->cpu_vendor, &v.ebx, 4);
	memcpy(c->cpu_vendor + 4, &v.edx, 4);
	memcpy(c->cpu_vendor + 8, &v.ecx, 4);
	c->cpuid_1_ecx = l1.ecx;
	c->cpuid_1_edx = l1.edx;
	c->cpuid_7_ebx = l7.ebx;
	c->cpuid_7_ecx = l7.ecx;
	c->cpuid_7_edx = l7.edx;
	c->cpuid_ext1_ecx = e1.ecx;
	c->cpuid_ext1_edx = e1.edx;
	c->xsave_size = xs.ecx;
	c->xcr0_mask = ((uint64_t)xs.edx << 32) | xs.eax;
	c->apic_id = ho.guest->apic_id;
	c->tsc_khz = ho.tsc_khz;
	c->memory_size = ho.guest->ram_size;
	c->disk_queues = ho.disk_cfg->queues;
	c->disk_queue_size = ho.disk_cfg->queue_size;
	snprintf(c->disk_wwpn, sizeof(c->disk_wwpn), "%s", ho.disk_cfg->wwpn);
}

static long state_get(uint64_t gpa, uint64_t len)
{
	void *buf = partitions_companion_buffer(gpa, len);
	struct hs_membuf mb = { buf, len, 0 };
	const struct machine_state *s = &ho.st;
	struct hs_encoder enc;

	if (!buf)
		return refuse(-KEEL_EFAULT, "the buffer is not the companion's "
					    "memory");
	if (!ho.pause || ho.dropped)
		return refuse(-KEEL_EBUSY, "no paused guest to capture");
	if (disk_serving(ho.disk))
		return refuse(-KEEL_EBUSY, "the guest's disk is still served: "
					   "stop it for the handoff first");
	on_guest_cpu(OP_CAPTURE);
	compat(&ho.st.compat);
	disk_save(ho.disk, &ho.st.virtio);
	uart_emul_save(&ho.guest->uart, &ho.st.uart);
	hs_encoder_init(&enc, hs_membuf_write, &mb);
	hs_encode_section(&enc, KEEL_STATE_COMPAT, &s->compat,
			  sizeof(s->compat));
	hs_encode_section(&enc, KEEL_STATE_VCPU, &s->vcpu, sizeof(s->vcpu));
	hs_encode_section(&enc, KEEL_STATE_LAPIC, &s->lapic, sizeof(s->lapic));
	const struct hs_iovec xs[] = {
		{ &s->xsave, XSAVE_HEAD },
		{ s->xsave.area, s->xsave.size },
	};
	hs_encode_sectionv(&enc, KEEL_STATE_XSAVE, xs, 2);
	hs_encode_section(&enc, KEEL_STATE_VIRTIO, &s->virtio,
			  sizeof(s->virtio));
	hs_encode_section(&enc, KEEL_STATE_UART, &s->uart, sizeof(s->uart));
	if (hs_encode_end(&enc))
		return refuse(-KEEL_ENOSPC, "the buffer is too small");
	printf("handoff: state captured: %lu bytes, vcpu at rip %#llx, cr0 "
	       "%#llx, cr4 %#llx, efer %#llx, xcr0 %#llx, local APIC in %s "
	       "mode\n",
	       (unsigned long)mb.len, (unsigned long long)s->vcpu.rip,
	       (unsigned long long)s->vcpu.cr0, (unsigned long long)s->vcpu.cr4,
	       (unsigned long long)s->vcpu.efer,
	       (unsigned long long)s->vcpu.xcr0,
	       s->lapic.x2apic ? "x2APIC" : "xAPIC");
	return (long)mb.len;
}

/* ---- reading a stream ---- */

#define RULE(t, len) { t, len, len, false, true }
static const struct hs_section_rule rules[] = {
	RULE(KEEL_STATE_COMPAT, sizeof(struct keel_state_compat)),
	RULE(KEEL_STATE_VCPU, sizeof(struct vcpu_state)),
	RULE(KEEL_STATE_LAPIC, sizeof(struct lapic_state)),
	{ KEEL_STATE_XSAVE, XSAVE_HEAD, XSAVE_HEAD + VCPU_XSAVE_MAX, false,
	  true },
	RULE(KEEL_STATE_VIRTIO, sizeof(struct virtio_pci_state)),
	RULE(KEEL_STATE_UART, sizeof(struct uart_emul_state)),
};

static int take_section(void *ctx, const struct hs_section *sec, char *why,
			size_t whylen)
{
	struct machine_state *in = ctx;
	void *to[] = {
		[KEEL_STATE_COMPAT] = &in->compat, [KEEL_STATE_VCPU] = &in->vcpu,
		[KEEL_STATE_LAPIC] = &in->lapic,   [KEEL_STATE_XSAVE] = &in->xsave,
		[KEEL_STATE_VIRTIO] = &in->virtio, [KEEL_STATE_UART] = &in->uart,
	};

	if (sec->type != KEEL_STATE_XSAVE) {
		memcpy(to[sec->type], sec->payload, sec->len);
		return 0;
	}
	memcpy(&in->xsave, sec->payload, XSAVE_HEAD);
	if (in->xsave.size != sec->len - XSAVE_HEAD) {
		snprintf(why, whylen, "xsave: size %u, %lu bytes of area",
			 in->xsave.size, (unsigned long)(sec->len - XSAVE_HEAD));
		return -1;
	}
	memcpy(in->xsave.area, sec->payload + XSAVE_HEAD, in->xsave.size);
	return 0;
}

/*
 * Two machines never measure the same TSC frequency (Bochs' calibrations
 * alone spread over 49995..50004 kHz): what differs by under 0.1 % is the
 * same clock to the guest, whose Linux corrects far larger drifts.
 */
#define TSC_TOLERANCE_PPM 1000
static bool tsc_close(uint64_t a, uint64_t b)
{
	uint64_t d = a > b ? a - b : b - a;

	return d * 1000000 <= TSC_TOLERANCE_PPM * (a > b ? a : b);
}

static const char *compat_mismatch(const struct keel_state_compat *a,
				   const struct keel_state_compat *b)
{
	if (memcmp(a->cpu_vendor, b->cpu_vendor, sizeof(a->cpu_vendor)))
		return "CPU vendor";
	if (a->cpuid_1_ecx != b->cpuid_1_ecx || a->cpuid_1_edx != b->cpuid_1_edx ||
	    a->cpuid_7_ebx != b->cpuid_7_ebx || a->cpuid_7_ecx != b->cpuid_7_ecx ||
	    a->cpuid_7_edx != b->cpuid_7_edx ||
	    a->cpuid_ext1_ecx != b->cpuid_ext1_ecx ||
	    a->cpuid_ext1_edx != b->cpuid_ext1_edx)
		return "CPU features shown to the guest";
	if (a->xsave_size != b->xsave_size || a->xcr0_mask != b->xcr0_mask)
		return "XSAVE features";
	/* the guest's kernel addresses its own interrupts by it */
	if (a->apic_id != b->apic_id)
		return "APIC ID of the guest's CPU";
	if (!tsc_close(a->tsc_khz, b->tsc_khz))
		return "TSC frequency";
	if (a->memory_size != b->memory_size)
		return "guest memory size";
	if (a->disk_queues != b->disk_queues ||
	    a->disk_queue_size != b->disk_queue_size ||
	    strncmp(a->disk_wwpn, b->disk_wwpn, sizeof(a->disk_wwpn)))
		return "disk configuration";
	return NULL;
}

/* Every check before anything changes; the device and UART in copies. */
static long check_stream(const void *buf, uint64_t len)
{
	struct hs_decoder_config cfg = {
		.rules = rules, .nrules = sizeof(rules) / sizeof(rules[0]),
		.buf = ho.section, .buflen = sizeof(ho.section),
		.on_section = take_section, .ctx = &ho.in,
		.err = ho.err, .errlen = sizeof(ho.err),
	};
	struct keel_state_compat mine;
	const char *what;

	memset(&ho.in, 0, sizeof(ho.in));
	if (hs_decode_buffer(&cfg, buf, len, NULL))
		return refuse(-KEEL_EBADMSG, ho.err);
	compat(&mine);
	what = compat_mismatch(&ho.in.compat, &mine);
	if (what) {
		snprintf(ho.err, sizeof(ho.err), "the stream's %s differs from "
			 "this machine's", what);
		return refuse(-KEEL_EBADMSG, ho.err);
	}
	if (vcpu_check(&ho.in.vcpu, &ho.in.xsave, ho.err, sizeof(ho.err)) ||
	    lapic_check(&ho.in.lapic, !ho.guest->xapic_trapped, ho.err,
			sizeof(ho.err)) ||
	    disk_load_copy(ho.disk, &ho.dev_copy, &ho.in.virtio, ho.err,
			   sizeof(ho.err)))
		return refuse(-KEEL_EBADMSG, ho.err);
	ho.uart_copy = ho.guest->uart;
	if (uart_emul_load(&ho.uart_copy, &ho.in.uart, ho.err, sizeof(ho.err)))
		return refuse(-KEEL_EBADMSG, ho.err);
	return 0;
}

/* A stream the companion hands keel: checked whole into ho.in. */
static long check_companion_stream(uint64_t gpa, uint64_t len)
{
	const void *buf = partitions_companion_buffer(gpa, len);

	if (!buf)
		return refuse(-KEEL_EFAULT, "the buffer is not the companion's "
					    "memory");
	return check_stream(buf, len);
}

static long state_set(uint64_t gpa, uint64_t len)
{
	long rc;

	if (!ho.pause)
		return refuse(-KEEL_EBUSY, "the guest is running: pause or drop "
					   "it first");
	if (disk_serving(ho.disk))
		return refuse(-KEEL_EBUSY, "the guest's disk is still served");
	rc = check_companion_stream(gpa, len);
	if (rc)
		return rc;
	ho.st = ho.in;
	on_guest_cpu(OP_LOAD);
	disk_commit(ho.disk, &ho.dev_copy, &ho.in.virtio);
	ho.guest->uart = ho.uart_copy;
	ho.dropped = false;
	ho.dirty_log = false;
	printf("handoff: state loaded: vcpu at rip %#llx\n",
	       (unsigned long long)ho.st.vcpu.rip);
	return disk_handoff_start(ho.disk);
}

static long state_check(uint64_t gpa, uint64_t len)
{
	long rc = check_companion_stream(gpa, len);

	if (!rc)
		printf("handoff: state checked: a guest at rip %#llx would "
		       "load\n", (unsigned long long)ho.in.vcpu.rip);
	return rc;
}

/*
 * The guest's pages written since the last call, by the guest (its EPT's
 * dirty flags) or by the companion (its EPT's, over the window: where
 * vhost-scsi writes); the first call starts tracking and reports every
 * page. The guest is parked while its flags are read and cleared and its
 * CPU flushes its EPT TLB, so that no write slips between the two.
 */
static long dirty_log(uint64_t gpa, uint64_t len)
{
	uint64_t *bitmap = partitions_companion_buffer(gpa, len);
	uint64_t pages = ho.guest->ram_size / PAGE_SIZE, found = 0;
	uint64_t words = (pages + 63) / 64;
	bool parked_here = !ho.pause;

	if (!bitmap || (gpa & 7) || len < words * 8)
		return refuse(-KEEL_EFAULT, "the dirty bitmap is not the "
					    "companion's memory or too small");
	if (!ho.guest->ept.ad || !ho.companion->ept.ad)
		return refuse(-KEEL_ENOSYS, "this CPU keeps no EPT dirty flags: "
					    "no pre-copy");
	if (ho.dropped)
		return refuse(-KEEL_EBUSY, "no guest to track");
	if (parked_here && pause_quietly())
		return -KEEL_EBUSY;
	memset(bitmap, 0, words * 8);
	if (!ho.dirty_log &&
	    (ept_split_4k(&ho.guest->ept, 0, ho.guest->ram_size) ||
	     ept_split_4k(&ho.companion->ept, ho.guest->ram_hpa,
			  ho.guest->ram_size))) {
		found = -KEEL_ENOSPC;
		printf("handoff: keel's page pool is too small to track the "
		       "guest's pages\n");
	} else {
		ept_harvest_dirty(&ho.guest->ept, 0, ho.guest->ram_size, bitmap);
		ept_harvest_dirty(&ho.companion->ept, ho.guest->ram_hpa,
				  ho.guest->ram_size, bitmap);
		ept_invalidate(&ho.companion->ept);
		on_guest_cpu(OP_FLUSH_EPT);
		if (!ho.dirty_log) {
			memset(bitmap, 0xFF, words * 8);
			if (pages % 64)
				bitmap[words - 1] = (1ull << (pages % 64)) - 1;
		}
		ho.dirty_log = true;
		for (uint64_t i = 0; i < words; i++)
			found += (uint64_t)__builtin_popcountll(bitmap[i]);
	}
	if (parked_here)
		__atomic_store_n(&ho.pause, false, __ATOMIC_RELEASE);
	return (long)found;
}

static long drop(void)
{
	if (!ho.pause)
		return refuse(-KEEL_EBUSY, "the guest is running: pause it first");
	if (disk_serving(ho.disk))
		return refuse(-KEEL_EBUSY, "the guest's disk is still served");
	on_guest_cpu(OP_DROP);
	memset((void *)ho.guest->ram_hpa, 0, ho.guest->ram_size);
	disk_drop(ho.disk);
	ho.dropped = true;
	ho.dirty_log = false;
	printf("handoff: guest dropped: its vcpu, local APIC, device and %llu "
	       "MiB of RAM cleared\n",
	       (unsigned long long)ho.guest->ram_size >> 20);
	return 0;
}

long handoff_hypercall(unsigned long nr, uint64_t buf, uint64_t len)
{
	switch (nr) {
	case KEEL_HC_PAUSE:
		return pause_guest();
	case KEEL_HC_RESUME:
		return resume_guest();
	case KEEL_HC_HANDOFF_STOP:
		if (!ho.pause || ho.dropped)
			return refuse(-KEEL_EBUSY, "no paused guest");
		return disk_handoff_stop(ho.disk);
	case KEEL_HC_HANDOFF_START:
		if (!ho.pause || ho.dropped)
			return refuse(-KEEL_EBUSY, "no paused guest");
		return disk_handoff_start(ho.disk);
	case KEEL_HC_STATE_GET:
		return state_get(buf, len);
	case KEEL_HC_STATE_SET:
		return state_set(buf, len);
	case KEEL_HC_DROP:
		return drop();
	case KEEL_HC_STATE_CHECK:
		return state_check(buf, len);
	case KEEL_HC_DIRTY_LOG:
		return dirty_log(buf, len);
	}
	return -KEEL_ENOSYS;
}
