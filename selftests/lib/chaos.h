/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A chaos thread for the dirty-log tests: it keeps doing, to a mapping of
 * a region, the things mm can do to a page table behind ->page_mkwrite's
 * back (change protections, zap, migrate, compact, fork), so that a test
 * whose writers and harvests run meanwhile can check that nothing was
 * lost.  Each operation is counted, for the test to report.
 */
#ifndef _KVMMIG_SELFTEST_CHAOS_H
#define _KVMMIG_SELFTEST_CHAOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum chaos_op {
	CHAOS_MPROTECT_RO,	/* read-only and back */
	CHAOS_MPROTECT_NONE,	/* PROT_NONE and back */
	CHAOS_MADVISE,		/* DONTNEED, COLD, PAGEOUT, WILLNEED, ... */
	CHAOS_MOVE_PAGES,	/* move_pages(2) between nodes 0 and 1 */
	CHAOS_COMPACT,		/* /proc/sys/vm/compact_memory */
	CHAOS_FORK,		/* a child that writes through the mapping */
	CHAOS_NR_OPS,
};

struct chaos {
	/* In: the mapping, its length, and the operations to do. */
	char *addr;
	size_t len;
	unsigned int ops;		/* 1 << enum chaos_op */
	unsigned int seed;

	/* Out: operations done, and failed ones (errno not expected). */
	unsigned long done[CHAOS_NR_OPS];
	unsigned long pages_moved;
	int err;
	char why[128];

	/*
	 * While set, part of the mapping is not writable: writers that take
	 * SIGSEGV wait for it to clear (chaos_install_segv_waiter()).
	 */
	volatile bool protecting;

	pthread_t thread;
	volatile bool stop;
};

#define CHAOS_ALL_OPS	((1U << CHAOS_NR_OPS) - 1)

/* Start and stop the thread; chaos_stop() returns chaos->err. */
int chaos_start(struct chaos *chaos);
int chaos_stop(struct chaos *chaos);

/* "mprotect-ro 12, mprotect-none 12, ..." for a test's log. */
void chaos_describe(const struct chaos *chaos, char *buf, size_t size);

/*
 * A SIGSEGV handler for writer threads: while @chaos->protecting, wait for
 * the protection to be lifted and retry the store; die otherwise.
 */
void chaos_install_segv_waiter(struct chaos *chaos);

/* Nodes the machine has online (for the move_pages operation). */
int chaos_nr_nodes(void);

/*
 * NUMA balancing with the shortest scan periods, or back to what it was
 * (a no-op unless this process turned it on: call it from teardowns);
 * 0, -ENOENT without CONFIG_NUMA_BALANCING, or -errno.
 */
int numa_balancing_fast(bool on);

/*
 * Spin until NUMA balancing has made @pages more PTEs PROT_NONE (scans
 * follow CPU time, not wall time), or 30 s; returns how many it did.
 */
long numa_scan_wait(long pages);

/* A counter of /proc/vmstat, or -1. */
long vmstat(const char *name);

#endif /* _KVMMIG_SELFTEST_CHAOS_H */
