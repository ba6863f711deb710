/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keelctl's commands, each on a struct keelctl whose ops, logs and
 * timeouts are set (the guest not opened yet). Each returns the exit
 * status: 0, or 1 after logging why.
 */
#ifndef KEELCTL_COMMANDS_H
#define KEELCTL_COMMANDS_H

#include <stdbool.h>

#include "vhost/keelctl/keelctl.h"

int cmd_pause(struct keelctl *k);
int cmd_resume(struct keelctl *k);
int cmd_drop(struct keelctl *k);
int cmd_stats(struct keelctl *k);
int cmd_save(struct keelctl *k, const char *path);
int cmd_restore(struct keelctl *k, const char *path);
/* @precopy: rounds of RAM while the guest runs, then stop-and-copy */
int cmd_migrate(struct keelctl *k, const char *target, bool precopy);
int cmd_receive(struct keelctl *k, const char *port);

#endif
