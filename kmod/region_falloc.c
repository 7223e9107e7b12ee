// SPDX-License-Identifier: GPL-2.0
/*
 * fallocate(2) on a region, as QEMU's memory-backend-file uses it:
 * PUNCH_HOLE|KEEP_SIZE gives pages back (virtio-balloon, free page
 * reporting, ram_block_discard_range()), and plain allocation inside the
 * region populates it.  A region's size is fixed, so nothing may grow it.
 *
 * A punched page reads as zeroes from then on, and that change is a write
 * the destination must see: every page of the range is marked dirty, after
 * its folio has left the page cache.  Marked before, a harvest between the
 * two could take the bit, read the old data and send it, and the page
 * would then stay clean with the stale copy on the destination.
 */

#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/signal.h>

#include "region.h"

static void kvmmig_region_punch(struct kvmmig_region *region, loff_t start,
				loff_t end)
{
	struct address_space *mapping = region->mapping;
	pgoff_t index;

	/* Every PTE of the range at once; KVM drops its entries with them. */
	unmap_mapping_range(mapping, start, end - start, 0);
	/* Partial pages at either end are zeroed in place. */
	truncate_inode_pages_range(mapping, start, end - 1);

	for (index = start >> PAGE_SHIFT; index <= (end - 1) >> PAGE_SHIFT;
	     index++)
		kvmmig_dirty_log_mark(&region->log, index);
}

static long kvmmig_region_populate(struct kvmmig_region *region, loff_t start,
				   loff_t end)
{
	pgoff_t index, last = (end - 1) >> PAGE_SHIFT;
	struct folio *folio;
	int ret;

	for (index = start >> PAGE_SHIFT; index <= last; index++) {
		ret = kvmmig_region_get_folio(region, index, NULL, &folio);
		if (ret)
			return ret;
		folio_unlock(folio);
		folio_put(folio);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

long kvmmig_region_fallocate(struct file *file, int mode, loff_t offset,
			     loff_t len)
{
	struct kvmmig_region *region = file->private_data;
	struct inode *inode = file_inode(file);
	loff_t size, end = offset + len;	/* vfs_fallocate() checked it */
	long ret = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;

	/* Serialises against the size being set, like other filesystems. */
	inode_lock(inode);
	size = (loff_t)kvmmig_region_nr_pages(region) << PAGE_SHIFT;
	if (end > size && !(mode & FALLOC_FL_KEEP_SIZE))
		ret = -EFBIG;
	else if (offset < size && (mode & FALLOC_FL_PUNCH_HOLE))
		kvmmig_region_punch(region, offset, min(end, size));
	else if (offset < size)
		ret = kvmmig_region_populate(region, offset, min(end, size));
	inode_unlock(inode);
	return ret;
}
