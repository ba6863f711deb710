// SPDX-License-Identifier: GPL-2.0
/*
 * keel_main: from the loader's hand-over to a machine that is understood and
 * checked. Order matters: the console first, then everything the loader and
 * firmware say, then the configuration (so that a bad one halts before any
 * CPU or partition starts), then VT-x, then the other CPUs.
 */
#include <stdio.h>
#include <string.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/lapic.h"
#include "arch-x86_64/percpu.h"
#include "arch-x86_64/smp.h"
#include "arch-x86_64/time.h"
#include "arch-x86_64/traps.h"
#include "arch-x86_64/vmx_caps.h"
#include "runtime/acpi.h"
#include "runtime/bootinfo.h"
#include "runtime/cmdline.h"
#include "runtime/config.h"
#include "runtime/console.h"
#include "runtime/halt.h"
#include "runtime/memmap.h"
#include "runtime/page_alloc.h"
#include "runtime/partitions.h"

#define KEEL_VERSION "0.1"
#define CONFIG_MODULE "config.dtb"
#define IDENTITY_LIMIT (4ull << 30) /* what the boot page tables map */
#define POOL_ALIGN (2ull << 20)
#define ERR_LEN 320
#define CONFIG_MAX_SIZE (64 * 1024)

extern char __image_start[], __image_end[], boot_stack_top[];

static struct boot_info bi;
static struct memmap mm;
static struct madt_info madt;
static struct keel_config cfg;
static struct page_pool pool;
static struct vmx_caps caps;
static uint64_t fw_rsdp;
/* the configuration's strings point into it: keep it out of the modules'
 * memory, which the companion gets */
static uint8_t config_blob[CONFIG_MAX_SIZE];
static uint64_t entry_tsc;
static bool stamps;
static uint8_t bsp_ist[IST_COUNT * IST_STACK_SIZE] __attribute__((aligned(16)));

static const void *phys_map(uint64_t phys, size_t len)
{
	if (phys == 0 || phys >= IDENTITY_LIMIT ||
	    len > IDENTITY_LIMIT - phys)
		return NULL;
	return (const void *)phys;
}

static void print_line(const char *line, void *ctx)
{
	(void)ctx;
	printf("%s\n", line);
}

static _Noreturn void fail(const char *msg)
{
	printf("keel: error: %s\n", msg);
	keel_halt("boot stopped before any partition started");
}

static void read_boot_info(uint32_t magic, uint64_t info)
{
	char err[ERR_LEN], val[16];

	if (bootinfo_parse(magic, info, phys_map, &bi, err, sizeof(err)))
		fail(err);
	if (cmdline_get(bi.cmdline, "exit", val, sizeof(val)) &&
	    !strcmp(val, "emulator"))
		halt_set_emulator_exit(true);
	stamps = cmdline_get(bi.cmdline, "stamps", val, sizeof(val)) &&
		 !strcmp(val, "on");
	printf("boot: Multiboot%u from \"%s\", command line \"%s\"\n",
	       bi.loader, bi.loader_name, bi.cmdline);
	for (unsigned int i = 0; i < bi.module_count; i++)
		printf("boot: module %-20s %#010llx-%#010llx (%llu KiB)\n",
		       bi.modules[i].name,
		       (unsigned long long)bi.modules[i].start,
		       (unsigned long long)bi.modules[i].end,
		       (unsigned long long)(bi.modules[i].end -
					    bi.modules[i].start) >> 10);
}

static void build_memory_map(void)
{
	if (memmap_init(&mm, bi.mmap, bi.mmap_count))
		fail("memory: the loader's memory map has too many ranges");
	memmap_claim(&mm, (uint64_t)__image_start,
		     (uint64_t)(__image_end - __image_start), OWNER_KEEL_IMAGE);
	memmap_claim(&mm, bi.info_start, bi.info_end - bi.info_start,
		     OWNER_BOOTINFO);
	for (unsigned int i = 0; i < bi.module_count; i++)
		memmap_claim(&mm, bi.modules[i].start,
			     bi.modules[i].end - bi.modules[i].start,
			     OWNER_MODULE);
	for (unsigned int i = 0; i < mm.count; i++)
		printf("memory: 0x%012llx-0x%012llx %s\n",
		       (unsigned long long)mm.r[i].base,
		       (unsigned long long)(mm.r[i].base + mm.r[i].size),
		       memmap_owner_name(mm.r[i].owner));
	printf("memory: %llu MiB free for keel and the partitions\n",
	       (unsigned long long)memmap_total(&mm, OWNER_FREE) >> 20);
}

static void read_acpi(void)
{
	char err[ERR_LEN] = "";
	uint64_t rsdp = bi.rsdp_len ? (uint64_t)bi.rsdp_copy :
				      acpi_scan_rsdp(phys_map);
	uint64_t madt_phys;
	const struct acpi_sdt_header *h;

	if (!rsdp)
		fail("acpi: no RSDP (neither from the loader nor in the BIOS "
		     "area)");
	fw_rsdp = rsdp;
	madt_phys = acpi_find_table(rsdp, "APIC", phys_map, err, sizeof(err));
	if (!madt_phys)
		fail(err[0] ? err : "acpi: no MADT");
	h = phys_map(madt_phys, sizeof(*h));
	if (acpi_parse_madt(h, h->length, &madt, err, sizeof(err)))
		fail(err);
	printf("acpi: MADT lists %u enabled CPUs (%u disabled), %u I/O "
	       "APICs, local APIC at %#llx\n",
	       madt.cpu_count, madt.cpus_disabled, madt.ioapic_count,
	       (unsigned long long)madt.lapic_address);
}

static void read_config(unsigned int ncpus)
{
	const struct boot_module *m = bootinfo_module(&bi, CONFIG_MODULE);
	const char *names[BOOTINFO_MAX_MODULES];
	char err[ERR_LEN];

	if (!m)
		fail("config: no boot module named \"" CONFIG_MODULE "\"");
	for (unsigned int i = 0; i < bi.module_count; i++)
		names[i] = bi.modules[i].name;
	struct config_machine machine = {
		.cpu_count = ncpus,
		.usable_memory = memmap_total(&mm, OWNER_FREE),
		.modules = names,
		.module_count = bi.module_count,
	};

	if (m->end - m->start > sizeof(config_blob))
		fail("config: the DTB is larger than 64 KiB");
	memcpy(config_blob, (const void *)m->start, m->end - m->start);
	if (config_parse(config_blob, m->end - m->start, &machine, &cfg, err,
			 sizeof(err)))
		fail(err);
	config_print(&cfg, print_line, NULL);
}

static void make_page_pool(void)
{
	uint64_t base = memmap_alloc(&mm, cfg.keel_memory, POOL_ALIGN,
				     IDENTITY_LIMIT, OWNER_KEEL_POOL);
	uint64_t pages = cfg.keel_memory / PAGE_SIZE;
	uint64_t bitmap_pages = (pages / 8 + PAGE_SIZE - 1) / PAGE_SIZE;

	if (!base)
		fail("memory: no free contiguous range below 4 GiB for keel's "
		     "page pool (/keel memory)");
	memset((void *)base, 0, bitmap_pages * PAGE_SIZE);
	page_pool_init(&pool, base, pages, (uint64_t *)base);
	page_alloc(&pool, bitmap_pages, 1);
	printf("memory: keel pool %#llx-%#llx (%llu MiB)\n",
	       (unsigned long long)base,
	       (unsigned long long)(base + cfg.keel_memory),
	       (unsigned long long)cfg.keel_memory >> 20);
}

static void check_vmx(void)
{
	struct vmx_raw raw;
	char msg[ERR_LEN];

	vmx_read_raw(&raw);
	vmx_caps_decode(&raw, &caps);
	if (vmx_caps_check(&caps, msg, sizeof(msg)))
		fail(msg);
	if (!caps.fc_locked)
		printf("vmx: IA32_FEATURE_CONTROL was unlocked: keel enables "
		       "VMX and locks it\n");
	vmx_enable_feature_control();
	vmx_caps_describe(&caps, msg, sizeof(msg));
	printf("%s\n", msg);
}

void keel_main(uint32_t magic, uint64_t info)
{
	unsigned int ncpus, online;

	entry_tsc = rdtsc();
	percpu[0].stack_top = (uint64_t)boot_stack_top;
	console_init();
	printf("\nkeel %s: static partitioning monitor for x86-64 with "
	       "VT-x\n",
	       KEEL_VERSION);
	traps_init_idt();
	cpu_init(&percpu[0], (uint64_t)bsp_ist);
	read_boot_info(magic, info);
	build_memory_map();
	printf("cpu: TSC %llu kHz\n", (unsigned long long)tsc_calibrate());
	if (!lapic_init())
		fail("cpu: the local APIC is disabled");
	read_acpi();
	ncpus = smp_number_cpus(&madt);
	if (!ncpus)
		fail("acpi: the boot CPU's APIC ID is not in the MADT");
	read_config(ncpus);
	make_page_pool();
	check_vmx();
	printf("smp: cpu 0 online (APIC ID %u, boot CPU, %s mode)\n",
	       percpu[0].apic_id, lapic_x2apic_mode() ? "x2APIC" : "xAPIC");
	online = smp_start_aps(&mm, &pool, &bi);
	printf("smp: %u of %u CPUs online\n", online, ncpus);
	if (online != ncpus)
		fail("smp: not every CPU came online");

	struct machine machine = {
		.bi = &bi, .mm = &mm, .pool = &pool, .cfg = &cfg,
		.caps = &caps, .fw_rsdp = fw_rsdp,
		.image_start = (uint64_t)__image_start,
		.image_end = (uint64_t)__image_end,
		.tsc_khz = (uint32_t)tsc_khz(), .apic_khz = lapic_timer_khz(),
		.entry_tsc = entry_tsc, .stamps = stamps, .map = phys_map,
	};

	printf("cpu: local APIC timer %u kHz\n", machine.apic_khz);
	partitions_run(&machine);
	keel_halt("all partitions stopped");
}
