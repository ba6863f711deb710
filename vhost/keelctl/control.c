// SPDX-License-Identifier: GPL-2.0
/* keelctl pause, resume, drop and stats. */
#include "vhost/keel_dev.h"
#include "vhost/keelctl/commands.h"
#include "vhost/keelctl/guest.h"
#include "vhost/keeld/snapshot.h"

/* one ioctl on the guest, one line for it */
static int control(struct keelctl *k, unsigned long req, const char *done)
{
	int rc = guest_open(k, false);

	if (!rc)
		rc = guest_ioctl(k, req, NULL);
	if (rc >= 0)
		keeld_logf(&k->out, "%s", done);
	guest_close(k);
	return rc < 0;
}

int cmd_pause(struct keelctl *k)
{
	return control(k, KEEL_IOC_PAUSE, "guest paused");
}

/* keel drops a paused guest only once its disk is stopped */
int cmd_drop(struct keelctl *k)
{
	int rc = guest_open(k, false);

	if (!rc)
		rc = guest_unserve(k);
	if (!rc)
		rc = guest_ioctl(k, KEEL_IOC_DROP, NULL);
	if (!rc)
		keeld_logf(&k->out, "guest dropped");
	guest_close(k);
	return rc != 0;
}

/* after a save, the device is stopped for the handoff: restarted first */
int cmd_resume(struct keelctl *k)
{
	int rc = guest_open(k, false);

	if (!rc)
		rc = guest_go_on(k);
	if (!rc)
		keeld_logf(&k->out, "guest resumed");
	guest_close(k);
	return rc != 0;
}

int cmd_stats(struct keelctl *k)
{
	int rc = guest_open(k, false);

	if (!rc)
		snapshot_status(&k->sh, &k->out);
	guest_close(k);
	return rc != 0;
}
