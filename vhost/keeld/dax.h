/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM as the companion reaches it: keel's window is soft reserved in
 * the companion's e820, dax_hmem makes it a device-dax device, and keeld
 * and keelctl map that device. @root is a directory standing for / (tests)
 * or "".
 */
#ifndef KEELD_DAX_H
#define KEELD_DAX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Names the device-dax device ("/dev/dax0.0") whose range in
 * /sys/bus/dax/devices is exactly [@phys, @phys + @size). Returns 0, or -1
 * with errno (ENOENT: no such device, or no dax bus).
 */
int dax_find(const char *root, uint64_t phys, uint64_t size, char *dev,
	     size_t len);

/* Maps @dev read-write and shared; NULL with errno on error. */
void *dax_map(const char *root, const char *dev, uint64_t size);

#endif
