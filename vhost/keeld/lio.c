// SPDX-License-Identifier: GPL-2.0
/*
 * keeld's LIO target through configfs, the steps the lab verified on
 * Debian's 6.1 kernel (no targetcli): storage object, enable, vhost TPG,
 * nexus, LUN, port symlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost/keeld/lio.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define LIO_NAA_DIGITS 16
#define LIO_NAME_MAX 64
#define LIO_TEXT_MAX (PATH_MAX + 64)

struct lio_paths {
	char core[LIO_PATH_MAX];
	char hba[LIO_PATH_MAX];
	char so[LIO_PATH_MAX];
	char control[LIO_PATH_MAX];
	char enable[LIO_PATH_MAX];
	char fabric[LIO_PATH_MAX];
	char wwn[LIO_PATH_MAX];
	char tpg[LIO_PATH_MAX];
	char nexus[LIO_PATH_MAX];
	char luns[LIO_PATH_MAX];
	char lun[LIO_PATH_MAX];
	char port[LIO_PATH_MAX];
	const char *so_tail;	/* "/core/<hba>/<name>" inside so */
	char nexus_wwpn[LIO_WWPN_LEN];
};

static bool lio_is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool lio_wwpn_ok(const char *wwpn)
{
	if (!wwpn || strncmp(wwpn, "naa.", 4) ||
	    strlen(wwpn) != 4 + LIO_NAA_DIGITS)
		return false;
	for (const char *c = wwpn + 4; *c; c++)
		if (!lio_is_lower_hex(*c))
			return false;
	return true;
}

int lio_nexus_wwpn(const char *wwpn, char nexus[LIO_WWPN_LEN])
{
	static const char hex[] = "0123456789abcdef";
	char *last;

	if (!lio_wwpn_ok(wwpn))
		return -EINVAL;
	memcpy(nexus, wwpn, LIO_WWPN_LEN);
	last = &nexus[LIO_WWPN_LEN - 2];
	*last = hex[(strchr(hex, *last) - hex) ^ 0xf];
	return 0;
}

static int lio_failed(const struct lio *l, const char *step, const char *path)
{
	int err = errno;

	keeld_logf(&l->log, "lio: %s %s: %s", step, path, strerror(err));
	errno = err;
	return -err;
}

static int lio_invalid(const struct lio *l, const char *field,
		       const char *value)
{
	char what[LIO_TEXT_MAX];

	snprintf(what, sizeof(what), "%s=%s", field, value ? value : "");
	errno = EINVAL;
	return lio_failed(l, "config", what);
}

/* the control parsers split on ',' and '\n': a path must hold neither */
static bool lio_path_ok(const char *path)
{
	return path && path[0] == '/' && !strpbrk(path, ",\n") &&
	       strlen(path) < PATH_MAX;
}

static bool lio_name_ok(const char *name)
{
	return name && *name && strlen(name) < LIO_NAME_MAX &&
	       !strpbrk(name, "/\n") && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static int lio_check_config(const struct lio *l, const struct lio_config *cfg)
{
	if (!lio_wwpn_ok(cfg->wwpn))
		return lio_invalid(l, "wwpn", cfg->wwpn);
	if (cfg->kind != LIO_FILEIO && cfg->kind != LIO_IBLOCK)
		return lio_invalid(l, "kind", "?");
	if (!lio_name_ok(cfg->name))
		return lio_invalid(l, "name", cfg->name);
	if (!lio_path_ok(cfg->path))
		return lio_invalid(l, "path", cfg->path);
	if (cfg->kind == LIO_FILEIO && (!cfg->size || cfg->size > INT64_MAX))
		return lio_invalid(l, "size", "out of range");
	if (!l->root || !*l->root)
		return lio_invalid(l, "root", l->root);
	return 0;
}

static int lio_build_paths(const struct lio *l, const struct lio_config *cfg,
			   struct lio_paths *p)
{
	const char *hba = cfg->kind == LIO_FILEIO ? "fileio_0" : "iblock_0";
	const struct {
		char *dst;
		const char *dir, *leaf;
	} join[] = {
		{ p->core, l->root, "core" },
		{ p->hba, p->core, hba },
		{ p->so, p->hba, cfg->name },
		{ p->control, p->so, "control" },
		{ p->enable, p->so, "enable" },
		{ p->fabric, l->root, "vhost" },
		{ p->wwn, p->fabric, cfg->wwpn },
		{ p->tpg, p->wwn, "tpgt_1" },
		{ p->nexus, p->tpg, "nexus" },
		{ p->luns, p->tpg, "lun" },
		{ p->lun, p->luns, "lun_0" },
		{ p->port, p->lun, "port0" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(join); i++) {
		if (snprintf(join[i].dst, LIO_PATH_MAX, "%s/%s", join[i].dir,
			     join[i].leaf) >= LIO_PATH_MAX) {
			errno = ENAMETOOLONG;
			return lio_failed(l, "path", l->root);
		}
	}
	p->so_tail = p->so + strlen(l->root);
	return lio_nexus_wwpn(cfg->wwpn, p->nexus_wwpn);
}

static int lio_prepare(const struct lio *l, const struct lio_config *cfg,
		       struct lio_paths *p)
{
	int rc = lio_check_config(l, cfg);

	return rc ? rc : lio_build_paths(l, cfg, p);
}

/* Reports one step that changes something: its success line or failure. */
static __attribute__((format(printf, 5, 6)))
int lio_did(const struct lio *l, int rc, const char *step, const char *path,
	    const char *fmt, ...)
{
	char detail[LIO_TEXT_MAX + LIO_PATH_MAX];
	va_list ap;

	if (rc < 0)
		return lio_failed(l, step, path);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	keeld_logf(&l->log, "lio: %s %s%s", step, path, detail);
	return 0;
}

/* 1 or 0; -errno after reporting a failure */
static int lio_exists(const struct lio *l, const char *path)
{
	int rc = l->ops->exists(l->ctx, path);

	return rc < 0 ? lio_failed(l, "exists", path) : !!rc;
}

static int lio_write(const struct lio *l, const char *path, const char *text)
{
	return lio_did(l, l->ops->write_file(l->ctx, path, text), "write",
		       path, " \"%s\"", text);
}

static int lio_ensure_dirs(const struct lio *l, const char *const dirs[],
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = lio_exists(l, dirs[i]);

		if (!rc)
			rc = lio_did(l, l->ops->mkdir(l->ctx, dirs[i]),
				     "mkdir", dirs[i], "%s", "");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Reads an attribute without its newline: 1 with @buf filled, 0 when it is
 * unset (ENOENT; the nexus attribute fails its read with ENODEV while there
 * is no nexus), -errno after reporting any other failure.
 */
static int lio_read_attr(const struct lio *l, const char *path, char *buf,
			 size_t len)
{
	int n = l->ops->read_file(l->ctx, path, buf, len - 1);

	if (n < 0 && (errno == ENOENT || errno == ENODEV))
		return 0;
	if (n < 0)
		return lio_failed(l, "read", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 1;
}

static int lio_mismatch(const struct lio *l, const char *path)
{
	errno = EEXIST;
	return lio_failed(l, "check", path);
}

static int lio_ensure_backing_file(const struct lio *l,
				   const struct lio_config *cfg)
{
	int rc = lio_exists(l, cfg->path);

	if (rc)
		return rc < 0 ? rc : 0;
	rc = l->ops->create_file(l->ctx, cfg->path, cfg->size);
	if (rc < 0 && errno == EEXIST)
		return 0;	/* appeared meanwhile: it is not ours to size */
	return lio_did(l, rc, "create", cfg->path, " size=%llu",
		       (unsigned long long)cfg->size);
}

static void lio_control_text(const struct lio_config *cfg, char *buf)
{
	if (cfg->kind == LIO_FILEIO)
		snprintf(buf, LIO_TEXT_MAX, "fd_dev_name=%s,fd_dev_size=%llu",
			 cfg->path, (unsigned long long)cfg->size);
	else
		snprintf(buf, LIO_TEXT_MAX, "udev_path=%s", cfg->path);
}

static int lio_setup_storage(const struct lio *l, const struct lio_config *cfg,
			     const struct lio_paths *p)
{
	const char *const parents[] = { p->core, p->hba, p->so };
	char control[LIO_TEXT_MAX], state[16];
	int rc;

	if (cfg->kind == LIO_FILEIO) {
		rc = lio_ensure_backing_file(l, cfg);
		if (rc)
			return rc;
	}
	rc = lio_read_attr(l, p->enable, state, sizeof(state));
	if (rc < 0 || (rc && !strcmp(state, "1")))
		return rc < 0 ? rc : 0;	/* enabled: in use, keep it */
	rc = lio_ensure_dirs(l, parents, ARRAY_SIZE(parents));
	if (rc)
		return rc;
	lio_control_text(cfg, control);
	rc = lio_write(l, p->control, control);
	return rc ? rc : lio_write(l, p->enable, "1");
}

static int lio_ensure_nexus(const struct lio *l, const struct lio_paths *p)
{
	char have[LIO_PATH_MAX];
	int rc = lio_read_attr(l, p->nexus, have, sizeof(have));

	if (rc <= 0)
		return rc < 0 ? rc : lio_write(l, p->nexus, p->nexus_wwpn);
	return strcmp(have, p->nexus_wwpn) ? lio_mismatch(l, p->nexus) : 0;
}

/* configfs reads a link back relative ("../../../../../../target/core/..") */
static bool lio_link_matches(const char *have, const struct lio_paths *p)
{
	size_t hlen = strlen(have), tlen = strlen(p->so_tail);

	return !strcmp(have, p->so) ||
	       (hlen >= tlen && !strcmp(have + hlen - tlen, p->so_tail));
}

static int lio_ensure_port(const struct lio *l, const struct lio_paths *p)
{
	char have[LIO_PATH_MAX];
	int n = l->ops->readlink(l->ctx, p->port, have, sizeof(have) - 1);

	if (n < 0 && errno == ENOENT)
		return lio_did(l, l->ops->symlink(l->ctx, p->so, p->port),
			       "symlink", p->port, " -> %s", p->so);
	if (n < 0)
		return lio_failed(l, "readlink", p->port);
	have[n] = '\0';
	return lio_link_matches(have, p) ? 0 : lio_mismatch(l, p->port);
}

static int lio_setup_tpg(const struct lio *l, const struct lio_paths *p)
{
	const char *const tpg[] = { p->fabric, p->wwn, p->tpg };
	const char *const lun[] = { p->luns, p->lun };
	int rc = lio_ensure_dirs(l, tpg, ARRAY_SIZE(tpg));

	if (!rc)
		rc = lio_ensure_nexus(l, p);
	if (!rc)
		rc = lio_ensure_dirs(l, lun, ARRAY_SIZE(lun));
	return rc ? rc : lio_ensure_port(l, p);
}

int lio_setup(const struct lio *l, const struct lio_config *cfg)
{
	struct lio_paths p;
	int rc = lio_prepare(l, cfg, &p);

	if (!rc)
		rc = lio_setup_storage(l, cfg, &p);
	if (!rc)
		rc = lio_setup_tpg(l, &p);
	return rc;
}

static int lio_remove_port(const struct lio *l, const struct lio_paths *p)
{
	int rc = lio_exists(l, p->port);

	if (rc <= 0)
		return rc;
	return lio_did(l, l->ops->unlink(l->ctx, p->port), "unlink", p->port,
		       "%s", "");
}

static int lio_drop_nexus(const struct lio *l, const struct lio_paths *p)
{
	char have[LIO_PATH_MAX];
	int rc = lio_read_attr(l, p->nexus, have, sizeof(have));

	return rc <= 0 ? rc : lio_write(l, p->nexus, "NULL");
}

/* rmdir @path if it is there; @shared: leave it if something else uses it */
static int lio_remove_dir(const struct lio *l, const char *path, bool shared)
{
	int rc = lio_exists(l, path);

	if (rc <= 0)
		return rc;
	rc = l->ops->rmdir(l->ctx, path);
	if (rc < 0 && shared && (errno == ENOTEMPTY || errno == EBUSY))
		return 0;
	return lio_did(l, rc, "rmdir", path, "%s", "");
}

int lio_teardown(const struct lio *l, const struct lio_config *cfg)
{
	struct lio_paths p;
	int rc = lio_prepare(l, cfg, &p);

	if (!rc)
		rc = lio_remove_port(l, &p);
	if (!rc)
		rc = lio_remove_dir(l, p.lun, false);
	if (!rc)
		rc = lio_drop_nexus(l, &p);
	if (!rc)
		rc = lio_remove_dir(l, p.tpg, false);
	if (!rc)
		rc = lio_remove_dir(l, p.wwn, false);
	if (!rc)
		rc = lio_remove_dir(l, p.so, false);
	return rc ? rc : lio_remove_dir(l, p.hba, true);
}

/* the real system calls */

static int sys_exists(void *ctx, const char *path)
{
	struct stat st;

	(void)ctx;
	if (!lstat(path, &st))
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int sys_mkdir(void *ctx, const char *path)
{
	(void)ctx;
	return mkdir(path, 0755);
}

static int sys_rmdir(void *ctx, const char *path)
{
	(void)ctx;
	return rmdir(path);
}

/* Closes @fd, keeping the errno of an earlier failure (@rc < 0). */
static int sys_close_after(int fd, int rc)
{
	int err = errno;

	close(fd);
	errno = err;
	return rc;
}

/* like "echo text > path": configfs takes the whole text in one write() */
static int sys_write_file(void *ctx, const char *path, const char *text)
{
	char buf[LIO_TEXT_MAX + 2];
	int len = snprintf(buf, sizeof(buf), "%s\n", text);
	ssize_t n;
	int fd;

	(void)ctx;
	if (len >= (int)sizeof(buf)) {
		errno = E2BIG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, buf, (size_t)len);
	if (n >= 0 && n != len)
		errno = EIO;
	return sys_close_after(fd, n == len ? 0 : -1);
}

static int sys_read_file(void *ctx, const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	(void)ctx;
	if (fd < 0)
		return -1;
	n = read(fd, buf, len);
	return sys_close_after(fd, (int)n);
}

static int sys_symlink(void *ctx, const char *target, const char *path)
{
	(void)ctx;
	return symlink(target, path);
}

static int sys_readlink(void *ctx, const char *path, char *buf, size_t len)
{
	(void)ctx;
	return (int)readlink(path, buf, len);
}

static int sys_unlink(void *ctx, const char *path)
{
	(void)ctx;
	return unlink(path);
}

static int sys_create_file(void *ctx, const char *path, uint64_t size)
{
	int fd;

	(void)ctx;
	if (size > INT64_MAX) {
		errno = EFBIG;
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size) < 0) {
		int err = errno;

		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	return close(fd);
}

const struct lio_ops lio_sys_ops = {
	.exists = sys_exists,
	.mkdir = sys_mkdir,
	.rmdir = sys_rmdir,
	.write_file = sys_write_file,
	.read_file = sys_read_file,
	.symlink = sys_symlink,
	.readlink = sys_readlink,
	.unlink = sys_unlink,
	.create_file = sys_create_file,
};
