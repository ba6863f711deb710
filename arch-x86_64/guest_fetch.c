// SPDX-License-Identifier: GPL-2.0
/* The bytes of the instruction a vCPU exited on, read through its paging. */
#include <string.h>

#include "arch-x86_64/guest_walk.h"
#include "arch-x86_64/vcpu.h"
#include "runtime/partition.h"

static const void *read_partition(void *ctx, uint64_t gpa, size_t len)
{
	return partition_gpa_to_hva(ctx, gpa, len);
}

size_t guest_fetch(struct vcpu *v, uint8_t *buf, size_t len)
{
	struct guest_paging pg = {
		.cr0 = vcpu_cr0(v), .cr3 = vcpu_cr3(v), .cr4 = vcpu_cr4(v),
		.efer = vcpu_efer(v), .read = read_partition, .ctx = v->part,
	};
	uint64_t la = vcpu_code_linear(v);
	size_t got = 0;

	/* byte-page by byte-page: the instruction may straddle two pages */
	while (got < len) {
		uint64_t gpa;
		size_t chunk = 4096 - ((la + got) & 4095);
		const void *src;

		if (chunk > len - got)
			chunk = len - got;
		if (guest_linear_to_phys(&pg, la + got, &gpa))
			break;
		src = partition_gpa_to_hva(v->part, gpa, chunk);
		if (!src)
			break;
		memcpy(buf + got, src, chunk);
		got += chunk;
	}
	return got;
}
