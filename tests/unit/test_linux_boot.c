// SPDX-License-Identifier: GPL-2.0
/*
 * Linux loader: a synthetic PVH vmlinux (a Xen note and two PT_LOADs, one
 * with bss) and a synthetic bzImage loaded into a 64 MiB heap buffer that
 * stands for a partition's memory at GPA 0, pre-filled with 0xcc so every
 * byte the loader touches shows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/linux_boot.h"

#define MEM_SIZE 0x4000000u
#define FILL 0xcc

#define BOOT_GPA 0x10000u
#define CMDLINE_GPA 0x20000u
#define RSDP_GPA 0xe0000u
#define HOLE 0x3000000u /* [HOLE, HOLE_END) is E820_RESERVED */
#define HOLE_END 0x3100000u

/* the synthetic vmlinux */
#define PH(i) (64u + 56u * (i))
#define NOTE_OFF 0x100u
#define XEN_NOTE_OFF (NOTE_OFF + 24u) /* after a GNU build-id note */
#define XEN_DESC_OFF (XEN_NOTE_OFF + 16u)
#define TEXT_OFF 0x1000u
#define TEXT_GPA 0x1000000u
#define TEXT_SIZE 0x3000u
#define DATA_OFF 0x4000u
#define DATA_GPA 0x1100000u
#define DATA_FILESZ 0x1000u
#define DATA_MEMSZ 0x5000u
#define ELF_SIZE 0x5000u
#define PVH_ENTRY 0x1000850u

/* the synthetic bzImage */
#define BZ_PREF 0x1000000u
#define BZ_INIT_SIZE 0x100000u
#define BZ_PAYLOAD 0x2000u
#define BZ_HDR_END 0x26cu

#define INITRD_SIZE 0x1800u

static uint8_t kbuf[0x10000];
static uint8_t initrd[INITRD_SIZE];
static uint8_t *guest;
static struct gmem mem;
static struct e820_entry e820[200];
static struct linux_boot_req req;
static struct linux_boot_out out;
static char err[256];

static const struct e820_entry default_e820[] = {
	{ 0, 0x9f000, E820_RAM },
	{ 0x9f000, 0x61000, E820_RESERVED },
	{ 0x100000, HOLE - 0x100000, E820_RAM },
	{ HOLE, HOLE_END - HOLE, E820_RESERVED },
	{ HOLE_END, MEM_SIZE - HOLE_END, E820_RAM },
};

#define NR_DEFAULT_E820 (sizeof(default_e820) / sizeof(default_e820[0]))

static void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

static uint64_t g64(uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, guest + gpa, sizeof(v));
	return v;
}

static uint32_t g32(uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, guest + gpa, sizeof(v));
	return v;
}

static uint16_t g16(uint64_t gpa)
{
	uint16_t v;

	memcpy(&v, guest + gpa, sizeof(v));
	return v;
}

static bool all_bytes(uint64_t gpa, uint64_t len, uint8_t v)
{
	for (uint64_t i = 0; i < len; i++)
		if (guest[gpa + i] != v)
			return false;
	return true;
}

static void put_phdr(unsigned int i, uint32_t type, uint64_t off,
		     uint64_t paddr, uint64_t filesz, uint64_t memsz)
{
	put32(kbuf, PH(i), type);
	put64(kbuf, PH(i) + 8, off);
	put64(kbuf, PH(i) + 16, paddr | 0xffffffff80000000ull);
	put64(kbuf, PH(i) + 24, paddr);
	put64(kbuf, PH(i) + 32, filesz);
	put64(kbuf, PH(i) + 40, memsz);
}

/* vmlinux: PT_NOTE (GNU build id, then Xen note 18), text, data + bss. */
static size_t build_elf(unsigned int desc_size)
{
	uint32_t note_len = XEN_DESC_OFF + desc_size - NOTE_OFF;

	memset(kbuf, 0, sizeof(kbuf));
	memcpy(kbuf, "\177ELF", 4);
	kbuf[4] = 2;
	kbuf[5] = 1;
	kbuf[6] = 1;
	put16(kbuf, 16, 2);
	put16(kbuf, 18, 62);
	put32(kbuf, 20, 1);
	put64(kbuf, 24, TEXT_GPA);
	put64(kbuf, 32, 64);
	put16(kbuf, 52, 64);
	put16(kbuf, 54, 56);
	put16(kbuf, 56, 3);

	put32(kbuf, NOTE_OFF, 4);
	put32(kbuf, NOTE_OFF + 4, 8);
	put32(kbuf, NOTE_OFF + 8, 3);
	memcpy(kbuf + NOTE_OFF + 12, "GNU", 4);
	put64(kbuf, NOTE_OFF + 16, 0x1122334455667788ull);
	put32(kbuf, XEN_NOTE_OFF, 4);
	put32(kbuf, XEN_NOTE_OFF + 4, desc_size);
	put32(kbuf, XEN_NOTE_OFF + 8, 18);
	memcpy(kbuf + XEN_NOTE_OFF + 12, "Xen", 4);
	if (desc_size == 8)
		put64(kbuf, XEN_DESC_OFF, PVH_ENTRY);
	else
		put32(kbuf, XEN_DESC_OFF, PVH_ENTRY);

	put_phdr(0, 4, NOTE_OFF, TEXT_GPA + 0x2000, note_len, note_len);
	put_phdr(1, 1, TEXT_OFF, TEXT_GPA, TEXT_SIZE, TEXT_SIZE);
	put_phdr(2, 1, DATA_OFF, DATA_GPA, DATA_FILESZ, DATA_MEMSZ);
	for (unsigned int i = 0; i < TEXT_SIZE; i++)
		kbuf[TEXT_OFF + i] = (uint8_t)(i * 7 + 1);
	for (unsigned int i = 0; i < DATA_FILESZ; i++)
		kbuf[DATA_OFF + i] = (uint8_t)(i * 13 + 5);
	return ELF_SIZE;
}

static size_t bz_setup_bytes(unsigned int setup_sects)
{
	return ((setup_sects ? setup_sects : 4) + 1) * 512u;
}

/* bzImage: setup sectors with a protocol 2.15 header, then the payload. */
static size_t build_bz(unsigned int setup_sects)
{
	size_t setup = bz_setup_bytes(setup_sects);

	memset(kbuf, 0, sizeof(kbuf));
	memset(kbuf + BZ_HDR_END, 0xee, setup - BZ_HDR_END);
	kbuf[0x1f1] = (uint8_t)setup_sects;
	put32(kbuf, 0x1f4, 0x1234);
	put16(kbuf, 0x1fe, 0xaa55);
	kbuf[0x200] = 0xeb;
	kbuf[0x201] = BZ_HDR_END - 0x202;
	memcpy(kbuf + 0x202, "HdrS", 4);
	put16(kbuf, 0x206, 0x020f);
	kbuf[0x211] = 0x01;
	put32(kbuf, 0x22c, 0x7fffffff);
	put32(kbuf, 0x230, 0x200000);
	put16(kbuf, 0x236, 0x03);
	put32(kbuf, 0x238, 2047);
	put64(kbuf, 0x258, BZ_PREF);
	put32(kbuf, 0x260, BZ_INIT_SIZE);
	for (unsigned int i = 0; i < BZ_PAYLOAD; i++)
		kbuf[setup + i] = (uint8_t)(i * 3 + 11);
	return setup + BZ_PAYLOAD;
}

static int setup(void **state)
{
	(void)state;
	guest = malloc(MEM_SIZE);
	if (!guest)
		return -1;
	memset(guest, FILL, MEM_SIZE);
	mem = (struct gmem){ .gpa = 0, .size = MEM_SIZE, .hva = guest };
	memcpy(e820, default_e820, sizeof(default_e820));
	for (unsigned int i = 0; i < INITRD_SIZE; i++)
		initrd[i] = (uint8_t)(i * 5 + 3);
	req = (struct linux_boot_req){
		.kernel = kbuf,
		.kernel_size = build_elf(4),
		.cmdline = "console=ttyS0 root=/dev/vda",
		.e820 = e820,
		.e820_count = NR_DEFAULT_E820,
		.rsdp_gpa = RSDP_GPA,
		.boot_gpa = BOOT_GPA,
		.cmdline_gpa = CMDLINE_GPA,
		.initrd_max = MEM_SIZE,
	};
	memset(&out, 0, sizeof(out));
	err[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(guest);
	return 0;
}

static void use_bz(unsigned int setup_sects)
{
	req.kernel_size = build_bz(setup_sects);
}

static void with_initrd(void)
{
	req.initrd = initrd;
	req.initrd_size = INITRD_SIZE;
}

static void load_ok(void)
{
	int r = linux_boot_load(&mem, &req, &out, err, sizeof(err));

	if (r)
		fail_msg("unexpected error: %s", err);
}

/* Loading fails with a one-line "linux: " message containing @what. */
static void load_fails(const char *what)
{
	assert_int_equal(linux_boot_load(&mem, &req, &out, err, sizeof(err)),
			 -1);
	if (!strstr(err, what))
		fail_msg("message \"%s\" lacks \"%s\"", err, what);
	assert_memory_equal(err, "linux: ", 7);
	assert_null(strchr(err, '\n'));
}

/* ---- PVH ---- */

static void test_pvh_registers(void **state)
{
	(void)state;
	load_ok();
	assert_int_equal(out.entry, LINUX_ENTRY_PVH32);
	assert_string_equal(out.format, "PVH vmlinux");
	assert_int_equal(out.rip, PVH_ENTRY);
	assert_int_equal(out.rbx, BOOT_GPA);
	assert_int_equal(out.rsi, 0);
	assert_int_equal(out.cr3, 0);
	assert_int_equal(out.kernel_start, TEXT_GPA);
	assert_int_equal(out.kernel_end, DATA_GPA + DATA_MEMSZ);
	assert_int_equal(out.initrd_start, 0);
	assert_int_equal(out.initrd_end, 0);
}

static void test_pvh_start_info(void **state)
{
	(void)state;
	load_ok();
	assert_int_equal(g32(BOOT_GPA + 0), 0x336ec578);
	assert_int_equal(g32(BOOT_GPA + 4), 1);
	assert_int_equal(g32(BOOT_GPA + 8), 0);
	assert_int_equal(g32(BOOT_GPA + 12), 0);
	assert_int_equal(g64(BOOT_GPA + 16), 0);
	assert_int_equal(g64(BOOT_GPA + 24), CMDLINE_GPA);
	assert_int_equal(g64(BOOT_GPA + 32), RSDP_GPA);
	assert_int_equal(g64(BOOT_GPA + 40), BOOT_GPA + 0x80);
	assert_int_equal(g32(BOOT_GPA + 48), NR_DEFAULT_E820);
	assert_int_equal(g32(BOOT_GPA + 52), 0);
}

static void test_pvh_memmap_copied(void **state)
{
	(void)state;
	load_ok();
	for (unsigned int i = 0; i < NR_DEFAULT_E820; i++) {
		uint64_t e = BOOT_GPA + 0x80 + 24 * i;

		assert_int_equal(g64(e), default_e820[i].addr);
		assert_int_equal(g64(e + 8), default_e820[i].size);
		assert_int_equal(g32(e + 16), default_e820[i].type);
		assert_int_equal(g32(e + 20), 0);
	}
	/* the boot area is used up to the map's end and no further */
	assert_true(all_bytes(BOOT_GPA + 0x80 + 24 * NR_DEFAULT_E820, 8,
			      FILL));
}

static void test_pvh_modlist(void **state)
{
	(void)state;
	with_initrd();
	load_ok();
	assert_int_equal(g32(BOOT_GPA + 12), 1);
	assert_int_equal(g64(BOOT_GPA + 16), BOOT_GPA + 0x40);
	assert_int_equal(g64(BOOT_GPA + 0x40), out.initrd_start);
	assert_int_equal(g64(BOOT_GPA + 0x48), INITRD_SIZE);
	assert_int_equal(g64(BOOT_GPA + 0x50), 0);
	assert_int_equal(g64(BOOT_GPA + 0x58), 0);
	assert_memory_equal(guest + out.initrd_start, initrd, INITRD_SIZE);
}

static void test_pvh_segments_and_bss(void **state)
{
	(void)state;
	load_ok();
	assert_memory_equal(guest + TEXT_GPA, kbuf + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(guest + DATA_GPA, kbuf + DATA_OFF, DATA_FILESZ);
	assert_true(all_bytes(DATA_GPA + DATA_FILESZ, DATA_MEMSZ - DATA_FILESZ,
			      0));
	assert_true(all_bytes(DATA_GPA + DATA_MEMSZ, 16, FILL));
	assert_true(all_bytes(TEXT_GPA + TEXT_SIZE, 16, FILL));
	assert_true(all_bytes(TEXT_GPA - 16, 16, FILL));
}

static void test_pvh_note_64bit_desc(void **state)
{
	(void)state;
	req.kernel_size = build_elf(8);
	load_ok();
	assert_int_equal(out.rip, PVH_ENTRY);
}

static void test_ram_may_span_adjacent_entries(void **state)
{
	(void)state;
	e820[2].size = TEXT_GPA + 0x1000 - 0x100000;
	e820[5] = (struct e820_entry){ TEXT_GPA + 0x1000,
				       HOLE - TEXT_GPA - 0x1000, E820_RAM };
	req.e820_count = 6;
	load_ok();
	assert_memory_equal(guest + TEXT_GPA, kbuf + TEXT_OFF, TEXT_SIZE);
}

/* ---- command line ---- */

static void test_cmdline_placed(void **state)
{
	(void)state;
	load_ok();
	assert_string_equal((char *)guest + CMDLINE_GPA, req.cmdline);
	assert_int_equal(guest[CMDLINE_GPA + strlen(req.cmdline) + 1], FILL);
}

static void test_null_cmdline_is_empty(void **state)
{
	(void)state;
	req.cmdline = NULL;
	load_ok();
	assert_int_equal(guest[CMDLINE_GPA], 0);
	assert_int_equal(g64(BOOT_GPA + 24), CMDLINE_GPA);
}

static void test_cmdline_of_4095_bytes_fits(void **state)
{
	static char line[4096];

	(void)state;
	memset(line, 'a', 4095);
	req.cmdline = line;
	load_ok();
	assert_int_equal(guest[CMDLINE_GPA + 4094], 'a');
	assert_int_equal(guest[CMDLINE_GPA + 4095], 0);
}

/* ---- initrd ---- */

static void test_initrd_highest_and_aligned(void **state)
{
	(void)state;
	with_initrd();
	req.initrd_max = 0x2800000;
	load_ok();
	assert_int_equal(out.initrd_start, 0x27fe000);
	assert_int_equal(out.initrd_end, 0x27fe000 + INITRD_SIZE);
	assert_int_equal(out.initrd_start % 0x1000, 0);
	assert_memory_equal(guest + out.initrd_start, initrd, INITRD_SIZE);
}

static void test_initrd_below_reserved_hole(void **state)
{
	(void)state;
	with_initrd();
	req.initrd_max = HOLE + 0x80000;
	load_ok();
	assert_int_equal(out.initrd_start, HOLE - 0x2000);
}

static void test_initrd_no_limit_uses_top_of_ram(void **state)
{
	(void)state;
	with_initrd();
	req.initrd_max = 0;
	load_ok();
	assert_int_equal(out.initrd_start, MEM_SIZE - 0x2000);
}

static void test_initrd_skips_boot_area_and_cmdline(void **state)
{
	(void)state;
	req.boot_gpa = MEM_SIZE - 0x8000;
	req.cmdline_gpa = MEM_SIZE - 0x10000;
	req.initrd = guest + 0x200000; /* any data will do */
	req.initrd_size = 0x9000;
	load_ok();
	/* below the boot area it would hit the command line */
	assert_int_equal(out.initrd_start, MEM_SIZE - 0x10000 - 0x9000);
	assert_int_equal(out.rbx, MEM_SIZE - 0x8000);
}

static void test_initrd_avoids_its_own_module(void **state)
{
	(void)state;
	memcpy(guest + MEM_SIZE - 0x2000, initrd, INITRD_SIZE);
	req.initrd = guest + MEM_SIZE - 0x2000;
	req.initrd_size = INITRD_SIZE;
	load_ok();
	assert_int_equal(out.initrd_start, MEM_SIZE - 0x4000);
	assert_memory_equal(guest + out.initrd_start, initrd, INITRD_SIZE);
}

static void test_initrd_fits_nowhere(void **state)
{
	uint8_t *big = calloc(1, HOLE);

	(void)state;
	assert_non_null(big);
	req.initrd = big;
	req.initrd_size = HOLE;
	load_fails("linux: the initrd (0x3000000 bytes) fits nowhere");
	free(big);
}

static void test_initrd_below_tiny_limit_fits_nowhere(void **state)
{
	(void)state;
	with_initrd();
	req.initrd_max = 0x1000;
	load_fails("below 0x1000");
}

/* ---- bzImage ---- */

static void test_bz_registers(void **state)
{
	(void)state;
	use_bz(3);
	load_ok();
	assert_int_equal(out.entry, LINUX_ENTRY_64BIT);
	assert_string_equal(out.format, "bzImage");
	assert_int_equal(out.rip, BZ_PREF + 0x200);
	assert_int_equal(out.rsi, BOOT_GPA);
	assert_int_equal(out.rbx, 0);
	assert_int_equal(out.cr3, BOOT_GPA + 0x2000);
	assert_int_equal(out.gdt_base, BOOT_GPA + 0x1000);
	assert_int_equal(out.gdt_limit, 31);
	assert_int_equal(out.kernel_start, BZ_PREF);
	assert_int_equal(out.kernel_end, BZ_PREF + BZ_INIT_SIZE);
}

static void test_bz_payload_loaded(void **state)
{
	(void)state;
	use_bz(3);
	load_ok();
	assert_memory_equal(guest + BZ_PREF, kbuf + bz_setup_bytes(3),
			    BZ_PAYLOAD);
	assert_int_equal(guest[BZ_PREF + BZ_PAYLOAD], FILL);
}

static void test_bz_setup_sects_zero_means_four(void **state)
{
	(void)state;
	use_bz(0);
	load_ok();
	assert_memory_equal(guest + BZ_PREF, kbuf + 5 * 512, BZ_PAYLOAD);
}

static void test_bz_boot_params_header(void **state)
{
	(void)state;
	use_bz(3);
	req.rsdp_gpa = 0;
	load_ok();
	assert_true(all_bytes(BOOT_GPA, 0x1e8, 0));
	assert_true(all_bytes(BOOT_GPA + 0x1e9, 0x1f1 - 0x1e9, 0));
	assert_int_equal(guest[BOOT_GPA + 0x1f1], 3);
	assert_int_equal(g32(BOOT_GPA + 0x1f4), 0x1234);
	assert_int_equal(g16(BOOT_GPA + 0x1fe), 0xaa55);
	assert_memory_equal(guest + BOOT_GPA + 0x202, "HdrS", 4);
	assert_int_equal(g16(BOOT_GPA + 0x206), 0x020f);
	assert_int_equal(g64(BOOT_GPA + 0x258), BZ_PREF);
	assert_int_equal(g32(BOOT_GPA + 0x260), BZ_INIT_SIZE);
	/* the header ends at 0x202 + byte 0x201; the rest stays zero */
	assert_true(all_bytes(BOOT_GPA + BZ_HDR_END, 0x2d0 - BZ_HDR_END, 0));
}

static void test_bz_boot_params_fields(void **state)
{
	uint64_t bp = BOOT_GPA;

	(void)state;
	use_bz(3);
	with_initrd();
	load_ok();
	assert_int_equal(guest[bp + 0x210], 0xff);
	assert_int_equal(g32(bp + 0x228), CMDLINE_GPA);
	assert_int_equal(g32(bp + 0x0c8), 0);
	assert_int_equal(g32(bp + 0x218), out.initrd_start);
	assert_int_equal(g32(bp + 0x21c), INITRD_SIZE);
	assert_int_equal(g32(bp + 0x0c0), 0);
	assert_int_equal(g32(bp + 0x0c4), 0);
	assert_int_equal(g64(bp + 0x070), RSDP_GPA);
	assert_int_equal(guest[bp + 0x1e8], NR_DEFAULT_E820);
	assert_memory_equal(guest + bp + 0x2d0, default_e820,
			    sizeof(default_e820));
	assert_true(all_bytes(bp + 0x2d0 + sizeof(default_e820), 20, 0));
	assert_true(all_bytes(bp + 0xcd0, 0x1000 - 0xcd0, 0));
	assert_string_equal((char *)guest + CMDLINE_GPA, req.cmdline);
}

static void test_bz_page_tables(void **state)
{
	uint64_t pml4 = BOOT_GPA + 0x2000, pdpt = BOOT_GPA + 0x3000;
	uint64_t pd = BOOT_GPA + 0x4000;

	(void)state;
	use_bz(3);
	load_ok();
	assert_int_equal(out.cr3, pml4);
	assert_int_equal(g64(pml4), pdpt | 3);
	assert_true(all_bytes(pml4 + 8, 0x1000 - 8, 0));
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(g64(pdpt + 8 * i), (pd + 0x1000 * i) | 3);
	assert_true(all_bytes(pdpt + 32, 0x1000 - 32, 0));
	for (uint64_t i = 0; i < 2048; i++)
		assert_int_equal(g64(pd + 8 * i), (i << 21) | 0x83);
	assert_int_equal(g64(pd + 8 * 2047), 0xffe00083ull);
	assert_int_equal(guest[BOOT_GPA + 0x8000], FILL);
}

static void test_bz_gdt(void **state)
{
	uint64_t gdt = BOOT_GPA + 0x1000, cs, ds;

	(void)state;
	use_bz(3);
	load_ok();
	assert_int_equal(g64(gdt), 0);
	assert_int_equal(g64(gdt + 8), 0);
	cs = g64(gdt + 0x10);
	ds = g64(gdt + 0x18);
	assert_int_equal(cs, 0x00af9b000000ffffull);
	assert_int_equal(ds, 0x00cf93000000ffffull);
	assert_true(cs & (1ull << 53));    /* L: 64-bit code */
	assert_false(cs & (1ull << 54));   /* D must be 0 with L */
	assert_true(cs & (1ull << 47));    /* present */
	assert_int_equal((cs >> 40) & 0x18, 0x18); /* code segment */
	assert_int_equal((ds >> 40) & 0x1a, 0x12); /* writable data */
	assert_true(all_bytes(gdt + 0x20, 0x1000 - 0x20, 0));
}

static void test_bz_honours_initrd_addr_max(void **state)
{
	(void)state;
	use_bz(3);
	put16(kbuf, 0x236, 0x01);
	put32(kbuf, 0x22c, 0x1ffffff);
	with_initrd();
	load_ok();
	assert_int_equal(out.initrd_start, 0x2000000 - 0x2000);
}

static void test_bz_cmdline_of_cmdline_size_fits(void **state)
{
	(void)state;
	use_bz(3);
	put32(kbuf, 0x238, 16);
	req.cmdline = "0123456789abcdef";
	load_ok();
}

/* ---- rejections ---- */

static void test_reject_unknown_format(void **state)
{
	(void)state;
	memset(kbuf, 0x5a, 0x1000);
	req.kernel_size = 0x1000;
	load_fails("linux: the kernel is neither an ELF vmlinux nor a bzImage");
}

static void test_reject_elf_truncated(void **state)
{
	(void)state;
	req.kernel_size = 40;
	load_fails("truncated: 40 bytes");
}

static void test_reject_elf32(void **state)
{
	(void)state;
	kbuf[4] = 1;
	load_fails("not ELF64 (class 1)");
}

static void test_reject_elf_big_endian(void **state)
{
	(void)state;
	kbuf[5] = 2;
	load_fails("not little-endian");
}

static void test_reject_elf_machine(void **state)
{
	(void)state;
	put16(kbuf, 18, 3);
	load_fails("machine 3, not x86-64");
}

static void test_reject_elf_not_executable(void **state)
{
	(void)state;
	put16(kbuf, 16, 3);
	load_fails("ELF type 3");
}

static void test_reject_phentsize(void **state)
{
	(void)state;
	put16(kbuf, 54, 32);
	load_fails("program header size is 32");
}

static void test_reject_phdrs_past_end(void **state)
{
	(void)state;
	put64(kbuf, 32, ELF_SIZE - 100);
	load_fails("program headers at offset 0x4f9c run past its end");
}

static void test_reject_too_many_phdrs(void **state)
{
	(void)state;
	put16(kbuf, 56, 65);
	load_fails("65 program headers");
}

static void test_reject_segment_past_file_end(void **state)
{
	(void)state;
	put64(kbuf, PH(2) + 32, 0x2000);
	load_fails("program header 2 (file 0x4000+0x2000) runs past its end");
}

static void test_reject_filesz_above_memsz(void **state)
{
	(void)state;
	put64(kbuf, PH(2) + 40, 0x800);
	load_fails("p_filesz 0x1000 > p_memsz 0x800");
}

static void test_reject_segment_in_reserved_hole(void **state)
{
	(void)state;
	put64(kbuf, PH(2) + 24, HOLE - 0x1000);
	load_fails("linux: the kernel at 0x2fff000-0x3004000 is not in the partition's RAM");
}

static void test_reject_ram_overlapped_by_reserved(void **state)
{
	(void)state;
	e820[5] = (struct e820_entry){ DATA_GPA + 0x2000, 0x1000,
				       E820_NVS };
	req.e820_count = 6;
	load_fails("the kernel at 0x1100000-0x1105000 is not in the partition's RAM");
}

static void test_reject_segment_outside_mem(void **state)
{
	(void)state;
	e820[4].size = 2 * MEM_SIZE;
	put64(kbuf, PH(2) + 24, MEM_SIZE + 0x100000);
	load_fails("outside the memory keel mapped");
}

static void test_reject_no_pvh_note(void **state)
{
	(void)state;
	put32(kbuf, XEN_NOTE_OFF + 8, 17);
	load_fails("no PVH entry note");
}

static void test_reject_pvh_note_bad_size(void **state)
{
	(void)state;
	put32(kbuf, XEN_NOTE_OFF + 4, 2);
	load_fails("holds 2 bytes");
}

static void test_reject_entry_outside_segments(void **state)
{
	(void)state;
	put32(kbuf, XEN_DESC_OFF, 0x2000000);
	load_fails("PVH entry 0x2000000 is not in a loaded segment");
}

static void test_reject_overlapping_segments(void **state)
{
	(void)state;
	put64(kbuf, PH(2) + 24, TEXT_GPA + 0x2000);
	load_fails("segments 1 and 2 overlap at 0x1002000");
}

static void test_reject_kernel_over_its_module(void **state)
{
	(void)state;
	memcpy(guest + TEXT_GPA + 0x1000, kbuf, ELF_SIZE);
	req.kernel = guest + TEXT_GPA + 0x1000;
	load_fails("linux: the kernel's load address 0x1000000 overlaps its own module; relocate the module first");
}

static void test_reject_bz_over_its_module(void **state)
{
	(void)state;
	use_bz(3);
	memcpy(guest + BZ_PREF + 0x80000, kbuf, req.kernel_size);
	req.kernel = guest + BZ_PREF + 0x80000;
	load_fails("linux: the kernel's load address 0x1000000 overlaps its own module; relocate the module first");
}

static void test_reject_boot_area_over_initrd_module(void **state)
{
	(void)state;
	req.initrd = guest + BOOT_GPA + 0x40;
	req.initrd_size = 0x100;
	load_fails("linux: the boot area at 0x10000-0x100f8 overlaps the initrd module; relocate the module first");
}

static void test_reject_boot_area_over_kernel(void **state)
{
	(void)state;
	req.boot_gpa = DATA_GPA + 0x2000;
	load_fails("the boot area at 0x1102000-0x11020f8 overlaps the kernel at 0x1000000-0x1105000");
}

static void test_reject_cmdline_over_boot_area(void **state)
{
	(void)state;
	use_bz(3);
	req.cmdline_gpa = BOOT_GPA + 0x7000;
	load_fails("the command line at 0x17000-0x1701c overlaps the boot area");
}

static void test_reject_boot_area_unaligned(void **state)
{
	(void)state;
	req.boot_gpa = BOOT_GPA + 8;
	load_fails("boot area 0x10008 is not page-aligned");
}

static void test_reject_boot_area_in_reserved(void **state)
{
	(void)state;
	req.boot_gpa = 0x9f000;
	load_fails("the boot area at 0x9f000-0x9f0f8 is not in the partition's RAM");
}

static void test_reject_cmdline_too_long(void **state)
{
	static char line[5000];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	req.cmdline = line;
	load_fails("command line is longer than 4095 bytes");
}

static void test_reject_bz_cmdline_above_cmdline_size(void **state)
{
	(void)state;
	use_bz(3);
	put32(kbuf, 0x238, 16);
	req.cmdline = "0123456789abcdefg";
	load_fails("command line is longer than 16 bytes");
}

static void test_reject_too_many_e820_for_boot_params(void **state)
{
	(void)state;
	for (unsigned int i = NR_DEFAULT_E820; i < 129; i++)
		e820[i] = (struct e820_entry){ 0x100000000ull + i * 0x1000ull,
					       0x1000, E820_RESERVED };
	req.e820_count = 129;
	load_ok(); /* PVH takes it: the map lives in the boot area */
	assert_int_equal(g32(BOOT_GPA + 48), 129);
	use_bz(3);
	load_fails("129 e820 entries do not fit in boot_params (at most 128)");
}

static void test_reject_bz_too_old(void **state)
{
	(void)state;
	use_bz(3);
	put16(kbuf, 0x206, 0x020b);
	load_fails("boot protocol 2.11; keel needs 2.12");
}

static void test_reject_bz_not_64bit(void **state)
{
	(void)state;
	use_bz(3);
	put16(kbuf, 0x236, 0x02);
	load_fails("no 64-bit entry (xloadflags 0x2)");
}

static void test_reject_bz_not_loaded_high(void **state)
{
	(void)state;
	use_bz(3);
	kbuf[0x211] = 0;
	load_fails("does not load high");
}

static void test_reject_bz_boot_flag(void **state)
{
	(void)state;
	use_bz(3);
	put16(kbuf, 0x1fe, 0);
	load_fails("boot flag is 0x0000");
}

static void test_reject_bz_header_past_end(void **state)
{
	(void)state;
	use_bz(3);
	kbuf[0x201] = 0xa0;
	load_fails("setup header ends at 0x2a2");
}

static void test_reject_bz_pref_in_hole(void **state)
{
	(void)state;
	use_bz(3);
	put64(kbuf, 0x258, HOLE);
	load_fails("the kernel at 0x3000000-0x3100000 is not in the partition's RAM");
}

static void test_reject_bz_init_size_past_ram(void **state)
{
	(void)state;
	use_bz(3);
	put32(kbuf, 0x260, HOLE);
	load_fails("the kernel at 0x1000000-0x4000000 is not in the partition's RAM");
}

static void test_failure_writes_nothing(void **state)
{
	uint8_t *big = calloc(1, HOLE);

	(void)state;
	assert_non_null(big);
	req.initrd = big;
	req.initrd_size = HOLE;
	load_fails("fits nowhere");
	free(big);
	assert_true(all_bytes(TEXT_GPA, TEXT_SIZE, FILL));
	assert_true(all_bytes(DATA_GPA, DATA_MEMSZ, FILL));
	assert_true(all_bytes(BOOT_GPA, 0x100, FILL));
	assert_true(all_bytes(CMDLINE_GPA, 0x100, FILL));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pvh_registers),
		T(test_pvh_start_info),
		T(test_pvh_memmap_copied),
		T(test_pvh_modlist),
		T(test_pvh_segments_and_bss),
		T(test_pvh_note_64bit_desc),
		T(test_ram_may_span_adjacent_entries),
		T(test_cmdline_placed),
		T(test_null_cmdline_is_empty),
		T(test_cmdline_of_4095_bytes_fits),
		T(test_initrd_highest_and_aligned),
		T(test_initrd_below_reserved_hole),
		T(test_initrd_no_limit_uses_top_of_ram),
		T(test_initrd_skips_boot_area_and_cmdline),
		T(test_initrd_avoids_its_own_module),
		T(test_initrd_fits_nowhere),
		T(test_initrd_below_tiny_limit_fits_nowhere),
		T(test_bz_registers),
		T(test_bz_payload_loaded),
		T(test_bz_setup_sects_zero_means_four),
		T(test_bz_boot_params_header),
		T(test_bz_boot_params_fields),
		T(test_bz_page_tables),
		T(test_bz_gdt),
		T(test_bz_honours_initrd_addr_max),
		T(test_bz_cmdline_of_cmdline_size_fits),
		T(test_reject_unknown_format),
		T(test_reject_elf_truncated),
		T(test_reject_elf32),
		T(test_reject_elf_big_endian),
		T(test_reject_elf_machine),
		T(test_reject_elf_not_executable),
		T(test_reject_phentsize),
		T(test_reject_phdrs_past_end),
		T(test_reject_too_many_phdrs),
		T(test_reject_segment_past_file_end),
		T(test_reject_filesz_above_memsz),
		T(test_reject_segment_in_reserved_hole),
		T(test_reject_ram_overlapped_by_reserved),
		T(test_reject_segment_outside_mem),
		T(test_reject_no_pvh_note),
		T(test_reject_pvh_note_bad_size),
		T(test_reject_entry_outside_segments),
		T(test_reject_overlapping_segments),
		T(test_reject_kernel_over_its_module),
		T(test_reject_bz_over_its_module),
		T(test_reject_boot_area_over_initrd_module),
		T(test_reject_boot_area_over_kernel),
		T(test_reject_cmdline_over_boot_area),
		T(test_reject_boot_area_unaligned),
		T(test_reject_boot_area_in_reserved),
		T(test_reject_cmdline_too_long),
		T(test_reject_bz_cmdline_above_cmdline_size),
		T(test_reject_too_many_e820_for_boot_params),
		T(test_reject_bz_too_old),
		T(test_reject_bz_not_64bit),
		T(test_reject_bz_not_loaded_high),
		T(test_reject_bz_boot_flag),
		T(test_reject_bz_header_past_end),
		T(test_reject_bz_pref_in_hole),
		T(test_reject_bz_init_size_past_ram),
		T(test_failure_writes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
