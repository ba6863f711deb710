// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot1 and Multiboot2 information structures -> struct boot_info.
 * Every address in them is physical and read through the caller's map
 * callback; every count and length is checked before it is used.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "runtime/bootinfo.h"
#include "runtime/unaligned.h"

#define MB1_INFO_SIZE 116u /* up to and including the framebuffer fields */
#define MB1_FLAG_CMDLINE (1u << 2)
#define MB1_FLAG_MODS (1u << 3)
#define MB1_FLAG_MMAP (1u << 6)
#define MB1_FLAG_LOADER (1u << 9)
#define MB1_MODULE_SIZE 16u
#define MB1_MMAP_MIN 20u /* base, length and type after the size field */

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_MIN_SIZE 16u /* header and end tag */
#define MB2_MAX_SIZE (1u << 20)
#define MB2_MMAP_ENTRY_MIN 24u

#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u

struct mb_ctx {
	phys_map_fn map;
	struct boot_info *bi;
	char *err;
	size_t errlen;
};

#define mb_msg(c, ...) \
	snprintf((c)->err, (c)->errlen, "multiboot: " __VA_ARGS__)
#define mb_fail(c, ...) (mb_msg(c, __VA_ARGS__), -1)

static const uint8_t *map_or_fail(struct mb_ctx *c, uint64_t phys,
				  uint64_t len, const char *what)
{
	const uint8_t *p = NULL;

	if (len <= SIZE_MAX && len <= UINT64_MAX - phys)
		p = c->map(phys, (size_t)len);
	if (!p)
		mb_msg(c, "cannot map the %s at %#llx (%llu bytes)", what,
		       (unsigned long long)phys, (unsigned long long)len);
	return p;
}

/*
 * Copies the NUL-terminated string at @phys, which must end within @avail
 * bytes and fit @dst. Read a byte at a time: its length is unknown, and the
 * bytes after a short string need not be mappable.
 */
static int read_string(struct mb_ctx *c, uint64_t phys, uint64_t avail,
		       char *dst, size_t dstlen, const char *what)
{
	for (uint64_t i = 0;; i++) {
		const uint8_t *ch;

		if (i == avail)
			return mb_fail(c, "the %s is not NUL-terminated", what);
		if (i == dstlen)
			return mb_fail(c, "the %s is longer than %lu bytes",
				       what, (unsigned long)(dstlen - 1));
		ch = map_or_fail(c, phys + i, 1, what);
		if (!ch)
			return -1;
		dst[i] = (char)*ch;
		if (!*ch)
			return 0;
	}
}

/*
 * A module's name is the last word of its command line: GRUB passes only
 * what follows the file ("module2 /boot/x.dtb config.dtb"), QEMU's loader
 * passes the file too ("-initrd 'build/x.dtb config.dtb'").
 */
static int set_module_name(struct mb_ctx *c, struct boot_module *m,
			   const char *line)
{
	size_t end = strlen(line), start;

	while (end && line[end - 1] == ' ')
		end--;
	start = end;
	while (start && line[start - 1] != ' ')
		start--;
	if (end - start >= sizeof(m->name))
		return mb_fail(c, "module %u: name '%.*s' is longer than %lu "
			       "bytes", c->bi->module_count, (int)(end - start),
			       line + start, (unsigned long)(sizeof(m->name) - 1));
	memcpy(m->name, line + start, end - start);
	m->name[end - start] = '\0';
	return 0;
}

/* @str is the physical address of the module's command line, 0 for none. */
static int add_module(struct mb_ctx *c, uint64_t start, uint64_t end,
		      uint64_t str, uint64_t avail)
{
	struct boot_info *bi = c->bi;
	struct boot_module *m;

	if (bi->module_count == BOOTINFO_MAX_MODULES)
		return mb_fail(c, "more than %d modules", BOOTINFO_MAX_MODULES);
	if (end < start)
		return mb_fail(c, "module %u: end %#llx < start %#llx",
			       bi->module_count, (unsigned long long)end,
			       (unsigned long long)start);
	m = &bi->modules[bi->module_count];
	m->start = start;
	m->end = end;
	char line[BOOTINFO_CMDLINE_LEN] = "";

	if (str && read_string(c, str, avail, line, sizeof(line),
			       "module command line"))
		return -1;
	if (set_module_name(c, m, line))
		return -1;
	bi->module_count++;
	return 0;
}

static int add_mmap(struct mb_ctx *c, uint64_t base, uint64_t size,
		    uint32_t type)
{
	struct boot_info *bi = c->bi;

	if (bi->mmap_count == BOOTINFO_MAX_MMAP)
		return mb_fail(c, "more than %d mmap entries",
			       BOOTINFO_MAX_MMAP);
	if (size > UINT64_MAX - base)
		return mb_fail(c, "mmap entry %#llx+%#llx wraps around",
			       (unsigned long long)base,
			       (unsigned long long)size);
	bi->mmap[bi->mmap_count++] = (struct mmap_entry){ base, size, type };
	return 0;
}

static int parse_mb1_modules(struct mb_ctx *c, uint32_t count, uint32_t addr)
{
	const uint8_t *p;

	if (count > BOOTINFO_MAX_MODULES)
		return mb_fail(c, "more than %d modules (mods_count %u)",
			       BOOTINFO_MAX_MODULES, count);
	if (!count)
		return 0;
	p = map_or_fail(c, addr, (uint64_t)count * MB1_MODULE_SIZE,
			"module list");
	if (!p)
		return -1;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *m = p + i * MB1_MODULE_SIZE;

		if (add_module(c, rd32(m, 0), rd32(m, 4), rd32(m, 8),
			       UINT64_MAX))
			return -1;
	}
	return 0;
}

/* Each entry is preceded by its size, which does not count itself. */
static int parse_mb1_mmap(struct mb_ctx *c, uint32_t addr, uint32_t length)
{
	const uint8_t *p;

	if (!length)
		return 0;
	p = map_or_fail(c, addr, length, "memory map");
	if (!p)
		return -1;
	for (uint32_t off = 0, size; off < length; off += 4 + size) {
		size = length - off >= 4 ? rd32(p, off) : 0;
		if ((uint64_t)off + 4 + size > length)
			return mb_fail(c, "mmap entry at %u runs past mmap_length %u",
				       off, length);
		if (size < MB1_MMAP_MIN)
			return mb_fail(c, "mmap entry at %u: size %u < %u", off,
				       size, MB1_MMAP_MIN);
		if (add_mmap(c, rd64(p, off + 4), rd64(p, off + 12),
			     rd32(p, off + 20)))
			return -1;
	}
	return 0;
}

static int parse_mb1(struct mb_ctx *c, uint64_t info)
{
	struct boot_info *bi = c->bi;
	const uint8_t *p = map_or_fail(c, info, MB1_INFO_SIZE,
				       "info structure");
	uint32_t flags;

	if (!p)
		return -1;
	bi->info_start = info;
	bi->info_end = info + MB1_INFO_SIZE;
	flags = rd32(p, 0);
	if ((flags & MB1_FLAG_CMDLINE) && rd32(p, 16) &&
	    read_string(c, rd32(p, 16), UINT64_MAX, bi->cmdline,
			sizeof(bi->cmdline), "command line"))
		return -1;
	if ((flags & MB1_FLAG_LOADER) && rd32(p, 64) &&
	    read_string(c, rd32(p, 64), UINT64_MAX, bi->loader_name,
			sizeof(bi->loader_name), "boot loader name"))
		return -1;
	if ((flags & MB1_FLAG_MODS) &&
	    parse_mb1_modules(c, rd32(p, 20), rd32(p, 24)))
		return -1;
	if (flags & MB1_FLAG_MMAP)
		return parse_mb1_mmap(c, rd32(p, 48), rd32(p, 44));
	return 0;
}

static int parse_mb2_mmap(struct mb_ctx *c, const uint8_t *tag, uint32_t size)
{
	uint32_t esize;

	if (size < 16)
		return mb_fail(c, "mmap tag of %u bytes is too small",
			       size);
	esize = rd32(tag, 8);
	if (esize < MB2_MMAP_ENTRY_MIN)
		return mb_fail(c, "mmap entry_size %u < %u",
			       esize, MB2_MMAP_ENTRY_MIN);
	for (uint32_t off = 16; size - off >= esize; off += esize)
		if (add_mmap(c, rd64(tag, off), rd64(tag, off + 8),
			     rd32(tag, off + 16)))
			return -1;
	return 0;
}

static int set_rsdp(struct mb_ctx *c, uint64_t phys, const uint8_t *copy,
		    uint32_t avail, unsigned int len)
{
	struct boot_info *bi = c->bi;

	if (avail < len)
		return mb_fail(c, "ACPI RSDP tag holds %u bytes, needs %u",
			       avail, len);
	memcpy(bi->rsdp_copy, copy, len);
	bi->rsdp_len = len;
	bi->rsdp = phys;
	return 0;
}

static int parse_mb2_tag(struct mb_ctx *c, uint64_t phys, const uint8_t *tag,
			 uint32_t type, uint32_t size)
{
	struct boot_info *bi = c->bi;

	switch (type) {
	case MB2_TAG_CMDLINE:
		return read_string(c, phys + 8, size - 8, bi->cmdline,
				   sizeof(bi->cmdline), "command line");
	case MB2_TAG_LOADER:
		return read_string(c, phys + 8, size - 8, bi->loader_name,
				   sizeof(bi->loader_name), "boot loader name");
	case MB2_TAG_MODULE:
		if (size < 16)
			return mb_fail(c, "module tag of %u bytes is too small",
				       size);
		return add_module(c, rd32(tag, 8), rd32(tag, 12), phys + 16,
				  size - 16);
	case MB2_TAG_MMAP:
		return parse_mb2_mmap(c, tag, size);
	case MB2_TAG_ACPI_OLD:
		/* A copy of the ACPI 2.0+ RSDP, when there is one, wins. */
		if (bi->rsdp_len == RSDP_V2_LEN)
			return 0;
		return set_rsdp(c, phys + 8, tag + 8, size - 8, RSDP_V1_LEN);
	case MB2_TAG_ACPI_NEW:
		return set_rsdp(c, phys + 8, tag + 8, size - 8, RSDP_V2_LEN);
	}
	return 0;
}

static int parse_mb2(struct mb_ctx *c, uint64_t info)
{
	const uint8_t *p;
	uint32_t total, size;

	if (info & 7)
		return mb_fail(c, "info at %#llx is not 8-byte aligned",
			       (unsigned long long)info);
	p = map_or_fail(c, info, 8, "info header");
	if (!p)
		return -1;
	total = rd32(p, 0);
	if (total < MB2_MIN_SIZE || total > MB2_MAX_SIZE)
		return mb_fail(c, "total_size %u is out of range", total);
	p = map_or_fail(c, info, total, "info structure");
	if (!p)
		return -1;
	c->bi->info_start = info;
	c->bi->info_end = info + total;
	for (uint32_t off = 8;; off = (off + size + 7) & ~7u) {
		uint32_t type;

		if (off >= total)
			return mb_fail(c, "no end tag within total_size %u",
				       total);
		if (total - off < 8)
			return mb_fail(c, "tag at %u runs past total_size %u",
				       off, total);
		type = rd32(p, off);
		size = rd32(p, off + 4);
		if (size < 8)
			return mb_fail(c, "tag %u at %u has size %u < 8",
				       type, off, size);
		if (size > total - off)
			return mb_fail(c, "tag %u at %u (%u bytes) runs past total_size %u",
				       type, off, size, total);
		if (type == MB2_TAG_END)
			return 0;
		if (parse_mb2_tag(c, info + off, p + off, type, size))
			return -1;
	}
}

int bootinfo_parse(uint32_t magic, uint64_t info, phys_map_fn map,
		   struct boot_info *bi, char *err, size_t errlen)
{
	struct mb_ctx c = { map, bi, err, errlen };
	int ret;

	memset(bi, 0, sizeof(*bi));
	if (magic == MULTIBOOT1_BOOTLOADER_MAGIC) {
		bi->loader = 1;
		ret = parse_mb1(&c, info);
	} else if (magic == MULTIBOOT2_BOOTLOADER_MAGIC) {
		bi->loader = 2;
		ret = parse_mb2(&c, info);
	} else {
		return mb_fail(&c, "bad magic %#x (not a Multiboot loader)",
			       magic);
	}
	if (ret)
		return ret;
	if (!bi->mmap_count)
		return mb_fail(&c, "the loader passed no memory map");
	return 0;
}

const struct boot_module *bootinfo_module(const struct boot_info *bi,
					  const char *name)
{
	for (unsigned int i = 0; name && i < bi->module_count; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}
