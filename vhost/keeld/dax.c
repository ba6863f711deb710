// SPDX-License-Identifier: GPL-2.0
/* The device-dax device of the guest's window, found and mapped. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhost/keeld/dax.h"

#define DAX_DEVICES "/sys/bus/dax/devices"

/* dax device @name's @attr: "resource" is "0x<hex>", "size" decimal */
static int dax_attr(const char *root, const char *name, const char *attr,
		    uint64_t *value)
{
	char path[PATH_MAX], buf[32], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s%s/%s/%s", root, DAX_DEVICES, name,
		 attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	errno = 0;
	*value = strtoull(buf, &end, 0);
	return errno || end == buf || (*end && *end != '\n') ? -1 : 0;
}

int dax_find(const char *root, uint64_t phys, uint64_t size, char *dev,
	     size_t len)
{
	char path[PATH_MAX];
	const struct dirent *e;
	uint64_t start, bytes;
	DIR *dir;

	snprintf(path, sizeof(path), "%s%s", root, DAX_DEVICES);
	dir = opendir(path);
	if (!dir)
		return -1; /* ENOENT without the dax bus */
	while ((e = readdir(dir))) {
		if (e->d_name[0] == '.' ||
		    dax_attr(root, e->d_name, "resource", &start) ||
		    dax_attr(root, e->d_name, "size", &bytes) ||
		    start != phys || bytes != size)
			continue;
		snprintf(dev, len, "/dev/%s", e->d_name);
		closedir(dir);
		return 0;
	}
	closedir(dir);
	errno = ENOENT;
	return -1;
}

void *dax_map(const char *root, const char *dev, uint64_t size)
{
	char path[PATH_MAX];
	void *addr;
	int fd, err;

	snprintf(path, sizeof(path), "%s%s", root, dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	addr = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd); /* the mapping keeps the device */
	errno = err;
	return addr == MAP_FAILED ? NULL : addr;
}
