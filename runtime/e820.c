// SPDX-License-Identifier: GPL-2.0
#include "runtime/e820.h"

#define MAX_POINTS (2 * (BOOTINFO_MAX_MMAP + 16))

static uint32_t type_at(const struct mmap_entry *fw, unsigned int nfw,
			const struct e820_overlay *ov, unsigned int nov,
			uint64_t addr)
{
	uint32_t type = 0;

	for (unsigned int i = nov; i-- > 0;)
		if (addr >= ov[i].base && addr - ov[i].base < ov[i].size)
			return ov[i].type;
	for (unsigned int i = 0; i < nfw; i++) {
		if (addr < fw[i].base || addr - fw[i].base >= fw[i].size)
			continue;
		if (!type || type == E820_RAM)
			type = fw[i].type;
	}
	return type;
}

/* Inserts @p into the sorted set @pts. */
static void add_point(uint64_t *pts, unsigned int *n, uint64_t p)
{
	unsigned int i = 0;

	while (i < *n && pts[i] < p)
		i++;
	if (i < *n && pts[i] == p)
		return;
	for (unsigned int j = *n; j > i; j--)
		pts[j] = pts[j - 1];
	pts[i] = p;
	(*n)++;
}

int e820_build(const struct mmap_entry *fw, unsigned int nfw,
	       const struct e820_overlay *ov, unsigned int nov,
	       struct e820_entry *out, unsigned int max)
{
	uint64_t pts[MAX_POINTS];
	unsigned int npts = 0, count = 0;

	if (2 * (nfw + nov) > MAX_POINTS)
		return -1;
	for (unsigned int i = 0; i < nfw; i++) {
		add_point(pts, &npts, fw[i].base);
		add_point(pts, &npts, fw[i].base + fw[i].size);
	}
	for (unsigned int i = 0; i < nov; i++) {
		add_point(pts, &npts, ov[i].base);
		add_point(pts, &npts, ov[i].base + ov[i].size);
	}
	for (unsigned int i = 0; i + 1 < npts; i++) {
		uint32_t t = type_at(fw, nfw, ov, nov, pts[i]);

		if (!t)
			continue;
		if (count && out[count - 1].type == t &&
		    out[count - 1].addr + out[count - 1].size == pts[i]) {
			out[count - 1].size += pts[i + 1] - pts[i];
			continue;
		}
		if (count == max)
			return -1;
		out[count++] = (struct e820_entry){ pts[i], pts[i + 1] - pts[i],
						    t };
	}
	return (int)count;
}
