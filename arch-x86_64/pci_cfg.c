// SPDX-License-Identifier: GPL-2.0
/* PCI configuration mechanism #1 and configuration spaces (see pci_cfg.h). */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "arch-x86_64/pci_cfg.h"

#define BAR_IO_FLAG 0x1
#define BAR_MEM64_FLAG 0x4
#define BAR_PREFETCH_FLAG 0x8
#define BAR_IO_ADDR_MASK 0xFFFFFFFCu
#define BAR_MEM_ADDR_MASK 0xFFFFFFF0u

#define ADDR_ENABLE 0x80000000u
/*
 * Bus number (23:16) and the reserved bits above it, which AMD chipsets take
 * as extended register number: anything there is not our bus 0.
 */
#define ADDR_NOT_BUS0 0x7FFF0000u
#define ADDR_DEVFN_SHIFT 8
#define ADDR_REG_MASK 0xFCu

static bool valid_access(unsigned int off, unsigned int size)
{
	return (size == 1 || size == 2 || size == 4) &&
	       off <= PCI_CFG_SIZE - size;
}

static uint32_t ones(unsigned int size)
{
	return size >= 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static void store(uint8_t *dst, const uint8_t *mask, unsigned int off,
		  unsigned int size, uint32_t val)
{
	unsigned int i;

	if (!valid_access(off, size))
		return;
	for (i = 0; i < size; i++) {
		uint8_t m = mask ? mask[off + i] : 0xFF;
		uint8_t b = (uint8_t)(val >> (8 * i));

		dst[off + i] = (uint8_t)((dst[off + i] & ~m) | (b & m));
	}
}

uint32_t pci_cfg_read(const struct pci_cfg_space *cfg, unsigned int off,
		      unsigned int size)
{
	uint32_t val = 0;
	unsigned int i;

	if (!valid_access(off, size))
		return 0xFFFFFFFFu;
	for (i = 0; i < size; i++)
		val |= (uint32_t)cfg->bytes[off + i] << (8 * i);
	return val;
}

void pci_cfg_write(struct pci_cfg_space *cfg, unsigned int off,
		   unsigned int size, uint32_t val)
{
	store(cfg->bytes, cfg->wmask, off, size, val);
}

void pci_cfg_set(struct pci_cfg_space *cfg, unsigned int off, unsigned int size,
		 uint32_t val)
{
	store(cfg->bytes, NULL, off, size, val);
}

void pci_cfg_set_wmask(struct pci_cfg_space *cfg, unsigned int off,
		       unsigned int size, uint32_t mask)
{
	store(cfg->wmask, NULL, off, size, mask);
}

void pci_cfg_init(struct pci_cfg_space *cfg, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision)
{
	memset(cfg, 0, sizeof(*cfg));
	pci_cfg_set(cfg, PCI_CFG_VENDOR_ID, 2, vendor);
	pci_cfg_set(cfg, PCI_CFG_DEVICE_ID, 2, device);
	pci_cfg_set(cfg, PCI_CFG_REVISION, 1, revision);
	pci_cfg_set(cfg, PCI_CFG_CLASS, 2, class_code & 0xFFFF);
	pci_cfg_set(cfg, PCI_CFG_CLASS + 2, 1, class_code >> 16);
	pci_cfg_set_wmask(cfg, PCI_CFG_COMMAND, 2,
			  PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER |
				  PCI_CMD_PARITY | PCI_CMD_SERR |
				  PCI_CMD_INTX_DISABLE);
	pci_cfg_set_wmask(cfg, PCI_CFG_CACHE_LINE, 2, 0xFFFF);
	pci_cfg_set_wmask(cfg, PCI_CFG_INT_LINE, 1, 0xFF);
	cfg->cap_end = PCI_CFG_CAP_START;
}

static bool power_of_two(uint64_t x)
{
	return x && !(x & (x - 1));
}

/*
 * The write mask does the sizing protocol: the address bits below the size
 * and the type bits are read-only, so writing all ones and reading back
 * gives ~(size - 1) | type bits, as on hardware.
 */
int pci_cfg_set_bar(struct pci_cfg_space *cfg, unsigned int index,
		    uint64_t size, unsigned int type)
{
	unsigned int kind = type & ~PCI_BAR_PREFETCH;
	bool prefetch = type & PCI_BAR_PREFETCH;
	unsigned int off = PCI_CFG_BAR0 + 4 * index;
	uint32_t flags = prefetch ? BAR_PREFETCH_FLAG : 0;
	uint32_t mask;

	if (index >= PCI_CFG_NR_BARS || !power_of_two(size) ||
	    cfg->bar[index].type != PCI_BAR_NONE)
		return -1;
	switch (kind) {
	case PCI_BAR_IO:
		if (prefetch || size < 4 || size > 256)
			return -1;
		flags = BAR_IO_FLAG;
		mask = (uint32_t) ~(size - 1) & BAR_IO_ADDR_MASK;
		break;
	case PCI_BAR_MEM32:
		if (size < 16 || size > 0x80000000u)
			return -1;
		mask = (uint32_t) ~(size - 1) & BAR_MEM_ADDR_MASK;
		break;
	case PCI_BAR_MEM64:
		if (size < 16 || index + 1 >= PCI_CFG_NR_BARS ||
		    cfg->bar[index + 1].type != PCI_BAR_NONE)
			return -1;
		flags |= BAR_MEM64_FLAG;
		mask = (uint32_t) ~(size - 1) & BAR_MEM_ADDR_MASK;
		pci_cfg_set(cfg, off + 4, 4, 0);
		pci_cfg_set_wmask(cfg, off + 4, 4,
				  (uint32_t)(~(size - 1) >> 32));
		cfg->bar[index + 1].type = PCI_BAR_MEM64_HI;
		break;
	default:
		return -1;
	}
	pci_cfg_set(cfg, off, 4, flags);
	pci_cfg_set_wmask(cfg, off, 4, mask);
	cfg->bar[index].size = size;
	cfg->bar[index].type = (uint8_t)kind;
	return 0;
}

uint64_t pci_cfg_bar_addr(const struct pci_cfg_space *cfg, unsigned int index)
{
	unsigned int off = PCI_CFG_BAR0 + 4 * index;
	uint32_t low;

	if (index >= PCI_CFG_NR_BARS)
		return 0;
	low = pci_cfg_read(cfg, off, 4);
	switch (cfg->bar[index].type) {
	case PCI_BAR_IO:
		return low & BAR_IO_ADDR_MASK;
	case PCI_BAR_MEM32:
		return low & BAR_MEM_ADDR_MASK;
	case PCI_BAR_MEM64:
		return (low & BAR_MEM_ADDR_MASK) |
		       (uint64_t)pci_cfg_read(cfg, off + 4, 4) << 32;
	default:
		return 0;
	}
}

int pci_cfg_add_cap(struct pci_cfg_space *cfg, uint8_t id, unsigned int len)
{
	unsigned int off = cfg->cap_end;
	unsigned int link = PCI_CFG_CAP_PTR;
	unsigned int hops;

	if (off < PCI_CFG_CAP_START)
		off = PCI_CFG_CAP_START;
	if (len < 2 || len > PCI_CFG_SIZE - off)
		return -1;
	/* bounded: a device may have rewritten the pointers */
	for (hops = 0; cfg->bytes[link]; hops++) {
		if (hops == PCI_CFG_SIZE / 4 ||
		    cfg->bytes[link] > PCI_CFG_SIZE - 2)
			return -1;
		link = cfg->bytes[link] + 1u;
	}
	cfg->bytes[link] = (uint8_t)off;
	cfg->bytes[off] = id;
	cfg->bytes[off + 1] = 0;
	cfg->bytes[PCI_CFG_STATUS] |= PCI_STATUS_CAP_LIST;
	cfg->cap_end = (uint16_t)((off + len + 3) & ~3u);
	return (int)off;
}

/*
 * Memory and bus-master decode are hardwired on and only the error-reporting
 * enables are writable, as in the Intel MCH datasheets; no capability list,
 * no BARs, no interrupt.
 */
void pci_host_bridge_init(struct pci_cfg_space *cfg)
{
	pci_cfg_init(cfg, PCI_HOST_BRIDGE_VENDOR, PCI_HOST_BRIDGE_DEVICE,
		     0x060000, 0);
	memset(cfg->wmask, 0, sizeof(cfg->wmask));
	pci_cfg_set(cfg, PCI_CFG_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	pci_cfg_set_wmask(cfg, PCI_CFG_COMMAND, 2,
			  PCI_CMD_PARITY | PCI_CMD_SERR);
}

void pci_bus_init(struct pci_bus *b)
{
	memset(b, 0, sizeof(*b));
}

static struct pci_function *find(struct pci_bus *b, uint8_t devfn)
{
	unsigned int i;

	for (i = 0; i < b->count; i++)
		if (b->fn[i].devfn == devfn)
			return &b->fn[i];
	return NULL;
}

int pci_bus_add(struct pci_bus *b, uint8_t devfn, struct pci_cfg_space *cfg,
		pci_write_hook on_write, void *dev)
{
	if (!cfg || b->count >= PCI_BUS_MAX_FUNCS || find(b, devfn))
		return -1;
	b->fn[b->count++] = (struct pci_function){
		.devfn = devfn,
		.cfg = cfg,
		.on_write = on_write,
		.dev = dev,
	};
	return 0;
}

int pci_bus_set_read_hook(struct pci_bus *b, uint8_t devfn,
			  pci_read_hook on_read)
{
	struct pci_function *f = find(b, devfn);

	if (!f)
		return -1;
	f->on_read = on_read;
	return 0;
}

static struct pci_function *addressed(struct pci_bus *b)
{
	if (!(b->addr & ADDR_ENABLE) || (b->addr & ADDR_NOT_BUS0))
		return NULL;
	return find(b, (uint8_t)(b->addr >> ADDR_DEVFN_SHIFT));
}

/*
 * Only a 32-bit access at 0xCF8 reaches CONFIG_ADDRESS: narrower ones go
 * elsewhere on a PC (0xCF9 is the chipset's reset control, 0xCFB was
 * mechanism #2), so they are refused like any port nothing answers.
 */
static bool valid_port(uint16_t port, unsigned int size)
{
	if (port < PCI_CFG_DATA_PORT)
		return port == PCI_CFG_ADDR_PORT && size == 4;
	return (size == 1 || size == 2 || size == 4) &&
	       port <= PCI_CFG_DATA_PORT + 3 && (port & 3) + size <= 4;
}

int pci_bus_io_read(struct pci_bus *b, uint16_t port, unsigned int size,
		    uint32_t *val)
{
	struct pci_function *f;
	unsigned int off;

	*val = 0xFFFFFFFFu;
	if (!valid_port(port, size))
		return -1;
	if (port == PCI_CFG_ADDR_PORT) {
		*val = b->addr;
		return 0;
	}
	f = addressed(b);
	if (!f) {
		*val = ones(size);
		return 0;
	}
	off = (b->addr & ADDR_REG_MASK) + (port & 3u);
	if (f->on_read)
		f->on_read(f->dev, off, size);
	*val = pci_cfg_read(f->cfg, off, size);
	return 0;
}

int pci_bus_io_write(struct pci_bus *b, uint16_t port, unsigned int size,
		     uint32_t val)
{
	struct pci_function *f;
	unsigned int off;

	if (!valid_port(port, size))
		return -1;
	if (port == PCI_CFG_ADDR_PORT) {
		b->addr = val;
		return 0;
	}
	f = addressed(b);
	if (!f)
		return 0;
	off = (b->addr & ADDR_REG_MASK) + (port & 3u);
	val &= ones(size);
	pci_cfg_write(f->cfg, off, size, val);
	if (f->on_write)
		f->on_write(f->dev, off, size, val);
	return 0;
}
