/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's disk: the broker between the virtio-scsi device keel shows
 * the guest (virtio/) and keel's channel to the companion, whose
 * vhost-scsi serves the queues.
 *
 *   guest notify       -> kick bit in the channel, MSI to the companion
 *   DRIVER_OK / reset  -> start / stop request in the channel, MSI
 *   KEEL_HC_RAISE(q)   -> the queue's MSI-X vector, an IPI to the guest CPU
 *   KEEL_HC_ACK(n)     -> request n done; a stop completes the guest's reset
 *   KEEL_HC_FAIL(n)    -> the guest sees DEVICE_NEEDS_RESET
 *
 * The guest's exits and the companion's hypercalls come from two CPUs: one
 * lock serialises everything that touches the device. Nothing is allocated.
 */
#ifndef KEEL_RUNTIME_DISK_H
#define KEEL_RUNTIME_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch-x86_64/spinlock.h"
#include "runtime/channel.h"
#include "runtime/config.h"
#include "virtio/virtio_pci.h"

struct partition;

/* Where keel's firmware role places the device and its BARs in the guest
 * (inside the DSDT's PCI window, above the guest's RAM). */
#define DISK_DEVFN PCI_DEVFN(1, 0)
#define DISK_BAR_GPA 0xC0000000ull      /* BAR4, the virtio registers */
#define DISK_MSIX_BAR_GPA 0xC0004000ull /* BAR1, MSI-X table and PBA */

struct disk_stats {
	uint64_t raises;    /* KEEL_HC_RAISE calls */
	uint64_t bad_raise; /* of an absent queue or a stopped device */
	uint64_t ipi_failed; /* the guest CPU's APIC did not accept one */
	uint64_t acks;
	uint64_t stale;     /* ack or fail of a request not current */
	uint64_t fails;
};

struct disk {
	struct spinlock lock;
	struct virtio_pci_dev dev;
	struct channel *chan;
	struct partition *guest;
	const struct virtio_scsi_cfg *cfg;
	/* stopped for a handoff; @base: each queue's last_avail_idx then */
	bool handoff_stopped;
	uint16_t base[KEEL_CHAN_MAX_QUEUES];
	struct disk_stats stats;
};

/* The device for @guest, served through @chan; on the guest's bus 0. */
int disk_init(struct disk *d, const struct virtio_scsi_cfg *cfg,
	      struct partition *guest, struct channel *chan);

/* The guest's configuration-mechanism ports, under the device's lock. */
int disk_pci_io(struct disk *d, uint16_t port, unsigned int size, bool write,
		uint32_t *val);

/*
 * A guest access to @gpa: 1 when it is not the device's, else 0, or -1
 * when the device refused it (counted in its stats; reads see all ones).
 */
int disk_mmio(struct disk *d, uint64_t gpa, unsigned int size, bool write,
	      uint64_t *val);

/* A companion hypercall KEEL_HC_RAISE, _ACK or _FAIL: 0 or -KEEL_E*. */
long disk_hypercall(struct disk *d, unsigned long nr, unsigned long arg);

/*
 * The handoff, with the guest paused. Serving: the companion may still
 * touch the guest's rings (started and not handoff-stopped, or a reset in
 * progress). disk_handoff_stop() posts a stop request with
 * KEEL_DEV_HANDOFF (0 when nothing is served); the companion's ACK brings
 * the queues' bases. disk_handoff_start() posts the start request with
 * those bases (0 when the device was not started). disk_save() adds the
 * bases to the transport's state; disk_load_copy() loads a state into a
 * copy of the device (nothing changes on a refusal), disk_commit() makes
 * the copy the device; disk_drop() forgets the guest's device.
 */
bool disk_serving(struct disk *d);
long disk_handoff_stop(struct disk *d);
long disk_handoff_start(struct disk *d);
void disk_save(struct disk *d, struct virtio_pci_state *st);
int disk_load_copy(struct disk *d, struct virtio_pci_dev *copy,
		   const struct virtio_pci_state *st, char *err, size_t len);
void disk_commit(struct disk *d, const struct virtio_pci_dev *dev,
		 const struct virtio_pci_state *st);
void disk_drop(struct disk *d);

void disk_print_stats(const struct disk *d);

#endif
