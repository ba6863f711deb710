// SPDX-License-Identifier: GPL-2.0
/*
 * bootinfo_parse() on Multiboot1 and Multiboot2 structures built in a buffer
 * that stands for physical memory at MEM_BASE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/bootinfo.h"

#define MEM_BASE 0x200000ull
#define MEM_SIZE 0x10000u
#define INFO (MEM_BASE + 0x100)

static uint8_t mem[MEM_SIZE];
static struct boot_info bi;
static char err[256];

static const void *fake_map(uint64_t phys, size_t len)
{
	if (phys < MEM_BASE || phys - MEM_BASE > MEM_SIZE ||
	    len > MEM_SIZE - (phys - MEM_BASE))
		return NULL;
	return mem + (phys - MEM_BASE);
}

static uint8_t *at(uint64_t phys)
{
	assert_true(phys >= MEM_BASE && phys < MEM_BASE + MEM_SIZE);
	return mem + (phys - MEM_BASE);
}

static void put32(uint64_t phys, uint32_t v)
{
	memcpy(at(phys), &v, sizeof(v));
}

static void put64(uint64_t phys, uint64_t v)
{
	memcpy(at(phys), &v, sizeof(v));
}

static void put_str(uint64_t phys, const char *s)
{
	memcpy(at(phys), s, strlen(s) + 1);
}

static int reset(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	memset(&bi, 0xa5, sizeof(bi));
	memset(err, 0, sizeof(err));
	return 0;
}

static int parse(uint32_t magic, uint64_t info)
{
	return bootinfo_parse(magic, info, fake_map, &bi, err, sizeof(err));
}

static void expect_error(uint32_t magic, uint64_t info, const char *needle)
{
	assert_int_equal(parse(magic, info), -1);
	assert_memory_equal(err, "multiboot: ", 11);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
}

/* ---- Multiboot2 builder ---- */

struct mb2 {
	uint64_t start;
	uint32_t off;
};

static void mb2_begin(struct mb2 *b)
{
	b->start = INFO;
	b->off = 8;
}

/* Appends a tag with @len payload bytes; returns its physical address. */
static uint64_t mb2_tag(struct mb2 *b, uint32_t type, const void *payload,
			uint32_t len)
{
	uint64_t tag = b->start + b->off;

	put32(tag, type);
	put32(tag + 4, 8 + len);
	if (len)
		memcpy(at(tag + 8), payload, len);
	b->off = (b->off + 8 + len + 7) & ~7u;
	return tag;
}

static uint64_t mb2_string(struct mb2 *b, uint32_t type, const char *s)
{
	return mb2_tag(b, type, s, (uint32_t)strlen(s) + 1);
}

static void mb2_module(struct mb2 *b, uint32_t start, uint32_t end,
		       const char *name)
{
	uint8_t p[128];

	memcpy(p, &start, 4);
	memcpy(p + 4, &end, 4);
	memcpy(p + 8, name, strlen(name) + 1);
	mb2_tag(b, 3, p, 8 + (uint32_t)strlen(name) + 1);
}

static void mb2_mmap(struct mb2 *b, const struct mmap_entry *e, unsigned int n,
		     uint32_t esize)
{
	uint8_t p[8 + 200 * 32] = { 0 };
	uint32_t version = 0;

	memcpy(p, &esize, 4);
	memcpy(p + 4, &version, 4);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *ent = p + 8 + i * esize;

		memcpy(ent, &e[i].base, 8);
		memcpy(ent + 8, &e[i].size, 8);
		memcpy(ent + 16, &e[i].type, 4);
	}
	mb2_tag(b, 6, p, 8 + n * esize);
}

static uint64_t mb2_end(struct mb2 *b)
{
	mb2_tag(b, 0, NULL, 0);
	put32(b->start, b->off);
	put32(b->start + 4, 0);
	return b->start;
}

static const struct mmap_entry std_map[] = {
	{ 0, 0x9fc00, MEM_USABLE },
	{ 0x9fc00, 0x400, MEM_RESERVED },
	{ 0x100000, 0x7ff00000, MEM_USABLE },
	{ 0x7ff00000ull + 0x100000, 0x10000, MEM_ACPI_RECLAIM },
};

static void mb2_std_map(struct mb2 *b)
{
	mb2_mmap(b, std_map, 4, 24);
}

static void rsdp_bytes(uint8_t *p, unsigned int len, uint8_t fill)
{
	memcpy(p, "RSD PTR ", 8);
	memset(p + 8, fill, len - 8);
}

static void test_mb2_full(void **state)
{
	uint8_t v1[20], v2[36];
	uint64_t new_tag;
	struct mb2 b;

	(void)state;
	rsdp_bytes(v1, sizeof(v1), 1);
	rsdp_bytes(v2, sizeof(v2), 2);
	mb2_begin(&b);
	mb2_string(&b, 1, "console=ttyS0 exit=emulator");
	mb2_string(&b, 2, "GRUB 2.06");
	mb2_module(&b, 0x300000, 0x301000, "  config.dtb  ");
	mb2_module(&b, 0x400000, 0x800000, "companion-kernel");
	mb2_module(&b, 0x800000, 0x800000, "empty");
	mb2_tag(&b, 21, "\x01\x02\x03", 3); /* unknown tag: skipped */
	mb2_std_map(&b);
	new_tag = mb2_tag(&b, 15, v2, sizeof(v2));
	mb2_tag(&b, 14, v1, sizeof(v1));
	mb2_end(&b);

	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.loader, 2);
	assert_string_equal(bi.cmdline, "console=ttyS0 exit=emulator");
	assert_string_equal(bi.loader_name, "GRUB 2.06");
	assert_int_equal(bi.info_start, INFO);
	assert_int_equal(bi.info_end, INFO + b.off);

	assert_int_equal(bi.module_count, 3);
	assert_string_equal(bi.modules[0].name, "config.dtb");
	assert_int_equal(bi.modules[0].start, 0x300000);
	assert_int_equal(bi.modules[0].end, 0x301000);
	assert_string_equal(bi.modules[1].name, "companion-kernel");
	assert_int_equal(bi.modules[2].start, bi.modules[2].end);

	assert_int_equal(bi.mmap_count, 4);
	for (unsigned int i = 0; i < 4; i++) {
		assert_int_equal(bi.mmap[i].base, std_map[i].base);
		assert_int_equal(bi.mmap[i].size, std_map[i].size);
		assert_int_equal(bi.mmap[i].type, std_map[i].type);
	}

	/* The new RSDP came first, and the old one after it must not win. */
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp_copy, v2, 36);
	assert_int_equal(bi.rsdp, new_tag + 8);

	assert_ptr_equal(bootinfo_module(&bi, "config.dtb"), &bi.modules[0]);
	assert_ptr_equal(bootinfo_module(&bi, "companion-kernel"),
			 &bi.modules[1]);
	assert_null(bootinfo_module(&bi, "  config.dtb  "));
	assert_null(bootinfo_module(&bi, "config"));
	assert_null(bootinfo_module(&bi, NULL));
}

static void test_mb2_acpi_old_then_new(void **state)
{
	uint8_t v1[20], v2[36];
	struct mb2 b;
	uint64_t new_tag;

	(void)state;
	rsdp_bytes(v1, sizeof(v1), 1);
	rsdp_bytes(v2, sizeof(v2), 2);
	mb2_begin(&b);
	mb2_tag(&b, 14, v1, sizeof(v1));
	new_tag = mb2_tag(&b, 15, v2, sizeof(v2));
	mb2_std_map(&b);
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.rsdp_len, 36);
	assert_memory_equal(bi.rsdp_copy, v2, 36);
	assert_int_equal(bi.rsdp, new_tag + 8);
}

static void test_mb2_acpi_old_only(void **state)
{
	uint8_t v1[20];
	struct mb2 b;
	uint64_t tag;

	(void)state;
	rsdp_bytes(v1, sizeof(v1), 7);
	mb2_begin(&b);
	mb2_std_map(&b);
	tag = mb2_tag(&b, 14, v1, sizeof(v1));
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.rsdp_len, 20);
	assert_memory_equal(bi.rsdp_copy, v1, 20);
	assert_int_equal(bi.rsdp, tag + 8);
	assert_int_equal(bi.module_count, 0);
	assert_string_equal(bi.cmdline, "");
}

static void test_bad_magic(void **state)
{
	(void)state;
	expect_error(0x12345678, INFO, "bad magic 0x12345678");
}

static void test_mb2_unaligned(void **state)
{
	(void)state;
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO + 4, "8-byte aligned");
}

static void test_mb2_unmapped(void **state)
{
	(void)state;
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, 0x1000, "cannot map");
}

static void test_mb2_total_size(void **state)
{
	(void)state;
	put32(INFO, 8);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "total_size 8");
	put32(INFO, 0x80000000u);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "total_size");
	/* Plausible, but past the end of the fake memory. */
	put32(INFO, 0x20000);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "cannot map");
}

static void test_mb2_tag_past_total(void **state)
{
	struct mb2 b;
	uint64_t tag;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	tag = mb2_string(&b, 1, "x");
	mb2_end(&b);
	put32(tag + 4, b.off); /* cmdline tag claims the whole structure */
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "runs past total_size");
}

static void test_mb2_tag_header_past_total(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_end(&b);
	put32(INFO, b.off - 4); /* cuts the end tag in half */
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "runs past total_size");
}

static void test_mb2_tag_too_small(void **state)
{
	struct mb2 b;
	uint64_t tag;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	tag = mb2_string(&b, 2, "GRUB");
	mb2_end(&b);
	put32(tag + 4, 4);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "size 4 < 8");
}

static void test_mb2_no_end_tag(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_end(&b);
	put32(INFO, b.off - 8);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "no end tag");
}

static void test_mb2_entry_size_small(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_mmap(&b, std_map, 4, 16);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "entry_size 16 < 24");
}

static void test_mb2_entry_size_large(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_mmap(&b, std_map, 4, 32); /* a future, larger entry is fine */
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.mmap_count, 4);
	assert_int_equal(bi.mmap[3].base, std_map[3].base);
	assert_int_equal(bi.mmap[3].type, MEM_ACPI_RECLAIM);
}

static void test_mb2_too_many_modules(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	for (int i = 0; i < BOOTINFO_MAX_MODULES; i++)
		mb2_module(&b, 0x300000, 0x301000, "m");
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.module_count, BOOTINFO_MAX_MODULES);

	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	for (int i = 0; i <= BOOTINFO_MAX_MODULES; i++)
		mb2_module(&b, 0x300000, 0x301000, "m");
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "more than 16 modules");
}

static void test_mb2_too_many_mmap(void **state)
{
	struct mmap_entry e[BOOTINFO_MAX_MMAP + 1];
	struct mb2 b;

	(void)state;
	for (unsigned int i = 0; i <= BOOTINFO_MAX_MMAP; i++)
		e[i] = (struct mmap_entry){ i * 0x10000ull, 0x10000,
					    MEM_USABLE };
	mb2_begin(&b);
	mb2_mmap(&b, e, BOOTINFO_MAX_MMAP, 24);
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.mmap_count, BOOTINFO_MAX_MMAP);

	reset(NULL);
	mb2_begin(&b);
	mb2_mmap(&b, e, BOOTINFO_MAX_MMAP + 1, 24);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "more than 128 mmap entries");
}

static void test_mb2_mmap_wraps(void **state)
{
	const struct mmap_entry e = { 0xfffffffffffff000ull, 0x2000,
				      MEM_RESERVED };
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_mmap(&b, &e, 1, 24);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "wraps around");
}

static void test_mb2_module_end_before_start(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_module(&b, 0x300000, 0x2ff000, "config.dtb");
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "module 0: end 0x2ff000 < start 0x300000");
}

static void test_mb2_module_tag_small(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_tag(&b, 3, "\0\0\0\0", 4);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "module tag of 12 bytes");
}

static void test_mb2_names_too_long(void **state)
{
	char s[300];
	struct mb2 b;

	(void)state;
	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_string(&b, 1, s);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "command line is longer than 255 bytes");

	s[BOOTINFO_NAME_LEN] = '\0'; /* 64 characters: one too many */
	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_module(&b, 0x300000, 0x301000, s);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "module 0: name 'aaaa");
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "' is longer than 63 bytes");

	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_string(&b, 2, s);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "boot loader name is longer than 63 bytes");

	s[BOOTINFO_NAME_LEN - 1] = '\0'; /* 63 characters fit */
	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_module(&b, 0x300000, 0x301000, s);
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_string_equal(bi.modules[0].name, s);
}

static void test_mb2_unterminated(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_tag(&b, 1, "abcdefgh", 8); /* no NUL inside the tag */
	mb2_tag(&b, 2, "GRUB", 5);     /* a NUL after it must not count */
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "command line is not NUL-terminated");
}

static void test_mb2_acpi_tag_short(void **state)
{
	uint8_t v[20];
	struct mb2 b;

	(void)state;
	rsdp_bytes(v, sizeof(v), 3);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_tag(&b, 15, v, sizeof(v));
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "ACPI RSDP tag holds 20 bytes, needs 36");

	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_tag(&b, 14, v, 16);
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO,
		     "ACPI RSDP tag holds 16 bytes, needs 20");
}

static void test_mb2_no_mmap(void **state)
{
	struct mb2 b;

	(void)state;
	mb2_begin(&b);
	mb2_string(&b, 1, "quiet");
	mb2_end(&b);
	expect_error(MULTIBOOT2_BOOTLOADER_MAGIC, INFO, "no memory map");
}

/* ---- Multiboot1 ---- */

#define MB1_CMDLINE (MEM_BASE + 0x1000)
#define MB1_LOADER (MEM_BASE + 0x1100)
#define MB1_MODS (MEM_BASE + 0x1200)
#define MB1_MMAP (MEM_BASE + 0x1300)
#define MB1_STRINGS (MEM_BASE + 0x3000)
#define MB1_ALL ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

static void mb1_module(unsigned int i, uint32_t start, uint32_t end,
		       const char *name)
{
	uint64_t m = MB1_MODS + i * 16;
	uint64_t str = name ? MB1_STRINGS + i * 0x80 : 0;

	put32(m, start);
	put32(m + 4, end);
	put32(m + 8, (uint32_t)str);
	if (name)
		put_str(str, name);
}

/* Writes an entry whose size field is @size; returns the next offset. */
static uint32_t mb1_mmap_entry(uint32_t off, uint32_t size,
			       const struct mmap_entry *e)
{
	put32(MB1_MMAP + off, size);
	put64(MB1_MMAP + off + 4, e->base);
	put64(MB1_MMAP + off + 12, e->size);
	put32(MB1_MMAP + off + 20, e->type);
	return off + 4 + size;
}

static void mb1_build(void)
{
	uint32_t len = 0;

	put32(INFO, MB1_ALL);
	put32(INFO + 16, (uint32_t)MB1_CMDLINE);
	put_str(MB1_CMDLINE, "keel.elf console=ttyS0");
	put32(INFO + 64, (uint32_t)MB1_LOADER);
	put_str(MB1_LOADER, "qemu");
	put32(INFO + 20, 2);
	put32(INFO + 24, (uint32_t)MB1_MODS);
	mb1_module(0, 0x300000, 0x300800, " config.dtb");
	mb1_module(1, 0x400000, 0x500000, NULL);
	len = mb1_mmap_entry(len, 20, &std_map[0]);
	len = mb1_mmap_entry(len, 28, &std_map[1]); /* 8 bytes of padding */
	len = mb1_mmap_entry(len, 20, &std_map[2]);
	put32(INFO + 44, len);
	put32(INFO + 48, (uint32_t)MB1_MMAP);
}

static void test_mb1_full(void **state)
{
	(void)state;
	mb1_build();
	assert_int_equal(parse(MULTIBOOT1_BOOTLOADER_MAGIC, INFO), 0);
	assert_int_equal(bi.loader, 1);
	assert_string_equal(bi.cmdline, "keel.elf console=ttyS0");
	assert_string_equal(bi.loader_name, "qemu");
	assert_int_equal(bi.info_start, INFO);
	assert_int_equal(bi.info_end, INFO + 116);
	assert_int_equal(bi.module_count, 2);
	assert_string_equal(bi.modules[0].name, "config.dtb");
	assert_int_equal(bi.modules[0].start, 0x300000);
	assert_int_equal(bi.modules[0].end, 0x300800);
	assert_string_equal(bi.modules[1].name, "");
	assert_int_equal(bi.modules[1].end, 0x500000);
	assert_int_equal(bi.mmap_count, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(bi.mmap[i].base, std_map[i].base);
		assert_int_equal(bi.mmap[i].size, std_map[i].size);
		assert_int_equal(bi.mmap[i].type, std_map[i].type);
	}
	assert_int_equal(bi.rsdp, 0);
	assert_int_equal(bi.rsdp_len, 0);
	assert_ptr_equal(bootinfo_module(&bi, "config.dtb"), &bi.modules[0]);
}

static void test_mb1_flags_gate_fields(void **state)
{
	(void)state;
	mb1_build();
	put32(INFO, 1u << 6); /* only the memory map is valid */
	put32(INFO + 16, 0xdeadbeef);
	put32(INFO + 20, 999);
	put32(INFO + 64, 0xdeadbeef);
	assert_int_equal(parse(MULTIBOOT1_BOOTLOADER_MAGIC, INFO), 0);
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader_name, "");
	assert_int_equal(bi.module_count, 0);
	assert_int_equal(bi.mmap_count, 3);
}

static void test_mb1_no_mmap(void **state)
{
	(void)state;
	mb1_build();
	put32(INFO, MB1_ALL & ~(1u << 6));
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO, "no memory map");
}

static void test_mb1_unmapped(void **state)
{
	(void)state;
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, MEM_BASE + MEM_SIZE - 100,
		     "cannot map the info structure");
	mb1_build();
	put32(INFO + 16, 0x1000);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "cannot map the command line");
	mb1_build();
	put32(INFO + 24, 0x1000);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "cannot map the module list");
	mb1_build();
	put32(INFO + 48, (uint32_t)(MEM_BASE + MEM_SIZE - 8));
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "cannot map the memory map");
}

static void test_mb1_string_runs_off_memory(void **state)
{
	uint64_t s = MEM_BASE + MEM_SIZE - 4;

	(void)state;
	mb1_build();
	memcpy(at(s), "abcd", 4); /* no NUL before the end of memory */
	put32(INFO + 64, (uint32_t)s);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "cannot map the boot loader name");
	/* A short string right at the end is fine. */
	memcpy(at(s), "abc", 4);
	assert_int_equal(parse(MULTIBOOT1_BOOTLOADER_MAGIC, INFO), 0);
	assert_string_equal(bi.loader_name, "abc");
}

static void test_mb1_modules(void **state)
{
	char name[100];

	(void)state;
	mb1_build();
	put32(INFO + 20, 17);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO, "more than 16 modules");

	mb1_build();
	mb1_module(1, 0x500000, 0x400000, "kernel");
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "module 1: end 0x400000 < start 0x500000");

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	mb1_build();
	mb1_module(0, 0x300000, 0x300800, name);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "module 0: name 'nnnn");
}

/* the name is the last word: GRUB passes "config.dtb", QEMU the file too */
static void test_module_name_is_last_word(void **state)
{
	static const char long_path[] =
		"/a/very/long/path/to/the/build/tree/of/keel/that/is/longer/"
		"than/sixty-three/bytes/default.dtb config.dtb ";
	struct mb2 b;

	(void)state;
	mb1_build();
	mb1_module(0, 0x300000, 0x300800, long_path);
	assert_int_equal(parse(MULTIBOOT1_BOOTLOADER_MAGIC, INFO), 0);
	assert_string_equal(bi.modules[0].name, "config.dtb");

	reset(NULL);
	mb2_begin(&b);
	mb2_std_map(&b);
	mb2_module(&b, 0x300000, 0x301000, "  guest.vmlinux  ");
	mb2_end(&b);
	assert_int_equal(parse(MULTIBOOT2_BOOTLOADER_MAGIC, INFO), 0);
	assert_string_equal(bi.modules[0].name, "guest.vmlinux");
	assert_non_null(bootinfo_module(&bi, "guest.vmlinux"));
	assert_null(bootinfo_module(&bi, "guest"));
}

static void test_mb1_mmap_errors(void **state)
{
	uint32_t len;

	(void)state;
	mb1_build();
	put32(MB1_MMAP + 24, 12); /* second entry's size field */
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "mmap entry at 24: size 12 < 20");

	mb1_build();
	put32(INFO + 44, 24 + 32 + 10); /* cuts the third entry */
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "mmap entry at 56 runs past mmap_length 66");

	mb1_build();
	put32(INFO + 44, 24 + 32 + 2); /* not even a size field left */
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "runs past mmap_length 58");
	put32(MB1_MMAP + 24, 0xfffffff0u); /* a size that would wrap */
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "mmap entry at 24 runs past mmap_length");

	mb1_build();
	len = 0;
	for (unsigned int i = 0; i <= BOOTINFO_MAX_MMAP; i++)
		len = mb1_mmap_entry(len, 20, &std_map[i % 4]);
	put32(INFO + 44, len);
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "more than 128 mmap entries");
}

static void test_mb1_loader_name_too_long(void **state)
{
	char s[100];

	(void)state;
	memset(s, 'g', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	mb1_build();
	put_str(MB1_STRINGS + 0x400, s);
	put32(INFO + 64, (uint32_t)(MB1_STRINGS + 0x400));
	expect_error(MULTIBOOT1_BOOTLOADER_MAGIC, INFO,
		     "boot loader name is longer than 63 bytes");
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_mb2_full),
		T(test_mb2_acpi_old_then_new),
		T(test_mb2_acpi_old_only),
		T(test_bad_magic),
		T(test_mb2_unaligned),
		T(test_mb2_unmapped),
		T(test_mb2_total_size),
		T(test_mb2_tag_past_total),
		T(test_mb2_tag_header_past_total),
		T(test_mb2_tag_too_small),
		T(test_mb2_no_end_tag),
		T(test_mb2_entry_size_small),
		T(test_mb2_entry_size_large),
		T(test_mb2_too_many_modules),
		T(test_mb2_too_many_mmap),
		T(test_mb2_mmap_wraps),
		T(test_mb2_module_end_before_start),
		T(test_mb2_module_tag_small),
		T(test_mb2_names_too_long),
		T(test_mb2_unterminated),
		T(test_mb2_acpi_tag_short),
		T(test_mb2_no_mmap),
		T(test_mb1_full),
		T(test_mb1_flags_gate_fields),
		T(test_mb1_no_mmap),
		T(test_mb1_unmapped),
		T(test_mb1_string_runs_off_memory),
		T(test_mb1_modules),
		T(test_mb1_mmap_errors),
		T(test_mb1_loader_name_too_long),
		T(test_module_name_is_last_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
