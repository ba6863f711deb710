// SPDX-License-Identifier: GPL-2.0
/* Snapshots of /dev/keel: checked, and summed up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhost/keel_dev.h"
#include "vhost/keeld/snapshot.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int snapshot_check(struct keel_chan_shared *sh, int n, const char *who,
		   const struct keeld_log *log)
{
	int err = errno ? errno : EIO;

	if (n < 0) {
		keeld_logf(log, "read %s: %s (errno %d)", KEEL_DEV_PATH,
			   strerror(err), err);
		return -err;
	}
	if (n != (int)sizeof(*sh)) {
		keeld_logf(log, "read %s: short read (%d of %zu bytes)",
			   KEEL_DEV_PATH, n, sizeof(*sh));
		return -EIO;
	}
	if (sh->magic != KEEL_CHAN_MAGIC ||
	    sh->abi_version != KEEL_CHAN_ABI_VERSION) {
		keeld_logf(log,
			   "%s: magic %#x, ABI version %u; this %s speaks "
			   "version %u",
			   KEEL_DEV_PATH, sh->magic, sh->abi_version, who,
			   KEEL_CHAN_ABI_VERSION);
		return -EPROTO;
	}
	/* keel wrote them, but nobody must trust unterminated strings */
	sh->disk_wwpn[sizeof(sh->disk_wwpn) - 1] = '\0';
	sh->disk_backstore[sizeof(sh->disk_backstore) - 1] = '\0';
	sh->disk_path[sizeof(sh->disk_path) - 1] = '\0';
	return 0;
}

static const char *snapshot_name(uint32_t value, const char *const *names,
				 size_t nnames, char *buf, size_t len)
{
	if (value < nnames && names[value])
		return names[value];
	snprintf(buf, len, "%u", value);
	return buf;
}

void snapshot_status(const struct keel_chan_shared *sh,
		     const struct keeld_log *log)
{
	static const char *const states[] = {
		[KEEL_GUEST_RUNNING] = "running",
		[KEEL_GUEST_STOPPED] = "stopped",
	};
	static const char *const requests[] = {
		[KEEL_REQ_NONE] = "none",
		[KEEL_REQ_START] = "start",
		[KEEL_REQ_STOP] = "stop",
	};
	const struct keel_chan_device *dev = &sh->device;
	char buf[2][16], flags[32] = "", failed[32] = "";

	if (dev->failed)
		snprintf(failed, sizeof(failed), ", failed %u", dev->failed);
	if (dev->flags)
		snprintf(flags, sizeof(flags), ", flags%s%s",
			 dev->flags & KEEL_DEV_BASES ? " bases" : "",
			 dev->flags & KEEL_DEV_HANDOFF ? " handoff" : "");
	keeld_logf(log, "guest_state %s",
		   snapshot_name(sh->guest_state, states, ARRAY_SIZE(states),
				 buf[0], sizeof(buf[0])));
	keeld_logf(log, "request %u %s, seq %u, acked %u%s%s", dev->seq / 2,
		   snapshot_name(dev->request, requests, ARRAY_SIZE(requests),
				 buf[1], sizeof(buf[1])),
		   dev->seq, dev->acked, failed, flags);
	keeld_logf(log, "kick_count %llu", (unsigned long long)sh->kick_count);
	keeld_logf(log, "guest RAM 0x%llx, %llu MiB",
		   (unsigned long long)sh->guest_ram_phys,
		   (unsigned long long)sh->guest_ram_size >> 20);
	keeld_logf(log, "disk %s %s", sh->disk_backstore, sh->disk_path);
	keeld_logf(log, "queues %u, features 0x%llx", dev->nr_queues,
		   (unsigned long long)dev->features);
	for (unsigned int i = 0; i < dev->nr_queues && i < KEEL_CHAN_MAX_QUEUES;
	     i++) {
		const struct keel_chan_queue *q = &dev->queue[i];

		keeld_logf(log,
			   "queue %u size %u desc 0x%llx avail 0x%llx used "
			   "0x%llx",
			   q->index, q->size, (unsigned long long)q->desc,
			   (unsigned long long)q->avail,
			   (unsigned long long)q->used);
	}
}
