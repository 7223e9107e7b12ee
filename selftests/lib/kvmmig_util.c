// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for talking to /dev/kvmmig and the module from the selftests.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/syscall.h>
#include <linux/if_xdp.h>
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

int kvmmig_pin_longterm(void *addr, size_t len, const char **why)
{
	struct xdp_umem_reg reg = {
		.addr = (uintptr_t)addr,
		.len = len,
		.chunk_size = sysconf(_SC_PAGESIZE),
	};
	int xsk, err;

	xsk = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (xsk < 0) {
		*why = "no AF_XDP sockets";
		return -errno;
	}
	if (setsockopt(xsk, SOL_XDP, XDP_UMEM_REG, &reg, sizeof(reg))) {
		err = -errno;
		close(xsk);
		*why = "no long-term pin of a region";
		return err;
	}
	return xsk;
}

int __kvmmig_create_region(int devfd, struct kvmmig_create_region *args)
{
	int fd = ioctl(devfd, KVMMIG_CREATE_REGION, args);

	return fd < 0 ? -errno : fd;
}

int kvmmig_region(int devfd, size_t size, const char *name, int node)
{
	struct kvmmig_create_region args;

	memset(&args, 0, sizeof(args));
	args.size = size;
	if (node >= 0) {
		args.flags = KVMMIG_REGION_F_NODE;
		args.node = node;
	}
	snprintf(args.name, sizeof(args.name), "%s", name);
	return __kvmmig_create_region(devfd, &args);
}

int __kvmmig_log_enable(int fd, struct kvmmig_dirty_log_enable *args)
{
	return ioctl(fd, KVMMIG_DIRTY_LOG_ENABLE, args) ? -errno : 0;
}

int kvmmig_log_enable(int fd, __u32 mode, __u32 flags, __u32 batch_pages)
{
	struct kvmmig_dirty_log_enable args = {
		.flags = flags, .mode = mode, .batch_pages = batch_pages,
	};

	return __kvmmig_log_enable(fd, &args);
}

int __kvmmig_log_disable(int fd, struct kvmmig_dirty_log_disable *args)
{
	return ioctl(fd, KVMMIG_DIRTY_LOG_DISABLE, args) ? -errno : 0;
}

int kvmmig_log_disable(int fd)
{
	struct kvmmig_dirty_log_disable args = { 0 };

	return __kvmmig_log_disable(fd, &args);
}

int __kvmmig_log_harvest(int fd, struct kvmmig_dirty_log_harvest *args)
{
	return ioctl(fd, KVMMIG_DIRTY_LOG_HARVEST, args) ? -errno : 0;
}

long kvmmig_log_harvest(int fd, __u64 first, __u64 num, __u64 *bitmap)
{
	struct kvmmig_dirty_log_harvest args = {
		.first_page = first, .num_pages = num,
		.bitmap = (uintptr_t)bitmap,
	};
	int ret = __kvmmig_log_harvest(fd, &args);

	return ret ? ret : (long)args.nr_dirty;
}

long kvmmig_log_harvest_all(int fd, __u64 nr_pages, __u64 *bitmap)
{
	memset(bitmap, 0xff, (nr_pages + 63) / 64 * 8);
	return kvmmig_log_harvest(fd, 0, nr_pages, bitmap);
}

bool kvmmig_bitmap_is(const __u64 *bitmap, __u64 nr_pages,
		      const unsigned long *pages, int n)
{
	size_t bytes = (nr_pages + 63) / 64 * 8;
	__u64 *want = calloc(1, bytes);
	bool same;
	int i;

	if (!want)
		return false;
	for (i = 0; i < n; i++)
		bitmap_setbit(want, pages[i]);
	same = !memcmp(want, bitmap, bytes);
	free(want);
	return same;
}

int __kvmmig_log_stats(int fd, struct kvmmig_dirty_log_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	return ioctl(fd, KVMMIG_DIRTY_LOG_STATS, stats) ? -errno : 0;
}

static long read_long(const char *path)
{
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

long kvmmig_debugfs_pages(void)
{
	return read_long("/sys/kernel/debug/kvmmig/pages");
}

bool kvmmig_debugfs_has_region(const char *name)
{
	char line[256], field[64];
	bool found = false;
	FILE *f;

	f = fopen("/sys/kernel/debug/kvmmig/regions", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %63s", field) == 1 && !strcmp(field, name))
			found = true;
	fclose(f);
	return found;
}

long kvmmig_param(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/kvmmig/parameters/%s", name);
	return read_long(path);
}

/* Write a writable module parameter; 0 or -errno. */
int kvmmig_set_param(const char *name, long val)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/sys/module/kvmmig/parameters/%s", name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fprintf(f, "%ld\n", val) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

long node_free_pages(int node)
{
	long total = 0, val;
	char line[256];
	int cur = -1;
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d,", &cur) == 1)
			continue;
		if (cur != node)
			continue;
		if (sscanf(line, " pages free %ld", &val) == 1 ||
		    sscanf(line, " count: %ld", &val) == 1)
			total += val;
	}
	fclose(f);
	return total;
}

unsigned long kvmmig_parse_num(const char *arg, const char *what,
			       unsigned long max)
{
	unsigned long val;
	char *end;

	errno = 0;
	val = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || val > max) {
		fprintf(stderr, "%s: bad %s '%s'\n",
			program_invocation_short_name, what, arg);
		exit(2);
	}
	return val;
}

uint64_t kvmmig_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

void kvmmig_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int kvmmig_time_scale(void)
{
	static int scale;
	const char *env;

	if (!scale) {
		env = getenv("KVMMIG_TIME_SCALE");
		scale = env ? atoi(env) : 1;
		if (scale < 1)
			scale = 1;
	}
	return scale;
}
