/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PCI configuration mechanism #1 (ports 0xCF8 and 0xCFC-0xCFF) for a
 * partition's bus 0, and the 256-byte configuration space of its functions:
 * contents plus a per-byte write mask, with BAR sizing handled through the
 * mask. Type-0 headers only: keel's partitions get no PCI bridges.
 */
#ifndef KEEL_ARCH_PCI_CFG_H
#define KEEL_ARCH_PCI_CFG_H

#include <stdint.h>

#define PCI_CFG_SIZE 256
#define PCI_CFG_NR_BARS 6
#define PCI_BUS_MAX_FUNCS 32

#define PCI_CFG_ADDR_PORT 0xCF8
#define PCI_CFG_DATA_PORT 0xCFC

#define PCI_DEVFN(dev, fn) ((uint8_t)(((dev) << 3) | (fn)))

/* configuration space offsets */
#define PCI_CFG_VENDOR_ID 0x00
#define PCI_CFG_DEVICE_ID 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS 0x09 /* prog-if, subclass, class: 3 bytes */
#define PCI_CFG_CACHE_LINE 0x0C
#define PCI_CFG_LATENCY 0x0D
#define PCI_CFG_HEADER_TYPE 0x0E
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_SUBSYS_VENDOR 0x2C
#define PCI_CFG_SUBSYS_ID 0x2E
#define PCI_CFG_ROM 0x30
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INT_LINE 0x3C
#define PCI_CFG_INT_PIN 0x3D

#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_CMD_PARITY 0x0040
#define PCI_CMD_SERR 0x0100
#define PCI_CMD_INTX_DISABLE 0x0400
#define PCI_STATUS_CAP_LIST 0x0010
#define PCI_STATUS_FAST_B2B 0x0080

#define PCI_CFG_CAP_START 0x40 /* capabilities live in 0x40..0xFF */

enum pci_bar_type {
	PCI_BAR_NONE = 0,
	PCI_BAR_IO,
	PCI_BAR_MEM32,
	PCI_BAR_MEM64,
	PCI_BAR_MEM64_HI, /* the upper half of the BAR below it */
};
#define PCI_BAR_PREFETCH 0x10 /* or'ed into PCI_BAR_MEM32/PCI_BAR_MEM64 */

struct pci_bar {
	uint64_t size;
	uint8_t type; /* enum pci_bar_type */
};

struct pci_cfg_space {
	uint8_t bytes[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* 1: the partition may write the bit */
	struct pci_bar bar[PCI_CFG_NR_BARS];
	uint16_t cap_end; /* first free byte for a capability */
};

/*
 * Header type 0, single function, no BARs or capabilities. Writable: the
 * command bits a plain device has, cache line size, latency timer and
 * interrupt line.
 */
void pci_cfg_init(struct pci_cfg_space *cfg, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint8_t revision);
/*
 * BAR index of size bytes (a power of two: 4..256 for I/O, at least 16 for
 * memory, at most 2 GiB for mem32). PCI_BAR_MEM64 takes index and index + 1.
 * 0, or -1 for a bad index, size or type or a BAR slot already taken.
 */
int pci_cfg_set_bar(struct pci_cfg_space *cfg, unsigned int index,
		    uint64_t size, unsigned int type);
/* the address the partition programmed into a BAR, 0 when it has none */
uint64_t pci_cfg_bar_addr(const struct pci_cfg_space *cfg, unsigned int index);
/*
 * Appends a capability of len bytes (header included) to the list: sets its
 * ID and next pointer, the capabilities pointer and status bit. Returns its
 * offset, or -1 when it does not fit. The body is read-only until the device
 * sets a write mask for it.
 */
int pci_cfg_add_cap(struct pci_cfg_space *cfg, uint8_t id, unsigned int len);

/*
 * Little-endian accesses of 1, 2 or 4 bytes within the 256 bytes; others
 * read all ones and write nothing. pci_cfg_write() is the partition's view
 * (write mask honoured); pci_cfg_set() and pci_cfg_set_wmask() are the
 * device's, to fill in read-only contents and choose what is writable.
 */
uint32_t pci_cfg_read(const struct pci_cfg_space *cfg, unsigned int off,
		      unsigned int size);
void pci_cfg_write(struct pci_cfg_space *cfg, unsigned int off,
		   unsigned int size, uint32_t val);
void pci_cfg_set(struct pci_cfg_space *cfg, unsigned int off, unsigned int size,
		 uint32_t val);
void pci_cfg_set_wmask(struct pci_cfg_space *cfg, unsigned int off,
		       unsigned int size, uint32_t mask);

/* 00:00.0: Intel 82G33/P35 DRAM controller, the host bridge of QEMU's q35 */
#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x29C0
void pci_host_bridge_init(struct pci_cfg_space *cfg);

/*
 * Called after the partition's write has gone through the write mask, with
 * the offset, size and value as written.
 */
typedef void (*pci_write_hook)(void *dev, unsigned int off, unsigned int size,
			       uint32_t val);

/*
 * Called before the partition's read of size bytes at off is answered from
 * the configuration space, so that the device can update what it holds.
 */
typedef void (*pci_read_hook)(void *dev, unsigned int off, unsigned int size);

struct pci_function {
	uint8_t devfn;
	struct pci_cfg_space *cfg;
	pci_write_hook on_write; /* may be NULL */
	pci_read_hook on_read;   /* may be NULL */
	void *dev;
};

struct pci_bus {
	uint32_t addr; /* CONFIG_ADDRESS as last written */
	struct pci_function fn[PCI_BUS_MAX_FUNCS];
	unsigned int count;
};

void pci_bus_init(struct pci_bus *b);
/*
 * -1 if the bus is full, devfn is taken or cfg is NULL. A function other
 * than 0 is only found by Linux if function 0 declares itself multi-function.
 */
int pci_bus_add(struct pci_bus *b, uint8_t devfn, struct pci_cfg_space *cfg,
		pci_write_hook on_write, void *dev);
/* Sets the read hook of the function at devfn; -1 if there is none. */
int pci_bus_set_read_hook(struct pci_bus *b, uint8_t devfn,
			  pci_read_hook on_read);
/*
 * Ports 0xCF8-0xCFF, 1, 2 or 4 bytes within one dword. 0 when done, -1 when
 * refused (other port or size, or crossing a dword); a refused read leaves
 * *val all ones.
 */
int pci_bus_io_read(struct pci_bus *b, uint16_t port, unsigned int size,
		    uint32_t *val);
int pci_bus_io_write(struct pci_bus *b, uint16_t port, unsigned int size,
		     uint32_t val);

#endif
