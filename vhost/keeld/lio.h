/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The LIO target keeld serves the guest's disk from, built through configfs:
 *
 *   <root>/core/<fileio|iblock>_0/<name>      control, enable
 *   <root>/vhost/<wwpn>/tpgt_1                nexus
 *   <root>/vhost/<wwpn>/tpgt_1/lun/lun_0/port0 -> <root>/core/.../<name>
 *
 * <root> is normally LIO_ROOT. Every filesystem call goes through struct
 * lio_ops so that tests can run the plan against a fake or a temporary
 * directory.
 */
#ifndef KEELD_LIO_H
#define KEELD_LIO_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/keeld/log.h"

#define LIO_ROOT "/sys/kernel/config/target"
#define LIO_WWPN_LEN 21		/* "naa." + 16 hex digits + NUL */
#define LIO_PATH_MAX 512	/* configfs paths built under the root */

enum lio_kind {
	LIO_FILEIO,
	LIO_IBLOCK,
};

struct lio_config {
	const char *wwpn;	/* "naa." + 16 lowercase hex digits */
	enum lio_kind kind;
	const char *name;	/* storage object: core/<kind>_0/<name> */
	const char *path;	/* fileio: backing file; iblock: block device */
	uint64_t size;		/* fileio: bytes; ignored for iblock */
};

/*
 * Each call returns what the system call does: 0 (read_file and readlink:
 * the length read) or -1 with errno set. exists() returns 1 or 0 and does
 * not follow a final symlink. write_file() writes @text and a newline in one
 * write(), as echo does. create_file() creates a missing file of @size bytes
 * (sparse) and fails with EEXIST if it is there.
 */
struct lio_ops {
	int (*exists)(void *ctx, const char *path);
	int (*mkdir)(void *ctx, const char *path);
	int (*rmdir)(void *ctx, const char *path);
	int (*write_file)(void *ctx, const char *path, const char *text);
	int (*read_file)(void *ctx, const char *path, char *buf, size_t len);
	int (*symlink)(void *ctx, const char *target, const char *path);
	int (*readlink)(void *ctx, const char *path, char *buf, size_t len);
	int (*unlink)(void *ctx, const char *path);
	int (*create_file)(void *ctx, const char *path, uint64_t size);
};

/* the real system calls; ctx is unused */
extern const struct lio_ops lio_sys_ops;

struct lio {
	const struct lio_ops *ops;
	void *ctx;		/* passed to every op */
	const char *root;	/* LIO_ROOT, or a test directory */
	struct keeld_log log;
};

/*
 * The initiator WWPN of the nexus: @wwpn with its last hex digit
 * complemented (naa.5001405abcdef001 -> naa.5001405abcdef00e). Returns 0,
 * or -EINVAL if @wwpn is not "naa." + 16 lowercase hex digits.
 */
int lio_nexus_wwpn(const char *wwpn, char nexus[LIO_WWPN_LEN]);

/*
 * Builds the target of @cfg, reusing whatever part of it already exists and
 * matches (keeld restarting under a running guest must not disturb it).
 * Creates a missing fileio backing file, sparse; never truncates one.
 * Returns 0, or -errno with errno set after logging
 * "lio: <step> <path>: <strerror>"; nothing after the failing step is done.
 * A part that exists but does not match fails its "check" step with EEXIST.
 */
int lio_setup(const struct lio *lio, const struct lio_config *cfg);

/*
 * Removes what lio_setup() built, in reverse order, skipping parts that are
 * absent. The HBA directory is left when other storage objects use it, the
 * backing file always. Same return and report as lio_setup().
 */
int lio_teardown(const struct lio *lio, const struct lio_config *cfg);

#endif
