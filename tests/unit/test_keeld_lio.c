// SPDX-License-Identifier: GPL-2.0
/*
 * keeld's LIO configfs plan: against a recording fake that behaves like
 * configfs (core/ exists, tpgt_N/lun is a default group, reading nexus
 * without a nexus fails with ENODEV, rmdir drops attributes and default
 * groups), then through the real system calls in a temporary directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "vhost/keeld/lio.h"

#define WWPN "naa.5001405abcdef001"
#define NEXUS "naa.5001405abcdef00e"
#define TPG "/cfg/vhost/" WWPN "/tpgt_1"
#define SO "/cfg/core/fileio_0/disk0"
#define IMG "/img/disk0.img"
#define IMG_SIZE 67108864ull

#define MAX_NODES 64
#define MAX_LINES 64
#define LINE_LEN 1200

struct node {
	char kind;		/* 0 free, 'd' dir, 'f' file, 'l' link */
	char path[LIO_PATH_MAX];
	char data[LINE_LEN];
};

/* A configfs lookalike that records every change; or, with @real, a spy
 * that records and then makes the system call. */
struct fake {
	bool real;
	struct node nodes[MAX_NODES];
	char ops[MAX_LINES][LINE_LEN];
	int nops;
	char log[MAX_LINES][LINE_LEN];
	int nlog;
	const char *fail_op;	/* fail this op on a path ending in fail_path */
	const char *fail_path;
	int fail_errno;
};

static struct fake fk;

static void record(const char *fmt, ...)
{
	va_list ap;

	assert_true(fk.nops < MAX_LINES);
	va_start(ap, fmt);
	vsnprintf(fk.ops[fk.nops++], LINE_LEN, fmt, ap);
	va_end(ap);
}

static void log_line(void *arg, const char *line)
{
	(void)arg;
	assert_true(fk.nlog < MAX_LINES);
	snprintf(fk.log[fk.nlog++], LINE_LEN, "%s", line);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static bool injected(const char *op, const char *path)
{
	if (!fk.fail_op || strcmp(op, fk.fail_op) ||
	    !ends_with(path, fk.fail_path))
		return false;
	errno = fk.fail_errno;
	return true;
}

static struct node *find(const char *path)
{
	for (int i = 0; i < MAX_NODES; i++)
		if (fk.nodes[i].kind && !strcmp(fk.nodes[i].path, path))
			return &fk.nodes[i];
	return NULL;
}

static struct node *add(char kind, const char *path, const char *data)
{
	for (int i = 0; i < MAX_NODES; i++) {
		struct node *n = &fk.nodes[i];

		if (n->kind)
			continue;
		n->kind = kind;
		snprintf(n->path, sizeof(n->path), "%s", path);
		snprintf(n->data, sizeof(n->data), "%s", data);
		return n;
	}
	fail_msg("fake filesystem full");
	return NULL;
}

static bool parent_is_dir(const char *path)
{
	char dir[LIO_PATH_MAX];
	struct node *n;

	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	n = find(dir);
	return n && n->kind == 'd';
}

static int fail_with(int err)
{
	errno = err;
	return -1;
}

static bool is_child(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && path[n] == '/';
}

static int fake_exists(void *ctx, const char *path)
{
	(void)ctx;
	if (injected("exists", path))
		return -1;
	if (fk.real)
		return lio_sys_ops.exists(NULL, path);
	return find(path) != NULL;
}

static int fake_mkdir(void *ctx, const char *path)
{
	(void)ctx;
	if (injected("mkdir", path))
		return -1;
	record("mkdir %s", path);
	if (fk.real)
		return lio_sys_ops.mkdir(NULL, path);
	if (find(path))
		return fail_with(EEXIST);
	if (!parent_is_dir(path))
		return fail_with(ENOENT);
	add('d', path, "");
	if (ends_with(path, "/tpgt_1")) {
		char lun[LIO_PATH_MAX];

		snprintf(lun, sizeof(lun), "%s/lun", path);
		add('d', lun, "");
	}
	return 0;
}

/* configfs: rmdir takes attributes and default groups (lun) with it */
static int fake_rmdir(void *ctx, const char *path)
{
	struct node *n;

	(void)ctx;
	if (injected("rmdir", path))
		return -1;
	record("rmdir %s", path);
	if (fk.real)
		return lio_sys_ops.rmdir(NULL, path);
	n = find(path);
	if (!n || n->kind != 'd')
		return fail_with(ENOENT);
	for (int i = 0; i < MAX_NODES; i++) {
		struct node *c = &fk.nodes[i];

		if (c->kind && c->kind != 'f' && is_child(c->path, path) &&
		    !ends_with(c->path, "/lun"))
			return fail_with(ENOTEMPTY);
	}
	for (int i = 0; i < MAX_NODES; i++)
		if (is_child(fk.nodes[i].path, path))
			fk.nodes[i].kind = 0;
	n->kind = 0;
	return 0;
}

static int fake_write_file(void *ctx, const char *path, const char *text)
{
	struct node *n;

	(void)ctx;
	if (injected("write", path))
		return -1;
	record("write %s %s", path, text);
	if (fk.real)
		return lio_sys_ops.write_file(NULL, path, text);
	if (!parent_is_dir(path))
		return fail_with(ENOENT);
	n = find(path);
	if (ends_with(path, "/nexus") && !strcmp(text, "NULL")) {
		if (n)
			n->kind = 0;
		return 0;
	}
	if (!n)
		n = add('f', path, "");
	snprintf(n->data, sizeof(n->data), "%s", text);
	return 0;
}

static int fake_read_file(void *ctx, const char *path, char *buf, size_t len)
{
	struct node *n;

	(void)ctx;
	if (injected("read", path))
		return -1;
	if (fk.real)
		return lio_sys_ops.read_file(NULL, path, buf, len);
	n = find(path);
	if (!n)
		return fail_with(ends_with(path, "/nexus") ? ENODEV : ENOENT);
	return snprintf(buf, len, "%s\n", n->data);
}

static int fake_symlink(void *ctx, const char *target, const char *path)
{
	(void)ctx;
	if (injected("symlink", path))
		return -1;
	record("symlink %s -> %s", path, target);
	if (fk.real)
		return lio_sys_ops.symlink(NULL, target, path);
	if (find(path))
		return fail_with(EEXIST);
	if (!parent_is_dir(path))
		return fail_with(ENOENT);
	add('l', path, target);
	return 0;
}

static int fake_readlink(void *ctx, const char *path, char *buf, size_t len)
{
	struct node *n;
	size_t size;

	(void)ctx;
	if (injected("readlink", path))
		return -1;
	if (fk.real)
		return lio_sys_ops.readlink(NULL, path, buf, len);
	n = find(path);
	if (!n)
		return fail_with(ENOENT);
	if (n->kind != 'l')
		return fail_with(EINVAL);
	size = strlen(n->data) < len ? strlen(n->data) : len;
	memcpy(buf, n->data, size);
	return (int)size;
}

static int fake_unlink(void *ctx, const char *path)
{
	struct node *n;

	(void)ctx;
	if (injected("unlink", path))
		return -1;
	record("unlink %s", path);
	if (fk.real)
		return lio_sys_ops.unlink(NULL, path);
	n = find(path);
	if (!n)
		return fail_with(ENOENT);
	n->kind = 0;
	return 0;
}

static int fake_create_file(void *ctx, const char *path, uint64_t size)
{
	char data[32];

	(void)ctx;
	if (injected("create", path))
		return -1;
	record("create %s %llu", path, (unsigned long long)size);
	if (fk.real)
		return lio_sys_ops.create_file(NULL, path, size);
	if (find(path))
		return fail_with(EEXIST);
	snprintf(data, sizeof(data), "%llu bytes", (unsigned long long)size);
	add('f', path, data);
	return 0;
}

static const struct lio_ops fake_ops = {
	.exists = fake_exists,
	.mkdir = fake_mkdir,
	.rmdir = fake_rmdir,
	.write_file = fake_write_file,
	.read_file = fake_read_file,
	.symlink = fake_symlink,
	.readlink = fake_readlink,
	.unlink = fake_unlink,
	.create_file = fake_create_file,
};

static const struct lio lio_fake = {
	.ops = &fake_ops,
	.root = "/cfg",
	.log = { .line = log_line },
};

static const struct lio_config fileio_cfg = {
	.wwpn = WWPN,
	.kind = LIO_FILEIO,
	.name = "disk0",
	.path = IMG,
	.size = IMG_SIZE,
};

static const struct lio_config iblock_cfg = {
	.wwpn = WWPN,
	.kind = LIO_IBLOCK,
	.name = "sda",
	.path = "/dev/sda",
};

/* an empty configfs with target_core_mod loaded */
static int fresh_configfs(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	add('d', "/cfg", "");
	add('d', "/cfg/core", "");
	add('d', "/img", "");
	return 0;
}

static void forget_history(void)
{
	fk.nops = 0;
	fk.nlog = 0;
}

static void assert_lines(char got[][LINE_LEN], int n, const char *const *want,
			 int nwant)
{
	for (int i = 0; i < n && i < nwant; i++)
		assert_string_equal(got[i], want[i]);
	assert_int_equal(n, nwant);
}

#define assert_list(got, n, ...)                                       \
	do {                                                           \
		const char *const want_[] = { __VA_ARGS__ };           \
		assert_lines(got, n, want_,                            \
			     (int)(sizeof(want_) / sizeof(want_[0]))); \
	} while (0)
#define assert_ops(...) assert_list(fk.ops, fk.nops, __VA_ARGS__)
#define assert_log(...) assert_list(fk.log, fk.nlog, __VA_ARGS__)

static void assert_fails(const struct lio_config *cfg, int err)
{
	errno = 0;
	assert_int_equal(lio_setup(&lio_fake, cfg), -err);
	assert_int_equal(errno, err);
}

static void test_nexus_wwpn(void **state)
{
	static const char *const bad[] = {
		"naa.5001405ABCDEF001", "naa.5001405abcdef00",
		"iqn.5001405abcdef001", "naa.5001405abcdef0011",
		"naa.5001405abcdef00g", "", NULL,
	};
	char nexus[LIO_WWPN_LEN];

	(void)state;
	assert_int_equal(lio_nexus_wwpn(WWPN, nexus), 0);
	assert_string_equal(nexus, NEXUS);
	assert_int_equal(lio_nexus_wwpn("naa.500140500000000f", nexus), 0);
	assert_string_equal(nexus, "naa.5001405000000000");
	assert_int_equal(lio_nexus_wwpn("naa.500140500000000a", nexus), 0);
	assert_string_equal(nexus, "naa.5001405000000005");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lio_nexus_wwpn(bad[i], nexus), -EINVAL);
}

static void test_config_rejected(void **state)
{
	static const struct {
		struct lio_config cfg;
		const char *line;
	} cases[] = {
		{ { "naa.5001405ABCDEF001", LIO_FILEIO, "d", "/i", 1 },
		  "lio: config wwpn=naa.5001405ABCDEF001: Invalid argument" },
		{ { WWPN, LIO_FILEIO, "a/b", "/i", 1 },
		  "lio: config name=a/b: Invalid argument" },
		{ { WWPN, LIO_FILEIO, "..", "/i", 1 },
		  "lio: config name=..: Invalid argument" },
		{ { WWPN, LIO_FILEIO, "d", "img", 1 },
		  "lio: config path=img: Invalid argument" },
		{ { WWPN, LIO_IBLOCK, "d", "/dev/sda,x", 0 },
		  "lio: config path=/dev/sda,x: Invalid argument" },
		{ { WWPN, LIO_FILEIO, "d", "/i", 0 },
		  "lio: config size=out of range: Invalid argument" },
		{ { WWPN, (enum lio_kind)7, "d", "/i", 1 },
		  "lio: config kind=?: Invalid argument" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		forget_history();
		assert_fails(&cases[i].cfg, EINVAL);
		assert_log(cases[i].line);
		assert_int_equal(fk.nops, 0);
	}
}

static void test_fileio_plan(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_ops("create " IMG " 67108864",
		   "mkdir /cfg/core/fileio_0",
		   "mkdir " SO,
		   "write " SO "/control fd_dev_name=" IMG
		   ",fd_dev_size=67108864",
		   "write " SO "/enable 1",
		   "mkdir /cfg/vhost",
		   "mkdir /cfg/vhost/" WWPN,
		   "mkdir " TPG,
		   "write " TPG "/nexus " NEXUS,
		   "mkdir " TPG "/lun/lun_0",
		   "symlink " TPG "/lun/lun_0/port0 -> " SO);
}

static void test_iblock_plan(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &iblock_cfg), 0);
	assert_ops("mkdir /cfg/core/iblock_0",
		   "mkdir /cfg/core/iblock_0/sda",
		   "write /cfg/core/iblock_0/sda/control udev_path=/dev/sda",
		   "write /cfg/core/iblock_0/sda/enable 1",
		   "mkdir /cfg/vhost",
		   "mkdir /cfg/vhost/" WWPN,
		   "mkdir " TPG,
		   "write " TPG "/nexus " NEXUS,
		   "mkdir " TPG "/lun/lun_0",
		   "symlink " TPG "/lun/lun_0/port0 -> /cfg/core/iblock_0/sda");
	assert_string_equal(find(TPG "/lun/lun_0/port0")->data,
			    "/cfg/core/iblock_0/sda");
}

static void test_plan_log_lines(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_log("lio: create " IMG " size=67108864",
		   "lio: mkdir /cfg/core/fileio_0",
		   "lio: mkdir " SO,
		   "lio: write " SO "/control \"fd_dev_name=" IMG
		   ",fd_dev_size=67108864\"",
		   "lio: write " SO "/enable \"1\"",
		   "lio: mkdir /cfg/vhost",
		   "lio: mkdir /cfg/vhost/" WWPN,
		   "lio: mkdir " TPG,
		   "lio: write " TPG "/nexus \"" NEXUS "\"",
		   "lio: mkdir " TPG "/lun/lun_0",
		   "lio: symlink " TPG "/lun/lun_0/port0 -> " SO);
}

static void test_rerun_does_nothing(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	forget_history();
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_int_equal(fk.nops, 0);
	assert_int_equal(fk.nlog, 0);
}

/* configfs shows a link relative to its own root */
static void test_relative_port_link_reused(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	snprintf(find(TPG "/lun/lun_0/port0")->data, LINE_LEN,
		 "../../../../../../target/core/fileio_0/disk0");
	forget_history();
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_int_equal(fk.nops, 0);
}

static void test_existing_backing_file_kept(void **state)
{
	(void)state;
	add('f', IMG, "guest data");
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_string_equal(fk.ops[0], "mkdir /cfg/core/fileio_0");
	assert_string_equal(find(IMG)->data, "guest data");
}

/* keeld died between control and enable: the rest is redone, nothing torn */
static void test_half_built_target_completed(void **state)
{
	(void)state;
	fk.fail_op = "write";
	fk.fail_path = "/enable";
	fk.fail_errno = EINVAL;
	assert_fails(&fileio_cfg, EINVAL);
	fk.fail_op = NULL;
	forget_history();
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	assert_ops("write " SO "/control fd_dev_name=" IMG
		   ",fd_dev_size=67108864",
		   "write " SO "/enable 1",
		   "mkdir /cfg/vhost",
		   "mkdir /cfg/vhost/" WWPN,
		   "mkdir " TPG,
		   "write " TPG "/nexus " NEXUS,
		   "mkdir " TPG "/lun/lun_0",
		   "symlink " TPG "/lun/lun_0/port0 -> " SO);
}

/* fails @op on @path with @err and checks the report and the stop */
static void check_failing_step(const char *op, const char *path, int err,
			       const char *line, int ops_before)
{
	fk.fail_op = op;
	fk.fail_path = path;
	fk.fail_errno = err;
	assert_fails(&fileio_cfg, err);
	assert_int_equal(fk.nops, ops_before);
	assert_string_equal(fk.log[fk.nlog - 1], line);
}

static void test_fail_create_backing_file(void **state)
{
	(void)state;
	check_failing_step("create", IMG, ENOSPC,
			   "lio: create " IMG ": No space left on device", 0);
}

static void test_fail_mkdir(void **state)
{
	(void)state;
	check_failing_step("mkdir", "/fileio_0", EACCES,
			   "lio: mkdir /cfg/core/fileio_0: Permission denied",
			   1);
}

static void test_fail_write_control(void **state)
{
	(void)state;
	check_failing_step("write", "/control", EINVAL,
			   "lio: write " SO "/control: Invalid argument", 3);
}

static void test_fail_nexus(void **state)
{
	(void)state;
	check_failing_step("write", "/nexus", EINVAL,
			   "lio: write " TPG "/nexus: Invalid argument", 8);
}

static void test_fail_symlink(void **state)
{
	(void)state;
	check_failing_step("symlink", "/port0", ENODEV,
			   "lio: symlink " TPG "/lun/lun_0/port0: "
			   "No such device", 10);
}

static void test_fail_read(void **state)
{
	(void)state;
	check_failing_step("read", "/enable", EIO,
			   "lio: read " SO "/enable: Input/output error", 1);
}

static void test_fail_exists(void **state)
{
	(void)state;
	check_failing_step("exists", "/vhost", EACCES,
			   "lio: exists /cfg/vhost: Permission denied", 5);
}

static void test_other_nexus_refused(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	snprintf(find(TPG "/nexus")->data, LINE_LEN, "naa.5001405abcdef0ff");
	forget_history();
	assert_fails(&fileio_cfg, EEXIST);
	assert_int_equal(fk.nops, 0);
	assert_log("lio: check " TPG "/nexus: File exists");
}

static void test_other_port_link_refused(void **state)
{
	(void)state;
	add('d', "/cfg/core/fileio_0", "");
	add('d', "/cfg/core/fileio_0/other", "");
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	snprintf(find(TPG "/lun/lun_0/port0")->data, LINE_LEN,
		 "/cfg/core/fileio_0/other");
	forget_history();
	assert_fails(&fileio_cfg, EEXIST);
	assert_int_equal(fk.nops, 0);
	assert_log("lio: check " TPG "/lun/lun_0/port0: File exists");
}

static void test_root_too_long(void **state)
{
	char root[LIO_PATH_MAX];
	struct lio l = lio_fake;

	(void)state;
	memset(root, 'r', sizeof(root) - 1);
	root[0] = '/';
	root[sizeof(root) - 1] = '\0';
	l.root = root;
	errno = 0;
	assert_int_equal(lio_setup(&l, &fileio_cfg), -ENAMETOOLONG);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(fk.nops, 0);
	assert_true(ends_with(fk.log[0], ": File name too long"));
}

static void test_teardown_order(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	forget_history();
	assert_int_equal(lio_teardown(&lio_fake, &fileio_cfg), 0);
	assert_ops("unlink " TPG "/lun/lun_0/port0",
		   "rmdir " TPG "/lun/lun_0",
		   "write " TPG "/nexus NULL",
		   "rmdir " TPG,
		   "rmdir /cfg/vhost/" WWPN,
		   "rmdir " SO,
		   "rmdir /cfg/core/fileio_0");
	assert_string_equal(fk.log[0], "lio: unlink " TPG "/lun/lun_0/port0");
	assert_null(find("/cfg/core/fileio_0"));
	assert_non_null(find(IMG));
	assert_non_null(find("/cfg/vhost"));
}

static void test_teardown_keeps_shared_hba(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	add('d', "/cfg/core/fileio_0/other", "");
	forget_history();
	assert_int_equal(lio_teardown(&lio_fake, &fileio_cfg), 0);
	assert_string_equal(fk.ops[fk.nops - 1], "rmdir /cfg/core/fileio_0");
	assert_string_equal(fk.log[fk.nlog - 1], "lio: rmdir " SO);
	assert_non_null(find("/cfg/core/fileio_0/other"));
}

/* an endpoint still set pins the TPG: the kernel refuses to drop the nexus */
static void test_teardown_failure_stops(void **state)
{
	(void)state;
	assert_int_equal(lio_setup(&lio_fake, &fileio_cfg), 0);
	forget_history();
	fk.fail_op = "write";
	fk.fail_path = "/nexus";
	fk.fail_errno = EBUSY;
	errno = 0;
	assert_int_equal(lio_teardown(&lio_fake, &fileio_cfg), -EBUSY);
	assert_int_equal(errno, EBUSY);
	assert_ops("unlink " TPG "/lun/lun_0/port0",
		   "rmdir " TPG "/lun/lun_0");
	assert_string_equal(fk.log[fk.nlog - 1], "lio: write " TPG
			    "/nexus: Device or resource busy");
	assert_non_null(find(TPG));
}

static void test_teardown_of_nothing(void **state)
{
	(void)state;
	assert_int_equal(lio_teardown(&lio_fake, &iblock_cfg), 0);
	assert_int_equal(fk.nops, 0);
	assert_int_equal(fk.nlog, 0);
}

/* the real system calls in a temporary directory */

#define PORT0 "vhost/" WWPN "/tpgt_1/lun/lun_0/port0" /* under the root */

struct tmp {
	char dir[64];
	char root[128];
	char img[128];
	struct lio lio;
	struct lio_config cfg;
};

static void rm_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	memset(&fk, 0, sizeof(fk));
	fk.real = true;
	snprintf(t->dir, sizeof(t->dir), "/tmp/keeld-lio.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->root, sizeof(t->root), "%s/target", t->dir);
	snprintf(t->img, sizeof(t->img), "%s/disk0.img", t->dir);
	assert_int_equal(mkdir(t->root, 0755), 0);
	t->lio = lio_fake;
	t->lio.root = t->root;
	t->cfg = fileio_cfg;
	t->cfg.path = t->img;
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	rm_tree(t->dir);
	free(t);
	return 0;
}

static void assert_file(const char *root, const char *rel, const char *text)
{
	char path[LIO_PATH_MAX], buf[LINE_LEN];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

/* @rel under @root is a symbolic link to @target under @root */
static void assert_link(const char *root, const char *rel, const char *target)
{
	char path[LIO_PATH_MAX], link[LIO_PATH_MAX], want[LIO_PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = readlink(path, link, sizeof(link) - 1);
	assert_true(n > 0);
	link[n] = '\0';
	snprintf(want, sizeof(want), "%s/%s", root, target);
	assert_string_equal(link, want);
}

static void test_tmpdir_fileio(void **state)
{
	struct tmp *t = *state;
	char path[LIO_PATH_MAX], want[LIO_PATH_MAX];
	char control[LINE_LEN];
	struct stat st;

	assert_int_equal(lio_setup(&t->lio, &t->cfg), 0);
	snprintf(control, sizeof(control),
		 "fd_dev_name=%s,fd_dev_size=67108864\n", t->img);
	assert_file(t->root, "core/fileio_0/disk0/control", control);
	assert_file(t->root, "core/fileio_0/disk0/enable", "1\n");
	assert_file(t->root, "vhost/" WWPN "/tpgt_1/nexus", NEXUS "\n");
	assert_link(t->root, PORT0, "core/fileio_0/disk0");
	snprintf(path, sizeof(path), "%s/" PORT0, t->root);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(stat(t->img, &st), 0);
	assert_int_equal(st.st_size, (off_t)IMG_SIZE);
	assert_true(st.st_blocks * 512 < (off_t)IMG_SIZE);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a plain directory has no core/ nor default groups: both are made */
	assert_int_equal(fk.nops, 13);
	snprintf(want, sizeof(want), "mkdir %s/core", t->root);
	assert_string_equal(fk.ops[1], want);
	snprintf(want, sizeof(want), "mkdir %s/vhost/" WWPN "/tpgt_1/lun",
		 t->root);
	assert_string_equal(fk.ops[10], want);
}

static void test_tmpdir_rerun_changes_nothing(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(lio_setup(&t->lio, &t->cfg), 0);
	forget_history();
	assert_int_equal(lio_setup(&t->lio, &t->cfg), 0);
	assert_int_equal(fk.nops, 0);
	assert_int_equal(fk.nlog, 0);
}

static void test_tmpdir_backing_file_not_truncated(void **state)
{
	struct tmp *t = *state;
	FILE *f = fopen(t->img, "w");
	struct stat st;

	assert_non_null(f);
	fputs("hello", f);
	fclose(f);
	assert_int_equal(lio_setup(&t->lio, &t->cfg), 0);
	assert_int_equal(stat(t->img, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_file(t->dir, "disk0.img", "hello");
}

static void test_tmpdir_iblock(void **state)
{
	struct tmp *t = *state;

	assert_int_equal(lio_setup(&t->lio, &iblock_cfg), 0);
	assert_file(t->root, "core/iblock_0/sda/control",
		    "udev_path=/dev/sda\n");
	assert_file(t->root, "core/iblock_0/sda/enable", "1\n");
	assert_link(t->root, PORT0, "core/iblock_0/sda");
}

/* the real calls keep errno: core/ being a file stops the first look */
static void test_tmpdir_failure_keeps_errno(void **state)
{
	struct tmp *t = *state;
	char path[LIO_PATH_MAX], line[LINE_LEN];
	FILE *f;

	snprintf(path, sizeof(path), "%s/core", t->root);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	errno = 0;
	assert_int_equal(lio_setup(&t->lio, &t->cfg), -ENOTDIR);
	assert_int_equal(errno, ENOTDIR);
	snprintf(line, sizeof(line),
		 "lio: read %s/core/fileio_0/disk0/enable: Not a directory",
		 t->root);
	assert_string_equal(fk.log[fk.nlog - 1], line);
	assert_int_equal(fk.nops, 1);
}

#define fake_test(f) cmocka_unit_test_setup(f, fresh_configfs)
#define tmp_test(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		fake_test(test_nexus_wwpn),
		fake_test(test_config_rejected),
		fake_test(test_fileio_plan),
		fake_test(test_iblock_plan),
		fake_test(test_plan_log_lines),
		fake_test(test_rerun_does_nothing),
		fake_test(test_relative_port_link_reused),
		fake_test(test_existing_backing_file_kept),
		fake_test(test_half_built_target_completed),
		fake_test(test_fail_create_backing_file),
		fake_test(test_fail_mkdir),
		fake_test(test_fail_write_control),
		fake_test(test_fail_nexus),
		fake_test(test_fail_symlink),
		fake_test(test_fail_read),
		fake_test(test_fail_exists),
		fake_test(test_other_nexus_refused),
		fake_test(test_other_port_link_refused),
		fake_test(test_root_too_long),
		fake_test(test_teardown_order),
		fake_test(test_teardown_keeps_shared_hba),
		fake_test(test_teardown_failure_stops),
		fake_test(test_teardown_of_nothing),
		tmp_test(test_tmpdir_fileio),
		tmp_test(test_tmpdir_rerun_changes_nothing),
		tmp_test(test_tmpdir_backing_file_not_truncated),
		tmp_test(test_tmpdir_iblock),
		tmp_test(test_tmpdir_failure_keeps_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
