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
#include <linux/kvmmig.h>

#include "compat.h"
#include "dirty_ad.h"
#include "dirty_log.h"
#include "rearm.h"

#ifdef KVMMIG_HAVE_MAPPING_DIRTY_HELPERS

/*
 * Does any mm that maps the region have MMU-notifier subscribers (KVM)?  A
 * secondary MMU may then hold writable entries for the region's pages whose
 * dirty bits the host never sees.  The interval-tree iterators are not
 * exported; every mapping of the file is a node of i_mmap, so walk it.
 */
static bool kvmmig_has_secondary_mmu(struct address_space *mapping)
{
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
static void kvmmig_set_folios_dirty(struct address_space *mapping, bool dirty)
{
	struct folio_batch fbatch;
	pgoff_t index = 0;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (filemap_get_folios(mapping, &index, ULONG_MAX,
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

/* Pages cleaned per call of the helper: bounds its scratch bitmap. */
#define KVMMIG_AD_CHUNK		32768

/*
 * Clean the PTE dirty bits of [first, first + nr) in every mapping and, if
 * @words, OR the pages found dirty into it (bit 0 = page @first).
 */
static int kvmmig_clean_record(struct kvmmig_dirty_log *log,
			       unsigned long *words, pgoff_t first, pgoff_t nr)
{
	unsigned long *found;
	pgoff_t done, n, start, end;
	unsigned long i;

	/* The helper sets bits non-atomically: give it a bitmap of its own. */
	found = kvmalloc_array(BITS_TO_LONGS(KVMMIG_AD_CHUNK), sizeof(long),
			       GFP_KERNEL);
	if (!found)
		return -ENOMEM;
	for (done = 0; done < nr; done += n) {
		n = min_t(pgoff_t, KVMMIG_AD_CHUNK, nr - done);
		bitmap_zero(found, n);
		start = 0;
		end = 0;
		clean_record_shared_mapping_range(log->mapping, first + done,
						  n, first + done, found,
						  &start, &end);
		if (!words)
			continue;
		/* Chunks start at multiples of 64 pages from @first. */
		for (i = 0; i < BITS_TO_LONGS(n); i++)
			words[done / BITS_PER_LONG + i] |= found[i];
		cond_resched();
	}
	kvfree(found);
	return 0;
}

int kvmmig_dirty_ad_enable(struct kvmmig_dirty_log *log)
{
	int ret;

	if (kvmmig_has_secondary_mmu(log->mapping))
		return -EXDEV;

	/* Start clean: what was written before now is the first pass's. */
	log->ad_armed = true;
	bitmap_zero(log->bitmap, log->nr_pages);
	ret = kvmmig_clean_record(log, NULL, 0, log->nr_pages);
	if (!ret)
		kvmmig_set_folios_dirty(log->mapping, false);
	return ret;
}

int kvmmig_dirty_ad_disarm(struct kvmmig_dirty_log *log)
{
	int ret;

	if (!READ_ONCE(log->ad_armed))
		return 0;
	/*
	 * Pages may be writable with their bit clear: arm them all, and
	 * make folios dirty again so that ->dirty_folio stays quiet.
	 */
	ret = kvmmig_rearm_range(log, 0, log->nr_pages);
	if (ret)
		return ret;
	kvmmig_set_folios_dirty(log->mapping, true);
	WRITE_ONCE(log->ad_armed, false);
	return 0;
}

/*
 * A secondary MMU appeared after A/D mode was enabled.  Writes through it
 * since then are invisible: report every page, and write-protect the
 * region so that from now on every write faults.  Harvests hold the log's
 * lock shared, so the switch is a cmpxchg: the first harvest to see the
 * MMU makes it, the others report their ranges whole too.
 */
static void kvmmig_dirty_ad_fall_back(struct kvmmig_dirty_log *log,
				      unsigned long *words, pgoff_t first,
				      pgoff_t nr)
{
	pgoff_t end = log->nr_pages;

	/* This harvest reports its whole range, and no page past it ... */
	bitmap_set(words, 0, nr);

	if (cmpxchg(&log->mode, KVMMIG_DIRTY_MODE_AD,
		    KVMMIG_DIRTY_MODE_WRPROT) != KVMMIG_DIRTY_MODE_AD)
		return;
	/* ... later ones the rest; writes after the re-arm fault. */
	bitmap_set(log->bitmap, 0, first);
	bitmap_set(log->bitmap, first + nr, end - first - nr);
	if (kvmmig_dirty_ad_disarm(log)) {
		/*
		 * No memory to arm: the pages stay writable, so report
		 * them all again next time; the next harvest retries.
		 */
		WRITE_ONCE(log->mode, KVMMIG_DIRTY_MODE_AD);
		bitmap_set(log->bitmap, first, nr);
		return;
	}
	atomic64_inc(&log->ad_fallbacks);
}

bool kvmmig_dirty_ad_collect(struct kvmmig_dirty_log *log,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0)
{
	pgoff_t first = w0 * BITS_PER_LONG;
	pgoff_t nr = min_t(pgoff_t, nwords * BITS_PER_LONG,
			   log->nr_pages - first);
	unsigned long bit, n = 0;

	if (kvmmig_has_secondary_mmu(log->mapping)) {
		kvmmig_dirty_ad_fall_back(log, words, first, nr);
		return true;
	}
	if (kvmmig_clean_record(log, words, first, nr)) {
		/* No memory for the record: report all, lose nothing. */
		bitmap_set(words, 0, nr);
	}

	for_each_set_bit(bit, words, nr) {
		struct folio *folio = kvmmig_lock_folio(log->mapping,
							first + bit);

		if (!folio)
			continue;
		folio_clear_dirty(folio);
		/* A get_user_pages() writer or a device may still write it. */
		kvmmig_rearm_keep_referenced(log, folio);
		folio_unlock(folio);
		folio_put(folio);
		if (!(++n % 1024))
			cond_resched();
	}
	return false;
}

#else /* !KVMMIG_HAVE_MAPPING_DIRTY_HELPERS */

int kvmmig_dirty_ad_enable(struct kvmmig_dirty_log *log)
{
	return -EOPNOTSUPP;
}

int kvmmig_dirty_ad_disarm(struct kvmmig_dirty_log *log)
{
	return 0;
}

bool kvmmig_dirty_ad_collect(struct kvmmig_dirty_log *log,
			     unsigned long *words, unsigned long nwords,
			     unsigned long w0)
{
	return false;
}

#endif
