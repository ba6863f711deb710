// SPDX-License-Identifier: GPL-2.0
/* The virtio-scsi device model (see virtio_scsi.h). */
#include <stdint.h>
#include <string.h>

#include "virtio/virtio_scsi.h"

/* QEMU's values (hw/scsi/virtio-scsi.c, vhost-scsi properties) */
#define MAX_SECTORS 0xFFFF
#define CMD_PER_LUN 128
#define EVENT_INFO_SIZE 16 /* struct virtio_scsi_event */
#define MAX_CHANNEL 0
#define MAX_TARGET 255 /* vhost-scsi's tpgt range */
#define MAX_LUN 16383 /* vhost-scsi takes 14 bits of LUN */

static void put_le(uint8_t *p, unsigned int off, unsigned int size,
		   uint32_t val)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		p[off + i] = (uint8_t)(val >> (8 * i));
}

int virtio_scsi_init(struct virtio_pci_dev *dev,
		     const struct virtio_scsi_params *p,
		     uint64_t guest_ram_size, uint32_t guest_apic_id,
		     const struct virtio_pci_ops *ops, void *ctx)
{
	uint8_t cfg[VIRTIO_SCSI_CFG_LEN] = { 0 };
	uint8_t wmask[VIRTIO_SCSI_CFG_LEN] = { 0 };
	struct virtio_pci_setup s = {
		.device_type = VIRTIO_ID_SCSI,
		.class_code = VIRTIO_SCSI_CLASS,
		.num_queues =
			(uint16_t)(VIRTIO_SCSI_REQUEST_QUEUE0 + p->queues),
		.queue_max = (uint16_t)p->queue_size,
		.dev_cfg = cfg,
		.dev_cfg_wmask = wmask,
		.dev_cfg_len = VIRTIO_SCSI_CFG_LEN,
		.guest_ram_size = guest_ram_size,
		.guest_apic_id = guest_apic_id,
		.ops = ops,
		.ctx = ctx,
	};

	if (p->queues < 1 || p->queues > VIRTIO_SCSI_QUEUES_MAX ||
	    p->queue_size < 2 || p->queue_size > VIRTIO_PCI_QUEUE_SIZE_MAX)
		return -1;
	put_le(cfg, VIRTIO_SCSI_CFG_NUM_QUEUES, 4, p->queues);
	/* the request header and the response take one descriptor each */
	put_le(cfg, VIRTIO_SCSI_CFG_SEG_MAX, 4, p->queue_size - 2);
	put_le(cfg, VIRTIO_SCSI_CFG_MAX_SECTORS, 4, MAX_SECTORS);
	put_le(cfg, VIRTIO_SCSI_CFG_CMD_PER_LUN, 4, CMD_PER_LUN);
	put_le(cfg, VIRTIO_SCSI_CFG_EVENT_INFO_SIZE, 4, EVENT_INFO_SIZE);
	put_le(cfg, VIRTIO_SCSI_CFG_SENSE_SIZE, 4, VIRTIO_SCSI_SENSE_SIZE);
	put_le(cfg, VIRTIO_SCSI_CFG_CDB_SIZE, 4, VIRTIO_SCSI_CDB_SIZE);
	put_le(cfg, VIRTIO_SCSI_CFG_MAX_CHANNEL, 2, MAX_CHANNEL);
	put_le(cfg, VIRTIO_SCSI_CFG_MAX_TARGET, 2, MAX_TARGET);
	put_le(cfg, VIRTIO_SCSI_CFG_MAX_LUN, 4, MAX_LUN);
	memset(wmask + VIRTIO_SCSI_CFG_SENSE_SIZE, 0xFF, 4);
	memset(wmask + VIRTIO_SCSI_CFG_CDB_SIZE, 0xFF, 4);
	return virtio_pci_init(dev, &s);
}
