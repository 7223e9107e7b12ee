/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REGION_H
#define _KVMMIG_REGION_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/kvmmig.h>
#include <linux/seq_file.h>

#include "dirty_log.h"
#include "region_numa.h"

/*
 * Guest RAM owned by kvmmig: one inode, whose address_space holds order-0
 * folios allocated zeroed on first touch.  The inode is on the module's
 * internal mount (KVMMIG_CREATE_REGION) or is a regular file in a mounted
 * kvmmig filesystem (region_fs.c); either way the region lives as long as
 * its inode: every fd, every mapping and a file's name hold it.
 */
struct kvmmig_region {
	struct list_head list;		/* in kvmmig_regions, under its mutex */
	u64 id;
	char name[KVMMIG_REGION_NAME_LEN];
	struct address_space *mapping;
	/* Fixed once non-zero; a region file has 0 until its ftruncate(). */
	pgoff_t nr_pages;
	int nid;			/* NUMA_NO_NODE: no placement asked */
	struct kvmmig_numa_policy policy;	/* for pages without a VMA */
	struct pid *owner;		/* tgid of the creator */
	bool counted;			/* against max_regions_per_process */
	atomic_long_t nr_allocated;	/* folios ever added */
	struct kvmmig_dirty_log log;
};

/* Pages in @region; 0 until a region file is sized. */
static inline pgoff_t kvmmig_region_nr_pages(struct kvmmig_region *region)
{
	/* Pairs with kvmmig_region_set_size(): the log is sized first. */
	return smp_load_acquire(&region->nr_pages);
}

/* KVMMIG_CREATE_REGION: returns the new fd or -errno. */
int kvmmig_region_create(const void __user *argp);

/*
 * A new region of @size bytes (0: sized later), listed and counted; it
 * belongs to no inode yet: kvmmig_region_attach() gives it one, or
 * kvmmig_region_free() ends it.  @counted: against the creating process's
 * max_regions_per_process.  Returns the region or an ERR_PTR.
 */
struct kvmmig_region *kvmmig_region_new(const char *name, loff_t size,
					int nid, bool counted);
void kvmmig_region_free(struct kvmmig_region *region);

/* @inode owns @region from now on: its eviction frees it. */
void kvmmig_region_attach(struct kvmmig_region *region, struct inode *inode);

/* The inode of a region is being evicted: drop its pages, then it. */
void kvmmig_region_evict(struct inode *inode);

/*
 * Give a region without pages its size (a region file's ftruncate): EBUSY
 * once it has one (unless @size is the same), EINVAL if not a multiple of
 * the page size, EFBIG above max_region_mb.  Called under the inode lock.
 */
int kvmmig_region_set_size(struct kvmmig_region *region, loff_t size);

/* The region's folio at @index, locked and referenced; allocated if absent. */
int kvmmig_region_get_folio(struct kvmmig_region *region, pgoff_t index,
			    struct vm_fault *vmf, struct folio **foliop);

/* fallocate(2) on a region (region_falloc.c). */
long kvmmig_region_fallocate(struct file *file, int mode, loff_t offset,
			     loff_t len);

/* The file operations of every region's own files. */
extern const struct file_operations kvmmig_region_fops;

/* The region behind a region fd's own file, or NULL for any other file. */
struct kvmmig_region *kvmmig_region_from_file(struct file *file);

/*
 * A new fd (close-on-exec) on the region of @region_file, for migd: pread,
 * pwrite and the dirty log ioctls work on it, mmap does not.  It holds the
 * region's inode.  Returns the fd or -errno.
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
