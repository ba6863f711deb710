// SPDX-License-Identifier: GPL-2.0
/* The modern virtio-pci transport (see virtio_pci.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "virtio/virtio_pci.h"

#define VIRTIO_CAP_SIZE 16
#define NOTIFY_CAP_SIZE 20
#define PCI_CFG_CAP_SIZE 20
#define MSIX_CAP_SIZE 12
#define REGION_SIZE 0x1000 /* each BAR4 structure has its own page */
#define PBA_SIZE 8
#define DEVICE_TYPE_MAX 0x3F /* PCI device IDs end at 0x107F */
#define DEVICE_FEATURES_MASK 0xFFFFFFull /* device-type bits are 0..23 */
#define BAR_MEM_ADDR_MASK 0xFFFFFFF0u /* below: a memory BAR's type bits */

/* x86 MSI address and data (Intel SDM vol. 3, 11.11) */
#define MSI_ADDR_BASE 0xFEE00000u
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_RH 0x8 /* redirection hint: moot in physical mode */
#define MSI_DATA_VECTOR 0xFFu
#define MSI_DATA_LEVEL_ASSERT 0x4000u /* ignored for edge */
#define MSI_VECTOR_MIN 0x20
#define MSI_VECTOR_MAX 0xFE
#define MSI_DEST_MAX 0xFE /* 0xFF is the broadcast */

#define MSIX_ADDR_LO (VIRTIO_PCI_MSIX_ADDR_LO / 4)
#define MSIX_ADDR_HI (VIRTIO_PCI_MSIX_ADDR_HI / 4)
#define MSIX_DATA (VIRTIO_PCI_MSIX_DATA / 4)
#define MSIX_VEC_CTRL (VIRTIO_PCI_MSIX_VEC_CTRL / 4)
#define MSIX_TABLE_MAX (VIRTIO_PCI_MSIX_MAX * VIRTIO_PCI_MSIX_ENTRY_SIZE)

_Static_assert(VIRTIO_PCI_MSIX_MAX <= 64, "the PBA is one qword");
_Static_assert(MSIX_TABLE_MAX <= VIRTIO_PCI_OFF_MSIX_PBA,
	       "the MSI-X table ends before the PBA");

static int refuse(uint64_t *counter)
{
	(*counter)++;
	return -1;
}

static bool power_of_two(uint64_t x)
{
	return x && !(x & (x - 1));
}

static bool setup_ok(const struct virtio_pci_setup *s)
{
	const struct virtio_pci_ops *o = s->ops;

	return s->device_type <= DEVICE_TYPE_MAX && s->num_queues >= 1 &&
	       s->num_queues <= VIRTIO_PCI_MAX_QUEUES &&
	       power_of_two(s->queue_max) &&
	       s->queue_max <= VIRTIO_PCI_QUEUE_SIZE_MAX &&
	       !(s->features & ~DEVICE_FEATURES_MASK) &&
	       s->dev_cfg_len <= VIRTIO_PCI_DEV_CFG_MAX &&
	       (!s->dev_cfg_len || (s->dev_cfg && s->dev_cfg_wmask)) &&
	       s->guest_ram_size && s->guest_apic_id <= MSI_DEST_MAX && o &&
	       o->start && o->stop && o->kick && o->deliver;
}

static struct virtio_queue reset_queue(const struct virtio_pci_dev *dev)
{
	return (struct virtio_queue){
		.size = dev->queue_max,
		.msix_vector = VIRTIO_NO_VECTOR,
	};
}

/* What the driver's reset (status 0) clears; the MSI-X table survives. */
static void reset_state(struct virtio_pci_dev *dev)
{
	unsigned int q;

	memcpy(dev->dev_cfg, dev->dev_cfg_init, sizeof(dev->dev_cfg));
	dev->dfselect = 0;
	dev->gfselect = 0;
	dev->driver_features = 0;
	dev->config_vector = VIRTIO_NO_VECTOR;
	dev->status = 0;
	dev->isr = 0;
	dev->queue_sel = 0;
	dev->started = false;
	dev->reset_pending = false;
	for (q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		dev->queue[q] = reset_queue(dev);
	dev->pba = 0;
}

static uint8_t add_virtio_cap(struct pci_cfg_space *c, uint8_t cfg_type,
			      unsigned int len, uint32_t offset,
			      uint32_t length)
{
	/* the six capabilities take 104 of the 192 bytes: this never fails */
	uint8_t cap = (uint8_t)pci_cfg_add_cap(c, VIRTIO_PCI_CAP_VNDR, len);

	pci_cfg_set(c, cap + VIRTIO_PCI_CAP_LEN, 1, len);
	pci_cfg_set(c, cap + VIRTIO_PCI_CAP_CFG_TYPE, 1, cfg_type);
	if (cfg_type != VIRTIO_PCI_CAP_PCI_CFG)
		pci_cfg_set(c, cap + VIRTIO_PCI_CAP_BAR, 1, VIRTIO_PCI_BAR);
	pci_cfg_set(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, offset);
	pci_cfg_set(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, length);
	return cap;
}

static void build_cfg_space(struct virtio_pci_dev *dev,
			    const struct virtio_pci_setup *s)
{
	struct pci_cfg_space *c = &dev->cfg;
	uint8_t cap;

	pci_cfg_init(c, VIRTIO_PCI_VENDOR,
		     VIRTIO_PCI_DEVICE_BASE + s->device_type, s->class_code,
		     VIRTIO_PCI_REVISION);
	pci_cfg_set(c, PCI_CFG_SUBSYS_VENDOR, 2, VIRTIO_PCI_SUBSYS_VENDOR);
	pci_cfg_set(c, PCI_CFG_SUBSYS_ID, 2, VIRTIO_PCI_SUBSYS_ID);
	pci_cfg_set_bar(c, VIRTIO_PCI_MSIX_BAR, VIRTIO_PCI_MSIX_BAR_SIZE,
			PCI_BAR_MEM32);
	pci_cfg_set_bar(c, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, PCI_BAR_MEM64);

	dev->msix_cap =
		(uint8_t)pci_cfg_add_cap(c, VIRTIO_PCI_CAP_MSIX, MSIX_CAP_SIZE);
	pci_cfg_set(c, dev->msix_cap + VIRTIO_PCI_MSIX_CTRL, 2,
		    dev->msix_size - 1u);
	pci_cfg_set_wmask(c, dev->msix_cap + VIRTIO_PCI_MSIX_CTRL, 2,
			  VIRTIO_PCI_MSIX_CTRL_ENABLE |
				  VIRTIO_PCI_MSIX_CTRL_MASKALL);
	pci_cfg_set(c, dev->msix_cap + VIRTIO_PCI_MSIX_TABLE_BIR, 4,
		    VIRTIO_PCI_OFF_MSIX_TABLE | VIRTIO_PCI_MSIX_BAR);
	pci_cfg_set(c, dev->msix_cap + VIRTIO_PCI_MSIX_PBA_BIR, 4,
		    VIRTIO_PCI_OFF_MSIX_PBA | VIRTIO_PCI_MSIX_BAR);

	add_virtio_cap(c, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_CAP_SIZE,
		       VIRTIO_PCI_OFF_COMMON, VIRTIO_PCI_COMMON_LEN);
	cap = add_virtio_cap(c, VIRTIO_PCI_CAP_NOTIFY_CFG, NOTIFY_CAP_SIZE,
			     VIRTIO_PCI_OFF_NOTIFY,
			     VIRTIO_PCI_NOTIFY_MULT * dev->num_queues);
	pci_cfg_set(c, cap + VIRTIO_PCI_NOTIFY_CAP_MULT, 4,
		    VIRTIO_PCI_NOTIFY_MULT);
	add_virtio_cap(c, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_CAP_SIZE,
		       VIRTIO_PCI_OFF_ISR, 1);
	add_virtio_cap(c, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_CAP_SIZE,
		       VIRTIO_PCI_OFF_DEVICE, dev->dev_cfg_len);

	cap = add_virtio_cap(c, VIRTIO_PCI_CAP_PCI_CFG, PCI_CFG_CAP_SIZE, 0, 0);
	pci_cfg_set_wmask(c, cap + VIRTIO_PCI_CAP_BAR, 1, 0xFF);
	pci_cfg_set_wmask(c, cap + VIRTIO_PCI_CAP_OFFSET, 4, 0xFFFFFFFF);
	pci_cfg_set_wmask(c, cap + VIRTIO_PCI_CAP_LENGTH, 4, 0xFFFFFFFF);
	pci_cfg_set_wmask(c, cap + VIRTIO_PCI_CFG_CAP_DATA, 4, 0xFFFFFFFF);
	dev->pci_cfg_cap = cap;
}

int virtio_pci_init(struct virtio_pci_dev *dev,
		    const struct virtio_pci_setup *s)
{
	if (!setup_ok(s))
		return -1;
	memset(dev, 0, sizeof(*dev));
	dev->num_queues = s->num_queues;
	dev->queue_max = s->queue_max;
	dev->msix_size = s->num_queues + 1;
	dev->apic_id = (uint8_t)s->guest_apic_id;
	dev->ram_size = s->guest_ram_size;
	dev->features = VIRTIO_PCI_TRANSPORT_FEATURES | s->features;
	dev->ops = s->ops;
	dev->ctx = s->ctx;
	dev->dev_cfg_len = s->dev_cfg_len;
	if (s->dev_cfg_len) {
		memcpy(dev->dev_cfg_init, s->dev_cfg, s->dev_cfg_len);
		memcpy(dev->dev_cfg_wmask, s->dev_cfg_wmask, s->dev_cfg_len);
	}
	build_cfg_space(dev, s);
	memcpy(dev->cfg_init, dev->cfg.bytes, sizeof(dev->cfg_init));
	virtio_pci_drop(dev);
	return 0;
}

void virtio_pci_drop(struct virtio_pci_dev *dev)
{
	unsigned int v;

	memcpy(dev->cfg.bytes, dev->cfg_init, sizeof(dev->cfg.bytes));
	memset(dev->msix, 0, sizeof(dev->msix));
	for (v = 0; v < dev->msix_size; v++)
		dev->msix[v][MSIX_VEC_CTRL] = VIRTIO_PCI_MSIX_VEC_MASKED;
	reset_state(dev);
}

/* ---- MSI-X ---- */

static uint16_t msix_ctrl(const struct virtio_pci_dev *dev)
{
	return (uint16_t)pci_cfg_read(&dev->cfg,
				      dev->msix_cap + VIRTIO_PCI_MSIX_CTRL, 2);
}

/* whether the function may send messages at all */
static bool msix_live(uint16_t ctrl, uint16_t command)
{
	return (ctrl & VIRTIO_PCI_MSIX_CTRL_ENABLE) &&
	       (command & PCI_CMD_MASTER);
}

static bool entry_masked(uint16_t ctrl, const uint32_t *entry)
{
	return (ctrl & VIRTIO_PCI_MSIX_CTRL_MASKALL) ||
	       (entry[MSIX_VEC_CTRL] & VIRTIO_PCI_MSIX_VEC_MASKED);
}

static bool msix_on(const struct virtio_pci_dev *dev)
{
	return msix_live(msix_ctrl(dev),
			 (uint16_t)pci_cfg_read(&dev->cfg, PCI_CFG_COMMAND, 2));
}

static bool msix_masked(const struct virtio_pci_dev *dev, unsigned int v)
{
	return entry_masked(msix_ctrl(dev), dev->msix[v]);
}

/* fixed, edge, physical to the guest's own CPU, a device vector */
static bool msix_entry_valid(const struct virtio_pci_dev *dev,
			     const uint32_t *e)
{
	uint32_t dest = (uint32_t)dev->apic_id << MSI_ADDR_DEST_SHIFT;
	uint32_t vector = e[MSIX_DATA] & MSI_DATA_VECTOR;

	return !e[MSIX_ADDR_HI] &&
	       (e[MSIX_ADDR_LO] & ~MSI_ADDR_RH) == (MSI_ADDR_BASE | dest) &&
	       !(e[MSIX_DATA] & ~(MSI_DATA_VECTOR | MSI_DATA_LEVEL_ASSERT)) &&
	       vector >= MSI_VECTOR_MIN && vector <= MSI_VECTOR_MAX;
}

static enum virtio_irq msix_send(struct virtio_pci_dev *dev, unsigned int v)
{
	const uint32_t *e = dev->msix[v];

	if (!msix_entry_valid(dev, e)) {
		dev->stats.msix_dropped++;
		return VIRTIO_IRQ_DROPPED;
	}
	dev->stats.msix_delivered++;
	dev->ops->deliver(dev->ctx,
			  (uint64_t)e[MSIX_ADDR_HI] << 32 | e[MSIX_ADDR_LO],
			  e[MSIX_DATA]);
	return VIRTIO_IRQ_DELIVERED;
}

/* sends what an unmask (entry, function, enable, bus master) let out */
static void msix_flush(struct virtio_pci_dev *dev)
{
	unsigned int v;

	if (!dev->pba || !msix_on(dev))
		return;
	for (v = 0; v < dev->msix_size; v++) {
		if (!(dev->pba & (1ull << v)) || msix_masked(dev, v))
			continue;
		dev->pba &= ~(1ull << v);
		msix_send(dev, v);
	}
}

enum virtio_irq virtio_pci_raise(struct virtio_pci_dev *dev,
				 unsigned int vector)
{
	if (vector >= dev->msix_size || !msix_on(dev)) {
		dev->stats.msix_lost++;
		return VIRTIO_IRQ_DROPPED;
	}
	if (msix_masked(dev, vector)) {
		dev->pba |= 1ull << vector;
		dev->stats.msix_pending++;
		return VIRTIO_IRQ_PENDING;
	}
	return msix_send(dev, vector);
}

static int msix_read32(const struct virtio_pci_dev *dev, uint64_t off,
		       uint32_t *val)
{
	if (off < (uint64_t)dev->msix_size * VIRTIO_PCI_MSIX_ENTRY_SIZE) {
		*val = dev->msix[off / VIRTIO_PCI_MSIX_ENTRY_SIZE]
				[off % VIRTIO_PCI_MSIX_ENTRY_SIZE / 4];
		return 0;
	}
	if (off >= VIRTIO_PCI_OFF_MSIX_PBA &&
	    off < VIRTIO_PCI_OFF_MSIX_PBA + PBA_SIZE) {
		*val = (uint32_t)(dev->pba >> (8 * (off & 4)));
		return 0;
	}
	return -1;
}

static int msix_read(struct virtio_pci_dev *dev, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	uint32_t lo, hi = 0;

	if (size < 4 || msix_read32(dev, off, &lo) ||
	    (size == 8 && msix_read32(dev, off + 4, &hi)))
		return refuse(&dev->stats.bad_access);
	*val = (uint64_t)hi << 32 | lo;
	return 0;
}

static int msix_write(struct virtio_pci_dev *dev, uint64_t off,
		      unsigned int size, uint64_t val)
{
	uint64_t end = (uint64_t)dev->msix_size * VIRTIO_PCI_MSIX_ENTRY_SIZE;
	unsigned int i;

	if (size >= 4 && off >= VIRTIO_PCI_OFF_MSIX_PBA &&
	    off < VIRTIO_PCI_OFF_MSIX_PBA + PBA_SIZE)
		return refuse(&dev->stats.ro_write);
	if (size < 4 || off >= end)
		return refuse(&dev->stats.bad_access);
	for (i = 0; i < size / 4; i++, off += 4, val >>= 32) {
		uint32_t *reg =
			&dev->msix[off / VIRTIO_PCI_MSIX_ENTRY_SIZE]
				  [off % VIRTIO_PCI_MSIX_ENTRY_SIZE / 4];

		/* vector control: bits 31:1 are reserved, read as 0 */
		if (off % VIRTIO_PCI_MSIX_ENTRY_SIZE ==
		    VIRTIO_PCI_MSIX_VEC_CTRL)
			*reg = (uint32_t)val & VIRTIO_PCI_MSIX_VEC_MASKED;
		else
			*reg = (uint32_t)val;
	}
	msix_flush(dev);
	return 0;
}

/* ---- common configuration ---- */

static unsigned int common_width(uint64_t off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return 2;
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	default:
		return 0;
	}
}

static struct virtio_queue *selected(struct virtio_pci_dev *dev)
{
	return dev->queue_sel < dev->num_queues ? &dev->queue[dev->queue_sel]
						: NULL;
}

/* the 64-bit ring address a lo/hi register (32..52) is half of */
static uint64_t *ring_addr(struct virtio_queue *q, uint64_t off)
{
	if (off < VIRTIO_PCI_COMMON_Q_AVAILLO)
		return &q->desc;
	if (off < VIRTIO_PCI_COMMON_Q_USEDLO)
		return &q->avail;
	return &q->used;
}

static unsigned int ring_half_shift(uint64_t off)
{
	return off & 4 ? 32 : 0;
}

static uint32_t feature_word(uint64_t features, uint32_t select)
{
	return select < 2 ? (uint32_t)(features >> (32 * select)) : 0;
}

static uint32_t queue_read(struct virtio_pci_dev *dev, uint64_t off)
{
	struct virtio_queue *q = selected(dev);

	if (!q)
		return off == VIRTIO_PCI_COMMON_Q_MSIX ? VIRTIO_NO_VECTOR : 0;
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return q->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return q->msix_vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return q->enabled;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return dev->queue_sel;
	default:
		return (uint32_t)(*ring_addr(q, off) >> ring_half_shift(off));
	}
}

static int common_read(struct virtio_pci_dev *dev, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	if (common_width(off) != size)
		return refuse(&dev->stats.bad_access);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		*val = dev->dfselect;
		break;
	case VIRTIO_PCI_COMMON_DF:
		*val = feature_word(dev->features, dev->dfselect);
		break;
	case VIRTIO_PCI_COMMON_GFSELECT:
		*val = dev->gfselect;
		break;
	case VIRTIO_PCI_COMMON_GF:
		*val = feature_word(dev->driver_features, dev->gfselect);
		break;
	case VIRTIO_PCI_COMMON_MSIX:
		*val = dev->config_vector;
		break;
	case VIRTIO_PCI_COMMON_NUMQ:
		*val = dev->num_queues;
		break;
	case VIRTIO_PCI_COMMON_STATUS:
		*val = dev->status;
		break;
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		*val = 0; /* the device never changes its configuration */
		break;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		*val = dev->queue_sel;
		break;
	default:
		*val = queue_read(dev, off);
	}
	return 0;
}

static bool vector_ok(const struct virtio_pci_dev *dev, uint32_t v)
{
	return v == VIRTIO_NO_VECTOR || v < dev->msix_size;
}

/* the spec's answer to a vector the table does not have: NO_VECTOR */
static uint16_t checked_vector(struct virtio_pci_dev *dev, uint32_t v)
{
	if (!vector_ok(dev, v)) {
		dev->stats.bad_vector++;
		return VIRTIO_NO_VECTOR;
	}
	return (uint16_t)v;
}

static int write_driver_features(struct virtio_pci_dev *dev, uint32_t val)
{
	unsigned int shift = 32 * dev->gfselect;

	if (dev->status & VIRTIO_STATUS_FEATURES_OK)
		return refuse(&dev->stats.bad_features);
	if (dev->gfselect >= 2)
		return val ? refuse(&dev->stats.bad_features) : 0;
	dev->driver_features &= ~(0xFFFFFFFFull << shift);
	dev->driver_features |= (uint64_t)val << shift;
	return 0;
}

/* desc 16-byte, avail 2-byte, used 4-byte aligned; all in guest RAM */
static bool ring_ok(const struct virtio_pci_dev *dev, uint64_t addr,
		    uint64_t len, uint64_t align)
{
	return !(addr & (align - 1)) && addr < dev->ram_size &&
	       len <= dev->ram_size - addr;
}

static bool rings_ok(const struct virtio_pci_dev *dev,
		     const struct virtio_queue *q)
{
	uint64_t n = q->size;

	/* the avail and used sizes include the event-index words */
	return ring_ok(dev, q->desc, 16 * n, 16) &&
	       ring_ok(dev, q->avail, 6 + 2 * n, 2) &&
	       ring_ok(dev, q->used, 6 + 8 * n, 4);
}

static bool queue_size_ok(const struct virtio_pci_dev *dev, uint32_t size)
{
	return power_of_two(size) && size <= dev->queue_max;
}

static int enable_queue(struct virtio_pci_dev *dev, struct virtio_queue *q,
			uint32_t val)
{
	if (val != 1)
		return refuse(&dev->stats.bad_enable);
	if (q->enabled)
		return refuse(&dev->stats.double_enable);
	if (dev->status & VIRTIO_STATUS_DRIVER_OK)
		return refuse(&dev->stats.queue_locked);
	if (!rings_ok(dev, q))
		return refuse(&dev->stats.bad_ring_addr);
	q->enabled = true;
	return 0;
}

static int queue_write(struct virtio_pci_dev *dev, uint64_t off, uint32_t val)
{
	struct virtio_queue *q = selected(dev);
	uint64_t *addr;
	unsigned int shift;

	if (!q)
		return refuse(&dev->stats.bad_queue);
	if (off == VIRTIO_PCI_COMMON_Q_ENABLE)
		return enable_queue(dev, q, val);
	if (q->enabled || (dev->status & VIRTIO_STATUS_DRIVER_OK))
		return refuse(&dev->stats.queue_locked);
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		if (!queue_size_ok(dev, val))
			return refuse(&dev->stats.bad_queue_size);
		q->size = (uint16_t)val;
		return 0;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		q->msix_vector = checked_vector(dev, val);
		return 0;
	default:
		addr = ring_addr(q, off);
		shift = ring_half_shift(off);
		*addr &= ~(0xFFFFFFFFull << shift);
		*addr |= (uint64_t)val << shift;
		return 0;
	}
}

static bool status_order_ok(uint8_t s)
{
	if ((s & VIRTIO_STATUS_DRIVER) && !(s & VIRTIO_STATUS_ACKNOWLEDGE))
		return false;
	if ((s & VIRTIO_STATUS_FEATURES_OK) && !(s & VIRTIO_STATUS_DRIVER))
		return false;
	return !(s & VIRTIO_STATUS_DRIVER_OK) ||
	       (s & VIRTIO_STATUS_FEATURES_OK);
}

static bool features_acceptable(const struct virtio_pci_dev *dev,
				uint64_t driver_features)
{
	return !(driver_features & ~dev->features) &&
	       (driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

void virtio_pci_start_info(const struct virtio_pci_dev *dev,
			   struct virtio_start *s)
{
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->features = dev->driver_features;
	for (i = 0; i < dev->num_queues; i++) {
		const struct virtio_queue *q = &dev->queue[i];

		if (!q->enabled)
			continue;
		s->queue[s->nr_queues++] = (struct virtio_start_queue){
			.index = (uint16_t)i,
			.size = q->size,
			.msix_vector = q->msix_vector,
			.desc = q->desc,
			.avail = q->avail,
			.used = q->used,
		};
	}
}

static void start(struct virtio_pci_dev *dev)
{
	struct virtio_start s;

	virtio_pci_start_info(dev, &s);
	dev->started = true;
	dev->ops->start(dev->ctx, &s);
}

/*
 * A started backend may still be completing requests into the used rings:
 * the driver keeps reading its old status until keel says the backend has
 * stopped (virtio_pci_reset_done).
 */
static void reset(struct virtio_pci_dev *dev)
{
	if (dev->reset_pending)
		return;
	if (!dev->started) {
		reset_state(dev);
		return;
	}
	dev->started = false;
	dev->reset_pending = true;
	dev->ops->stop(dev->ctx);
}

static int write_status(struct virtio_pci_dev *dev, uint8_t val)
{
	uint8_t set = val & ~dev->status;

	if (!val) {
		reset(dev);
		return 0;
	}
	if ((dev->status & ~val) || (set & VIRTIO_STATUS_NEEDS_RESET) ||
	    !status_order_ok(val))
		return refuse(&dev->stats.bad_status);
	if ((set & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(dev, dev->driver_features))
		return refuse(&dev->stats.bad_features);
	dev->status = val;
	if (set & VIRTIO_STATUS_DRIVER_OK)
		start(dev);
	return 0;
}

static int common_write(struct virtio_pci_dev *dev, uint64_t off,
			unsigned int size, uint32_t val)
{
	if (common_width(off) != size)
		return refuse(&dev->stats.bad_access);
	if (dev->reset_pending && !(off == VIRTIO_PCI_COMMON_STATUS && !val))
		return refuse(&dev->stats.busy);
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		dev->dfselect = val;
		return 0;
	case VIRTIO_PCI_COMMON_GFSELECT:
		dev->gfselect = val;
		return 0;
	case VIRTIO_PCI_COMMON_GF:
		return write_driver_features(dev, val);
	case VIRTIO_PCI_COMMON_MSIX:
		dev->config_vector = checked_vector(dev, val);
		return 0;
	case VIRTIO_PCI_COMMON_STATUS:
		return write_status(dev, (uint8_t)val);
	case VIRTIO_PCI_COMMON_Q_SELECT:
		dev->queue_sel = (uint16_t)val;
		return 0;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return refuse(&dev->stats.ro_write);
	default:
		return queue_write(dev, off, val);
	}
}

/* ---- device configuration, notify, BAR dispatch ---- */

static bool in_device_cfg(const struct virtio_pci_dev *dev, uint64_t off,
			  unsigned int size)
{
	return off >= VIRTIO_PCI_OFF_DEVICE &&
	       off - VIRTIO_PCI_OFF_DEVICE + size <= dev->dev_cfg_len;
}

/* the driver writes whole bytes of the device configuration or none */
static bool dev_cfg_writable(const struct virtio_pci_dev *dev, uint64_t i)
{
	return dev->dev_cfg_wmask[i] == 0xFF;
}

static int device_cfg_write(struct virtio_pci_dev *dev, uint64_t off,
			    unsigned int size, uint32_t val)
{
	unsigned int i;

	off -= VIRTIO_PCI_OFF_DEVICE;
	for (i = 0; i < size; i++)
		if (!dev_cfg_writable(dev, off + i))
			return refuse(&dev->stats.ro_write);
	if (dev->reset_pending)
		return refuse(&dev->stats.busy);
	for (i = 0; i < size; i++)
		dev->dev_cfg[off + i] = (uint8_t)(val >> (8 * i));
	return 0;
}

/* without NOTIFICATION_DATA the driver writes the queue's index */
static int notify_write(struct virtio_pci_dev *dev, uint64_t off,
			unsigned int size, uint32_t val)
{
	uint64_t q = (off - VIRTIO_PCI_OFF_NOTIFY) / VIRTIO_PCI_NOTIFY_MULT;

	if (size == 1 || off % VIRTIO_PCI_NOTIFY_MULT)
		return refuse(&dev->stats.bad_access);
	if (q >= dev->num_queues || val != q || !dev->started ||
	    !dev->queue[q].enabled)
		return refuse(&dev->stats.bad_notify);
	dev->stats.kicks++;
	dev->ops->kick(dev->ctx, (unsigned int)q);
	return 0;
}

static bool access_ok(uint64_t off, unsigned int size, unsigned int max)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       size <= max && !(off & (size - 1));
}

static int bar4_read(struct virtio_pci_dev *dev, uint64_t off,
		     unsigned int size, uint64_t *val)
{
	unsigned int i;

	if (off < VIRTIO_PCI_OFF_COMMON + VIRTIO_PCI_COMMON_LEN)
		return common_read(dev, off, size, val);
	if (off == VIRTIO_PCI_OFF_ISR && size == 1) {
		*val = dev->isr;
		dev->isr = 0;
		return 0;
	}
	if (!in_device_cfg(dev, off, size))
		return refuse(&dev->stats.bad_access);
	*val = 0;
	for (i = 0; i < size; i++)
		*val |= (uint64_t)dev->dev_cfg[off - VIRTIO_PCI_OFF_DEVICE + i]
			<< (8 * i);
	return 0;
}

static int bar4_write(struct virtio_pci_dev *dev, uint64_t off,
		      unsigned int size, uint32_t val)
{
	if (off < VIRTIO_PCI_OFF_COMMON + VIRTIO_PCI_COMMON_LEN)
		return common_write(dev, off, size, val);
	if (off == VIRTIO_PCI_OFF_ISR && size == 1)
		return refuse(&dev->stats.ro_write);
	if (in_device_cfg(dev, off, size))
		return device_cfg_write(dev, off, size, val);
	if (off >= VIRTIO_PCI_OFF_NOTIFY &&
	    off < VIRTIO_PCI_OFF_NOTIFY + REGION_SIZE)
		return notify_write(dev, off, size, val);
	return refuse(&dev->stats.bad_access);
}

int virtio_pci_bar_read(struct virtio_pci_dev *dev, unsigned int bar,
			uint64_t offset, unsigned int size, uint64_t *val)
{
	int rc;

	*val = 0;
	if (bar == VIRTIO_PCI_BAR && access_ok(offset, size, 4))
		rc = bar4_read(dev, offset, size, val);
	else if (bar == VIRTIO_PCI_MSIX_BAR && access_ok(offset, size, 8))
		rc = msix_read(dev, offset, size, val);
	else
		rc = refuse(&dev->stats.bad_access);
	if (rc)
		*val = ~0ull;
	return rc;
}

int virtio_pci_bar_write(struct virtio_pci_dev *dev, unsigned int bar,
			 uint64_t offset, unsigned int size, uint64_t val)
{
	if (bar == VIRTIO_PCI_BAR && access_ok(offset, size, 4))
		return bar4_write(dev, offset, size, (uint32_t)val);
	if (bar == VIRTIO_PCI_MSIX_BAR && access_ok(offset, size, 8))
		return msix_write(dev, offset, size, val);
	return refuse(&dev->stats.bad_access);
}

int virtio_pci_bar_at(const struct virtio_pci_dev *dev, uint64_t gpa,
		      unsigned int *bar, uint64_t *offset)
{
	static const unsigned int bars[] = { VIRTIO_PCI_MSIX_BAR,
					     VIRTIO_PCI_BAR };
	unsigned int i;

	if (!(pci_cfg_read(&dev->cfg, PCI_CFG_COMMAND, 2) & PCI_CMD_MEM))
		return -1;
	for (i = 0; i < sizeof(bars) / sizeof(bars[0]); i++) {
		uint64_t base = pci_cfg_bar_addr(&dev->cfg, bars[i]);

		if (base && gpa >= base &&
		    gpa - base < dev->cfg.bar[bars[i]].size) {
			*bar = bars[i];
			*offset = gpa - base;
			return 0;
		}
	}
	return -1;
}

/* ---- configuration-space hooks ---- */

static bool covers(unsigned int off, unsigned int size, unsigned int byte)
{
	return off <= byte && byte < off + size;
}

/*
 * The BAR, offset and width the PCI_CFG capability selects; -1 (counted)
 * for a width pci_cfg_data cannot hold.
 */
static int window(struct virtio_pci_dev *dev, unsigned int *bar,
		  uint64_t *offset, unsigned int *len)
{
	const struct pci_cfg_space *c = &dev->cfg;
	unsigned int cap = dev->pci_cfg_cap;

	*bar = pci_cfg_read(c, cap + VIRTIO_PCI_CAP_BAR, 1);
	*offset = pci_cfg_read(c, cap + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_cfg_read(c, cap + VIRTIO_PCI_CAP_LENGTH, 4);
	if (*len != 1 && *len != 2 && *len != 4)
		return refuse(&dev->stats.bad_access);
	return 0;
}

void virtio_pci_cfg_write(void *opaque, unsigned int off, unsigned int size,
			  uint32_t val)
{
	struct virtio_pci_dev *dev = opaque;
	unsigned int data = dev->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
	unsigned int bar, len;
	uint64_t offset;

	(void)val; /* already stored through the write mask */
	if (covers(off, size, data) && !window(dev, &bar, &offset, &len))
		virtio_pci_bar_write(dev, bar, offset, len,
				     pci_cfg_read(&dev->cfg, data, len));
	msix_flush(dev);
}

void virtio_pci_cfg_read(void *opaque, unsigned int off, unsigned int size)
{
	struct virtio_pci_dev *dev = opaque;
	unsigned int data = dev->pci_cfg_cap + VIRTIO_PCI_CFG_CAP_DATA;
	unsigned int bar, len;
	uint64_t offset, val = ~0ull;

	if (!covers(off, size, data))
		return;
	if (window(dev, &bar, &offset, &len) ||
	    virtio_pci_bar_read(dev, bar, offset, len, &val))
		len = 4;
	pci_cfg_set(&dev->cfg, data, len, (uint32_t)val);
}

/* ---- keel's side ---- */

int virtio_pci_reset_done(struct virtio_pci_dev *dev)
{
	if (!dev->reset_pending)
		return -1;
	reset_state(dev);
	return 0;
}

void virtio_pci_needs_reset(struct virtio_pci_dev *dev)
{
	dev->status |= VIRTIO_STATUS_NEEDS_RESET;
	if (msix_ctrl(dev) & VIRTIO_PCI_MSIX_CTRL_ENABLE)
		virtio_pci_raise(dev, dev->config_vector);
	else
		dev->isr |= VIRTIO_ISR_CONFIG;
}

/* ---- handoff ---- */

static void save_queue(const struct virtio_queue *q,
		       struct virtio_pci_state_queue *sq)
{
	*sq = (struct virtio_pci_state_queue){
		.size = q->size,
		.msix_vector = q->msix_vector,
		.last_avail = q->last_avail,
		.enabled = q->enabled,
		.desc = q->desc,
		.avail = q->avail,
		.used = q->used,
	};
}

static struct virtio_queue load_queue(const struct virtio_pci_state_queue *sq)
{
	return (struct virtio_queue){
		.size = sq->size,
		.msix_vector = sq->msix_vector,
		.last_avail = sq->last_avail,
		.enabled = sq->enabled,
		.desc = sq->desc,
		.avail = sq->avail,
		.used = sq->used,
	};
}

void virtio_pci_save(const struct virtio_pci_dev *dev,
		     struct virtio_pci_state *st)
{
	unsigned int q;

	memcpy(st->cfg, dev->cfg.bytes, sizeof(st->cfg));
	memcpy(st->dev_cfg, dev->dev_cfg, sizeof(st->dev_cfg));
	st->dfselect = dev->dfselect;
	st->gfselect = dev->gfselect;
	st->driver_features = dev->driver_features;
	st->config_vector = dev->config_vector;
	st->status = dev->status;
	st->isr = dev->isr;
	st->queue_sel = dev->queue_sel;
	st->started = dev->started;
	st->reset_pending = dev->reset_pending;
	for (q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		save_queue(&dev->queue[q], &st->queue[q]);
	memcpy(st->msix, dev->msix, sizeof(st->msix));
	st->pba = dev->pba;
}

static void apply(struct virtio_pci_dev *dev, const struct virtio_pci_state *st)
{
	unsigned int q;

	memcpy(dev->cfg.bytes, st->cfg, sizeof(dev->cfg.bytes));
	memcpy(dev->dev_cfg, st->dev_cfg, sizeof(dev->dev_cfg));
	dev->dfselect = st->dfselect;
	dev->gfselect = st->gfselect;
	dev->driver_features = st->driver_features;
	dev->config_vector = st->config_vector;
	dev->status = st->status;
	dev->isr = st->isr;
	dev->queue_sel = st->queue_sel;
	dev->started = st->started;
	dev->reset_pending = st->reset_pending;
	for (q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
		dev->queue[q] = load_queue(&st->queue[q]);
	memcpy(dev->msix, st->msix, sizeof(dev->msix));
	dev->pba = st->pba;
}

struct load {
	const struct virtio_pci_dev *dev;
	const struct virtio_pci_state *st;
	char *err;
	size_t errlen;
};

struct msg {
	char *buf;
	size_t size;
	size_t len;
};

static void msg_putc(struct msg *m, char c)
{
	if (m->len + 1 < m->size)
		m->buf[m->len++] = c;
}

static void msg_num(struct msg *m, uint64_t v, unsigned int base)
{
	char digits[20]; /* 2^64 has 20 decimal digits */
	unsigned int n = 0;

	if (base == 16) {
		msg_putc(m, '0');
		msg_putc(m, 'x');
	}
	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		msg_putc(m, digits[--n]);
}

/*
 * "virtio: " and fmt, whose %u and %x take the next of args in decimal and
 * in hexadecimal: the model has <string.h> only. Returns -1.
 */
static int load_refuse(const struct load *l, const char *fmt,
		       const uint64_t *args)
{
	struct msg m = { l->err, l->errlen, 0 };
	const char *prefix = "virtio: ";

	while (*prefix)
		msg_putc(&m, *prefix++);
	for (; *fmt; fmt++) {
		if (fmt[0] == '%' && (fmt[1] == 'u' || fmt[1] == 'x')) {
			fmt++;
			msg_num(&m, *args++, *fmt == 'x' ? 16 : 10);
		} else {
			msg_putc(&m, *fmt);
		}
	}
	if (m.size)
		m.buf[m.len] = '\0';
	return -1;
}

#define REFUSE(l, fmt, ...) \
	load_refuse(l, fmt, (const uint64_t[]){ __VA_ARGS__ })

static uint32_t le_bytes(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	while (size--)
		v = v << 8 | p[size];
	return v;
}

/*
 * The byte check below refuses a misaligned BAR too (the write mask keeps
 * the bits under its size): this says so in the BAR's words.
 */
static int check_bars(const struct load *l)
{
	unsigned int i;

	for (i = 0; i < PCI_CFG_NR_BARS; i++) {
		uint64_t size = l->dev->cfg.bar[i].size;
		uint32_t addr = le_bytes(l->st->cfg + PCI_CFG_BAR0 + 4 * i, 4) &
				BAR_MEM_ADDR_MASK;

		if (size && (addr & (size - 1)))
			return REFUSE(l,
				      "BAR%u: address %x is not aligned to its "
				      "size %x",
				      i, addr, size);
	}
	return 0;
}

static int check_cfg_space(const struct load *l)
{
	const struct virtio_pci_dev *dev = l->dev;
	unsigned int i;

	if (check_bars(l))
		return -1;
	for (i = 0; i < PCI_CFG_SIZE; i++) {
		uint8_t ro =
			(l->st->cfg[i] ^ dev->cfg_init[i]) & ~dev->cfg.wmask[i];

		if (ro)
			return REFUSE(l,
				      "configuration space byte %x: %x changes "
				      "read-only bits %x",
				      i, l->st->cfg[i], ro);
	}
	return 0;
}

static int check_dev_cfg(const struct load *l)
{
	const struct virtio_pci_dev *dev = l->dev;
	unsigned int i;

	for (i = 0; i < VIRTIO_PCI_DEV_CFG_MAX; i++)
		if (!dev_cfg_writable(dev, i) &&
		    l->st->dev_cfg[i] != dev->dev_cfg_init[i])
			return REFUSE(
				l,
				"device configuration byte %u: %x differs "
				"from the read-only %x",
				i, l->st->dev_cfg[i], dev->dev_cfg_init[i]);
	return 0;
}

/*
 * DRIVER_OK starts the device; a reset of a started device leaves the
 * status as it was until the backend has stopped.
 */
static int check_status(const struct load *l)
{
	const struct virtio_pci_state *st = l->st;
	bool driver_ok = st->status & VIRTIO_STATUS_DRIVER_OK;

	if (!status_order_ok(st->status))
		return REFUSE(l,
			      "status %x sets a bit without the one before it "
			      "(ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK)",
			      st->status);
	if ((st->status & VIRTIO_STATUS_FEATURES_OK) &&
	    !features_acceptable(l->dev, st->driver_features))
		return REFUSE(l,
			      "driver features %x with FEATURES_OK: not among "
			      "the offered %x or without VERSION_1",
			      st->driver_features, l->dev->features);
	if (st->started > 1 || st->reset_pending > 1)
		return REFUSE(l,
			      "started %u and reset_pending %u must each be 0 "
			      "or 1",
			      st->started, st->reset_pending);
	if (st->started && st->reset_pending)
		return REFUSE(l,
			      "status %x: started and reset_pending both set",
			      st->status);
	if (driver_ok != (st->started || st->reset_pending))
		return REFUSE(l,
			      driver_ok ? "status %x has DRIVER_OK, but the "
					  "device is neither started nor "
					  "resetting"
					: "status %x lacks DRIVER_OK, but the "
					  "device is started or resetting",
			      st->status);
	return 0;
}

/* only virtio_pci_needs_reset() sets ISR, and only a reset clears that */
static int check_isr_and_vector(const struct load *l)
{
	const struct virtio_pci_state *st = l->st;

	if (st->isr & ~VIRTIO_ISR_CONFIG)
		return REFUSE(l, "isr %x: the device sets only bit %x", st->isr,
			      VIRTIO_ISR_CONFIG);
	if (st->isr && !(st->status & VIRTIO_STATUS_NEEDS_RESET))
		return REFUSE(l,
			      "isr %x without DEVICE_NEEDS_RESET in status %x",
			      st->isr, st->status);
	if (!vector_ok(l->dev, st->config_vector))
		return REFUSE(l,
			      "config vector %u is beyond the %u MSI-X entries",
			      st->config_vector, l->dev->msix_size);
	return 0;
}

static int check_absent_queue(const struct load *l, unsigned int i)
{
	struct virtio_queue q = reset_queue(l->dev);
	struct virtio_pci_state_queue want;

	save_queue(&q, &want);
	if (memcmp(&want, &l->st->queue[i], sizeof(want)))
		return REFUSE(
			l,
			"queue %u: beyond the device's %u queues, but not "
			"as reset",
			i, l->dev->num_queues);
	return 0;
}

static int check_queue(const struct load *l, unsigned int i)
{
	const struct virtio_pci_state_queue *sq = &l->st->queue[i];
	struct virtio_queue q = load_queue(sq);

	if (i >= l->dev->num_queues)
		return check_absent_queue(l, i);
	if (sq->enabled > 1)
		return REFUSE(l, "queue %u: enabled %u is not 0 or 1", i,
			      sq->enabled);
	if (sq->reserved)
		return REFUSE(l, "queue %u: reserved %x is not 0", i,
			      sq->reserved);
	if (!queue_size_ok(l->dev, q.size))
		return REFUSE(
			l, "queue %u: size %u is not a power of two up to %u",
			i, q.size, l->dev->queue_max);
	if (!vector_ok(l->dev, q.msix_vector))
		return REFUSE(l,
			      "queue %u: vector %u is beyond the %u MSI-X "
			      "entries",
			      i, q.msix_vector, l->dev->msix_size);
	if (q.enabled && !rings_ok(l->dev, &q))
		return REFUSE(l,
			      "queue %u: rings desc %x, avail %x, used %x are "
			      "misaligned or outside guest RAM",
			      i, q.desc, q.avail, q.used);
	return 0;
}

static int check_msix_entry(const struct load *l, unsigned int v)
{
	static const uint32_t unused[VIRTIO_PCI_MSIX_ENTRY_SIZE / 4];
	const uint32_t *e = l->st->msix[v];

	if (v >= l->dev->msix_size) {
		if (memcmp(e, unused, sizeof(unused)))
			return REFUSE(l,
				      "MSI-X entry %u: beyond the table's %u "
				      "entries, but not 0",
				      v, l->dev->msix_size);
		return 0;
	}
	if (e[MSIX_VEC_CTRL] & ~VIRTIO_PCI_MSIX_VEC_MASKED)
		return REFUSE(l,
			      "MSI-X entry %u: vector control %x sets reserved "
			      "bits",
			      v, e[MSIX_VEC_CTRL]);
	return 0;
}

/* msix_flush() leaves no message pending that could be sent */
static int check_pba(const struct load *l)
{
	const struct virtio_pci_state *st = l->st;
	unsigned int v, n = l->dev->msix_size;
	uint16_t ctrl = (uint16_t)le_bytes(
		st->cfg + l->dev->msix_cap + VIRTIO_PCI_MSIX_CTRL, 2);
	uint16_t command = (uint16_t)le_bytes(st->cfg + PCI_CFG_COMMAND, 2);

	if (st->pba >> n)
		return REFUSE(l, "PBA %x has bits beyond the %u MSI-X entries",
			      st->pba, n);
	for (v = 0; v < n; v++)
		if ((st->pba >> v & 1) && msix_live(ctrl, command) &&
		    !entry_masked(ctrl, st->msix[v]))
			return REFUSE(l,
				      "PBA: vector %u is pending, yet unmasked "
				      "with MSI-X and bus mastering on",
				      v);
	return 0;
}

static int check_state(const struct load *l)
{
	unsigned int i;

	if (check_cfg_space(l) || check_dev_cfg(l) || check_status(l) ||
	    check_isr_and_vector(l))
		return -1;
	for (i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		if (check_queue(l, i))
			return -1;
	for (i = 0; i < VIRTIO_PCI_MSIX_MAX; i++)
		if (check_msix_entry(l, i))
			return -1;
	return check_pba(l);
}

int virtio_pci_load(struct virtio_pci_dev *dev,
		    const struct virtio_pci_state *st, char *err, size_t errlen)
{
	const struct load l = { dev, st, err, errlen };

	if (check_state(&l))
		return -1;
	apply(dev, st);
	return 0;
}
