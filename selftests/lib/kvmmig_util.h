/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for talking to /dev/kvmmig and the module from the selftests.
 */
#ifndef _KVMMIG_SELFTEST_UTIL_H
#define _KVMMIG_SELFTEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvmmig.h>

#define KVMMIG_DEV_PATH		"/dev/" KVMMIG_DEVICE_NAME

/* Open /dev/kvmmig; -errno on failure. */
int __kvmmig_open(void);

/* KVMMIG_GET_API; -errno on failure. */
int __kvmmig_get_api(int fd, struct kvmmig_api *api);

/* Load kvmmig.ko from $KVMMIG_KO / unload it; -errno on failure. */
int __kvmmig_module_load(void);
int __kvmmig_module_unload(void);
bool kvmmig_module_loaded(void);

/* KVMMIG_CREATE_REGION; the region fd or -errno. */
int __kvmmig_create_region(int devfd, struct kvmmig_create_region *args);
/* Create a region of @size bytes (@node < 0: anywhere); fd or -errno. */
int kvmmig_region(int devfd, size_t size, const char *name, int node);

/* Dirty log ioctls on a region fd; 0 or -errno. */
int __kvmmig_log_enable(int fd, struct kvmmig_dirty_log_enable *args);
int kvmmig_log_enable(int fd, __u32 mode, __u32 flags, __u32 batch_pages);
int __kvmmig_log_disable(int fd, struct kvmmig_dirty_log_disable *args);
int kvmmig_log_disable(int fd);
int __kvmmig_log_harvest(int fd, struct kvmmig_dirty_log_harvest *args);
/* Harvest [first, first + num) into @bitmap; nr_dirty or -errno. */
long kvmmig_log_harvest(int fd, __u64 first, __u64 num, __u64 *bitmap);
/*
 * Harvest pages [0, @nr_pages) into @bitmap, first filled with ones so
 * that a bit the kernel failed to write shows.
 */
long kvmmig_log_harvest_all(int fd, __u64 nr_pages, __u64 *bitmap);
int __kvmmig_log_stats(int fd, struct kvmmig_dirty_log_stats *stats);

static inline bool bitmap_test(const __u64 *map, __u64 bit)
{
	return map[bit / 64] & (1ULL << (bit % 64));
}

static inline void bitmap_setbit(__u64 *map, __u64 bit)
{
	map[bit / 64] |= 1ULL << (bit % 64);
}

/* Is @bitmap, of @nr_pages bits, exactly the @n pages in @pages? */
bool kvmmig_bitmap_is(const __u64 *bitmap, __u64 nr_pages,
		      const unsigned long *pages, int n);

/* A number from /sys/kernel/debug/kvmmig/pages, or -1. */
long kvmmig_debugfs_pages(void);
/* Does /sys/kernel/debug/kvmmig/regions list a region named @name? */
bool kvmmig_debugfs_has_region(const char *name);
/* A module parameter of kvmmig, or -1. */
long kvmmig_param(const char *name);
int kvmmig_set_param(const char *name, long val);
/*
 * Free pages of NUMA node @node including those parked on per-CPU free
 * lists (which MemFree leaves out), from /proc/zoneinfo; -1 on error.
 */
long node_free_pages(int node);

/* A field of /proc/meminfo in KiB, or -1. */
long meminfo_kb(const char *field);

/*
 * Pin [@addr, @addr + @len) for DMA the way AF_XDP does (pin_user_pages()
 * with FOLL_WRITE | FOLL_LONGTERM): an AF_XDP socket that holds the pin
 * until it is closed, or -errno with *@why saying which step failed (for
 * a test's SKIP: kernels 6.5 and later refuse long-term pins of file pages
 * that track dirtying).
 */
int kvmmig_pin_longterm(void *addr, size_t len, const char **why);

/*
 * KVMMIG_TIME_SCALE (default 1): how many times slower than Debian's
 * kernels the running one is (the debug kernel of "make check-debug").
 * The waits of lib/child.c and lib/pair.c and every test's time limit
 * (KVMMIG_HARNESS_MAIN) are multiplied by it; what a test measures is not.
 */
int kvmmig_time_scale(void);

/*
 * The number a command-line option @what ("--mem") was given in @arg:
 * decimal, 0x hex or 0 octal, at most @max.  Anything else is a usage
 * error: a message on stderr and exit status 2.
 */
unsigned long kvmmig_parse_num(const char *arg, const char *what,
			       unsigned long max);

/* CLOCK_MONOTONIC in milliseconds, and a sleep of @ms. */
uint64_t kvmmig_now_ms(void);
void kvmmig_sleep_ms(int ms);

/* TEST_HARNESS_MAIN, with every test's time limit scaled. */
#define KVMMIG_HARNESS_MAIN						\
int main(int argc, char **argv)						\
{									\
	struct __fixture_metadata *f;					\
	struct __test_metadata *t;					\
									\
	for (f = __fixture_list; f; f = f->next)			\
		for (t = f->tests; t; t = t->next)			\
			t->timeout *= kvmmig_time_scale();		\
	return test_harness_run(argc, argv);				\
}

#endif /* _KVMMIG_SELFTEST_UTIL_H */
