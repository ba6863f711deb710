// SPDX-License-Identifier: GPL-2.0
/*
 * keeld, the companion's daemon:
 *   keeld setup    builds the guest disk's LIO target from keel's channel
 *   keeld serve    builds it, then serves the disk through vhost-scsi,
 *                  following keel's device lifecycle requests (serve.c)
 *   keeld status   prints what the channel says about the device
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "vhost/keel_dev.h"
#include "vhost/keeld/lio.h"
#include "vhost/keeld/serve.h"
#include "vhost/keeld/snapshot.h"
#include "vhost/keeld/vhost.h"

#define BACKSTORE_NAME "disk0"

static void print_line(void *arg, const char *line)
{
	(void)arg;
	printf("keeld: %s\n", line);
	fflush(stdout);
}

static const struct serve_config sys_config = {
	.ops = &serve_sys_ops,
	.vhost_ops = &vhost_sys_ops,
	.log = { print_line, NULL },
};

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

/* the guest disk's LIO target, as keel's configuration describes it */
static int build_target(const struct keel_chan_shared *sh)
{
	struct lio lio = { &lio_sys_ops, NULL, LIO_ROOT, { print_line, NULL } };
	struct lio_config cfg;

	printf("keeld: guest disk: %u request queue(s) of %u, wwpn %s, %s %s\n",
	       sh->disk_queues, sh->disk_queue_size, sh->disk_wwpn,
	       sh->disk_backstore, sh->disk_path);
	cfg = (struct lio_config){
		.wwpn = sh->disk_wwpn,
		.kind = strcmp(sh->disk_backstore, "iblock") ? LIO_FILEIO :
							       LIO_IBLOCK,
		.name = BACKSTORE_NAME,
		.path = sh->disk_path,
		.size = sh->disk_size,
	};
	if (cfg.kind == LIO_FILEIO && make_parent(cfg.path))
		return -1;
	if (lio_setup(&lio, &cfg)) {
		printf("keeld: LIO target %s not ready\n", cfg.wwpn);
		return -1;
	}
	printf("keeld: LIO target %s ready: %s %s\n", cfg.wwpn,
	       sh->disk_backstore, cfg.path);
	return 0;
}

static int setup(void)
{
	struct serve s;
	int rc = serve_open(&s, &sys_config) || build_target(&s.sh);

	serve_close(&s);
	return rc;
}

static int serve(void)
{
	struct serve s;
	int rc = serve_open(&s, &sys_config) || build_target(&s.sh) ||
		 serve_prepare(&s);

	if (!rc)
		rc = serve_run(&s);
	serve_close(&s);
	return rc;
}

static int status(void)
{
	struct serve s;
	int rc = serve_open(&s, &sys_config) != 0;

	if (!rc)
		snapshot_status(&s.sh, &s.log);
	serve_close(&s);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "setup"))
		return setup();
	if (argc == 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc == 2 && !strcmp(argv[1], "status"))
		return status();
	fprintf(stderr,
		"usage: keeld setup|serve|status\n"
		"  setup   reads the guest disk's configuration from %s and "
		"builds its LIO target\n"
		"  serve   builds the target, then serves the disk through "
		"%s,\n          following keel's device requests until the "
		"guest stops\n"
		"  status  prints the guest's state, the device's request and "
		"queues\n",
		KEEL_DEV_PATH, VHOST_SCSI_PATH);
	return 2;
}
