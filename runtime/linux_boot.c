// SPDX-License-Identifier: GPL-2.0
/*
 * The Linux loader plans every object (kernel, boot area, command line,
 * initrd) and checks it against the partition before writing anything, so a
 * rejected kernel leaves guest memory untouched.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/linux_boot.h"
#include "runtime/unaligned.h"

#define PAGE_SIZE 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_4G 0x100000000ull

/* Formats the one-line message into the context's buffer; evaluates to -1. */
#define FAIL(c, ...) (snprintf((c)->err, (c)->errlen, __VA_ARGS__), -1)

/* ELF64, as much as a vmlinux needs */
#define EHDR_SIZE 64
#define PHDR_SIZE 56
#define MAX_PHNUM 64
#define EM_X86_64 62
#define ET_EXEC 2
#define PT_LOAD 1
#define PT_NOTE 4
#define NOTE_HDR_SIZE 12
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* bzImage setup header, file offsets (Documentation/arch/x86/boot.rst) */
#define HDR_START 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP_LEN 0x201 /* the header ends at 0x202 + this byte */
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_LOADFLAGS 0x211
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define HDR_MIN_END 0x268 /* through handover_offset */
#define HDR_MAX_END 0x290 /* boot_params.edd_mbr_sig_buffer follows */
#define BOOT_FLAG 0xaa55
#define MIN_VERSION 0x020c
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x01
#define XLF_CAN_BE_LOADED_ABOVE_4G 0x02
#define STARTUP_64 0x200

/* boot_params (the zero page) */
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_TYPE_OF_LOADER 0x210
#define BP_RAMDISK_IMAGE 0x218
#define BP_RAMDISK_SIZE 0x21c
#define BP_CMD_LINE_PTR 0x228
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define LOADER_UNDEFINED 0xff

/* bzImage boot area: boot_params at 0, then these */
#define BZ_GDT 0x1000
#define BZ_PML4 0x2000
#define BZ_PDPT 0x3000
#define BZ_PD 0x4000 /* four pages, one per GiB */
#define PTE_PRESENT 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80
#define IDENTITY_PAGES (SZ_4G / SZ_2M)
/* Accessed bits preset so the CPU never writes to the table. */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA 0x00cf93000000ffffull
#define GDT_LIMIT (4 * 8 - 1)

/* PVH boot area: start_info at 0, then these */
#define PVH_MODLIST 0x40
#define PVH_MEMMAP 0x80
#define HVM_START_MAGIC 0x336ec578u

/* include/xen/interface/hvm/start_info.h, version 1 */
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24,
	       "hvm_memmap_table_entry");
_Static_assert(sizeof(struct e820_entry) == 20, "boot_params e820 entry");
_Static_assert(PVH_MODLIST >= sizeof(struct hvm_start_info) &&
	       PVH_MEMMAP - PVH_MODLIST >= sizeof(struct hvm_modlist_entry),
	       "PVH boot area layout");

/* What keel places in guest memory; the kernel and initrd also have a
 * source module that may itself sit in guest memory. */
enum obj { OBJ_KERNEL, OBJ_BOOT, OBJ_CMDLINE, OBJ_INITRD, OBJ_COUNT };

static const char *const obj_name[OBJ_COUNT] = {
	"kernel", "boot area", "command line", "initrd",
};

/* [start, end) in guest-physical addresses; empty when start == end. */
struct span {
	uint64_t start, end;
};

struct ctx {
	const struct gmem *mem;
	const struct linux_boot_req *req;
	struct span placed[OBJ_COUNT];
	struct span module[OBJ_COUNT];
	char *err;
	size_t errlen;
};

/* What a format's parser decides, before anything is written. */
struct plan {
	bool pvh;
	uint64_t rip;
	uint64_t boot_size;    /* bytes of the boot area used */
	uint64_t cmdline_max;  /* longest command line, NUL excluded */
	uint64_t initrd_limit; /* the kernel's own ceiling for the initrd end */
	const char *cmdline;
	uint64_t cmdline_len;
	uint64_t phoff;        /* vmlinux */
	unsigned int phnum;
	uint64_t pm_offset;    /* bzImage: protected-mode kernel in the file */
	uint64_t pm_size;
	unsigned int hdr_end;
};

struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static inline unsigned long long ull(uint64_t v)
{
	return v;
}

static bool overlaps(struct span a, struct span b)
{
	return a.start < a.end && b.start < b.end &&
	       a.start < b.end && b.start < a.end;
}

static struct span e820_span(const struct e820_entry *e)
{
	uint64_t addr = e->addr, size = e->size;
	struct span s = { addr, size > UINT64_MAX - addr ? UINT64_MAX
							 : addr + size };

	return s;
}

/* True if E820_RAM covers all of @s (adjacent entries may share the job)
 * and no other type overlaps any of it. */
static bool in_ram(const struct linux_boot_req *req, struct span s)
{
	uint64_t pos = s.start;
	unsigned int i;

	for (i = 0; i < req->e820_count; i++)
		if (req->e820[i].type != E820_RAM &&
		    overlaps(s, e820_span(&req->e820[i])))
			return false;
	while (pos < s.end) {
		uint64_t next = pos;

		for (i = 0; i < req->e820_count; i++) {
			struct span e = e820_span(&req->e820[i]);

			if (req->e820[i].type == E820_RAM && e.start <= pos &&
			    pos < e.end && e.end > next)
				next = e.end;
		}
		if (next == pos)
			return false;
		pos = next;
	}
	return true;
}

/* The guest-physical range a host buffer occupies, if it lies in @mem. */
static struct span module_span(const struct gmem *mem, const void *p,
			       size_t len)
{
	uintptr_t lo = (uintptr_t)mem->hva, hi = lo + mem->size;
	uintptr_t a = (uintptr_t)p, b = a + len;
	struct span s = { 0, 0 };

	if (!p || !len || b <= lo || a >= hi)
		return s;
	s.start = mem->gpa + ((a > lo ? a : lo) - lo);
	s.end = mem->gpa + ((b < hi ? b : hi) - lo);
	return s;
}

static int module_clash(struct ctx *c, enum obj what, int mod, struct span s)
{
	if ((int)what == mod)
		return FAIL(c,
			    "linux: the %s's load address 0x%llx overlaps its own module; relocate the module first",
			    obj_name[what], ull(s.start));
	return FAIL(c,
		    "linux: the %s at 0x%llx-0x%llx overlaps the %s module; relocate the module first",
		    obj_name[what], ull(s.start), ull(s.end), obj_name[mod]);
}

/* Checks that @len bytes at @gpa may hold @what: in @mem, in RAM, clear of
 * every other placed object and of the source modules. */
static int check_dest(struct ctx *c, enum obj what, uint64_t gpa,
		      uint64_t len)
{
	const struct gmem *mem = c->mem;
	struct span s = { gpa, gpa + len };
	int i;

	if (!len)
		return 0;
	if (len > UINT64_MAX - gpa)
		return FAIL(c, "linux: the %s at 0x%llx (0x%llx bytes) wraps around",
			    obj_name[what], ull(gpa), ull(len));
	if (gpa < mem->gpa || s.end - mem->gpa > mem->size)
		return FAIL(c,
			    "linux: the %s at 0x%llx-0x%llx is outside the memory keel mapped for the partition",
			    obj_name[what], ull(s.start), ull(s.end));
	if (!in_ram(c->req, s))
		return FAIL(c,
			    "linux: the %s at 0x%llx-0x%llx is not in the partition's RAM",
			    obj_name[what], ull(s.start), ull(s.end));
	for (i = 0; i < OBJ_COUNT; i++) {
		if (i != (int)what && overlaps(s, c->placed[i]))
			return FAIL(c,
				    "linux: the %s at 0x%llx-0x%llx overlaps the %s at 0x%llx-0x%llx",
				    obj_name[what], ull(s.start), ull(s.end),
				    obj_name[i], ull(c->placed[i].start),
				    ull(c->placed[i].end));
		if (overlaps(s, c->module[i]))
			return module_clash(c, what, i, s);
	}
	return 0;
}

static int place(struct ctx *c, enum obj what, uint64_t gpa, uint64_t len)
{
	if (check_dest(c, what, gpa, len))
		return -1;
	c->placed[what].start = gpa;
	c->placed[what].end = gpa + len;
	return 0;
}

/* The one way bytes reach guest memory: @len bytes from @src, or zeros
 * when @src is NULL. */
static int guest_write(struct ctx *c, enum obj what, uint64_t gpa,
		       const void *src, uint64_t len)
{
	uint8_t *dst;

	if (check_dest(c, what, gpa, len))
		return -1;
	dst = c->mem->hva + (gpa - c->mem->gpa);
	if (src)
		memcpy(dst, src, len);
	else
		memset(dst, 0, len);
	return 0;
}

/* Stores the low @width bytes of @v; x86 is little-endian, like the guest. */
static int put(struct ctx *c, enum obj what, uint64_t gpa, uint64_t v,
	       unsigned int width)
{
	return guest_write(c, what, gpa, &v, width);
}

static int check_below_4g(struct ctx *c, enum obj what)
{
	struct span s = c->placed[what];

	if (s.end > SZ_4G)
		return FAIL(c,
			    "linux: the %s at 0x%llx-0x%llx is above 4 GiB, beyond the kernel's entry mapping",
			    obj_name[what], ull(s.start), ull(s.end));
	return 0;
}

/* ---- PVH vmlinux ---- */

static struct phdr read_phdr(const struct ctx *c, const struct plan *p,
			     unsigned int i)
{
	const uint8_t *h = c->req->kernel + p->phoff + (uint64_t)i * PHDR_SIZE;
	struct phdr ph = {
		.type = rd32(h, 0),
		.offset = rd64(h, 8),
		.paddr = rd64(h, 24),
		.filesz = rd64(h, 32),
		.memsz = rd64(h, 40),
	};

	return ph;
}

static struct span seg_span(const struct phdr *ph)
{
	struct span s = { ph->paddr, ph->paddr + ph->memsz };

	return s;
}

static int elf_check_header(struct ctx *c, struct plan *p)
{
	const uint8_t *k = c->req->kernel;
	uint64_t size = c->req->kernel_size;
	unsigned int i;

	if (size < EHDR_SIZE)
		return FAIL(c, "linux: the vmlinux is truncated: %llu bytes, less than an ELF header",
			    ull(size));
	if (k[4] != 2)
		return FAIL(c, "linux: the vmlinux is not ELF64 (class %u)",
			    k[4]);
	if (k[5] != 1)
		return FAIL(c, "linux: the vmlinux is not little-endian (data %u)",
			    k[5]);
	if (rd16(k, 18) != EM_X86_64)
		return FAIL(c, "linux: the vmlinux is for machine %u, not x86-64",
			    rd16(k, 18));
	if (rd16(k, 16) != ET_EXEC)
		return FAIL(c, "linux: the vmlinux has ELF type %u, not an executable",
			    rd16(k, 16));
	if (rd16(k, 54) != PHDR_SIZE)
		return FAIL(c, "linux: the vmlinux's program header size is %u, not 56",
			    rd16(k, 54));
	p->phnum = rd16(k, 56);
	p->phoff = rd64(k, 32);
	if (!p->phnum || p->phnum > MAX_PHNUM)
		return FAIL(c, "linux: the vmlinux has %u program headers (1-%u allowed)",
			    p->phnum, MAX_PHNUM);
	if (p->phoff > size || (size - p->phoff) / PHDR_SIZE < p->phnum)
		return FAIL(c,
			    "linux: the vmlinux's %u program headers at offset 0x%llx run past its end (0x%llx bytes)",
			    p->phnum, ull(p->phoff), ull(size));
	for (i = 0; i < p->phnum; i++) {
		struct phdr ph = read_phdr(c, p, i);

		if (ph.filesz && (ph.offset > size ||
				  ph.filesz > size - ph.offset))
			return FAIL(c,
				    "linux: the vmlinux's program header %u (file 0x%llx+0x%llx) runs past its end (0x%llx bytes)",
				    i, ull(ph.offset), ull(ph.filesz),
				    ull(size));
	}
	return 0;
}

/* Finds the "Xen" note of type 18 in a PT_NOTE segment's bytes. */
static bool find_pvh_note(const uint8_t *n, uint64_t len,
			  const uint8_t **desc, uint32_t *descsz)
{
	uint64_t off = 0;

	while (len - off >= NOTE_HDR_SIZE) {
		uint32_t namesz = rd32(n, off), dsz = rd32(n, off + 4);
		uint64_t name = off + NOTE_HDR_SIZE;
		uint64_t d = name + ((namesz + 3ull) & ~3ull);
		uint64_t next = d + ((dsz + 3ull) & ~3ull);

		if (next > len)
			return false;
		if (rd32(n, off + 8) == XEN_ELFNOTE_PHYS32_ENTRY &&
		    namesz == 4 && !memcmp(n + name, "Xen", 4)) {
			*desc = n + d;
			*descsz = dsz;
			return true;
		}
		off = next;
	}
	return false;
}

static int elf_pvh_entry(struct ctx *c, struct plan *p)
{
	const uint8_t *desc = NULL;
	uint32_t descsz = 0;
	unsigned int i;

	for (i = 0; i < p->phnum && !desc; i++) {
		struct phdr ph = read_phdr(c, p, i);

		if (ph.type == PT_NOTE && ph.filesz)
			find_pvh_note(c->req->kernel + ph.offset, ph.filesz,
				      &desc, &descsz);
	}
	if (!desc)
		return FAIL(c, "linux: the vmlinux has no PVH entry note (Xen ELF note 18); build it with CONFIG_PVH");
	if (descsz != 4 && descsz != 8)
		return FAIL(c, "linux: the vmlinux's PVH entry note holds %u bytes, not 4 or 8",
			    descsz);
	p->rip = descsz == 4 ? rd32(desc, 0) : rd64(desc, 0);
	if (p->rip >= SZ_4G)
		return FAIL(c, "linux: the vmlinux's PVH entry 0x%llx is above 4 GiB",
			    ull(p->rip));
	return 0;
}

/* Checks each PT_LOAD's destination and places the kernel as the span from
 * the lowest to the highest segment. */
static int elf_place_segments(struct ctx *c, struct plan *p)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	bool entry_loaded = false;
	unsigned int i, j;

	for (i = 0; i < p->phnum; i++) {
		struct phdr ph = read_phdr(c, p, i);

		if (ph.type != PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz)
			return FAIL(c, "linux: vmlinux segment %u has p_filesz 0x%llx > p_memsz 0x%llx",
				    i, ull(ph.filesz), ull(ph.memsz));
		if (!ph.memsz)
			continue;
		if (check_dest(c, OBJ_KERNEL, ph.paddr, ph.memsz))
			return -1;
		for (j = 0; j < i; j++) {
			struct phdr q = read_phdr(c, p, j);

			if (q.type == PT_LOAD &&
			    overlaps(seg_span(&ph), seg_span(&q)))
				return FAIL(c, "linux: vmlinux segments %u and %u overlap at 0x%llx",
					    j, i, ull(ph.paddr));
		}
		if (ph.paddr < lo)
			lo = ph.paddr;
		if (ph.paddr + ph.memsz > hi)
			hi = ph.paddr + ph.memsz;
		entry_loaded |= p->rip >= ph.paddr &&
				p->rip < ph.paddr + ph.filesz;
	}
	if (lo >= hi)
		return FAIL(c, "linux: the vmlinux has no loadable segment");
	if (!entry_loaded)
		return FAIL(c, "linux: the vmlinux's PVH entry 0x%llx is not in a loaded segment",
			    ull(p->rip));
	c->placed[OBJ_KERNEL].start = lo;
	c->placed[OBJ_KERNEL].end = hi;
	return 0;
}

static int elf_plan(struct ctx *c, struct plan *p)
{
	if (elf_check_header(c, p) || elf_pvh_entry(c, p) ||
	    elf_place_segments(c, p))
		return -1;
	p->pvh = true;
	p->boot_size = PVH_MEMMAP + (uint64_t)c->req->e820_count *
				    sizeof(struct hvm_memmap_table_entry);
	p->cmdline_max = LINUX_CMDLINE_AREA_SIZE - 1;
	p->initrd_limit = UINT64_MAX;
	return 0;
}

static int elf_load(struct ctx *c, const struct plan *p)
{
	const uint8_t *k = c->req->kernel;
	unsigned int i;

	for (i = 0; i < p->phnum; i++) {
		struct phdr ph = read_phdr(c, p, i);

		if (ph.type != PT_LOAD)
			continue;
		if (guest_write(c, OBJ_KERNEL, ph.paddr, k + ph.offset,
				ph.filesz) ||
		    guest_write(c, OBJ_KERNEL, ph.paddr + ph.filesz, NULL,
				ph.memsz - ph.filesz))
			return -1;
	}
	return 0;
}

static int pvh_write_start_info(struct ctx *c)
{
	const struct linux_boot_req *req = c->req;
	uint64_t base = req->boot_gpa;
	bool initrd = c->placed[OBJ_INITRD].end != 0;
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.nr_modules = initrd,
		.modlist_paddr = initrd ? base + PVH_MODLIST : 0,
		.cmdline_paddr = req->cmdline_gpa,
		.rsdp_paddr = req->rsdp_gpa,
		.memmap_paddr = base + PVH_MEMMAP,
		.memmap_entries = req->e820_count,
	};
	struct hvm_modlist_entry mod = {
		.paddr = c->placed[OBJ_INITRD].start,
		.size = req->initrd_size,
	};
	unsigned int i;

	if (guest_write(c, OBJ_BOOT, base, &si, sizeof(si)) ||
	    (initrd && guest_write(c, OBJ_BOOT, base + PVH_MODLIST, &mod,
				   sizeof(mod))))
		return -1;
	for (i = 0; i < req->e820_count; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = req->e820[i].addr,
			.size = req->e820[i].size,
			.type = req->e820[i].type,
		};

		if (guest_write(c, OBJ_BOOT, base + PVH_MEMMAP + i * sizeof(e),
				&e, sizeof(e)))
			return -1;
	}
	return 0;
}

/* ---- bzImage, 64-bit boot protocol ---- */

static int bz_plan(struct ctx *c, struct plan *p)
{
	const uint8_t *k = c->req->kernel;
	uint64_t size = c->req->kernel_size;
	unsigned int setup_sects;
	uint16_t version, xlf;
	uint64_t pref, init_size;

	if (size < HDR_MIN_END)
		return FAIL(c, "linux: the bzImage is truncated (0x%llx bytes)",
			    ull(size));
	if (rd16(k, HDR_BOOT_FLAG) != BOOT_FLAG)
		return FAIL(c, "linux: the bzImage's boot flag is 0x%04x, not 0xaa55",
			    rd16(k, HDR_BOOT_FLAG));
	version = rd16(k, HDR_VERSION);
	if (version < MIN_VERSION)
		return FAIL(c, "linux: the bzImage speaks boot protocol %u.%02u; keel needs 2.12 or later",
			    version >> 8, version & 0xff);
	p->hdr_end = HDR_MAGIC + k[HDR_JUMP_LEN];
	if (p->hdr_end < HDR_MIN_END || p->hdr_end > HDR_MAX_END ||
	    p->hdr_end > size)
		return FAIL(c, "linux: the bzImage's setup header ends at 0x%x (0x%x-0x%x in the file expected)",
			    p->hdr_end, HDR_MIN_END, HDR_MAX_END);
	xlf = rd16(k, HDR_XLOADFLAGS);
	if (!(xlf & XLF_KERNEL_64))
		return FAIL(c, "linux: the bzImage has no 64-bit entry (xloadflags 0x%x)",
			    xlf);
	if (!(k[HDR_LOADFLAGS] & LOADED_HIGH))
		return FAIL(c, "linux: the bzImage does not load high (loadflags 0x%x)",
			    k[HDR_LOADFLAGS]);
	setup_sects = k[HDR_START] ? k[HDR_START] : 4;
	p->pm_offset = (setup_sects + 1) * 512ull;
	if (p->pm_offset >= size)
		return FAIL(c, "linux: the bzImage ends at 0x%llx, before its kernel at 0x%llx",
			    ull(size), ull(p->pm_offset));
	if (c->req->e820_count > BP_E820_MAX)
		return FAIL(c, "linux: %u e820 entries do not fit in boot_params (at most %u)",
			    c->req->e820_count, BP_E820_MAX);
	p->pm_size = size - p->pm_offset;
	pref = rd64(k, HDR_PREF_ADDRESS);
	init_size = rd32(k, HDR_INIT_SIZE);
	if (place(c, OBJ_KERNEL, pref,
		  init_size > p->pm_size ? init_size : p->pm_size))
		return -1;
	p->rip = pref + STARTUP_64;
	p->boot_size = LINUX_BOOT_AREA_SIZE;
	p->cmdline_max = rd32(k, HDR_CMDLINE_SIZE);
	if (p->cmdline_max > LINUX_CMDLINE_AREA_SIZE - 1)
		p->cmdline_max = LINUX_CMDLINE_AREA_SIZE - 1;
	p->initrd_limit = xlf & XLF_CAN_BE_LOADED_ABOVE_4G ?
			  UINT64_MAX : rd32(k, HDR_INITRD_ADDR_MAX) + 1ull;
	return 0;
}

static int bz_load(struct ctx *c, const struct plan *p)
{
	return guest_write(c, OBJ_KERNEL, c->placed[OBJ_KERNEL].start,
			   c->req->kernel + p->pm_offset, p->pm_size);
}

static int bz_write_boot_params(struct ctx *c, const struct plan *p)
{
	const struct linux_boot_req *req = c->req;
	uint64_t bp = req->boot_gpa, cmdline = req->cmdline_gpa;
	struct span rd = c->placed[OBJ_INITRD];
	unsigned int i;

	if (guest_write(c, OBJ_BOOT, bp + HDR_START, req->kernel + HDR_START,
			p->hdr_end - HDR_START) ||
	    put(c, OBJ_BOOT, bp + BP_TYPE_OF_LOADER, LOADER_UNDEFINED, 1) ||
	    put(c, OBJ_BOOT, bp + BP_CMD_LINE_PTR, cmdline, 4) ||
	    put(c, OBJ_BOOT, bp + BP_EXT_CMD_LINE_PTR, cmdline >> 32, 4) ||
	    put(c, OBJ_BOOT, bp + BP_RAMDISK_IMAGE, rd.start, 4) ||
	    put(c, OBJ_BOOT, bp + BP_EXT_RAMDISK_IMAGE, rd.start >> 32, 4) ||
	    put(c, OBJ_BOOT, bp + BP_RAMDISK_SIZE, rd.end - rd.start, 4) ||
	    put(c, OBJ_BOOT, bp + BP_EXT_RAMDISK_SIZE,
		(rd.end - rd.start) >> 32, 4) ||
	    put(c, OBJ_BOOT, bp + BP_ACPI_RSDP, req->rsdp_gpa, 8) ||
	    put(c, OBJ_BOOT, bp + BP_E820_ENTRIES, req->e820_count, 1))
		return -1;
	for (i = 0; i < req->e820_count; i++)
		if (guest_write(c, OBJ_BOOT,
				bp + BP_E820_TABLE + i * sizeof(req->e820[i]),
				&req->e820[i], sizeof(req->e820[i])))
			return -1;
	return 0;
}

/* GDT and the identity map of the first 4 GiB in 2 MiB pages. */
static int bz_write_cpu_tables(struct ctx *c)
{
	uint64_t base = c->req->boot_gpa, pd = base + BZ_PD;
	uint64_t i;

	if (put(c, OBJ_BOOT, base + BZ_GDT + 0x10, GDT_CODE64, 8) ||
	    put(c, OBJ_BOOT, base + BZ_GDT + 0x18, GDT_DATA, 8) ||
	    put(c, OBJ_BOOT, base + BZ_PML4,
		(base + BZ_PDPT) | PTE_PRESENT | PTE_RW, 8))
		return -1;
	for (i = 0; i < SZ_4G >> 30; i++)
		if (put(c, OBJ_BOOT, base + BZ_PDPT + 8 * i,
			(pd + PAGE_SIZE * i) | PTE_PRESENT | PTE_RW, 8))
			return -1;
	for (i = 0; i < IDENTITY_PAGES; i++)
		if (put(c, OBJ_BOOT, pd + 8 * i,
			(i * SZ_2M) | PTE_PRESENT | PTE_RW | PTE_PS, 8))
			return -1;
	return 0;
}

/* ---- common ---- */

static uint64_t bounded_strlen(const char *s, uint64_t max)
{
	uint64_t n = 0;

	while (n <= max && s[n])
		n++;
	return n;
}

/* Tries the highest page-aligned start whose initrd ends at or below
 * @top, keeping it if it beats *@best. */
static void try_initrd_top(struct ctx *c, uint64_t top, uint64_t limit,
			   uint64_t *best, bool *found)
{
	uint64_t size = c->req->initrd_size, start;

	if (top > limit)
		top = limit;
	if (top < size)
		return;
	start = (top - size) & ~(PAGE_SIZE - 1);
	if ((!*found || start > *best) &&
	    !check_dest(c, OBJ_INITRD, start, size)) {
		*best = start;
		*found = true;
	}
}

/*
 * The highest fit always ends at the limit, at the end of @mem, or at the
 * start or end of an e820 entry or the start of an obstacle, rounded down to
 * a page; so trying just those tops finds it.
 */
static int place_initrd(struct ctx *c, const struct plan *p)
{
	const struct linux_boot_req *req = c->req;
	uint64_t limit = req->initrd_max ? req->initrd_max : UINT64_MAX;
	uint64_t best = 0;
	bool found = false;
	unsigned int i;

	if (!req->initrd_size)
		return 0;
	if (!req->initrd)
		return FAIL(c, "linux: the initrd of 0x%llx bytes has no data",
			    ull(req->initrd_size));
	if (p->initrd_limit < limit)
		limit = p->initrd_limit;
	try_initrd_top(c, limit, limit, &best, &found);
	try_initrd_top(c, c->mem->gpa + c->mem->size, limit, &best, &found);
	for (i = 0; i < req->e820_count; i++) {
		struct span e = e820_span(&req->e820[i]);

		try_initrd_top(c, e.start, limit, &best, &found);
		try_initrd_top(c, e.end, limit, &best, &found);
	}
	for (i = 0; i < OBJ_COUNT; i++) {
		try_initrd_top(c, c->placed[i].start, limit, &best, &found);
		try_initrd_top(c, c->module[i].start, limit, &best, &found);
	}
	if (!found)
		return FAIL(c, "linux: the initrd (0x%llx bytes) fits nowhere in the partition's RAM below 0x%llx",
			    ull(req->initrd_size), ull(limit));
	return place(c, OBJ_INITRD, best, req->initrd_size);
}

static int plan_common(struct ctx *c, struct plan *p)
{
	const struct linux_boot_req *req = c->req;

	if (req->boot_gpa & (PAGE_SIZE - 1))
		return FAIL(c, "linux: the boot area 0x%llx is not page-aligned",
			    ull(req->boot_gpa));
	if (p->boot_size > LINUX_BOOT_AREA_SIZE)
		return FAIL(c, "linux: the memory map's %u entries do not fit in the boot area",
			    req->e820_count);
	p->cmdline = req->cmdline ? req->cmdline : "";
	p->cmdline_len = bounded_strlen(p->cmdline, p->cmdline_max);
	if (p->cmdline_len > p->cmdline_max)
		return FAIL(c, "linux: the command line is longer than %llu bytes",
			    ull(p->cmdline_max));
	if (place(c, OBJ_BOOT, req->boot_gpa, p->boot_size) ||
	    place(c, OBJ_CMDLINE, req->cmdline_gpa, p->cmdline_len + 1) ||
	    check_below_4g(c, OBJ_KERNEL) || check_below_4g(c, OBJ_BOOT) ||
	    check_below_4g(c, OBJ_CMDLINE))
		return -1;
	return place_initrd(c, p);
}

static int write_all(struct ctx *c, const struct plan *p)
{
	const struct linux_boot_req *req = c->req;
	struct span rd = c->placed[OBJ_INITRD];

	if (guest_write(c, OBJ_BOOT, req->boot_gpa, NULL, p->boot_size) ||
	    guest_write(c, OBJ_CMDLINE, req->cmdline_gpa, p->cmdline,
			p->cmdline_len + 1) ||
	    guest_write(c, OBJ_INITRD, rd.start, req->initrd,
			rd.end - rd.start))
		return -1;
	if (p->pvh)
		return elf_load(c, p) || pvh_write_start_info(c) ? -1 : 0;
	return bz_load(c, p) || bz_write_boot_params(c, p) ||
	       bz_write_cpu_tables(c) ? -1 : 0;
}

static void fill_out(const struct ctx *c, const struct plan *p,
		     struct linux_boot_out *out)
{
	uint64_t boot = c->req->boot_gpa;

	memset(out, 0, sizeof(*out));
	out->rip = p->rip;
	if (p->pvh) {
		out->entry = LINUX_ENTRY_PVH32;
		out->format = "PVH vmlinux";
		out->rbx = boot;
	} else {
		out->entry = LINUX_ENTRY_64BIT;
		out->format = "bzImage";
		out->rsi = boot;
		out->cr3 = boot + BZ_PML4;
		out->gdt_base = boot + BZ_GDT;
		out->gdt_limit = GDT_LIMIT;
	}
	out->kernel_start = c->placed[OBJ_KERNEL].start;
	out->kernel_end = c->placed[OBJ_KERNEL].end;
	out->initrd_start = c->placed[OBJ_INITRD].start;
	out->initrd_end = c->placed[OBJ_INITRD].end;
}

int linux_boot_load(const struct gmem *mem, const struct linux_boot_req *req,
		    struct linux_boot_out *out, char *err, size_t errlen)
{
	struct ctx c = {
		.mem = mem,
		.req = req,
		.err = err,
		.errlen = err ? errlen : 0,
	};
	struct plan p = { 0 };
	const uint8_t *k = req->kernel;
	size_t size = k ? req->kernel_size : 0;

	c.module[OBJ_KERNEL] = module_span(mem, k, size);
	c.module[OBJ_INITRD] = module_span(mem, req->initrd, req->initrd_size);
	if (size >= 4 && !memcmp(k, "\177ELF", 4)) {
		if (elf_plan(&c, &p))
			return -1;
	} else if (size >= HDR_MAGIC + 4 && !memcmp(k + HDR_MAGIC, "HdrS", 4)) {
		if (bz_plan(&c, &p))
			return -1;
	} else {
		return FAIL(&c, "linux: the kernel is neither an ELF vmlinux nor a bzImage");
	}
	if (plan_common(&c, &p) || write_all(&c, &p))
		return -1;
	fill_out(&c, &p, out);
	return 0;
}
