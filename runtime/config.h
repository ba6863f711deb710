/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's configuration: a flattened device tree (schema v1, documented in
 * configs/README.md) checked strictly against the machine it boots on.
 * Strings point into the DTB, which stays in place for keel's lifetime.
 */
#ifndef KEEL_RUNTIME_CONFIG_H
#define KEEL_RUNTIME_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_CPUS 64
#define CONFIG_ERR_LEN 256

enum backstore_kind { BACKSTORE_FILEIO, BACKSTORE_IBLOCK };

struct virtio_scsi_cfg {
	uint32_t queues;     /* request queues (control and event come on top) */
	uint32_t queue_size; /* power of two, 2..1024 */
	const char *wwpn;    /* "naa." + 16 hex digits */
	enum backstore_kind backstore;
	const char *path;    /* companion file (fileio) or block device (iblock) */
	uint64_t size;       /* fileio: bytes, multiple of 512; iblock: 0 */
};

struct partition_cfg {
	const char *name;     /* "companion" or "guest" */
	uint64_t cpus;        /* bit n: keel CPU n (0 = boot CPU, then MADT order) */
	uint64_t memory;      /* bytes; guest only (the companion gets the rest) */
	const char *kernel;   /* module names */
	const char *initrd;   /* NULL when absent */
	const char *cmdline;
	bool wait;            /* guest: held for a handoff, no kernel runs */
};

struct keel_config {
	uint32_t version;          /* 1 */
	uint64_t keel_memory;      /* keel's own page pool, bytes */
	struct partition_cfg companion;
	struct partition_cfg guest;
	struct virtio_scsi_cfg disk;
};

/* What the configuration is checked against. */
struct config_machine {
	unsigned int cpu_count;
	uint64_t usable_memory; /* bytes of free RAM keel can hand out */
	const char *const *modules; /* names of the boot modules */
	unsigned int module_count;
};

/*
 * Parses and validates the DTB at @dtb (@size bytes, at least its
 * totalsize; 8-byte aligned, as libfdt requires). Returns 0, or -1 with one
 * line in @err (truncated to @errlen, no newline) that names the node and
 * the property, e.g. "config: /guest: property 'memory': 0x40000000 bytes
 * plus keel's 0x4000000 exceed the 0x20000000 bytes of usable memory".
 * @cfg is written only on success; @err may be NULL if @errlen is 0.
 */
int config_parse(const void *dtb, size_t size, const struct config_machine *m,
		 struct keel_config *cfg, char *err, size_t errlen);

/*
 * Writes the effective configuration, one line per call of @out, each line
 * starting with "config: " and without a newline.
 */
void config_print(const struct keel_config *cfg,
		  void (*out)(const char *line, void *ctx), void *ctx);

#endif
