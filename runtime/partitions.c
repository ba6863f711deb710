// SPDX-License-Identifier: GPL-2.0
/*
 * The two partitions, built from the configuration:
 *
 * - the guest: its window of RAM at guest-physical 0 (the e820 of a small
 *   PC), ACPI tables keel builds at 0xE0000 (hardware-reduced FADT, MADT with
 *   its one CPU and an I/O APIC, DSDT with the PCI root and COM1), its kernel
 *   loaded from the boot modules, every port and MSR intercepted but those
 *   its policy passes;
 * - the companion: everything else, identity-mapped, with keel and the guest
 *   window carved out of its e820 (reserved, and soft reserved so that it
 *   never becomes the companion's RAM), the firmware's ACPI tables with the
 *   MADT cut down to its CPUs, COM1 and the ACPI sleep register intercepted.
 *
 * The guest runs on its CPU, the companion on the boot CPU. When the
 * companion powers off, keel waits for the guest to stop, reports what it
 * counted and completes the power-off.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/guest_cpu.h"
#include "arch-x86_64/percpu.h"
#include "arch-x86_64/smp.h"
#include "arch-x86_64/time.h"
#include "runtime/acpi_build.h"
#include "runtime/e820.h"
#include "runtime/handoff.h"
#include "runtime/halt.h"
#include "runtime/linux_boot.h"
#include "runtime/partitions.h"
#include "runtime/partition.h"
#include "virtio/virtio_scsi.h"

#define MiB (1ull << 20)
#define IDENTITY_LIMIT (4ull << 30)
#define GiB (1ull << 30)

#define GUEST_BOOT_GPA 0x8000
#define GUEST_CMDLINE_GPA 0x20000
#define GUEST_ACPI_GPA 0xE0000
#define GUEST_ACPI_SIZE 0x20000
#define GUEST_LOW_RAM_END 0x9F000
#define GUEST_SLEEP_PORT 0x600
#define HW_REDUCED_SLP_EN (1u << 5)
#define PM1_SLP_EN (1u << 13)
#define FADT_PM1A_CNT 64

#define COMPANION_TABLES_SIZE 0x10000
#define COMPANION_BOOT_SIZE (LINUX_BOOT_AREA_SIZE + 0x1000) /* + cmdline */
#define COMPANION_MAX_E820 64
#define GUEST_STOP_WAIT_US (60ull * 1000 * 1000)

/* keel-internal types for building the companion's EPT */
#define E820_MMIO_HOLE 0xF0000001u
#define E820_UNMAPPED 0xF0000002u

#define XAPIC_PAGE 0xFEE00000ull
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CONFIG_ENABLE 0x80000000u
#define MSR_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1ull << 10)
#define CPUID1_ECX_X2APIC (1u << 21)

static struct partition companion = { .name = "companion",
				      .kind = PART_COMPANION, .id = 0 };
static struct partition guest = { .name = "guest", .kind = PART_GUEST,
				  .id = 1 };
static struct vcpu_boot_state guest_boot, companion_boot;
static struct channel channel;
static struct disk disk;
static const struct machine *machine;

static int failf(const char *what, const char *err)
{
	printf("keel: error: %s: %s\n", what, err);
	return -1;
}

static uint64_t total_exits(const struct partition *p)
{
	uint64_t n = 0;

	for (unsigned int r = 0; r < VCPU_EXIT_REASONS; r++)
		n += p->exits[r].count;
	return n;
}

/* A partition's console line. With "stamps", each line also carries the
 * TSC cycles since keel's entry and the partition's exits so far, which is
 * what make bench measures with. */
static void relay_line(void *ctx, const char *line, size_t len)
{
	const struct partition *p = ctx;

	if (machine->stamps)
		printf("[%s @%llu #%llu] %.*s\n", p->name,
		       (unsigned long long)(rdtsc() - machine->entry_tsc),
		       (unsigned long long)total_exits(p), (int)len, line);
	else
		printf("[%s] %.*s\n", p->name, (int)len, line);
}

static unsigned int first_cpu(uint64_t mask)
{
	return (unsigned int)__builtin_ctzll(mask);
}

static uint64_t alloc_zeroed(struct page_pool *pool, uint64_t pages)
{
	uint64_t phys = page_alloc(pool, pages, 1);

	if (phys)
		memset((void *)phys, 0, pages * PAGE_SIZE);
	return phys;
}

static int partition_init(struct partition *p, const struct machine *m,
			  const struct partition_cfg *cfg)
{
	p->cfg = cfg;
	p->apic_id = percpu[first_cpu(cfg->cpus)].apic_id;
	uart_emul_init(&p->uart, relay_line, p);
	p->io_bitmap = alloc_zeroed(m->pool, 2);
	p->msr_bitmap = alloc_zeroed(m->pool, 1);
	p->vcpu_pages = alloc_zeroed(m->pool, VCPU_BACKEND_PAGES);
	if (!p->io_bitmap || !p->msr_bitmap || !p->vcpu_pages ||
	    ept_init(&p->ept, m->pool, m->caps->ept_1g, m->caps->ept_ad))
		return failf(p->name, "keel's page pool is exhausted");
	guest_msr_bitmap(p, (uint8_t *)p->msr_bitmap);
	return 0;
}

static void intercept_port(struct partition *p, uint16_t port)
{
	uint8_t *bm = (uint8_t *)p->io_bitmap;

	bm[port / 8] |= 1u << (port % 8);
}

static void boot_state_from(struct vcpu_boot_state *bs,
			    const struct linux_boot_out *out)
{
	*bs = (struct vcpu_boot_state){
		.long_mode = out->entry == LINUX_ENTRY_64BIT,
		.rip = out->rip, .rbx = out->rbx, .rsi = out->rsi,
		.cr3 = out->cr3, .gdt_base = out->gdt_base,
		.gdt_limit = out->gdt_limit,
	};
}

static int load_kernel(struct partition *p, const struct gmem *mem,
		       struct linux_boot_req *req, const uint8_t *kernel,
		       size_t ksize, const uint8_t *initrd, size_t isize,
		       struct vcpu_boot_state *bs)
{
	struct linux_boot_out out;
	char err[200];

	req->kernel = kernel;
	req->kernel_size = ksize;
	req->initrd = initrd;
	req->initrd_size = isize;
	req->cmdline = p->cfg->cmdline;
	if (linux_boot_load(mem, req, &out, err, sizeof(err)))
		return failf(p->name, err);
	printf("%s: %s %s at %#llx-%#llx, entry %#llx, initrd %#llx-%#llx\n",
	       p->name, p->cfg->kernel, out.format,
	       (unsigned long long)out.kernel_start,
	       (unsigned long long)out.kernel_end,
	       (unsigned long long)out.rip,
	       (unsigned long long)out.initrd_start,
	       (unsigned long long)out.initrd_end);
	boot_state_from(bs, &out);
	return 0;
}

static const struct boot_module *module(const struct machine *m,
					const char *name)
{
	return name ? bootinfo_module(m->bi, name) : NULL;
}

#define MOD_PTR(mod) ((mod) ? (const uint8_t *)(mod)->start : NULL)
#define MOD_LEN(mod) ((mod) ? (size_t)((mod)->end - (mod)->start) : 0)

static int setup_guest(const struct machine *m)
{
	struct partition *p = &guest;
	uint64_t size = m->cfg->guest.memory;
	const struct boot_module *k = module(m, p->cfg->kernel);
	const struct boot_module *i = module(m, p->cfg->initrd);
	const struct e820_entry e820[] = {
		{ 0, GUEST_LOW_RAM_END, E820_RAM },
		{ GUEST_LOW_RAM_END, MiB - GUEST_LOW_RAM_END, E820_RESERVED },
		{ MiB, size - MiB, E820_RAM },
	};
	struct guest_acpi_desc acpi = {
		.apic_id = p->apic_id, .ioapic_addr = 0xFEC00000,
		.ioapic_id = 0, .sleep_port = GUEST_SLEEP_PORT,
		.dsdt = guest_dsdt_aml_code, .dsdt_len = guest_dsdt_aml_len,
	};
	struct linux_boot_req req = {
		.e820 = e820, .e820_count = 3, .rsdp_gpa = GUEST_ACPI_GPA,
		.boot_gpa = GUEST_BOOT_GPA, .cmdline_gpa = GUEST_CMDLINE_GPA,
		.initrd_max = size,
	};

	p->ram_size = size;
	p->ram_hpa = memmap_alloc(m->mm, size, 2 * MiB, IDENTITY_LIMIT,
				  OWNER_GUEST);
	if (!p->ram_hpa)
		return failf("guest", "no free 2 MiB-aligned range below 4 GiB "
				      "for its memory (/guest memory)");
	struct gmem mem = { 0, size, (uint8_t *)p->ram_hpa };

	printf("guest: memory %#llx-%#llx (%llu MiB) at guest-physical 0\n",
	       (unsigned long long)p->ram_hpa,
	       (unsigned long long)(p->ram_hpa + size),
	       (unsigned long long)size >> 20);
	memset(mem.hva, 0, 2 * MiB);
	if (!acpi_build_guest(mem.hva + GUEST_ACPI_GPA, GUEST_ACPI_SIZE,
			      GUEST_ACPI_GPA, &acpi))
		return failf("guest", "its ACPI tables do not fit");
	if (load_kernel(p, &mem, &req, MOD_PTR(k), MOD_LEN(k), MOD_PTR(i),
			MOD_LEN(i), &guest_boot))
		return -1;
	if (ept_map(&p->ept, 0, p->ram_hpa, size, EPT_RWX | EPT_MT_WB))
		return failf("guest", "keel's page pool is exhausted (EPT)");
	/* without x2APIC the guest reads its CPU's xAPIC page directly and
	 * every write traps, so that it can only interrupt itself */
	p->xapic_trapped = !(cpuid(1, 0).ecx & CPUID1_ECX_X2APIC);
	if (p->xapic_trapped &&
	    ept_map(&p->ept, XAPIC_PAGE, XAPIC_PAGE, PAGE_SIZE,
		    EPT_R | EPT_MT_UC))
		return failf("guest", "keel's page pool is exhausted (EPT)");
	memset((void *)p->io_bitmap, 0xFF, 2 * PAGE_SIZE);
	ioapic_emul_init(&p->ioapic, 0);
	pci_bus_init(&p->pci);
	pci_host_bridge_init(&p->host_bridge);
	pci_bus_add(&p->pci, 0, &p->host_bridge, NULL, NULL);
	p->sleep_port = GUEST_SLEEP_PORT;
	p->sleep_en = HW_REDUCED_SLP_EN;
	return 0;
}

/* Copies @mod to @dst; returns the copy's end. */
static uint64_t stage(const struct boot_module *mod, uint64_t dst)
{
	if (!mod)
		return dst;
	memcpy((void *)dst, (const void *)mod->start, MOD_LEN(mod));
	return (dst + MOD_LEN(mod) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static int companion_e820(const struct machine *m, uint64_t tables,
			  struct e820_entry *out)
{
	const struct e820_overlay ov[] = {
		{ m->image_start, m->image_end - m->image_start,
		  E820_RESERVED },
		{ m->pool->base, m->pool->pages * PAGE_SIZE, E820_RESERVED },
		{ guest.ram_hpa, guest.ram_size, E820_SOFT_RESERVED },
		{ tables, COMPANION_TABLES_SIZE, E820_ACPI },
	};

	return e820_build(m->bi->mmap, m->bi->mmap_count, ov, 4, out,
			  COMPANION_MAX_E820);
}

/* Identity map of everything below @top but keel itself: RAM-like ranges
 * write-back, everything else (MMIO, firmware-reserved, holes) uncached. */
static int companion_ept(const struct machine *m, const struct e820_entry *e,
			 int n, uint64_t top)
{
	struct e820_overlay ov[COMPANION_MAX_E820 + 3];
	struct e820_entry view[COMPANION_MAX_E820 + 8];
	int nov = 0, nview;

	ov[nov++] = (struct e820_overlay){ 0, top, E820_MMIO_HOLE };
	for (int i = 0; i < n; i++)
		ov[nov++] = (struct e820_overlay){ e[i].addr, e[i].size,
						   e[i].type };
	ov[nov++] = (struct e820_overlay){ m->image_start,
					   m->image_end - m->image_start,
					   E820_UNMAPPED };
	ov[nov++] = (struct e820_overlay){ m->pool->base,
					   m->pool->pages * PAGE_SIZE,
					   E820_UNMAPPED };
	nview = e820_build(NULL, 0, ov, (unsigned int)nov, view,
			   COMPANION_MAX_E820 + 8);
	if (nview < 0)
		return failf("companion", "its memory map is too fragmented");
	for (int i = 0; i < nview; i++) {
		uint32_t t = view[i].type;
		bool wb = t == E820_RAM || t == E820_ACPI || t == E820_NVS ||
			  t == E820_SOFT_RESERVED;

		if (t == E820_UNMAPPED)
			continue;
		if (ept_map(&companion.ept, view[i].addr, view[i].addr,
			    view[i].size,
			    EPT_RWX | (wb ? EPT_MT_WB : EPT_MT_UC)))
			return failf("companion",
				     "keel's page pool is exhausted (EPT)");
	}
	return 0;
}

/* The highest device number with nothing at function 0 on the machine's
 * PCI bus 0, as a devfn; 0 when the bus is full. */
static uint8_t free_pci_slot(void)
{
	for (unsigned int dev = 31; dev > 0; dev--) {
		port_write(PCI_CONFIG_ADDRESS, 4, PCI_CONFIG_ENABLE | dev << 11);
		if ((port_read(PCI_CONFIG_DATA, 4) & 0xFFFF) == 0xFFFF)
			return (uint8_t)(dev << 3);
	}
	return 0;
}

/* The channel's shared window: what the companion needs to serve the
 * guest's disk, from keel's configuration. */
static uint64_t channel_shared(const struct machine *m)
{
	uint64_t hpa = alloc_zeroed(m->pool, KEEL_CHAN_SHARED_SIZE / PAGE_SIZE);
	struct keel_chan_shared *sh = (struct keel_chan_shared *)hpa;
	const struct virtio_scsi_cfg *d = &m->cfg->disk;

	if (!hpa)
		return 0;
	*sh = (struct keel_chan_shared){
		.magic = KEEL_CHAN_MAGIC,
		.abi_version = KEEL_CHAN_ABI_VERSION,
		.disk_queues = d->queues,
		.disk_queue_size = d->queue_size,
		.disk_size = d->size,
		.guest_ram_phys = guest.ram_hpa,
		.guest_ram_size = guest.ram_size,
		.guest_state = KEEL_GUEST_RUNNING,
	};
	snprintf(sh->disk_wwpn, sizeof(sh->disk_wwpn), "%s", d->wwpn);
	snprintf(sh->disk_backstore, sizeof(sh->disk_backstore), "%s",
		 d->backstore == BACKSTORE_FILEIO ? "fileio" : "iblock");
	snprintf(sh->disk_path, sizeof(sh->disk_path), "%s", d->path);
	return hpa;
}

static int setup_channel(struct partition *p, const struct machine *m)
{
	uint8_t devfn = free_pci_slot();
	uint64_t shared = channel_shared(m);

	if (!devfn)
		return failf("companion", "no free slot on PCI bus 0 for keel's "
					  "channel device");
	if (!shared)
		return failf("companion", "keel's page pool is exhausted");
	channel_init(&channel, p, devfn, shared);
	p->chan = &channel;
	for (uint16_t port = PCI_CONFIG_ADDRESS; port < PCI_CONFIG_DATA + 4;
	     port++)
		intercept_port(p, port);
	printf("companion: keel's channel device at 00:%02x.0 (%04x:%04x)\n",
	       devfn >> 3, KEEL_CHAN_VENDOR_ID, KEEL_CHAN_DEVICE_ID);
	return 0;
}

/* The guest's virtio-scsi disk, served by the companion through the
 * channel: its device on the guest's bus, its hypercalls on the companion. */
static int setup_disk(const struct machine *m)
{
	if (disk_init(&disk, &m->cfg->disk, &guest, &channel))
		return failf("guest", "its virtio-scsi device cannot be built "
				      "from /guest/virtio-scsi");
	guest.disk = &disk;
	companion.disk = &disk;
	handoff_init(&guest, &companion, &disk, &m->cfg->disk, m->tsc_khz);
	printf("guest: virtio-scsi at 00:%02x.0 (%04x:%04x), %u request "
	       "queue(s) of %u, registers at %#llx, served by the companion "
	       "(wwpn %s)\n",
	       DISK_DEVFN >> 3, VIRTIO_PCI_VENDOR,
	       VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_SCSI, m->cfg->disk.queues,
	       m->cfg->disk.queue_size, DISK_BAR_GPA, m->cfg->disk.wwpn);
	return 0;
}

static uint16_t firmware_pm1a_cnt(const struct machine *m)
{
	char err[96];
	uint64_t fadt = acpi_find_table(m->fw_rsdp, "FACP", m->map, err,
					sizeof(err));
	const uint8_t *f = fadt ? m->map(fadt, FADT_PM1A_CNT + 4) : NULL;
	uint32_t port = 0;

	if (f)
		memcpy(&port, f + FADT_PM1A_CNT, sizeof(port));
	return (uint16_t)port;
}

static int setup_companion(const struct machine *m)
{
	struct partition *p = &companion;
	const struct boot_module *k = module(m, p->cfg->kernel);
	const struct boot_module *i = module(m, p->cfg->initrd);
	uint64_t staged = MOD_LEN(k) + MOD_LEN(i) + 2 * PAGE_SIZE;
	uint64_t stage_base = memmap_alloc(m->mm, staged, 2 * MiB,
					   IDENTITY_LIMIT, OWNER_MODULE);
	uint64_t tables = memmap_alloc(m->mm, COMPANION_TABLES_SIZE, PAGE_SIZE,
				       IDENTITY_LIMIT, OWNER_TABLES);
	uint64_t boot = memmap_alloc(m->mm, COMPANION_BOOT_SIZE, PAGE_SIZE,
				     IDENTITY_LIMIT, OWNER_BOOTINFO);
	static struct e820_entry e820[COMPANION_MAX_E820];
	uint32_t ids[] = { p->apic_id };
	uint64_t rsdp, top = IDENTITY_LIMIT, kcopy, icopy;
	char err[200];
	int n;

	if (!stage_base || !tables || !boot)
		return failf("companion", "no free memory below 4 GiB to stage "
					  "its kernel and tables");
	/* GRUB may have put the modules where the kernel must go */
	kcopy = stage_base;
	icopy = stage(k, kcopy);
	stage(i, icopy);
	n = companion_e820(m, tables, e820);
	if (n < 0)
		return failf("companion", "its memory map is too fragmented");
	if (acpi_build_companion(m->fw_rsdp, m->map, ids, 1,
				 (uint8_t *)tables, COMPANION_TABLES_SIZE,
				 tables, &rsdp, err, sizeof(err)))
		return failf("companion", err);

	struct gmem mem = { PAGE_SIZE, IDENTITY_LIMIT - PAGE_SIZE,
			    (uint8_t *)PAGE_SIZE };
	struct linux_boot_req req = {
		.e820 = e820, .e820_count = (unsigned int)n, .rsdp_gpa = rsdp,
		.boot_gpa = boot, .cmdline_gpa = boot + LINUX_BOOT_AREA_SIZE,
		.initrd_max = stage_base,
	};

	if (load_kernel(p, &mem, &req, k ? (const uint8_t *)kcopy : NULL,
			MOD_LEN(k), i ? (const uint8_t *)icopy : NULL,
			MOD_LEN(i), &companion_boot))
		return -1;
	for (int j = 0; j < n; j++)
		if (e820[j].addr + e820[j].size > top)
			top = e820[j].addr + e820[j].size;
	top = (top + GiB - 1) & ~(GiB - 1);
	if (companion_ept(m, e820, n, top))
		return -1;
	for (uint16_t port = 0x3F8; port < 0x400; port++)
		intercept_port(p, port);
	if (setup_channel(p, m) || setup_disk(m))
		return -1;
	p->sleep_port = firmware_pm1a_cnt(m);
	p->sleep_en = PM1_SLP_EN;
	p->sleep_real = true;
	if (p->sleep_port) {
		intercept_port(p, p->sleep_port);
		intercept_port(p, p->sleep_port + 1);
	}
	printf("companion: identity map up to %#llx without keel, guest "
	       "window soft reserved, %d e820 entries, ACPI sleep port %#x\n",
	       (unsigned long long)top, n, p->sleep_port);
	return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

void *partitions_companion_buffer(uint64_t gpa, uint64_t len)
{
	if (!len || len > IDENTITY_LIMIT || gpa >= IDENTITY_LIMIT - len ||
	    overlaps(gpa, len, machine->image_start,
		     machine->image_end - machine->image_start) ||
	    overlaps(gpa, len, machine->pool->base,
		     machine->pool->pages * PAGE_SIZE) ||
	    overlaps(gpa, len, guest.ram_hpa, guest.ram_size))
		return NULL;
	return (void *)gpa;
}

static void run_guest(void *arg)
{
	(void)arg;
	/* Linux keeps x2APIC on when a hypervisor says it is safe, and then
	 * never touches the xAPIC page, which the guest's EPT does not map;
	 * a CPU without x2APIC gets the trapped xAPIC page instead */
	if (guest.xapic_trapped)
		printf("guest: no x2APIC on this CPU: xAPIC page read-only, "
		       "writes trapped\n");
	else
		wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | APIC_BASE_EXTD);
	if (vcpu_setup(&guest.vcpu, &guest, &guest_boot)) {
		partition_stop(&guest, "vCPU setup failed");
	} else {
		printf("keel: guest starts on cpu %u (APIC ID %u)\n",
		       this_cpu()->index, guest.apic_id);
		vcpu_run(&guest.vcpu);
		printf("keel: guest stopped: %s\n", guest.stop_reason);
	}
	channel_set_guest_state(&channel, KEEL_GUEST_STOPPED);
}

static void wait_for_guest(void)
{
	uint64_t deadline = tsc_deadline_us(GUEST_STOP_WAIT_US);

	/* a dropped guest is parked for good: nothing to wait for */
	if (!guest.stopped && handoff_dropped()) {
		partition_stop(&guest, "dropped (handed off, or never loaded)");
		printf("keel: guest stopped: %s\n", guest.stop_reason);
		return;
	}

	if (!guest.stopped)
		printf("keel: waiting up to %llu s for the guest to stop\n",
		       GUEST_STOP_WAIT_US / 1000000);
	while (!__atomic_load_n(&guest.stopped, __ATOMIC_ACQUIRE) &&
	       !tsc_passed(deadline))
		cpu_relax();
}

void partitions_run(const struct machine *m)
{
	const struct guest_clock clock = { m->tsc_khz, m->apic_khz };
	unsigned int gcpu = first_cpu(m->cfg->guest.cpus);

	if (m->cfg->companion.cpus != 1) {
		printf("keel: error: config: /companion: property 'cpus': "
		       "this build runs the companion on CPU 0 alone\n");
		return;
	}
	machine = m;
	guest_cpu_set_clock(&clock);
	if (partition_init(&guest, m, &m->cfg->guest) ||
	    partition_init(&companion, m, &m->cfg->companion) ||
	    setup_guest(m) || setup_companion(m))
		return;
	if (m->cfg->guest.wait)
		handoff_hold();
	smp_run_on(gcpu, run_guest, NULL);
	if (vcpu_setup(&companion.vcpu, &companion, &companion_boot))
		return;
	printf("keel: companion starts on cpu 0 (APIC ID %u)\n",
	       companion.apic_id);
	vcpu_run(&companion.vcpu);
	printf("keel: companion stopped: %s\n", companion.stop_reason);
	wait_for_guest();
	partition_print_stats(&guest);
	partition_print_stats(&companion);
	disk_print_stats(&disk);
}
