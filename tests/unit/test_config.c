// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the configuration parser.
 *
 *	test_config <configs-dir> <dtb-dir>
 *
 * Every <configs-dir>/{valid,invalid}/NAME.dts is one test that parses the
 * compiled <dtb-dir>/{valid,invalid}/NAME.dtb on a fixed two-CPU, 512 MiB
 * machine. An invalid file starts with "// expect: <substring>", a part of
 * the one error message it must produce. The direct tests after them edit
 * valid/default.dtb in memory for what dtc cannot express.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "runtime/config.h"

#define MIB (1024ull * 1024)
#define EXPECT_TAG "// expect: "
#define NAME_LEN 256
#define PATH_LEN 4096
/* Head room for properties and nodes the direct tests add to a DTB. */
#define EDIT_ROOM 4096

struct case_file {
	char name[NAME_LEN];	/* "valid/NAME" or "invalid/NAME" */
	char expect[CONFIG_ERR_LEN]; /* empty for valid files */
};

static const char *const modules[] = {
	"config.dtb", "companion.vmlinux", "companion.cpio",
	"guest.vmlinux", "guest.cpio",
};

static const struct config_machine machine = {
	.cpu_count = 2,
	.usable_memory = 512 * MIB,
	.modules = modules,
	.module_count = sizeof(modules) / sizeof(*modules),
};

static const char *dtb_dir;

/*
 * Reads valid/NAME.dtb or invalid/NAME.dtb into a buffer with @room spare
 * bytes at the end; *@size is the whole buffer's size.
 */
static void *load_dtb(const char *name, size_t room, size_t *size)
{
	char path[PATH_LEN];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/%s.dtb", dtb_dir, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	*size = (size_t)len + room;
	buf = calloc(1, *size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* valid/default.dtb opened for editing with libfdt's read-write calls. */
static void *edit_default(size_t *size)
{
	void *fdt = load_dtb("valid/default", EDIT_ROOM, size);

	assert_int_equal(fdt_open_into(fdt, fdt, (int)*size), 0);
	return fdt;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	assert_true(off >= 0);
	return off;
}

/* Parses @fdt on @m, expecting success. */
static void expect_ok(const void *fdt, size_t size,
		      const struct config_machine *m, struct keel_config *cfg)
{
	char err[CONFIG_ERR_LEN] = "";

	if (config_parse(fdt, size, m, cfg, err, sizeof(err)))
		fail_msg("%s", err);
}

/* Loads and parses a valid file; @cfg points into the DTB returned. */
static void *parse_valid(const char *name, struct keel_config *cfg)
{
	size_t size;
	void *fdt = load_dtb(name, 0, &size);

	expect_ok(fdt, size, &machine, cfg);
	return fdt;
}

/* Parses @fdt on @m, expecting failure with a message containing @expect. */
static void expect_error(const void *fdt, size_t size,
			 const struct config_machine *m, const char *expect)
{
	struct keel_config cfg;
	char err[CONFIG_ERR_LEN] = "";

	if (config_parse(fdt, size, m, &cfg, err, sizeof(err)) != -1)
		fail_msg("parsed, expected an error containing: %s", expect);
	if (strncmp(err, "config: ", strlen("config: ")) ||
	    strchr(err, '\n') || !strstr(err, expect))
		fail_msg("got:      %s\nexpected: %s", err, expect);
}

static void test_file(void **state)
{
	const struct case_file *c = *state;
	struct keel_config cfg;
	size_t size;
	void *fdt = load_dtb(c->name, 0, &size);

	if (c->expect[0])
		expect_error(fdt, size, &machine, c->expect);
	else
		expect_ok(fdt, size, &machine, &cfg);
	free(fdt);
}

static void test_truncated(void **state)
{
	size_t size;
	void *fdt = load_dtb("valid/default", 0, &size);

	(void)state;
	expect_error(fdt, size - 1, &machine,
		     "config: not a valid DTB: FDT_ERR_TRUNCATED");
	expect_error(fdt, 16, &machine,
		     "config: not a valid DTB: FDT_ERR_TRUNCATED");
	expect_error(fdt, 0, &machine,
		     "config: not a valid DTB: FDT_ERR_TRUNCATED");
	free(fdt);
}

static void test_garbage(void **state)
{
	uint64_t words[512];
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(*words); i++)
		words[i] = 0x9e3779b97f4a7c15ull * (i + 1);
	expect_error(words, sizeof(words), &machine,
		     "config: not a valid DTB: FDT_ERR_BADMAGIC");
}

static void test_default_values(void **state)
{
	struct keel_config cfg;
	void *fdt = parse_valid("valid/default", &cfg);

	(void)state;
	assert_int_equal(cfg.version, 1);
	assert_int_equal(cfg.keel_memory, 64 * MIB);
	assert_string_equal(cfg.companion.name, "companion");
	assert_int_equal(cfg.companion.cpus, 1);
	assert_int_equal(cfg.companion.memory, 0);
	assert_string_equal(cfg.companion.kernel, "companion.vmlinux");
	assert_string_equal(cfg.companion.initrd, "companion.cpio");
	assert_string_equal(cfg.guest.name, "guest");
	assert_int_equal(cfg.guest.cpus, 2);
	assert_int_equal(cfg.guest.memory, 256 * MIB);
	assert_string_equal(cfg.guest.kernel, "guest.vmlinux");
	assert_string_equal(cfg.guest.initrd, "guest.cpio");
	assert_string_equal(cfg.guest.cmdline,
			    "console=ttyS0,115200 printk.devkmsg=on "
			    "keel.role=guest");
	assert_int_equal(cfg.disk.queues, 1);
	assert_int_equal(cfg.disk.queue_size, 128);
	assert_string_equal(cfg.disk.wwpn, "naa.5001405abcdef001");
	assert_int_equal(cfg.disk.backstore, BACKSTORE_FILEIO);
	assert_string_equal(cfg.disk.path, "/var/lib/keel/disk0.img");
	assert_int_equal(cfg.disk.size, 64 * MIB);
	free(fdt);
}

static void test_iblock_values(void **state)
{
	struct keel_config cfg;
	void *fdt = parse_valid("valid/iblock", &cfg);

	(void)state;
	assert_int_equal(cfg.disk.backstore, BACKSTORE_IBLOCK);
	assert_string_equal(cfg.disk.path, "/dev/vdb");
	assert_int_equal(cfg.disk.size, 0);
	free(fdt);
}

static void test_no_initrds_values(void **state)
{
	struct keel_config cfg;
	void *fdt = parse_valid("valid/no-initrds", &cfg);

	(void)state;
	assert_null(cfg.companion.initrd);
	assert_null(cfg.guest.initrd);
	free(fdt);
}

struct lines {
	char text[8][2048];
	unsigned int count;
};

static void collect(const char *line, void *ctx)
{
	struct lines *l = ctx;

	assert_true(l->count < sizeof(l->text) / sizeof(*l->text));
	snprintf(l->text[l->count++], sizeof(*l->text), "%s", line);
}

static void test_print_default(void **state)
{
	struct keel_config cfg;
	struct lines out = { .count = 0 };
	void *fdt = parse_valid("valid/default", &cfg);

	(void)state;
	config_print(&cfg, collect, &out);
	assert_int_equal(out.count, 4);
	assert_string_equal(out.text[0], "config: version 1, keel pool 64 MiB");
	assert_string_equal(out.text[1],
			    "config: companion: cpus 0, "
			    "kernel companion.vmlinux, "
			    "initrd companion.cpio, "
			    "cmdline \"console=ttyS0,115200 "
			    "earlyprintk=serial,ttyS0,115200 "
			    "printk.devkmsg=on keel.role=companion\"");
	assert_string_equal(out.text[2],
			    "config: guest: cpus 1, memory 256 MiB, "
			    "kernel guest.vmlinux, initrd guest.cpio, "
			    "cmdline \"console=ttyS0,115200 printk.devkmsg=on "
			    "keel.role=guest\"");
	assert_string_equal(out.text[3],
			    "config: guest virtio-scsi: "
			    "1 request queue(s) of 128, "
			    "wwpn naa.5001405abcdef001, "
			    "fileio /var/lib/keel/disk0.img 64 MiB");
	free(fdt);
}

/* Sizes that are not whole MiB, several CPUs, no initrd, iblock. */
static void test_print_odd(void **state)
{
	const struct keel_config cfg = {
		.version = 1,
		.keel_memory = 16 * MIB + 512,
		.companion = { .name = "companion", .cpus = 1 | 1 << 2 | 1 << 3,
			       .kernel = "c.vmlinux", .cmdline = "" },
		.guest = { .name = "guest", .cpus = 1ull << 63,
			   .memory = 32 * MIB + 4096, .kernel = "g.vmlinux",
			   .initrd = "g.cpio", .cmdline = "quiet" },
		.disk = { .queues = 4, .queue_size = 256,
			  .wwpn = "naa.0000000000000001",
			  .backstore = BACKSTORE_IBLOCK, .path = "/dev/sdb" },
	};
	struct lines out = { .count = 0 };

	(void)state;
	config_print(&cfg, collect, &out);
	assert_int_equal(out.count, 4);
	assert_string_equal(out.text[0],
			    "config: version 1, keel pool 16777728 bytes");
	assert_string_equal(out.text[1],
			    "config: companion: cpus 0 2 3, kernel c.vmlinux, "
			    "initrd (none), cmdline \"\"");
	assert_string_equal(out.text[2],
			    "config: guest: cpus 63, memory 33558528 bytes, "
			    "kernel g.vmlinux, initrd g.cpio, "
			    "cmdline \"quiet\"");
	assert_string_equal(out.text[3],
			    "config: guest virtio-scsi: "
			    "4 request queue(s) of 256, "
			    "wwpn naa.0000000000000001, iblock /dev/sdb");
}

static void test_three_cpus(void **state)
{
	struct config_machine three = machine;
	struct keel_config cfg;
	size_t size;
	void *fdt = edit_default(&size);

	(void)state;
	three.cpu_count = 3;
	assert_int_equal(fdt_setprop_u32(fdt, node(fdt, "/guest"), "cpus", 2),
			 0);
	expect_ok(fdt, size, &three, &cfg);
	assert_int_equal(cfg.guest.cpus, 1ull << 2);
	expect_error(fdt, size, &machine,
		     "config: /guest: property 'cpus': "
		     "CPU 2 does not exist (the machine has 2 CPUs)");
	free(fdt);
}

static void test_cpu_beyond_limit(void **state)
{
	struct config_machine big = machine;
	size_t size;
	void *fdt = edit_default(&size);

	(void)state;
	big.cpu_count = CONFIG_MAX_CPUS + 1;
	assert_int_equal(fdt_setprop_u32(fdt, node(fdt, "/guest"), "cpus",
					 CONFIG_MAX_CPUS), 0);
	expect_error(fdt, size, &big,
		     "config: /guest: property 'cpus': "
		     "CPU 64 is beyond keel's limit of 64 CPUs");
	free(fdt);
}

static void test_memreserve_ignored(void **state)
{
	struct keel_config cfg;
	size_t size;
	void *fdt = edit_default(&size);

	(void)state;
	assert_int_equal(fdt_add_mem_rsv(fdt, 0x100000, 0x1000), 0);
	expect_ok(fdt, size, &machine, &cfg);
	free(fdt);
}

/* dtc merges repeated names, so make the twins by renaming in place. */
static void test_duplicate_property(void **state)
{
	const struct fdt_property *prop;
	size_t size;
	void *fdt = edit_default(&size);
	int companion = node(fdt, "/companion");
	char *name;

	(void)state;
	assert_int_equal(fdt_setprop_u32(fdt, companion, "cpuX", 1), 0);
	prop = fdt_get_property(fdt, companion, "cpuX", NULL);
	assert_non_null(prop);
	name = (char *)fdt + fdt_off_dt_strings(fdt) +
	       fdt32_to_cpu(prop->nameoff);
	name[3] = 's';
	expect_error(fdt, size, &machine,
		     "config: /companion: property 'cpus': "
		     "appears more than once");
	free(fdt);
}

static void test_duplicate_node(void **state)
{
	size_t size;
	void *fdt = edit_default(&size);
	int extra;

	(void)state;
	extra = fdt_add_subnode(fdt, node(fdt, "/guest"), "virtio-scsX");
	assert_true(extra >= 0);
	assert_int_equal(fdt_set_name(fdt, extra, "virtio-scsi"), 0);
	expect_error(fdt, size, &machine,
		     "config: /guest: "
		     "node 'virtio-scsi' appears more than once");
	free(fdt);
}

static void test_small_errlen(void **state)
{
	struct keel_config cfg, untouched;
	char err[16];
	size_t size;
	void *fdt = edit_default(&size);

	(void)state;
	assert_int_equal(fdt_setprop_u32(fdt, node(fdt, "/"), "version", 2),
			 0);
	memset(err, 'x', sizeof(err));
	memset(&cfg, 0xa5, sizeof(cfg));
	untouched = cfg;
	assert_int_equal(config_parse(fdt, size, &machine, &cfg, err, 8), -1);
	assert_string_equal(err, "config:");
	assert_memory_equal(err + 8, "xxxxxxxx", 8);
	assert_memory_equal(&cfg, &untouched, sizeof(cfg));
	assert_int_equal(config_parse(fdt, size, &machine, &cfg, NULL, 0), -1);
	free(fdt);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct case_file *)a)->name,
		      ((const struct case_file *)b)->name);
}

/* Reads the "// expect: <substring>" line that opens an invalid file. */
static int read_expect(const char *path, char *expect, size_t len)
{
	char line[2 * CONFIG_ERR_LEN];
	FILE *f = fopen(path, "r");
	bool ok = f && fgets(line, sizeof(line), f) &&
		  !strncmp(line, EXPECT_TAG, strlen(EXPECT_TAG));

	if (f)
		fclose(f);
	if (ok) {
		line[strcspn(line, "\r\n")] = '\0';
		ok = snprintf(expect, len, "%s", line + strlen(EXPECT_TAG)) <
			     (int)len && expect[0];
	}
	if (!ok)
		fprintf(stderr,
			"%s: needs a first line \"%s<part of the message>\"\n",
			path, EXPECT_TAG);
	return ok ? 0 : -1;
}

/* Appends one case per NAME.dts in @src/@kind; returns the new count. */
static int list_cases(const char *src, const char *kind,
		      struct case_file **cases, int count)
{
	char dir[PATH_LEN], path[PATH_LEN + NAME_LEN];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/%s", src, kind);
	d = opendir(dir);
	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		struct case_file *c;

		if (n <= 4 || strcmp(e->d_name + n - 4, ".dts"))
			continue;
		*cases = realloc(*cases, (count + 1) * sizeof(**cases));
		if (!*cases)
			abort();
		c = &(*cases)[count++];
		snprintf(c->name, sizeof(c->name), "%s/%.*s", kind,
			 (int)(n - 4), e->d_name);
		c->expect[0] = '\0';
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (!strcmp(kind, "invalid") &&
		    read_expect(path, c->expect, sizeof(c->expect))) {
			count = -1;
			break;
		}
	}
	closedir(d);
	return count;
}

static const struct CMUnitTest direct_tests[] = {
	cmocka_unit_test(test_truncated),
	cmocka_unit_test(test_garbage),
	cmocka_unit_test(test_default_values),
	cmocka_unit_test(test_iblock_values),
	cmocka_unit_test(test_no_initrds_values),
	cmocka_unit_test(test_print_default),
	cmocka_unit_test(test_print_odd),
	cmocka_unit_test(test_three_cpus),
	cmocka_unit_test(test_cpu_beyond_limit),
	cmocka_unit_test(test_memreserve_ignored),
	cmocka_unit_test(test_duplicate_property),
	cmocka_unit_test(test_duplicate_node),
	cmocka_unit_test(test_small_errlen),
};

int main(int argc, char **argv)
{
	const size_t ndirect = sizeof(direct_tests) / sizeof(*direct_tests);
	struct case_file *cases = NULL;
	struct CMUnitTest *tests;
	int count = 0, i, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <configs-dir> <dtb-dir>\n",
			argv[0]);
		return 2;
	}
	dtb_dir = argv[2];
	count = list_cases(argv[1], "valid", &cases, count);
	if (count >= 0)
		count = list_cases(argv[1], "invalid", &cases, count);
	if (count <= 0) {
		if (!count)
			fprintf(stderr, "%s: no test configurations\n",
				argv[1]);
		return 2;
	}
	qsort(cases, count, sizeof(*cases), by_name);
	tests = calloc(count + ndirect, sizeof(*tests));
	if (!tests)
		abort();
	for (i = 0; i < count; i++)
		tests[i] = (struct CMUnitTest){ .name = cases[i].name,
						.test_func = test_file,
						.initial_state = &cases[i] };
	memcpy(tests + count, direct_tests, sizeof(direct_tests));
	rc = _cmocka_run_group_tests("config", tests, count + ndirect, NULL,
				     NULL);
	free(tests);
	free(cases);
	return rc;
}
