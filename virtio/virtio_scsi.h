/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's virtio-scsi controller on the modern virtio-pci transport:
 * its identity, queues (control 0, event 1, requests 2 and up) and the 36
 * bytes of struct virtio_scsi_config. vhost-scsi serves the queues.
 */
#ifndef KEEL_VIRTIO_VIRTIO_SCSI_H
#define KEEL_VIRTIO_VIRTIO_SCSI_H

#include <stdint.h>

#include "virtio/virtio_pci.h"

#define VIRTIO_ID_SCSI 8
#define VIRTIO_SCSI_CLASS 0x010000 /* mass storage, SCSI */

#define VIRTIO_SCSI_CTRL_QUEUE 0
#define VIRTIO_SCSI_EVENT_QUEUE 1
#define VIRTIO_SCSI_REQUEST_QUEUE0 2
#define VIRTIO_SCSI_QUEUES_MAX (VIRTIO_PCI_MAX_QUEUES - 2)

/* struct virtio_scsi_config, little-endian */
#define VIRTIO_SCSI_CFG_NUM_QUEUES 0
#define VIRTIO_SCSI_CFG_SEG_MAX 4
#define VIRTIO_SCSI_CFG_MAX_SECTORS 8
#define VIRTIO_SCSI_CFG_CMD_PER_LUN 12
#define VIRTIO_SCSI_CFG_EVENT_INFO_SIZE 16
#define VIRTIO_SCSI_CFG_SENSE_SIZE 20
#define VIRTIO_SCSI_CFG_CDB_SIZE 24
#define VIRTIO_SCSI_CFG_MAX_CHANNEL 28 /* u16 */
#define VIRTIO_SCSI_CFG_MAX_TARGET 30 /* u16 */
#define VIRTIO_SCSI_CFG_MAX_LUN 32
#define VIRTIO_SCSI_CFG_LEN 36

/* the header sizes vhost-scsi is built for */
#define VIRTIO_SCSI_SENSE_SIZE 96
#define VIRTIO_SCSI_CDB_SIZE 32

/* the guest's virtio-scsi node of keel's configuration */
struct virtio_scsi_params {
	uint32_t queues; /* request queues: 1..VIRTIO_SCSI_QUEUES_MAX */
	uint32_t queue_size; /* every queue's maximum: power of two, >= 2 */
};

/*
 * The device with the guest's RAM ([0, guest_ram_size): where rings may be)
 * and APIC ID (where MSI-X messages may go). 0, or -1 for parameters out of
 * range.
 */
int virtio_scsi_init(struct virtio_pci_dev *dev,
		     const struct virtio_scsi_params *p,
		     uint64_t guest_ram_size, uint32_t guest_apic_id,
		     const struct virtio_pci_ops *ops, void *ctx);

#endif
