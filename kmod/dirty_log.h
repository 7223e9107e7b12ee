/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_DIRTY_LOG_H
#define _KVMMIG_DIRTY_LOG_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/rwsem.h>
#include <linux/types.h>

struct address_space;

/*
 * The dirty log of one region: what it needs of the region is the pages
 * (@mapping) and how many there are, so it never sees the region itself.
 *
 * The dirty bitmap is maintained whether or not logging is enabled: a page
 * whose bit is clear is mapped read-only everywhere (primary and secondary
 * MMUs), so its next write faults and sets the bit.  Enabling the log only
 * decides where the bitmap starts from.  A/D mode (dirty_ad.c) suspends
 * that rule while @ad_armed: pages stay writable and PTE dirty bits stand
 * in for the bit.
 */
struct kvmmig_dirty_log {
	struct address_space *mapping;	/* the region's pages */
	pgoff_t nr_pages;
	unsigned long *bitmap;
	/*
	 * Held for writing by enable, disable and a session claiming the
	 * region; for reading by harvests, which run side by side.
	 */
	struct rw_semaphore lock;
	bool enabled;
	u32 mode;
	u32 batch_pages;
	bool ad_armed;			/* pages may be writable, bit clear */
	unsigned long flags;		/* KVMMIG_DIRTY_LOG_* bit numbers */

	atomic64_t harvests;
	atomic64_t pages_reported;
	atomic64_t write_faults;
	atomic64_t pinned_reported;
	atomic64_t batches;
	atomic64_t batch_ns_total;
	atomic64_t batch_ns_max;
	atomic64_t harvest_ns_total;
	atomic64_t harvest_ns_max;
	atomic64_t rearm_ns_max;
	atomic64_t ad_fallbacks;
};

/* Set while a session holds the region: it may be in one at a time. */
#define KVMMIG_DIRTY_LOG_CLAIMED	0

/* A copy of the counters, for netlink dumps. */
struct kvmmig_dirty_log_info {
	bool enabled;
	u32 mode;
	u64 harvests;
	u64 pages_reported;
	u64 write_faults;
	u64 batch_ns_max;
	u64 harvest_ns_max;
};

int kvmmig_dirty_log_init(struct kvmmig_dirty_log *log, pgoff_t nr_pages);
void kvmmig_dirty_log_destroy(struct kvmmig_dirty_log *log);

/*
 * Give a log made for no pages its @nr_pages (a region file's first
 * ftruncate).  EBUSY if it has pages already, is enabled or is claimed.
 */
int kvmmig_dirty_log_size(struct kvmmig_dirty_log *log, pgoff_t nr_pages);

/* The region's pages: its file, and so its mapping, comes after the log. */
static inline void kvmmig_dirty_log_attach(struct kvmmig_dirty_log *log,
					   struct address_space *mapping)
{
	log->mapping = mapping;
}

/*
 * A write to page @index is about to become visible: log it.  Write faults
 * and pwrite() call it with the folio locked.
 */
static inline void kvmmig_dirty_log_mark(struct kvmmig_dirty_log *log,
					 pgoff_t index)
{
	/*
	 * Order taking the folio lock before the bit: a harvest that takes
	 * the bit and then sees the folio unlocked knows this fault is over
	 * (kvmmig_settle_run()).
	 */
	smp_mb__before_atomic();
	set_bit(index, log->bitmap);
}

/*
 * The dirty-log ioctls.  @session_fd: issued on a session's region fd
 * (migd) rather than the region's own (the VMM's).
 */
long kvmmig_dirty_log_ioctl(struct kvmmig_dirty_log *log, unsigned int cmd,
			    void __user *argp, bool session_fd);

/*
 * A session takes the region: from now on only session region fds may
 * enable, disable or harvest its log.  EBUSY if a session already has it,
 * EINVAL if the log has no pages yet (a region file not yet sized).
 * kvmmig_dirty_log_unclaim() gives it back.
 */
int kvmmig_dirty_log_claim(struct kvmmig_dirty_log *log);
void kvmmig_dirty_log_unclaim(struct kvmmig_dirty_log *log);

void kvmmig_dirty_log_info(struct kvmmig_dirty_log *log,
			   struct kvmmig_dirty_log_info *info);

#endif /* _KVMMIG_DIRTY_LOG_H */
