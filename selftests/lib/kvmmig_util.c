// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for talking to /dev/kvmmig and the module from the selftests.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvmmig_util.h"

int __kvmmig_open(void)
{
	int fd = open(KVMMIG_DEV_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int __kvmmig_get_api(int fd, struct kvmmig_api *api)
{
	return ioctl(fd, KVMMIG_GET_API, api) ? -errno : 0;
}

int __kvmmig_module_load(void)
{
	const char *path = getenv("KVMMIG_KO");
	int fd, ret = 0;

	if (!path)
		return -ENOENT;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0))
		ret = -errno;
	close(fd);
	return ret;
}

int __kvmmig_module_unload(void)
{
	return syscall(SYS_delete_module, "kvmmig", O_NONBLOCK) ? -errno : 0;
}

bool kvmmig_module_loaded(void)
{
	struct stat st;

	return stat("/sys/module/kvmmig", &st) == 0;
}

long meminfo_kb(const char *field)
{
	size_t len = strlen(field);
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, len) && line[len] == ':') {
			kb = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}
