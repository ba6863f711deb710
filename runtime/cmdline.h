/* SPDX-License-Identifier: GPL-2.0 */
/* keel's own command line: space-separated words and key=value options. */
#ifndef KEEL_RUNTIME_CMDLINE_H
#define KEEL_RUNTIME_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

/* Copies the value of @key (the text after "key=" up to the next space) to
 * @val and returns true; false if @key is absent or its value does not fit. */
bool cmdline_get(const char *cmdline, const char *key, char *val,
		 size_t vallen);

#endif
