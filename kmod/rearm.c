// SPDX-License-Identifier: GPL-2.0
/*
 * Re-arming: make pages of a region fault on their next write again.
 *
 * A page is armed when no PTE maps it writable or dirty, no secondary MMU
 * (KVM) maps it writable, and nothing else holds a reference through which
 * it could be written.  Each condition closes a way a write could land
 * without ->page_mkwrite:
 *
 *  - mm treats a dirty read-only PTE in a shared mapping with write-notify
 *    as "the filesystem already knows" (can_change_pte_writable()):
 *    mprotect() back to writable, and on 6.12 a NUMA hinting fault, make
 *    it writable without a fault.  So a run is unmapped, or its PTEs are
 *    write-protected and cleaned in one step; never write-protected, then
 *    cleaned in a second walk that an mprotect() can slip between.
 *  - A folio under migration sits behind a migration entry that
 *    remove_migration_pte() restores with its old permissions.  Unmapping
 *    removes the entry too, and each dirty folio of a run is locked
 *    (migration holds the lock throughout) and referenced (migration
 *    cannot freeze it) while the run is armed.  The lock also waits out a
 *    write fault in flight, which sets the bit and makes the PTE writable
 *    under it.
 *  - A get_user_pages() writer (process_vm_writev(), O_DIRECT, ptrace, a
 *    DMA pin, KVM's kernel mappings of guest pages) may store after the
 *    harvest that reported the page.  A folio with references beyond the
 *    page cache's and its mappings' keeps its bit, so every harvest reports
 *    it until they are gone.
 *
 * The folios of a run are taken with trylock under RCU; a folio that is
 * busy (a fault or a migration holds it) is armed alone afterwards, once
 * its lock is free.
 *
 * A folio waiting in a CPU's LRU batch carries the batch's reference too.
 * New folios leave their batch at once (region.c); for one that looks
 * referenced while off the LRU (just migrated, or put back by reclaim),
 * every CPU's batches are drained and it is looked at again.  A reference
 * that is only passing through (a KVM fault, a pread()) still makes one
 * extra report: the log may report a page that was not written, never the
 * other way round.
 */

#include <linux/bitmap.h>
#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "compat.h"
#include "dirty_log.h"
#include "rearm.h"

int kvmmig_rearm_init(struct kvmmig_rearm *ra, struct kvmmig_dirty_log *log,
		      unsigned long span)
{
	unsigned int max = min_t(unsigned long, span, KVMMIG_REARM_MAX_PAGES);

	memset(ra, 0, sizeof(*ra));
	ra->log = log;
	ra->span = span;
	ra->locked = kvmalloc_array(max, sizeof(*ra->locked), GFP_KERNEL);
	ra->busy_index = kvmalloc_array(max, sizeof(pgoff_t), GFP_KERNEL);
	if (!ra->locked || !ra->busy_index) {
		kvmmig_rearm_destroy(ra);
		return -ENOMEM;
	}
	return 0;
}

void kvmmig_rearm_destroy(struct kvmmig_rearm *ra)
{
	kvfree(ra->locked);
	kvfree(ra->busy_index);
}

static DEFINE_PER_CPU(struct work_struct, kvmmig_drain_work);
static DEFINE_MUTEX(kvmmig_drain_lock);

static void kvmmig_drain_this_cpu(struct work_struct *work)
{
	kvmmig_lru_add_drain();
}

/* lru_add_drain_all(), which is not exported, by hand. */
static void kvmmig_lru_drain_all(void)
{
	int cpu;

	mutex_lock(&kvmmig_drain_lock);
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct work_struct *work = per_cpu_ptr(&kvmmig_drain_work, cpu);

		INIT_WORK(work, kvmmig_drain_this_cpu);
		queue_work_on(cpu, system_wq, work);
	}
	for_each_online_cpu(cpu)
		flush_work(per_cpu_ptr(&kvmmig_drain_work, cpu));
	cpus_read_unlock();
	mutex_unlock(&kvmmig_drain_lock);
}

/*
 * With @folio locked and referenced once by the caller: does anything hold
 * a reference beyond the page cache's and its mappings'?  The count is
 * read before the mapcount: with the folio locked nothing maps it, and an
 * unmap drops the mapping before its reference, so an extra reference is
 * never missed; at worst one on its way out is counted.  The caller's PTE
 * changes come first: a get_user_pages_fast() that saw the old PTE either
 * shows here or sees the change and backs out.
 */
static bool kvmmig_folio_extra_refs(struct folio *folio)
{
	int refs, expected;

	smp_mb();	/* the PTE changes before the count */
	refs = folio_ref_count(folio);
	smp_rmb();	/* the count before the mapcount */
	expected = folio_nr_pages(folio) + kvmmig_folio_mapcount(folio) + 1;
	return refs > expected;
}

/*
 * Extra references, and whether they may just be an LRU batch's: a folio
 * off the LRU may sit in a CPU's batch, whose reference is no writer's.
 */
static bool kvmmig_folio_suspect(struct folio *folio, bool *maybe_batched)
{
	if (!kvmmig_folio_extra_refs(folio))
		return false;
	*maybe_batched = !folio_test_lru(folio);
	return true;
}

static void kvmmig_keep(struct kvmmig_dirty_log *log, struct folio *folio)
{
	set_bit(folio->index, log->bitmap);
	atomic64_inc(&log->pinned_reported);
}

void kvmmig_rearm_keep_referenced(struct kvmmig_dirty_log *log,
				  struct folio *folio)
{
	bool batched;

	if (!kvmmig_folio_suspect(folio, &batched))
		return;
	if (batched) {
		kvmmig_lru_drain_all();
		if (!kvmmig_folio_extra_refs(folio))
			return;
	}
	kvmmig_keep(log, folio);
}

/* Lock @folio's page @index alone, wait for it if need be, and arm it. */
static void kvmmig_rearm_one(struct kvmmig_dirty_log *log, pgoff_t index)
{
	struct folio *folio = kvmmig_lock_folio(log->mapping, index);

	/* Absent: never touched, or the region is going away. */
	if (!folio)
		return;
	folio_mkclean(folio);
	kvmmig_rearm_keep_referenced(log, folio);
	folio_unlock(folio);
	folio_put(folio);
}

/*
 * Take the folios of the pages of [first, last] set in @words (all pages
 * if @words is NULL): locked and referenced into ra->locked, or, when busy,
 * their index into ra->busy.  Pages without a folio need nothing.
 */
static void kvmmig_lock_run(struct kvmmig_rearm *ra,
			    const unsigned long *words, unsigned long base,
			    pgoff_t first, pgoff_t last)
{
	XA_STATE(xas, &ra->log->mapping->i_pages, first);
	struct folio *folio;

	ra->nr_locked = 0;
	ra->nr_busy = 0;
	rcu_read_lock();
	xas_for_each(&xas, folio, last) {
		if (xas_retry(&xas, folio) || xa_is_value(folio))
			continue;
		if (words && !test_bit(xas.xa_index - base, words))
			continue;
		/* Zero: being freed, or frozen by a migration. */
		if (!folio_try_get(folio))
			goto busy;
		if (unlikely(folio != xas_reload(&xas))) {
			folio_put(folio);
			goto busy;
		}
		if (!folio_trylock(folio)) {
			folio_put(folio);
			goto busy;
		}
		ra->locked[ra->nr_locked++] = folio;
		continue;
busy:
		ra->busy_index[ra->nr_busy++] = xas.xa_index;
	}
	rcu_read_unlock();
}

/*
 * Keep the folios of the run that may still be written, and unlock them.
 * Those whose extra reference may be an LRU batch's stay locked until all
 * CPUs' batches are drained, once per run, and are looked at again.
 */
static void kvmmig_unlock_run(struct kvmmig_rearm *ra)
{
	struct kvmmig_dirty_log *log = ra->log;
	unsigned int i, nr_suspect = 0;
	bool batched;

	for (i = 0; i < ra->nr_locked; i++) {
		struct folio *folio = ra->locked[i];

		/* Truncated while we waited: nothing maps it any more. */
		if (folio->mapping == log->mapping &&
		    kvmmig_folio_suspect(folio, &batched)) {
			if (batched) {
				ra->locked[nr_suspect++] = folio;
				continue;
			}
			kvmmig_keep(log, folio);
			ra->kept++;
		}
		folio_unlock(folio);
		folio_put(folio);
	}
	if (nr_suspect) {
		kvmmig_lru_drain_all();
		ra->drains++;
	}
	for (i = 0; i < nr_suspect; i++) {
		struct folio *folio = ra->locked[i];

		if (kvmmig_folio_extra_refs(folio)) {
			kvmmig_keep(log, folio);
			ra->kept++;
		}
		folio_unlock(folio);
		folio_put(folio);
	}
	ra->busy += ra->nr_busy;
	for (i = 0; i < ra->nr_busy; i++)
		kvmmig_rearm_one(log, ra->busy_index[i]);
}

/*
 * Arm a run of more than KVMMIG_REARM_ALONE folios by unmapping it from
 * every mapping: one walk, one invalidation (KVM zaps its entries) and one
 * flush per mapping, and nothing left that mm could make writable again
 * (a migration entry included).  Write-protecting and then cleaning takes
 * two walks, and mprotect() can upgrade a dirty PTE between them.  The
 * price: the run's pages, dirty or not, take a minor fault on their next
 * access.  Runs of one or two folios are armed with folio_mkclean(), which
 * write-protects and cleans each PTE in one step.
 */
#define KVMMIG_REARM_ALONE	2

void kvmmig_rearm_run(struct kvmmig_rearm *ra, const unsigned long *words,
		      unsigned long base, pgoff_t first, pgoff_t last)
{
	unsigned int i;

	kvmmig_lock_run(ra, words, base, first, last);
	if (ra->nr_locked > KVMMIG_REARM_ALONE)
		unmap_mapping_pages(ra->log->mapping, first,
				    last - first + 1, false);
	else
		for (i = 0; i < ra->nr_locked; i++)
			folio_mkclean(ra->locked[i]);
	kvmmig_unlock_run(ra);
}

int kvmmig_rearm_range(struct kvmmig_dirty_log *log, pgoff_t first,
		       pgoff_t nr)
{
	unsigned long span = KVMMIG_REARM_MAX_PAGES;
	struct kvmmig_rearm ra;
	pgoff_t i, n;
	int ret;

	ret = kvmmig_rearm_init(&ra, log, span);
	if (ret)
		return ret;
	for (i = first; i < first + nr; i += n) {
		n = min_t(pgoff_t, span, first + nr - i);
		kvmmig_lock_run(&ra, NULL, 0, i, i + n - 1);
		unmap_mapping_pages(log->mapping, i, n, false);
		kvmmig_unlock_run(&ra);
		cond_resched();
	}
	kvmmig_rearm_destroy(&ra);
	return 0;
}
