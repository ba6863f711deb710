/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Loading a Linux kernel into a partition's memory and producing the
 * register state to start it: an uncompressed vmlinux through its PVH entry
 * (Xen ELF note 18, 32-bit protected mode) or a bzImage through the 64-bit
 * boot protocol (long mode, identity page tables).
 */
#ifndef KEEL_RUNTIME_LINUX_BOOT_H
#define KEEL_RUNTIME_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Bytes to reserve at boot_gpa. A bzImage needs all of it: boot_params,
 * the GDT and 24 KiB of page tables (4 GiB in 2 MiB pages). A PVH vmlinux
 * uses only 128 bytes plus 24 per memory map entry.
 */
#define LINUX_BOOT_AREA_SIZE 0x8000u
/* Bytes to reserve at cmdline_gpa; the command line and its NUL must fit. */
#define LINUX_CMDLINE_AREA_SIZE 0x1000u

/* A guest-physical range keel can write: GPA gpa.. maps to host hva.. */
struct gmem {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

/* Also the layout of boot_params.e820_table entries. */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_SOFT_RESERVED 0xefffffffu

struct linux_boot_req {
	/* vmlinux ELF with a PVH note, or bzImage */
	const uint8_t *kernel;
	size_t kernel_size;
	/* NULL/0: none */
	const uint8_t *initrd;
	size_t initrd_size;
	/* copied into guest memory; NULL is an empty command line */
	const char *cmdline;
	/* the partition's map; only E820_RAM ranges are written */
	const struct e820_entry *e820;
	unsigned int e820_count;
	/* ACPI RSDP the kernel should use, 0 for none */
	uint64_t rsdp_gpa;
	/* LINUX_BOOT_AREA_SIZE of page-aligned RAM below 4 GiB for
	 * start_info/boot_params, the memory map, GDT and page tables */
	uint64_t boot_gpa;
	/* LINUX_CMDLINE_AREA_SIZE of RAM below 4 GiB for the command line */
	uint64_t cmdline_gpa;
	/* the initrd goes page-aligned, as high as it fits, in RAM, ending at
	 * or below this; 0: no limit but RAM (and the kernel's own limit) */
	uint64_t initrd_max;
};

enum linux_entry {
	LINUX_ENTRY_PVH32, /* 32-bit protected mode, paging off, flat */
	LINUX_ENTRY_64BIT, /* long mode on cr3 and the GDT below */
};

struct linux_boot_out {
	enum linux_entry entry;
	/* "PVH vmlinux" or "bzImage" */
	const char *format;
	uint64_t rip;
	/* PVH: hvm_start_info GPA */
	uint64_t rbx;
	/* 64-bit protocol: boot_params GPA */
	uint64_t rsi;
	/* 64-bit protocol: identity page tables (first 4 GiB, 2 MiB pages)
	 * built in the boot area */
	uint64_t cr3;
	/* 64-bit protocol: GDT with __BOOT_CS 0x10 (64-bit code) and
	 * __BOOT_DS 0x18 */
	uint64_t gdt_base;
	uint16_t gdt_limit;
	/* GPAs occupied by the kernel image incl. bss (bzImage: init_size) */
	uint64_t kernel_start, kernel_end;
	/* 0 when none */
	uint64_t initrd_start, initrd_end;
};

/*
 * Loads @req->kernel (and initrd, command line, boot structures) into @mem.
 * Every byte written lies in @mem and in E820_RAM, overlaps no other placed
 * object and none of the source buffers; nothing is written unless all of
 * it fits. Returns 0, or -1 with a one-line "linux: ..." message in @err.
 */
int linux_boot_load(const struct gmem *mem, const struct linux_boot_req *req,
		    struct linux_boot_out *out, char *err, size_t errlen);

#endif
