// SPDX-License-Identifier: GPL-2.0
/*
 * What keel emulates for a partition, by port and address, and its
 * bookkeeping. The companion reaches the real hardware directly: keel only
 * intercepts its COM1 (keel's console) and its ACPI sleep register (to see
 * it power off). The guest reaches nothing but RAM; every port and address
 * outside what keel emulates reads all ones, ignores writes, and is counted.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/guest_cpu.h"
#include "runtime/handoff.h"
#include "runtime/partition.h"

#define UART_BASE 0x3F8
#define UART_PORTS 8
#define PCI_CONFIG_FIRST 0xCF8
#define PCI_CONFIG_LAST 0xCFF
#define IOAPIC_GPA 0xFEC00000ull
#define IOAPIC_SIZE 0x1000
#define XAPIC_GPA 0xFEE00000ull
#define XAPIC_SIZE 0x1000

void *partition_gpa_to_hva(const struct partition *p, uint64_t gpa,
			   uint64_t len)
{
	if (p->kind == PART_COMPANION)
		return (void *)gpa; /* identity; keel maps the first 4 GiB */
	if (gpa >= p->ram_size || len > p->ram_size - gpa)
		return NULL;
	return (void *)(p->ram_hpa + gpa);
}

/*
 * The sleep control register: a 16-bit PM1 control on the companion (a real
 * register: everything but the power-off passes through), the guest's 8-bit
 * hardware-reduced sleep control and status pair (nothing else there).
 */
static int sleep_access(struct partition *p, uint16_t port,
			unsigned int size, bool write, uint32_t *val)
{
	unsigned int shift = 8 * (port - p->sleep_port);

	if (write && ((*val << shift) & p->sleep_en)) {
		p->sleep_value = *val;
		partition_stop(p, "powered off");
		return 0;
	}
	if (!p->sleep_real) {
		if (!write)
			*val = 0;
		return 0;
	}
	if (write)
		port_write(port, size, *val);
	else
		*val = port_read(port, size);
	return 0;
}

/*
 * The companion's PCI configuration mechanism #1: the real one, but for the
 * function keel adds (its channel device), which keel answers itself.
 */
static int companion_pci(struct partition *p, uint16_t port,
			 unsigned int size, bool write, uint32_t *val)
{
	if (port == PCI_CONFIG_FIRST && size == 4 && write)
		p->cfg_addr = *val;
	else if (port >= PCI_CONFIG_FIRST + 4 && p->chan &&
		 channel_cfg_access(p->chan, p->cfg_addr, port, size, write,
				    val))
		return 0;
	if (write)
		port_write(port, size, *val);
	else
		*val = port_read(port, size);
	return 0;
}

int partition_pio(struct partition *p, uint16_t port, unsigned int size,
		  bool write, uint32_t *val)
{
	if (port >= UART_BASE && port < UART_BASE + UART_PORTS && size == 1) {
		if (write)
			uart_emul_write(&p->uart, port - UART_BASE,
					(uint8_t)*val);
		else
			*val = uart_emul_read(&p->uart, port - UART_BASE);
		return 0;
	}
	if (p->sleep_port && (port == p->sleep_port ||
			      port == p->sleep_port + 1))
		return sleep_access(p, port, size, write, val);
	if (port >= PCI_CONFIG_FIRST && port <= PCI_CONFIG_LAST) {
		if (p->kind == PART_COMPANION)
			return companion_pci(p, port, size, write, val);
		if (p->disk)
			return disk_pci_io(p->disk, port, size, write, val);
		return write ? pci_bus_io_write(&p->pci, port, size, *val) :
			       pci_bus_io_read(&p->pci, port, size, val);
	}
	return -1;
}

int partition_mmio(struct vcpu *v, uint64_t gpa, unsigned int size,
		   bool write, uint64_t *val)
{
	struct partition *p = v->part;
	uint32_t v32 = (uint32_t)*val;
	int rc;

	if (p->xapic_trapped && write && size == 4 && gpa >= XAPIC_GPA &&
	    gpa < XAPIC_GPA + XAPIC_SIZE)
		return guest_xapic_write(v, (uint32_t)(gpa - XAPIC_GPA), v32);
	if (p->chan)
		return channel_mmio(p->chan, gpa, size, write, val);
	if (p->disk) {
		rc = disk_mmio(p->disk, gpa, size, write, val);
		if (rc < 0 && write)
			p->refused.dev++;
		if (rc <= 0)
			return 0;
	}
	if (p->kind != PART_GUEST || gpa < IOAPIC_GPA ||
	    gpa >= IOAPIC_GPA + IOAPIC_SIZE)
		return -1;
	if (!write) {
		rc = ioapic_emul_read(&p->ioapic, gpa - IOAPIC_GPA, size, &v32);
		*val = v32;
		return rc < 0 ? -1 : 0;
	}
	rc = ioapic_emul_write(&p->ioapic, gpa - IOAPIC_GPA, size, v32);
	if (rc > 0)
		p->refused.dev++;
	return rc < 0 ? -1 : 0;
}

bool partition_hypercall(struct partition *p, unsigned long nr, uint64_t arg,
			 uint64_t arg2, long *ret)
{
	if (p->kind != PART_COMPANION || !p->disk)
		return false;
	*ret = nr >= KEEL_HC_PAUSE ? handoff_hypercall(nr, arg, arg2) :
				     disk_hypercall(p->disk, nr, arg);
	return true;
}

void partition_stop(struct partition *p, const char *why)
{
	uart_emul_flush(&p->uart);
	p->stop_reason = why;
	__atomic_store_n(&p->stopped, true, __ATOMIC_RELEASE);
}

void partition_print_stats(const struct partition *p)
{
	uint64_t total = 0, cycles = 0;

	for (unsigned int r = 0; r < VCPU_EXIT_REASONS; r++) {
		total += p->exits[r].count;
		cycles += p->exits[r].cycles;
	}
	printf("stats: %s: %llu exits, %llu keel cycles (%llu per exit); "
	       "stopped: %s\n",
	       p->name, (unsigned long long)total,
	       (unsigned long long)cycles,
	       (unsigned long long)(total ? cycles / total : 0),
	       p->stop_reason ? p->stop_reason : "running");
	for (unsigned int r = 0; r < VCPU_EXIT_REASONS; r++) {
		const struct exit_stat *e = &p->exits[r];

		if (!e->count)
			continue;
		printf("stats: %s:   %-22s %10llu exits %12llu cycles "
		       "(%llu per exit)\n",
		       p->name, vcpu_exit_name(r),
		       (unsigned long long)e->count,
		       (unsigned long long)e->cycles,
		       (unsigned long long)(e->cycles / e->count));
	}
	printf("stats: %s: refused io %llu (last port %#x), mmio %llu (last "
	       "%#llx), mmio instructions %llu, msr %llu, ipi %llu, device "
	       "writes %llu\n",
	       p->name, (unsigned long long)p->refused.io, p->refused.last_port,
	       (unsigned long long)p->refused.mmio,
	       (unsigned long long)p->refused.last_mmio,
	       (unsigned long long)p->refused.insn,
	       (unsigned long long)p->refused.msr,
	       (unsigned long long)p->refused.ipi,
	       (unsigned long long)p->refused.dev);
}
