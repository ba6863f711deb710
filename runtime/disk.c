// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/lapic.h"
#include "runtime/disk.h"
#include "runtime/partition.h"
#include "virtio/virtio_scsi.h"

#define PCI_BAR_REG(i) (PCI_CFG_BAR0 + 4 * (i))
#define MSI_VECTOR(data) ((uint8_t)((data) & 0xFF))

/* ---- the device's callbacks: called with the lock held ---- */

/* Posts a start request for @s; with KEEL_DEV_BASES, each queue starts
 * from the base the handoff left (the source's GET_VRING_BASE). */
static uint32_t post_start(struct disk *d, const struct virtio_start *s,
			   uint32_t flags)
{
	struct keel_chan_queue q[KEEL_CHAN_MAX_QUEUES];
	uint32_t n;

	for (unsigned int i = 0; i < s->nr_queues; i++)
		q[i] = (struct keel_chan_queue){
			.index = s->queue[i].index,
			.size = s->queue[i].size,
			.base = (flags & KEEL_DEV_BASES) ?
					d->base[s->queue[i].index] : 0,
			.desc = s->queue[i].desc,
			.avail = s->queue[i].avail,
			.used = s->queue[i].used,
		};
	n = channel_post(d->chan, KEEL_REQ_START, flags, s->features, q,
			 s->nr_queues);
	printf("disk: request %u: start %u queues, features %#llx%s\n", n,
	       s->nr_queues, (unsigned long long)s->features,
	       (flags & KEEL_DEV_BASES) ? ", from the handoff's ring bases" :
					  "");
	return n;
}

static void disk_start(void *ctx, const struct virtio_start *s)
{
	printf("disk: the guest's driver is ready\n");
	post_start(ctx, s, 0);
}

static void disk_stop(void *ctx)
{
	struct disk *d = ctx;
	uint32_t n = channel_post(d->chan, KEEL_REQ_STOP, 0, 0, NULL, 0);

	printf("disk: guest reset the device: request %u: stop; the reset "
	       "completes when the companion has stopped\n", n);
}

static void disk_kick(void *ctx, unsigned int q)
{
	struct disk *d = ctx;

	channel_kick(d->chan, q);
}

/* The model validated the message: fixed, edge, physical, the guest's
 * APIC ID, a vector the guest can take. */
static void disk_deliver(void *ctx, uint64_t addr, uint32_t data)
{
	struct disk *d = ctx;

	(void)addr;
	if (!lapic_send_fixed(d->guest->apic_id, MSI_VECTOR(data)))
		d->stats.ipi_failed++;
}

static const struct virtio_pci_ops disk_ops = {
	.start = disk_start,
	.stop = disk_stop,
	.kick = disk_kick,
	.deliver = disk_deliver,
};

/* ---- configuration space: the guest's configuration mechanism ---- */

static void cfg_write(void *ctx, unsigned int off, unsigned int size,
		      uint32_t val)
{
	struct disk *d = ctx;

	virtio_pci_cfg_write(&d->dev, off, size, val);
}

static void cfg_read(void *ctx, unsigned int off, unsigned int size)
{
	struct disk *d = ctx;

	virtio_pci_cfg_read(&d->dev, off, size);
}

/* What firmware would do: BARs placed in the DSDT's PCI window, memory
 * decode on. Linux keeps assignments it finds valid. */
static void place_bars(struct disk *d)
{
	struct pci_cfg_space *c = &d->dev.cfg;

	pci_cfg_write(c, PCI_BAR_REG(VIRTIO_PCI_BAR), 4, (uint32_t)DISK_BAR_GPA);
	pci_cfg_write(c, PCI_BAR_REG(VIRTIO_PCI_BAR + 1), 4,
		      (uint32_t)(DISK_BAR_GPA >> 32));
	pci_cfg_write(c, PCI_BAR_REG(VIRTIO_PCI_MSIX_BAR), 4,
		      (uint32_t)DISK_MSIX_BAR_GPA);
	pci_cfg_write(c, PCI_CFG_COMMAND, 2, PCI_CMD_MEM);
}

int disk_init(struct disk *d, const struct virtio_scsi_cfg *cfg,
	      struct partition *guest, struct channel *chan)
{
	const struct virtio_scsi_params params = { cfg->queues,
						   cfg->queue_size };

	d->chan = chan;
	d->guest = guest;
	d->cfg = cfg;
	if (virtio_scsi_init(&d->dev, &params, guest->ram_size,
			     guest->apic_id, &disk_ops, d))
		return -1;
	place_bars(d);
	if (pci_bus_add(&guest->pci, DISK_DEVFN, &d->dev.cfg, cfg_write, d) ||
	    pci_bus_set_read_hook(&guest->pci, DISK_DEVFN, cfg_read))
		return -1;
	return 0;
}

int disk_pci_io(struct disk *d, uint16_t port, unsigned int size, bool write,
		uint32_t *val)
{
	struct pci_bus *b = &d->guest->pci;
	int rc;

	spin_lock(&d->lock);
	rc = write ? pci_bus_io_write(b, port, size, *val) :
		     pci_bus_io_read(b, port, size, val);
	spin_unlock(&d->lock);
	return rc;
}

int disk_mmio(struct disk *d, uint64_t gpa, unsigned int size, bool write,
	      uint64_t *val)
{
	unsigned int bar;
	uint64_t off;
	int rc = 1;

	spin_lock(&d->lock);
	if (!virtio_pci_bar_at(&d->dev, gpa, &bar, &off))
		rc = write ? virtio_pci_bar_write(&d->dev, bar, off, size, *val) :
			     virtio_pci_bar_read(&d->dev, bar, off, size, val);
	spin_unlock(&d->lock);
	return rc;
}

/* ---- the companion's hypercalls ---- */

static long raise(struct disk *d, unsigned long q)
{
	const struct virtio_pci_dev *v = &d->dev;

	d->stats.raises++;
	if (q >= v->num_queues || !v->started || !v->queue[q].enabled) {
		d->stats.bad_raise++;
		return -KEEL_EINVAL;
	}
	virtio_pci_raise(&d->dev, v->queue[q].msix_vector);
	return 0;
}

static const char *request_name(uint32_t request, uint32_t flags)
{
	if (request == KEEL_REQ_START)
		return flags & KEEL_DEV_BASES ? "handoff start" : "start";
	return flags & KEEL_DEV_HANDOFF ? "handoff stop" : "stop";
}

/* A handoff stop done: the device stays as the guest left it, with the
 * queues' bases for whoever starts it again. */
static long handoff_stopped(struct disk *d, uint32_t n)
{
	if (channel_reply_bases(d->chan, n, d->base)) {
		printf("disk: the companion's bases are not for request %u\n",
		       n);
		return -KEEL_EINVAL;
	}
	d->handoff_stopped = true;
	return 0;
}

static long ack(struct disk *d, unsigned long arg, bool failed)
{
	uint32_t n, flags, request = channel_request(d->chan, &n, &flags);
	bool handoff = request == KEEL_REQ_STOP && (flags & KEEL_DEV_HANDOFF);
	long rc;

	if (arg != n) {
		d->stats.stale++;
		return -KEEL_ESTALE;
	}
	if (!failed && handoff && handoff_stopped(d, n))
		return -KEEL_EINVAL;
	rc = channel_ack(d->chan, n, failed);
	if (rc)
		return rc;
	if (failed) {
		d->stats.fails++;
		printf("disk: the companion failed request %u (%s)%s\n", n,
		       request_name(request, flags),
		       request != KEEL_REQ_START ? "" :
						   ": the guest sees DEVICE_NEEDS_RESET");
		if (request == KEEL_REQ_START)
			virtio_pci_needs_reset(&d->dev);
		return 0;
	}
	d->stats.acks++;
	printf("disk: request %u (%s) done by the companion\n", n,
	       request_name(request, flags));
	if (request == KEEL_REQ_STOP && !handoff)
		virtio_pci_reset_done(&d->dev);
	return 0;
}

long disk_hypercall(struct disk *d, unsigned long nr, unsigned long arg)
{
	long rc;

	spin_lock(&d->lock);
	switch (nr) {
	case KEEL_HC_RAISE:
		rc = raise(d, arg);
		break;
	case KEEL_HC_ACK:
		rc = ack(d, arg, false);
		break;
	case KEEL_HC_FAIL:
		rc = ack(d, arg, true);
		break;
	default:
		rc = -KEEL_ENOSYS;
	}
	spin_unlock(&d->lock);
	return rc;
}

/* ---- the handoff: the guest is paused ---- */

bool disk_serving(struct disk *d)
{
	bool serving;

	spin_lock(&d->lock);
	serving = d->dev.reset_pending ||
		  (d->dev.started && !d->handoff_stopped);
	spin_unlock(&d->lock);
	return serving;
}

long disk_handoff_stop(struct disk *d)
{
	uint32_t n = 0;

	spin_lock(&d->lock);
	if (d->dev.started && !d->handoff_stopped && !d->dev.reset_pending)
		n = channel_post(d->chan, KEEL_REQ_STOP, KEEL_DEV_HANDOFF, 0,
				 NULL, 0);
	spin_unlock(&d->lock);
	if (n)
		printf("disk: request %u: handoff stop\n", n);
	return n;
}

long disk_handoff_start(struct disk *d)
{
	struct virtio_start s;
	uint32_t n = 0;

	spin_lock(&d->lock);
	if (d->handoff_stopped) {
		virtio_pci_start_info(&d->dev, &s);
		n = post_start(d, &s, KEEL_DEV_BASES);
		d->handoff_stopped = false;
	}
	spin_unlock(&d->lock);
	return n;
}

void disk_save(struct disk *d, struct virtio_pci_state *st)
{
	spin_lock(&d->lock);
	virtio_pci_save(&d->dev, st);
	for (unsigned int q = 0; q < d->dev.num_queues; q++)
		st->queue[q].last_avail = d->base[q];
	spin_unlock(&d->lock);
}

int disk_load_copy(struct disk *d, struct virtio_pci_dev *copy,
		   const struct virtio_pci_state *st, char *err, size_t len)
{
	int rc;

	spin_lock(&d->lock);
	*copy = d->dev;
	rc = virtio_pci_load(copy, st, err, len);
	spin_unlock(&d->lock);
	return rc;
}

void disk_commit(struct disk *d, const struct virtio_pci_dev *dev,
		 const struct virtio_pci_state *st)
{
	spin_lock(&d->lock);
	d->dev = *dev;
	for (unsigned int q = 0; q < d->dev.num_queues; q++)
		d->base[q] = st->queue[q].last_avail;
	d->handoff_stopped = d->dev.started;
	spin_unlock(&d->lock);
}

void disk_drop(struct disk *d)
{
	spin_lock(&d->lock);
	virtio_pci_drop(&d->dev);
	memset(d->base, 0, sizeof(d->base));
	d->handoff_stopped = false;
	spin_unlock(&d->lock);
}

void disk_print_stats(const struct disk *d)
{
	const struct virtio_pci_stats *v = &d->dev.stats;
	const struct disk_stats *s = &d->stats;
	const struct channel_stats *c = &d->chan->stats;

	printf("stats: disk: %llu kicks, %llu completions raised "
	       "(%llu refused), %llu MSI-X delivered, %llu pending, "
	       "%llu lost, %llu dropped, %llu IPIs failed\n",
	       (unsigned long long)v->kicks, (unsigned long long)s->raises,
	       (unsigned long long)s->bad_raise,
	       (unsigned long long)v->msix_delivered,
	       (unsigned long long)v->msix_pending,
	       (unsigned long long)v->msix_lost,
	       (unsigned long long)v->msix_dropped,
	       (unsigned long long)s->ipi_failed);
	printf("stats: disk: guest writes refused: access %llu, read-only "
	       "%llu, busy %llu, status %llu, features %llu, queue %llu, "
	       "queue size %llu, vector %llu, enable %llu, double enable "
	       "%llu, queue locked %llu, ring address %llu, notify %llu\n",
	       (unsigned long long)v->bad_access,
	       (unsigned long long)v->ro_write, (unsigned long long)v->busy,
	       (unsigned long long)v->bad_status,
	       (unsigned long long)v->bad_features,
	       (unsigned long long)v->bad_queue,
	       (unsigned long long)v->bad_queue_size,
	       (unsigned long long)v->bad_vector,
	       (unsigned long long)v->bad_enable,
	       (unsigned long long)v->double_enable,
	       (unsigned long long)v->queue_locked,
	       (unsigned long long)v->bad_ring_addr,
	       (unsigned long long)v->bad_notify);
	printf("stats: disk: companion requests acked %llu, failed %llu, "
	       "stale %llu; channel MSIs %llu (%llu with MSI off, %llu "
	       "failed)\n",
	       (unsigned long long)s->acks, (unsigned long long)s->fails,
	       (unsigned long long)s->stale, (unsigned long long)c->msis,
	       (unsigned long long)c->msi_off,
	       (unsigned long long)c->msi_failed);
}
