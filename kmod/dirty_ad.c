// SPDX-License-Identifier: GPL-2.0
/*
 * A/D-bit dirty logging: pages stay writable, and a harvest test-and-clears
 * the hardware dirty bits of their PTEs instead of taking a write fault per
 * page (Documentation/dirty-logging.rst, "A/D-bit mode").
 *
 * A page is dirty when any of three things says so:
 *  - a PTE dirty bit, set by the CPU on a write through a host mapping;
 *  - the region's bitmap, set by the first write fault after a page was
 *    write-protected, by pwrite(), and by ->dirty_folio when a clean folio
 *    is dirtied (a PTE dirty bit dropped with its mapping, or a write
 *    through get_user_pages() such as process_vm_writev() or O_DIRECT,
 *    which leaves no PTE dirty bit but marks the folio on release);
 *  - nothing else: KVM's NPT/EPT dirty bits are invisible to the host, so a
 *    region that a secondary MMU may map is never in this mode.
 *
 * A harvest therefore takes the bitmap words, cleans and records the PTE
 * dirty bits (one TLB flush per mapping), and clears PG_dirty of every page
 * it reports, so that the next write through get_user_pages() reaches
 * ->dirty_folio again.  ->dirty_folio sets PG_dirty before the bit; the
 * harvest takes the bit before clearing PG_dirty, so a folio is never left
 * dirty without its bit.
 */

#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/rbtree.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "dirty_ad.h"
#include "region.h"

#ifdef KVMMIG_HAVE_MAPPING_DIRTY_HELPERS

/*
 * Does any mm that maps the region have MMU-notifier subscribers (KVM)?  A
 * secondary MMU may then hold writable entries for the region's pages whose
 * dirty bits the host never sees.  The interval-tree iterators are not
 * exported; every mapping of the file is a node of i_mmap, so walk it.
 */
static bool kvmmig_region_has_secondary_mmu(struct kvmmig_region *region)
{
	struct address_space *mapping = region->mapping;
	struct rb_node *node;
	bool found = false;

	i_mmap_lock_read(mapping);
	for (node = rb_first_cached(&mapping->i_mmap); node && !found;
	     node = rb_next(node)) {
		struct vm_area_struct *vma;

		vma = rb_entry(node, struct vm_area_struct, shared.rb);
		found = mm_has_notifiers(vma->vm_mm);
	}
	i_mmap_unlock_read(mapping);
	return found;
}

/* Set or clear PG_dirty of every folio of the region. */
static void kvmmig_region_set_folios_dirty(struct kvmmig_region *region,
					   bool dirty)
{
	struct folio_batch fbatch;
	pgoff_t index = 0;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(region->mapping, &index, ULONG_MAX,
				  &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++) {
			if (dirty)
				folio_set_dirty(fbatch.folios[i]);
			else
				folio_clear_dirty(fbatch.folios[i]);
		}
		folio_batch_release(&fbatch);
		cond_resched();
	}
}

/*
 * Clean the PTE dirty bits of [first, first + nr) in every mapping and OR
 * the pages found dirty into @words (bit 0 = page @first).
 */
static int kvmmig_clean_record(struct kvmmig_region *region,
			       unsigned long *words, pgoff_t first, pgoff_t nr)
{
	unsigned long *found;
	pgoff_t start = 0, end = 0;
	unsigned long i;

	/* The helper sets bits non-atomically: give it a bitmap of its own. */
	found = bitmap_zalloc(nr, GFP_KERNEL);
	if (!found)
		return -ENOMEM;
	clean_record_shared_mapping_range(region->mapping, first, nr, first,
					  found, &start, &end);
	for (i = 0; i < BITS_TO_LONGS(nr); i++)
		words[i] |= found[i];
	bitmap_free(found);
	return 0;
}

int kvmmig_dirty_ad_enable(struct kvmmig_region *region)
{
	struct kvmmig_dirty_log *log = &region->log;
	unsigned long *scratch;
	int ret;

	if (kvmmig_region_has_secondary_mmu(region))
		return -EXDEV;

	scratch = bitmap_zalloc(region->nr_pages, GFP_KERNEL);
	if (!scratch)
		return -ENOMEM;
	/* Start clean: what was written before now is the first pass's. */
	log->ad_armed = true;
	bitmap_zero(log->bitmap, region->nr_pages);
	ret = kvmmig_clean_record(region, scratch, 0, region->nr_pages);
	if (!ret)
		kvmmig_region_set_folios_dirty(region, false);
	bitmap_free(scratch);
	return ret;
}

void kvmmig_dirty_ad_disarm(struct kvmmig_region *region)
{
	struct kvmmig_dirty_log *log = &region->log;

	if (!log->ad_armed)
		return;
	/*
	 * Pages may be writable with their bit clear: protect them all, and
	 * make folios dirty again so that ->dirty_folio stays quiet.
	 */
	wp_shared_mapping_range(region->mapping, 0, region->nr_pages);
	kvmmig_region_set_folios_dirty(region, true);
	log->ad_armed = false;
}

/*
 * A secondary MMU appeared after A/D mode was enabled.  Writes through it
 * since then are invisible: report every page, and write-protect the
 * region so that from now on every write faults.
 */
static void kvmmig_dirty_ad_fall_back(struct kvmmig_region *region,
				      unsigned long *words, pgoff_t first,
				      pgoff_t nr)
{
	struct kvmmig_dirty_log *log = &region->log;
	pgoff_t end = region->nr_pages;

	/* This harvest reports its whole range ... */
	bitmap_fill(words, nr);

	mutex_lock(&log->lock);
	if (READ_ONCE(log->mode) == KVMMIG_DIRTY_MODE_AD) {
		/* ... later ones the rest; writes after the wrprotect fault. */
		bitmap_set(log->bitmap, 0, first);
		bitmap_set(log->bitmap, first + nr, end - first - nr);
		WRITE_ONCE(log->mode, KVMMIG_DIRTY_MODE_WRPROT);
		kvmmig_dirty_ad_disarm(region);
		atomic64_inc(&log->ad_fallbacks);
	}
	mutex_unlock(&log->lock);
}

bool kvmmig_dirty_ad_collect(struct kvmmig_region *region,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0)
{
	struct kvmmig_dirty_log *log = &region->log;
	pgoff_t first = w0 * BITS_PER_LONG;
	pgoff_t nr = min_t(pgoff_t, nwords * BITS_PER_LONG,
			   region->nr_pages - first);
	unsigned long bit, n = 0;

	if (kvmmig_region_has_secondary_mmu(region)) {
		kvmmig_dirty_ad_fall_back(region, words, first, nr);
		return true;
	}
	if (kvmmig_clean_record(region, words, first, nr)) {
		/* No memory for the record: report all, lose nothing. */
		bitmap_fill(words, nr);
	}

	for_each_set_bit(bit, words, nr) {
		struct folio *folio = filemap_get_folio(region->mapping,
							first + bit);

		if (IS_ERR_OR_NULL(folio))
			continue;
		folio_clear_dirty(folio);
		/* A device may write it behind the MMU's back. */
		if (folio_maybe_dma_pinned(folio)) {
			set_bit(first + bit, log->bitmap);
			atomic64_inc(&log->pinned_reported);
		}
		folio_put(folio);
		if (!(++n % 1024))
			cond_resched();
	}
	return false;
}

#else /* !KVMMIG_HAVE_MAPPING_DIRTY_HELPERS */

int kvmmig_dirty_ad_enable(struct kvmmig_region *region)
{
	return -EOPNOTSUPP;
}

void kvmmig_dirty_ad_disarm(struct kvmmig_region *region)
{
}

bool kvmmig_dirty_ad_collect(struct kvmmig_region *region,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0)
{
	return false;
}

#endif
