// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "runtime/cmdline.h"

bool cmdline_get(const char *cmdline, const char *key, char *val,
		 size_t vallen)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		size_t wlen = strcspn(p, " ");

		if (wlen > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = wlen - klen - 1;

			if (n >= vallen)
				return false;
			memcpy(val, p + klen + 1, n);
			val[n] = '\0';
			return true;
		}
		p += wlen;
	}
	return false;
}
