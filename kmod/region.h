/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REGION_H
#define _KVMMIG_REGION_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/kvmmig.h>
#include <linux/seq_file.h>

#include "dirty_log.h"

/*
 * Guest RAM owned by kvmmig: one inode on the module's pseudo fs, whose
 * address_space holds order-0 folios allocated zeroed on first touch.  The
 * region lives as long as its file: every fd and every mapping hold it.
 */
struct kvmmig_region {
	struct list_head list;		/* in kvmmig_regions, under its mutex */
	u64 id;
	char name[KVMMIG_REGION_NAME_LEN];
	struct address_space *mapping;
	pgoff_t nr_pages;
	int nid;			/* NUMA_NO_NODE: no placement asked */
	struct pid *owner;		/* tgid of the creator, for the limit */
	atomic_long_t nr_allocated;	/* folios ever added */
	struct kvmmig_dirty_log log;
	struct file *file;		/* the region's own file; clones pin it */
};

/* KVMMIG_CREATE_REGION: returns the new fd or -errno. */
int kvmmig_region_create(const void __user *argp);

/* The region's folio at @index, locked and referenced; allocated if absent. */
int kvmmig_region_get_folio(struct kvmmig_region *region, pgoff_t index,
			    struct folio **foliop);

/* The region behind a region fd's own file, or NULL for any other file. */
struct kvmmig_region *kvmmig_region_from_file(struct file *file);

/*
 * A new fd (close-on-exec) on the region of @region_file, for migd: pread,
 * pwrite and the dirty log ioctls work on it, mmap does not.  It pins the
 * region's own file.  Returns the fd or -errno.
 */
int kvmmig_region_open_clone(struct file *region_file, bool rdonly);

/*
 * Call @fn on each region whose id is at least *@cursor, in id order,
 * under the region list's lock, until @fn returns non-zero; *@cursor is
 * left at the id @fn refused, or past the last region.  Returns what @fn
 * last returned.
 */
int kvmmig_region_for_each(u64 *cursor,
			   int (*fn)(struct kvmmig_region *region, void *arg),
			   void *arg);

void kvmmig_regions_show(struct seq_file *m);
long kvmmig_region_pages(void);
long kvmmig_region_objects(void);

int kvmmig_region_init(void);
void kvmmig_region_exit(void);

#endif /* _KVMMIG_REGION_H */
