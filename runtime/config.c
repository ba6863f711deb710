// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration parser: walks the DTB node by node in schema order and stops
 * at the first problem with a one-line message. The schema and the messages
 * are documented in configs/README.md.
 */
#include "runtime/config.h"

#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#define MIB (1024ull * 1024)

#define CONFIG_COMPATIBLE "keel,config"
#define CONFIG_VERSION 1
#define KEEL_MEMORY_MIN (16 * MIB)
#define GUEST_MEMORY_MIN (32 * MIB)
#define MEMORY_ALIGN (2 * MIB)
#define CMDLINE_MAX 1023
#define QUEUES_MAX 16
#define QUEUE_SIZE_MIN 2
#define QUEUE_SIZE_MAX 1024
#define WWPN_PREFIX "naa."
#define WWPN_DIGITS 16
#define DISK_SIZE_MIN MIB
#define DISK_SIZE_ALIGN 512ull

/* Room for a prefix plus "<n> MiB" or "<n> bytes" of any u64. */
#define SIZE_STR_LEN 48
/* Room for every CPU index of a mask, space separated. */
#define CPUS_STR_LEN (CONFIG_MAX_CPUS * 3)
/* Room for a partition line with a full-length command line. */
#define LINE_LEN 1536

enum { STR_OPTIONAL = 1, STR_EMPTY_OK = 2 };

struct parser {
	const void *fdt;
	const struct config_machine *m;
	char *err;
	size_t errlen;
};

struct node {
	const struct parser *p;
	int off;
	const char *path;
};

static const char *const root_props[] = { "compatible", "version", NULL };
static const char *const root_nodes[] = { "keel", "companion", "guest", NULL };
static const char *const keel_props[] = { "memory", NULL };
static const char *const companion_props[] = { "cpus", "kernel", "initrd",
					       "cmdline", NULL };
static const char *const guest_props[] = { "cpus", "memory", "kernel",
					   "initrd", "cmdline", "start", NULL };
static const char *const guest_nodes[] = { "virtio-scsi", NULL };
static const char *const disk_props[] = { "queues", "queue-size", "wwpn",
					  "backstore", "path", "size", NULL };
static const char *const no_nodes[] = { NULL };

static const char *const backstore_names[] = {
	[BACKSTORE_FILEIO] = "fileio",
	[BACKSTORE_IBLOCK] = "iblock",
};

/*
 * The error reporters evaluate to -1 so that checks can return them. They
 * are macros because keel's libc has snprintf but no vsnprintf.
 */
#define report(p, ...) (snprintf((p)->err, (p)->errlen, __VA_ARGS__), -1)
#define node_error(n, fmt, ...) \
	report((n)->p, "config: %s: " fmt, (n)->path, ##__VA_ARGS__)
#define prop_error(n, name, fmt, ...)                                  \
	report((n)->p, "config: %s: property '%s': " fmt, (n)->path,   \
	       (name), ##__VA_ARGS__)

static void format_size(char *buf, size_t len, const char *prefix,
			uint64_t bytes)
{
	if (bytes % MIB)
		snprintf(buf, len, "%s%llu bytes", prefix,
			 (unsigned long long)bytes);
	else
		snprintf(buf, len, "%s%llu MiB", prefix,
			 (unsigned long long)(bytes / MIB));
}

static bool in_list(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/*
 * Rejects properties and subnodes the schema does not name, and names that
 * appear twice (dtc never emits those, but a hand-made blob can).
 * fdt_check_full() has already vetted every property and node name.
 */
static int check_names(const struct node *n, const char *const *props,
		       const char *const *nodes)
{
	const void *fdt = n->p->fdt;
	const char *name;
	int off;

	fdt_for_each_property_offset(off, fdt, n->off) {
		fdt_getprop_by_offset(fdt, off, &name, NULL);
		if (!in_list(name, props))
			return prop_error(n, name, "unknown");
		if (fdt_get_property(fdt, n->off, name, NULL) !=
		    fdt_get_property_by_offset(fdt, off, NULL))
			return prop_error(n, name, "appears more than once");
	}
	fdt_for_each_subnode(off, fdt, n->off) {
		name = fdt_get_name(fdt, off, NULL);
		if (!in_list(name, nodes))
			return node_error(n, "unknown node '%s'", name);
		if (fdt_subnode_offset(fdt, n->off, name) != off)
			return node_error(n, "node '%s' appears more than once",
					  name);
	}
	return 0;
}

/* Finds the required subnode @name of @parent; @path names it in messages. */
static int child(const struct node *parent, const char *name,
		 const char *path, struct node *out)
{
	int off = fdt_subnode_offset(parent->p->fdt, parent->off, name);

	if (off < 0)
		return node_error(parent, "missing node '%s'", name);
	*out = (struct node){ .p = parent->p, .off = off, .path = path };
	return 0;
}

static bool has_prop(const struct node *n, const char *name)
{
	return fdt_getprop(n->p->fdt, n->off, name, NULL) != NULL;
}

/* The value of the required property @name, or NULL after reporting it. */
static const void *get_prop(const struct node *n, const char *name, int *len)
{
	const void *val = fdt_getprop(n->p->fdt, n->off, name, len);

	if (!val)
		(void)prop_error(n, name, "missing");
	return val;
}

/* A u32 (@cells 1) or u64 (@cells 2) property. */
static int read_cells(const struct node *n, const char *name, int cells,
		      uint64_t *v)
{
	int len;
	const void *val = get_prop(n, name, &len);

	if (!val)
		return -1;
	if (len != cells * (int)sizeof(fdt32_t))
		return prop_error(n, name,
				  "expected a u%d (%d cell%s, %d bytes), got "
				  "%d bytes",
				  cells * 32, cells, cells > 1 ? "s" : "",
				  cells * 4, len);
	*v = cells == 1 ? fdt32_ld(val) : fdt64_ld(val);
	return 0;
}

static int read_u32(const struct node *n, const char *name, uint32_t *v)
{
	uint64_t v64;

	if (read_cells(n, name, 1, &v64))
		return -1;
	*v = (uint32_t)v64;
	return 0;
}

static int read_u32_range(const struct node *n, const char *name,
			  uint32_t min, uint32_t max, uint32_t *v)
{
	if (read_u32(n, name, v))
		return -1;
	if (*v < min || *v > max)
		return prop_error(n, name, "%u is outside %u..%u", *v, min,
				  max);
	return 0;
}

/* A byte count of at least @min and a multiple of @align. */
static int read_size(const struct node *n, const char *name, uint64_t min,
		     uint64_t align, uint64_t *v)
{
	char limit[SIZE_STR_LEN];

	if (read_cells(n, name, 2, v))
		return -1;
	if (*v < min) {
		format_size(limit, sizeof(limit), "", min);
		return prop_error(n, name,
				  "0x%llx bytes is below the minimum of %s",
				  (unsigned long long)*v, limit);
	}
	if (*v % align) {
		format_size(limit, sizeof(limit), "", align);
		return prop_error(n, name,
				  "0x%llx bytes is not a multiple of %s",
				  (unsigned long long)*v, limit);
	}
	return 0;
}

/* @flags: STR_OPTIONAL (absent gives NULL), STR_EMPTY_OK. */
static int read_string(const struct node *n, const char *name,
		       unsigned int flags, const char **s)
{
	const char *val;
	int len;

	if ((flags & STR_OPTIONAL) && !has_prop(n, name)) {
		*s = NULL;
		return 0;
	}
	val = get_prop(n, name, &len);
	if (!val)
		return -1;
	if (len < 1 || memchr(val, '\0', len) != val + len - 1)
		return prop_error(n, name,
				  "expected one NUL-terminated string");
	if (len == 1 && !(flags & STR_EMPTY_OK))
		return prop_error(n, name, "empty string");
	*s = val;
	return 0;
}

static int read_module(const struct node *n, const char *name,
		       unsigned int flags, const char **s)
{
	const struct config_machine *m = n->p->m;
	unsigned int i;

	if (read_string(n, name, flags, s))
		return -1;
	if (!*s)
		return 0;
	for (i = 0; i < m->module_count; i++)
		if (!strcmp(*s, m->modules[i]))
			return 0;
	return prop_error(n, name, "no boot module named \"%s\"", *s);
}

static int read_cpus(const struct node *n, uint64_t *mask,
		     unsigned int *count)
{
	unsigned int machine_cpus = n->p->m->cpu_count;
	const fdt32_t *cell;
	int len, cells, i;

	cell = get_prop(n, "cpus", &len);
	if (!cell)
		return -1;
	if (len == 0)
		return prop_error(n, "cpus",
				  "empty; at least one CPU is needed");
	if (len % (int)sizeof(*cell))
		return prop_error(n, "cpus",
				  "expected u32 cells (4 bytes each), got %d "
				  "bytes", len);
	cells = len / (int)sizeof(*cell);
	*mask = 0;
	for (i = 0; i < cells; i++) {
		uint32_t cpu = fdt32_ld(&cell[i]);

		if (cpu >= machine_cpus)
			return prop_error(n, "cpus",
					  "CPU %u does not exist (the machine "
					  "has %u CPUs)", cpu, machine_cpus);
		if (cpu >= CONFIG_MAX_CPUS)
			return prop_error(n, "cpus",
					  "CPU %u is beyond keel's limit of %d "
					  "CPUs", cpu, CONFIG_MAX_CPUS);
		if (*mask & (1ull << cpu))
			return prop_error(n, "cpus", "CPU %u is listed twice",
					  cpu);
		*mask |= 1ull << cpu;
	}
	*count = cells;
	return 0;
}

static bool is_wwpn(const char *s)
{
	size_t prefix = strlen(WWPN_PREFIX);
	size_t i;

	if (strncmp(s, WWPN_PREFIX, prefix) ||
	    strlen(s) != prefix + WWPN_DIGITS)
		return false;
	for (i = prefix; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static int parse_root(const struct node *n, struct keel_config *c)
{
	const char *compatible;

	if (check_names(n, root_props, root_nodes) ||
	    read_string(n, "compatible", 0, &compatible))
		return -1;
	if (strcmp(compatible, CONFIG_COMPATIBLE))
		return prop_error(n, "compatible",
				  "expected \"" CONFIG_COMPATIBLE "\", "
				  "got \"%s\"", compatible);
	if (read_u32(n, "version", &c->version))
		return -1;
	if (c->version != CONFIG_VERSION)
		return prop_error(n, "version",
				  "unsupported version %u (this keel reads "
				  "version %d)", c->version, CONFIG_VERSION);
	return 0;
}

static int parse_keel(const struct node *n, struct keel_config *c)
{
	if (check_names(n, keel_props, no_nodes) ||
	    read_size(n, "memory", KEEL_MEMORY_MIN, MEMORY_ALIGN,
		      &c->keel_memory))
		return -1;
	return 0;
}

/* "boot" (the default) or "wait": held for a handoff, no kernel runs */
static int parse_start(const struct node *n, bool *wait)
{
	const char *s;

	if (read_string(n, "start", STR_OPTIONAL, &s))
		return -1;
	*wait = s && !strcmp(s, "wait");
	if (s && !*wait && strcmp(s, "boot"))
		return prop_error(n, "start",
				  "unknown \"%s\" (expected \"boot\" or "
				  "\"wait\")", s);
	return 0;
}

static int parse_partition(const struct node *n, const char *name,
			   bool guest, struct partition_cfg *pc)
{
	unsigned int cpus;
	size_t cmdline_len;

	pc->name = name;
	if (check_names(n, guest ? guest_props : companion_props,
			guest ? guest_nodes : no_nodes) ||
	    read_cpus(n, &pc->cpus, &cpus))
		return -1;
	if (guest && cpus != 1)
		return prop_error(n, "cpus",
				  "the guest takes exactly one CPU, got %u",
				  cpus);
	if ((guest && read_size(n, "memory", GUEST_MEMORY_MIN, MEMORY_ALIGN,
				&pc->memory)) ||
	    read_module(n, "kernel", 0, &pc->kernel) ||
	    read_module(n, "initrd", STR_OPTIONAL, &pc->initrd) ||
	    read_string(n, "cmdline", STR_EMPTY_OK, &pc->cmdline))
		return -1;
	cmdline_len = strlen(pc->cmdline);
	if (cmdline_len > CMDLINE_MAX)
		return prop_error(n, "cmdline",
				  "is %llu bytes long, the limit is %d",
				  (unsigned long long)cmdline_len,
				  CMDLINE_MAX);
	return guest ? parse_start(n, &pc->wait) : 0;
}

static int parse_backstore(const struct node *n, enum backstore_kind *kind)
{
	const char *s;
	unsigned int i;

	if (read_string(n, "backstore", 0, &s))
		return -1;
	for (i = 0; i < sizeof(backstore_names) / sizeof(*backstore_names);
	     i++) {
		if (!strcmp(s, backstore_names[i])) {
			*kind = i;
			return 0;
		}
	}
	return prop_error(n, "backstore",
			  "unknown kind \"%s\" (expected \"fileio\" or "
			  "\"iblock\")", s);
}

static int parse_disk(const struct node *n, struct virtio_scsi_cfg *d)
{
	if (check_names(n, disk_props, no_nodes) ||
	    read_u32_range(n, "queues", 1, QUEUES_MAX, &d->queues) ||
	    read_u32_range(n, "queue-size", QUEUE_SIZE_MIN, QUEUE_SIZE_MAX,
			   &d->queue_size))
		return -1;
	if (d->queue_size & (d->queue_size - 1))
		return prop_error(n, "queue-size", "%u is not a power of two",
				  d->queue_size);
	if (read_string(n, "wwpn", 0, &d->wwpn))
		return -1;
	if (!is_wwpn(d->wwpn))
		return prop_error(n, "wwpn",
				  "expected \"" WWPN_PREFIX "\" followed by %d "
				  "hex digits, got \"%s\"", WWPN_DIGITS,
				  d->wwpn);
	if (parse_backstore(n, &d->backstore) ||
	    read_string(n, "path", 0, &d->path))
		return -1;
	if (d->path[0] != '/')
		return prop_error(n, "path", "not an absolute path: \"%s\"",
				  d->path);
	if (d->backstore == BACKSTORE_IBLOCK) {
		if (has_prop(n, "size"))
			return prop_error(n, "size",
					  "not allowed with backstore "
					  "\"iblock\" (the device's own size "
					  "is used)");
		return 0;
	}
	return read_size(n, "size", DISK_SIZE_MIN, DISK_SIZE_ALIGN, &d->size);
}

/* Checks that span nodes; reported against the guest, parsed last. */
static int cross_check(const struct node *guest, const struct keel_config *c)
{
	uint64_t shared = c->companion.cpus & c->guest.cpus;
	uint64_t usable = guest->p->m->usable_memory;

	if (shared)
		return prop_error(guest, "cpus", "CPU %d is also in /companion",
				  __builtin_ctzll(shared));
	if (c->guest.memory > usable ||
	    c->keel_memory > usable - c->guest.memory)
		return prop_error(guest, "memory",
				  "0x%llx bytes plus keel's 0x%llx exceed the "
				  "0x%llx bytes of usable memory",
				  (unsigned long long)c->guest.memory,
				  (unsigned long long)c->keel_memory,
				  (unsigned long long)usable);
	return 0;
}

int config_parse(const void *dtb, size_t size, const struct config_machine *m,
		 struct keel_config *cfg, char *err, size_t errlen)
{
	struct parser p = { .fdt = dtb, .m = m, .err = err, .errlen = errlen };
	struct node root = { .p = &p, .path = "/" };
	struct node keel, companion, guest, disk;
	struct keel_config c = { 0 };
	int rc;

	rc = fdt_check_full(dtb, size);
	if (rc)
		return report(&p, "config: not a valid DTB: %s",
			      fdt_strerror(rc));
	root.off = fdt_path_offset(dtb, "/");
	if (parse_root(&root, &c) ||
	    child(&root, "keel", "/keel", &keel) ||
	    parse_keel(&keel, &c) ||
	    child(&root, "companion", "/companion", &companion) ||
	    parse_partition(&companion, "companion", false, &c.companion) ||
	    child(&root, "guest", "/guest", &guest) ||
	    parse_partition(&guest, "guest", true, &c.guest) ||
	    child(&guest, "virtio-scsi", "/guest/virtio-scsi", &disk) ||
	    parse_disk(&disk, &c.disk) ||
	    cross_check(&guest, &c))
		return -1;
	*cfg = c;
	return 0;
}

static void format_cpus(char *buf, size_t len, uint64_t mask)
{
	size_t used = 0;
	unsigned int cpu;

	buf[0] = '\0';
	for (cpu = 0; cpu < CONFIG_MAX_CPUS && used < len; cpu++)
		if (mask & (1ull << cpu))
			used += snprintf(buf + used, len - used,
					 used ? " %u" : "%u", cpu);
}

static void format_partition(char *line, size_t len,
			     const struct partition_cfg *pc)
{
	char cpus[CPUS_STR_LEN];
	char memory[SIZE_STR_LEN] = "";

	format_cpus(cpus, sizeof(cpus), pc->cpus);
	if (pc->memory)
		format_size(memory, sizeof(memory), ", memory ", pc->memory);
	snprintf(line, len,
		 "config: %s: cpus %s%s, kernel %s, initrd %s, cmdline \"%s\"%s",
		 pc->name, cpus, memory, pc->kernel,
		 pc->initrd ? pc->initrd : "(none)", pc->cmdline,
		 pc->wait ? ", start wait" : "");
}

static void format_disk(char *line, size_t len,
			const struct virtio_scsi_cfg *d)
{
	char size[SIZE_STR_LEN] = "";

	if (d->backstore == BACKSTORE_FILEIO)
		format_size(size, sizeof(size), " ", d->size);
	snprintf(line, len,
		 "config: guest virtio-scsi: %u request queue(s) of %u, "
		 "wwpn %s, %s %s%s",
		 d->queues, d->queue_size, d->wwpn,
		 backstore_names[d->backstore], d->path, size);
}

void config_print(const struct keel_config *cfg,
		  void (*out)(const char *line, void *ctx), void *ctx)
{
	char line[LINE_LEN];
	char pool[SIZE_STR_LEN];

	format_size(pool, sizeof(pool), "", cfg->keel_memory);
	snprintf(line, sizeof(line), "config: version %u, keel pool %s",
		 cfg->version, pool);
	out(line, ctx);
	format_partition(line, sizeof(line), &cfg->companion);
	out(line, ctx);
	format_partition(line, sizeof(line), &cfg->guest);
	out(line, ctx);
	format_disk(line, sizeof(line), &cfg->disk);
	out(line, ctx);
}
