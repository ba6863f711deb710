// SPDX-License-Identifier: GPL-2.0
/* Progress lines for the transfers of guest RAM. */
#include "vhost/keelctl/progress.h"

#define MIB (1024.0 * 1024.0)

void progress_start(struct progress *p, const struct keelctl *k,
		    const char *what, uint64_t total)
{
	*p = (struct progress){
		.k = k,
		.what = what,
		.total = total,
		.start_ns = k->ops->now_ns(k->ctx),
		.next = 1,
	};
}

void progress_add(struct progress *p, uint64_t bytes)
{
	double secs;

	p->done += bytes;
	if (!p->total || p->next > 10 || p->done * 10 < p->total * p->next)
		return;
	while (p->next <= 10 && p->done * 10 >= p->total * p->next)
		p->next++;
	secs = progress_seconds(p->k->ops->now_ns(p->k->ctx) - p->start_ns);
	keeld_logf(&p->k->progress,
		   "%s: %.0f of %.0f MiB (%llu %%), %.1f MiB/s", p->what,
		   p->done / MIB, p->total / MIB,
		   (unsigned long long)(p->done * 100 / p->total),
		   secs > 0 ? p->done / MIB / secs : 0.0);
}

double progress_seconds(uint64_t ns)
{
	return ns / 1e9;
}
