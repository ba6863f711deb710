/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the boot loader handed over, in one loader-neutral form: command line,
 * physical memory map, modules and the ACPI RSDP. Filled by multiboot.c from a
 * Multiboot1 or Multiboot2 information structure.
 */
#ifndef KEEL_RUNTIME_BOOTINFO_H
#define KEEL_RUNTIME_BOOTINFO_H

#include <stddef.h>
#include <stdint.h>

#define BOOTINFO_MAX_MMAP 128
#define BOOTINFO_MAX_MODULES 16
#define BOOTINFO_NAME_LEN 64
#define BOOTINFO_CMDLINE_LEN 256

/* Memory map entry types, numbered as in the E820 / Multiboot map. */
enum mem_type {
	MEM_USABLE = 1,
	MEM_RESERVED = 2,
	MEM_ACPI_RECLAIM = 3,
	MEM_ACPI_NVS = 4,
	MEM_BAD = 5,
};

struct mmap_entry {
	uint64_t base;
	uint64_t size;
	uint32_t type; /* enum mem_type; other values are treated as reserved */
};

struct boot_module {
	uint64_t start; /* physical, inclusive */
	uint64_t end;   /* physical, exclusive */
	char name[BOOTINFO_NAME_LEN]; /* the module's command line */
};

struct boot_info {
	unsigned int loader; /* 1 or 2: Multiboot version */
	char cmdline[BOOTINFO_CMDLINE_LEN];
	char loader_name[BOOTINFO_NAME_LEN];
	uint64_t info_start, info_end; /* the loader's info structure itself */
	struct mmap_entry mmap[BOOTINFO_MAX_MMAP];
	unsigned int mmap_count;
	struct boot_module modules[BOOTINFO_MAX_MODULES];
	unsigned int module_count;
	uint64_t rsdp; /* physical address of a copy or of the RSDP, 0 if none */
	uint8_t rsdp_copy[36]; /* Multiboot2 hands a copy of the RSDP */
	unsigned int rsdp_len; /* bytes valid in rsdp_copy, 0 if none */
};

/*
 * Maps a physical range for reading. keel identity-maps memory so it returns
 * the address itself; host tests translate into a buffer.
 */
typedef const void *(*phys_map_fn)(uint64_t phys, size_t len);

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u

/*
 * Parses the info structure found at physical address @info for a loader
 * that put @magic in EAX. Returns 0, or -1 with a message in @err.
 */
int bootinfo_parse(uint32_t magic, uint64_t info, phys_map_fn map,
		   struct boot_info *bi, char *err, size_t errlen);

/* The module whose name is @name, or NULL. */
const struct boot_module *bootinfo_module(const struct boot_info *bi,
					  const char *name);

#endif
