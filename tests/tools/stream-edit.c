// SPDX-License-Identifier: GPL-2.0
/*
 * stream-edit: a handoff stream (runtime/handoff_stream.h) copied with one
 * field of its COMPAT section changed and that section's crc32c values
 * made right again: a well-formed stream from a machine this keel is not,
 * for the tests of the compatibility check.
 *   stream-edit IN OUT FIELD=VALUE   (FIELD: tsc_khz, memory_size)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/crc32c.h"
#include "runtime/handoff_stream.h"
#include "vhost/keel_state.h"

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "stream-edit: ");
	fprintf(stderr, fmt, arg, strerror(errno));
	fprintf(stderr, "\n");
	exit(1);
}

static void copy(FILE *in, FILE *out, void *buf, size_t len)
{
	if (fread(buf, 1, len, in) != len)
		die("%s: short read (%s)", "IN");
	if (fwrite(buf, 1, len, out) != len)
		die("%s: %s", "OUT");
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int main(int argc, char **argv)
{
	static uint8_t buf[1 << 16];
	struct keel_state_compat c;
	uint8_t hdr[HS_SECTION_HEADER_LEN];
	const char *eq = argc == 4 ? strchr(argv[3], '=') : NULL;
	uint64_t value, len;
	size_t field;
	FILE *in, *out;
	uint32_t type;

	if (!eq) {
		fprintf(stderr, "usage: stream-edit IN OUT FIELD=VALUE\n");
		return 2;
	}
	value = strtoull(eq + 1, NULL, 0);
	if (!strncmp(argv[3], "tsc_khz=", 8))
		field = offsetof(struct keel_state_compat, tsc_khz);
	else if (!strncmp(argv[3], "memory_size=", 12))
		field = offsetof(struct keel_state_compat, memory_size);
	else
		die("%s: no such field (%s)", argv[3]);
	in = fopen(argv[1], "rb");
	out = fopen(argv[2], "wb");
	if (!in || !out)
		die("%s: %s", in ? argv[2] : argv[1]);
	copy(in, out, buf, HS_HEADER_LEN);
	do {
		if (fread(hdr, 1, sizeof(hdr), in) != sizeof(hdr))
			die("%s: ends before END (%s)", argv[1]);
		memcpy(&type, hdr, 4);
		memcpy(&len, hdr + 8, 8);
		if (type == KEEL_STATE_COMPAT && len == sizeof(c)) {
			if (fread(&c, 1, sizeof(c), in) != sizeof(c))
				die("%s: short COMPAT (%s)", argv[1]);
			memcpy((uint8_t *)&c + field, &value, sizeof(value));
			put32(hdr + 16, crc32c_update(0, &c, sizeof(c)));
			put32(hdr + 20, crc32c_update(0, hdr, 20));
			if (fwrite(hdr, 1, sizeof(hdr), out) != sizeof(hdr) ||
			    fwrite(&c, 1, sizeof(c), out) != sizeof(c))
				die("%s: %s", argv[2]);
			continue;
		}
		if (fwrite(hdr, 1, sizeof(hdr), out) != sizeof(hdr))
			die("%s: %s", argv[2]);
		for (; len; len -= len > sizeof(buf) ? sizeof(buf) : len)
			copy(in, out, buf, len > sizeof(buf) ? sizeof(buf) : len);
	} while (type != HS_TYPE_END);
	if (fclose(out))
		die("%s: %s", argv[2]);
	printf("stream-edit: %s: COMPAT %s\n", argv[2], argv[3]);
	return 0;
}
