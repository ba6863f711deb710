/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The modern (virtio 1.x) virtio-pci transport of one guest device: its PCI
 * configuration space, the registers in its two memory BARs and its MSI-X
 * table. Register logic only: the rings belong to the backend (vhost-scsi in
 * the companion), and the model reaches keel only through struct
 * virtio_pci_ops.
 *
 * BAR4, 64-bit memory, 16 KiB:       BAR1, 32-bit memory, 4 KiB:
 *   0x0000 common configuration        0x000 MSI-X table (16 bytes a vector)
 *   0x1000 ISR status (1 byte)         0x800 MSI-X pending bit array
 *   0x2000 device configuration
 *   0x3000 notify: queue q at 0x3000 + 4 * q
 *
 * Every refused access leaves the device as it was, counts one in
 * struct virtio_pci_stats, and reads all ones.
 *
 * Not thread-safe: the guest's exits and the companion's raises come from
 * two CPUs, so keel serialises every call on one device. Callbacks run
 * inside the call that caused them.
 */
#ifndef KEEL_VIRTIO_VIRTIO_PCI_H
#define KEEL_VIRTIO_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch-x86_64/pci_cfg.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + the virtio device type */
#define VIRTIO_PCI_REVISION 1
/*
 * Red Hat's "QEMU" subsystem, what Linux guests see on QEMU's modern-only
 * virtio devices; the spec asks non-transitional devices for >= 0x40.
 */
#define VIRTIO_PCI_SUBSYS_VENDOR 0x1AF4
#define VIRTIO_PCI_SUBSYS_ID 0x1100

#define VIRTIO_PCI_MAX_QUEUES 18 /* control, event, 16 request queues */
#define VIRTIO_PCI_MSIX_MAX (VIRTIO_PCI_MAX_QUEUES + 1)
#define VIRTIO_PCI_QUEUE_SIZE_MAX 32768 /* split rings */
#define VIRTIO_PCI_DEV_CFG_MAX 64
#define VIRTIO_NO_VECTOR 0xFFFF

/* BAR layout */
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_MSIX_BAR_SIZE 0x1000
#define VIRTIO_PCI_OFF_MSIX_TABLE 0x000
#define VIRTIO_PCI_OFF_MSIX_PBA 0x800
#define VIRTIO_PCI_BAR 4
#define VIRTIO_PCI_BAR_SIZE 0x4000
#define VIRTIO_PCI_OFF_COMMON 0x0000
#define VIRTIO_PCI_OFF_ISR 0x1000
#define VIRTIO_PCI_OFF_DEVICE 0x2000
#define VIRTIO_PCI_OFF_NOTIFY 0x3000
#define VIRTIO_PCI_NOTIFY_MULT 4

/* virtio_pci_cap.cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* offsets in a virtio vendor capability (ID 0x09) */
#define VIRTIO_PCI_CAP_VNDR 0x09
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_ID 5
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_CFG_CAP_DATA 16

/* MSI-X capability (ID 0x11) and table */
#define VIRTIO_PCI_CAP_MSIX 0x11
#define VIRTIO_PCI_MSIX_CTRL 2
#define VIRTIO_PCI_MSIX_CTRL_QSIZE 0x07FF
#define VIRTIO_PCI_MSIX_CTRL_MASKALL 0x4000
#define VIRTIO_PCI_MSIX_CTRL_ENABLE 0x8000
#define VIRTIO_PCI_MSIX_TABLE_BIR 4
#define VIRTIO_PCI_MSIX_PBA_BIR 8
#define VIRTIO_PCI_MSIX_ENTRY_SIZE 16
#define VIRTIO_PCI_MSIX_ADDR_LO 0
#define VIRTIO_PCI_MSIX_ADDR_HI 4
#define VIRTIO_PCI_MSIX_DATA 8
#define VIRTIO_PCI_MSIX_VEC_CTRL 12
#define VIRTIO_PCI_MSIX_VEC_MASKED 0x1

/* common configuration (struct virtio_pci_common_cfg) */
#define VIRTIO_PCI_COMMON_DFSELECT 0
#define VIRTIO_PCI_COMMON_DF 4
#define VIRTIO_PCI_COMMON_GFSELECT 8
#define VIRTIO_PCI_COMMON_GF 12
#define VIRTIO_PCI_COMMON_MSIX 16
#define VIRTIO_PCI_COMMON_NUMQ 18
#define VIRTIO_PCI_COMMON_STATUS 20
#define VIRTIO_PCI_COMMON_CFGGENERATION 21
#define VIRTIO_PCI_COMMON_Q_SELECT 22
#define VIRTIO_PCI_COMMON_Q_SIZE 24
#define VIRTIO_PCI_COMMON_Q_MSIX 26
#define VIRTIO_PCI_COMMON_Q_ENABLE 28
#define VIRTIO_PCI_COMMON_Q_NOFF 30
#define VIRTIO_PCI_COMMON_Q_DESCLO 32
#define VIRTIO_PCI_COMMON_Q_DESCHI 36
#define VIRTIO_PCI_COMMON_Q_AVAILLO 40
#define VIRTIO_PCI_COMMON_Q_AVAILHI 44
#define VIRTIO_PCI_COMMON_Q_USEDLO 48
#define VIRTIO_PCI_COMMON_Q_USEDHI 52
#define VIRTIO_PCI_COMMON_LEN 56 /* no NOTIF_CONFIG_DATA, no RING_RESET */

/* device_status */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* ISR status */
#define VIRTIO_ISR_QUEUE 0x1
#define VIRTIO_ISR_CONFIG 0x2

/* feature bits */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_BIT(b) (1ull << (b))
/* what the transport offers with every device: what vhost accepts */
#define VIRTIO_PCI_TRANSPORT_FEATURES              \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) |          \
	 VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) | \
	 VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX))

/* one queue as the backend must serve it */
struct virtio_start_queue {
	uint16_t index;
	uint16_t size;
	uint16_t msix_vector; /* VIRTIO_NO_VECTOR: the driver wants none */
	uint64_t desc; /* guest-physical addresses */
	uint64_t avail;
	uint64_t used;
};

/* what DRIVER_OK hands to the backend: only the enabled queues */
struct virtio_start {
	uint64_t features; /* negotiated: a subset of those offered */
	unsigned int nr_queues;
	struct virtio_start_queue queue[VIRTIO_PCI_MAX_QUEUES];
};

/*
 * Called from within the access that caused them. start: DRIVER_OK was set.
 * stop: the driver reset a started device; the reset completes when keel
 * calls virtio_pci_reset_done(). kick: notify of an enabled queue of a
 * started device. deliver: an MSI-X message to send, already validated.
 */
struct virtio_pci_ops {
	void (*start)(void *ctx, const struct virtio_start *s);
	void (*stop)(void *ctx);
	void (*kick)(void *ctx, unsigned int q);
	void (*deliver)(void *ctx, uint64_t addr, uint32_t data);
};

/* refusals by kind, then what the device did */
struct virtio_pci_stats {
	uint64_t bad_access; /* size, alignment, offset, BAR */
	uint64_t ro_write; /* write to a read-only register */
	uint64_t busy; /* write while a reset is in progress */
	uint64_t bad_status; /* clearing bits, out of order, NEEDS_RESET */
	uint64_t bad_features; /* not offered, no VERSION_1, too late */
	uint64_t bad_queue; /* queue register of an absent queue */
	uint64_t bad_queue_size; /* not a power of two, 0, above the max */
	uint64_t bad_vector; /* MSI-X vector beyond the table */
	uint64_t bad_enable; /* queue_enable other than 1 */
	uint64_t double_enable; /* queue_enable on an enabled queue */
	uint64_t queue_locked; /* queue change after enable or DRIVER_OK */
	uint64_t bad_ring_addr; /* ring misaligned or outside guest RAM */
	uint64_t bad_notify; /* wrong index, disabled queue, not started */
	uint64_t msix_lost; /* raise with MSI-X or bus master off */
	uint64_t msix_dropped; /* entry failed validation at delivery */
	uint64_t kicks;
	uint64_t msix_pending; /* raises that found the vector masked */
	uint64_t msix_delivered;
};

struct virtio_queue {
	uint16_t size; /* the max at reset, then the driver's choice */
	uint16_t msix_vector;
	uint16_t last_avail; /* keel's, carried: see virtio_pci_state */
	bool enabled;
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

struct virtio_pci_dev {
	struct pci_cfg_space cfg;
	uint8_t msix_cap; /* offsets of two capabilities in cfg */
	uint8_t pci_cfg_cap;

	/* fixed at init */
	uint16_t num_queues;
	uint16_t queue_max;
	uint16_t msix_size;
	uint8_t apic_id;
	uint64_t ram_size;
	uint64_t features;
	const struct virtio_pci_ops *ops;
	void *ctx;
	uint16_t dev_cfg_len;
	uint8_t dev_cfg_init[VIRTIO_PCI_DEV_CFG_MAX];
	uint8_t dev_cfg_wmask[VIRTIO_PCI_DEV_CFG_MAX];
	uint8_t cfg_init[PCI_CFG_SIZE]; /* the configuration space at init */

	/* what the driver changes; its reset clears all but the MSI-X table */
	uint8_t dev_cfg[VIRTIO_PCI_DEV_CFG_MAX];
	uint32_t dfselect;
	uint32_t gfselect;
	uint64_t driver_features;
	uint16_t config_vector;
	uint8_t status;
	uint8_t isr;
	uint16_t queue_sel;
	bool started; /* ops->start called, ops->stop not yet */
	bool reset_pending; /* ops->stop called, reset_done not yet */
	struct virtio_queue queue[VIRTIO_PCI_MAX_QUEUES];
	/* the table: dwords at VIRTIO_PCI_MSIX_ADDR_LO .. _VEC_CTRL / 4 */
	uint32_t msix[VIRTIO_PCI_MSIX_MAX][VIRTIO_PCI_MSIX_ENTRY_SIZE / 4];
	uint64_t pba;

	struct virtio_pci_stats stats;
};

/* what a device type gives the transport */
struct virtio_pci_setup {
	uint16_t device_type; /* VIRTIO_ID_*: the PCI device is 0x1040 + it */
	uint32_t class_code;
	uint16_t num_queues; /* 1..VIRTIO_PCI_MAX_QUEUES */
	uint16_t queue_max; /* power of two, 1..VIRTIO_PCI_QUEUE_SIZE_MAX */
	uint64_t features; /* device-type bits, added to the transport's */
	const uint8_t *dev_cfg; /* device configuration at reset */
	const uint8_t *dev_cfg_wmask; /* 0xFF: byte the driver may write */
	uint16_t dev_cfg_len; /* <= VIRTIO_PCI_DEV_CFG_MAX */
	uint64_t guest_ram_size; /* guest RAM is [0, guest_ram_size) */
	uint32_t guest_apic_id; /* the only MSI destination: <= 0xFE */
	const struct virtio_pci_ops *ops; /* all four set */
	void *ctx;
};

/* 0, or -1 for a setup out of the ranges above */
int virtio_pci_init(struct virtio_pci_dev *dev,
		    const struct virtio_pci_setup *s);

/*
 * An access of size bytes at offset in BAR bar (VIRTIO_PCI_BAR or
 * VIRTIO_PCI_MSIX_BAR). Sizes are 1, 2 and 4, naturally aligned, and must
 * match the register; the MSI-X table and PBA take 4 or 8; notify is
 * write-only. 0 when done, -1 when refused (*val all ones for a read).
 */
int virtio_pci_bar_read(struct virtio_pci_dev *dev, unsigned int bar,
			uint64_t offset, unsigned int size, uint64_t *val);
int virtio_pci_bar_write(struct virtio_pci_dev *dev, unsigned int bar,
			 uint64_t offset, unsigned int size, uint64_t val);

/*
 * Which BAR and offset a guest-physical address falls in: 0, or -1 when
 * memory decode is off or no programmed BAR covers it.
 */
int virtio_pci_bar_at(const struct virtio_pci_dev *dev, uint64_t gpa,
		      unsigned int *bar, uint64_t *offset);

/*
 * Configuration-space hooks, for pci_bus_add() and the bus's reads. The
 * write hook (a pci_write_hook) performs writes through the PCI_CFG
 * capability's window and delivers pending MSI-X messages that a change to
 * Message Control or Command allows. The read hook must run before the
 * bus reads the bytes: a read covering pci_cfg_data performs the window's
 * BAR read and leaves its result there.
 */
void virtio_pci_cfg_write(void *dev, unsigned int off, unsigned int size,
			  uint32_t val);
void virtio_pci_cfg_read(void *dev, unsigned int off, unsigned int size);

enum virtio_irq {
	VIRTIO_IRQ_DELIVERED,
	VIRTIO_IRQ_PENDING, /* masked: the PBA bit is set */
	VIRTIO_IRQ_DROPPED, /* counted in msix_lost or msix_dropped */
};

/*
 * MSI-X vector (a queue's or the configuration's) from the backend. A
 * masked vector becomes pending and is delivered when unmasked; every
 * delivery checks the entry: fixed delivery, edge, physical destination
 * the guest's APIC ID, vector 0x20..0xFE.
 */
enum virtio_irq virtio_pci_raise(struct virtio_pci_dev *dev,
				 unsigned int vector);

/*
 * The backend has stopped (CLEAR_ENDPOINT and GET_VRING_BASE done): the
 * reset the driver asked for completes and status reads 0. -1 if no reset
 * was waiting.
 */
int virtio_pci_reset_done(struct virtio_pci_dev *dev);

/*
 * The backend failed: sets DEVICE_NEEDS_RESET and notifies the driver of a
 * configuration change (config vector; ISR bit 1 when MSI-X is off).
 */
void virtio_pci_needs_reset(struct virtio_pci_dev *dev);

/*
 * What ops->start is handed (or would be): the negotiated features and
 * every enabled queue. After virtio_pci_load() of a started device, keel
 * re-posts the backend's start with it.
 */
void virtio_pci_start_info(const struct virtio_pci_dev *dev,
			   struct virtio_start *s);

/* ---- handoff: the device's state to another keel of the same build ---- */

struct virtio_pci_state_queue {
	uint16_t size;
	uint16_t msix_vector;
	/*
	 * The backend's next avail index (vhost's GET_VRING_BASE), which keel
	 * fills in after virtio_pci_save() and reads after a load: the model
	 * only carries it (any value; 0 from a reset on).
	 */
	uint16_t last_avail;
	uint8_t enabled; /* 0 or 1 */
	uint8_t reserved; /* 0 */
	uint64_t desc;
	uint64_t avail;
	uint64_t used;
};

/*
 * Everything the driver can change and the device remembers, in a fixed
 * layout: explicit widths, little-endian (x86-64's order), no pointers, no
 * padding. The fields are the device's namesakes; queues beyond
 * num_queues and MSI-X entries beyond msix_size hold what init left.
 */
struct virtio_pci_state {
	uint8_t cfg[PCI_CFG_SIZE]; /* the whole configuration space */
	uint8_t dev_cfg[VIRTIO_PCI_DEV_CFG_MAX];
	uint32_t dfselect;
	uint32_t gfselect;
	uint64_t driver_features;
	uint16_t config_vector;
	uint8_t status;
	uint8_t isr;
	uint16_t queue_sel;
	uint8_t started; /* 0 or 1 */
	uint8_t reset_pending; /* 0 or 1 */
	struct virtio_pci_state_queue queue[VIRTIO_PCI_MAX_QUEUES];
	uint32_t msix[VIRTIO_PCI_MSIX_MAX][VIRTIO_PCI_MSIX_ENTRY_SIZE / 4];
	uint64_t pba;
};

_Static_assert(sizeof(struct virtio_pci_state_queue) == 32,
	       "struct virtio_pci_state_queue: the handoff's layout");
_Static_assert(sizeof(struct virtio_pci_state) == 1232,
	       "struct virtio_pci_state: the handoff's layout");

/* Fills every byte of *st. */
void virtio_pci_save(const struct virtio_pci_dev *dev,
		     struct virtio_pci_state *st);

/*
 * Takes *st into dev, which virtio_pci_init() set up with the source's
 * configuration (dev's earlier state does not matter). Every field is
 * checked against what legal driver writes and keel's calls can reach;
 * then 0, or -1 with dev unchanged and one sentence in err (errlen bytes
 * with its NUL, truncated) naming the first field refused and its value.
 * Statistics stay dev's own. No callback runs: for a started device keel
 * restarts the backend itself (virtio_pci_start_info()); a device loaded
 * with reset_pending waits for virtio_pci_reset_done() as before.
 */
int virtio_pci_load(struct virtio_pci_dev *dev,
		    const struct virtio_pci_state *st, char *err,
		    size_t errlen);

/*
 * Back to the state virtio_pci_init() left (the guest left), but for the
 * statistics: they count what this machine's device did over keel's whole
 * run, whichever guest state it held. No callback runs: stopping the
 * backend is keel's.
 */
void virtio_pci_drop(struct virtio_pci_dev *dev);

#endif
