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
};

/* KVMMIG_CREATE_REGION: returns the new fd or -errno. */
int kvmmig_region_create(const void __user *argp);

/* The region's folio at @index, locked and referenced; allocated if absent. */
int kvmmig_region_get_folio(struct kvmmig_region *region, pgoff_t index,
			    struct folio **foliop);

void kvmmig_regions_show(struct seq_file *m);
long kvmmig_region_pages(void);

int kvmmig_region_init(void);
void kvmmig_region_exit(void);

#endif /* _KVMMIG_REGION_H */
