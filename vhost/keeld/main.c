// SPDX-License-Identifier: GPL-2.0
/*
 * keeld, the companion's daemon. Today: `keeld setup` reads the guest
 * disk's configuration from keel's channel (/dev/keel, keel.ko) and builds
 * its LIO target through configfs. Driving /dev/vhost-scsi through the
 * device's lifecycle comes with the channel's events.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vhost/keel_abi.h"
#include "vhost/keeld/lio.h"

#define CHANNEL "/dev/keel"
#define BACKSTORE_NAME "disk0"

static void print_line(void *arg, const char *line)
{
	(void)arg;
	printf("keeld: %s\n", line);
	fflush(stdout);
}

static int read_channel(struct keel_chan_shared *sh)
{
	int fd = open(CHANNEL, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		printf("keeld: open %s: %s (is keel.ko loaded?)\n", CHANNEL,
		       strerror(errno));
		return -1;
	}
	n = read(fd, sh, sizeof(*sh));
	close(fd);
	if (n != (ssize_t)sizeof(*sh)) {
		printf("keeld: read %s: %s\n", CHANNEL,
		       n < 0 ? strerror(errno) : "short read");
		return -1;
	}
	if (sh->magic != KEEL_CHAN_MAGIC ||
	    sh->abi_version != KEEL_CHAN_ABI_VERSION) {
		printf("keeld: %s: magic %#x, ABI version %u; this keeld speaks "
		       "version %u\n",
		       CHANNEL, sh->magic, sh->abi_version,
		       KEEL_CHAN_ABI_VERSION);
		return -1;
	}
	/* keel wrote them, but keeld must not trust unterminated strings */
	sh->disk_wwpn[sizeof(sh->disk_wwpn) - 1] = '\0';
	sh->disk_backstore[sizeof(sh->disk_backstore) - 1] = '\0';
	sh->disk_path[sizeof(sh->disk_path) - 1] = '\0';
	return 0;
}

/* mkdir -p of @path's parent: a fileio backing file's folder. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct keel_chan_shared *)0)->disk_path)];

	for (size_t i = 1; path[i] && i < sizeof(dir); i++) {
		if (path[i] != '/')
			continue;
		memcpy(dir, path, i);
		dir[i] = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			printf("keeld: mkdir %s: %s\n", dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int setup(void)
{
	struct keel_chan_shared sh;
	struct lio lio = { &lio_sys_ops, NULL, LIO_ROOT, { print_line, NULL } };
	struct lio_config cfg;

	if (read_channel(&sh))
		return 1;
	printf("keeld: guest disk: %u request queue(s) of %u, wwpn %s, %s %s\n",
	       sh.disk_queues, sh.disk_queue_size, sh.disk_wwpn,
	       sh.disk_backstore, sh.disk_path);
	cfg = (struct lio_config){
		.wwpn = sh.disk_wwpn,
		.kind = strcmp(sh.disk_backstore, "iblock") ? LIO_FILEIO :
							      LIO_IBLOCK,
		.name = BACKSTORE_NAME,
		.path = sh.disk_path,
		.size = sh.disk_size,
	};
	if (cfg.kind == LIO_FILEIO && make_parent(cfg.path))
		return 1;
	if (lio_setup(&lio, &cfg)) {
		printf("keeld: LIO target %s not ready\n", cfg.wwpn);
		return 1;
	}
	printf("keeld: LIO target %s ready: %s %s\n", cfg.wwpn,
	       sh.disk_backstore, cfg.path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "setup"))
		return setup();
	fprintf(stderr, "usage: keeld setup\n"
			"  reads the guest disk's configuration from %s and "
			"builds its LIO target\n",
		CHANNEL);
	return 2;
}
