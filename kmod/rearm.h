/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REARM_H
#define _KVMMIG_REARM_H

#include <linux/types.h>

struct folio;
struct kvmmig_dirty_log;

/* Dirty pages re-armed together at most (one invalidation per walk). */
#define KVMMIG_REARM_MAX_PAGES		4096

/* Scratch space of one harvest's re-arm: the folios of the current run. */
struct kvmmig_rearm {
	struct kvmmig_dirty_log *log;
	struct folio **locked;
	pgoff_t *busy_index;
	unsigned long span;
	unsigned int nr_locked;
	unsigned int nr_busy;
	/* For the harvest profile: pages armed alone, kept, drains. */
	unsigned long busy, kept, drains;
};

/* For runs of at most @span pages; returns -ENOMEM or 0. */
int kvmmig_rearm_init(struct kvmmig_rearm *ra, struct kvmmig_dirty_log *log,
		      unsigned long span);
void kvmmig_rearm_destroy(struct kvmmig_rearm *ra);

/*
 * Arm the pages of [@first, @last] whose bit is set in @words (bit i is
 * page @base + i): afterwards each one's next write faults, or the page is
 * set in the region's bitmap again because it may still be written without
 * a fault.  At most KVMMIG_REARM_MAX_PAGES bits and @span pages.
 */
void kvmmig_rearm_run(struct kvmmig_rearm *ra, const unsigned long *words,
		      unsigned long base, pgoff_t first, pgoff_t last);

/*
 * Arm every page of [@first, @first + @nr): for a log that stops trusting
 * PTE dirty bits (A/D mode ending).  Returns -ENOMEM or 0.
 */
int kvmmig_rearm_range(struct kvmmig_dirty_log *log, pgoff_t first,
		       pgoff_t nr);

/*
 * With @folio locked and referenced once by the caller: may it be written
 * without a write fault (a DMA pin, a get_user_pages() reference, a KVM
 * kernel mapping)?  Keeps its bit set if so.
 */
void kvmmig_rearm_keep_referenced(struct kvmmig_dirty_log *log,
				  struct folio *folio);

#endif /* _KVMMIG_REARM_H */
