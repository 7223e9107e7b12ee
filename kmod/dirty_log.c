// SPDX-License-Identifier: GPL-2.0
/*
 * Lock-light dirty logging of a region (write-protect mode).
 *
 * A write fault sets the page's bit (region.c).  A harvest takes bitmap
 * words with xchg(), copies them to user space, then re-arms exactly the
 * reported pages in batches: each page's folio lock is taken and dropped
 * (waiting out a write fault in flight), then runs of nearby dirty pages
 * are write-protected in every mapping through the file's reverse map,
 * with one MMU-notifier call (which makes KVM drop its NPT/EPT entries)
 * and one TLB flush per run.  The next write faults again.  The cost
 * follows the number of dirty pages, not the region size; no lock is held
 * across batches and the harvester reschedules between them.
 */

#include <linux/bitmap.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/rmap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/kvmmig.h>

#include "compat.h"
#include "dirty_ad.h"
#include "dirty_log.h"
#include "region.h"

#define KVMMIG_DIRTY_LOG_DEFAULT_BATCH	256

int kvmmig_dirty_log_init(struct kvmmig_dirty_log *log, unsigned long nr_pages)
{
	log->bitmap = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(unsigned long),
			       GFP_KERNEL_ACCOUNT);
	if (!log->bitmap)
		return -ENOMEM;
	mutex_init(&log->lock);
	log->batch_pages = KVMMIG_DIRTY_LOG_DEFAULT_BATCH;
	return 0;
}

void kvmmig_dirty_log_destroy(struct kvmmig_dirty_log *log)
{
	kvfree(log->bitmap);
	mutex_destroy(&log->lock);
}

static void kvmmig_stat_max(atomic64_t *max, s64 val)
{
	s64 old = atomic64_read(max);

	while (val > old && !atomic64_try_cmpxchg(max, &old, val))
		;
}

/*
 * Dirty pages closer than this are write-protected by one range call; the
 * clean pages between them lose their secondary-MMU (KVM) mappings too,
 * which costs the guest a read fault each, so the gap stays small.
 */
#define KVMMIG_REARM_GAP	32

struct kvmmig_batch {
	u32 size;
	u32 done;
	u64 start;
};

static void kvmmig_batch_end(struct kvmmig_dirty_log *log,
			     struct kvmmig_batch *b)
{
	u64 ns;

	if (!b->done)
		return;
	ns = ktime_get_ns() - b->start;
	atomic64_inc(&log->batches);
	atomic64_add(ns, &log->batch_ns_total);
	kvmmig_stat_max(&log->batch_ns_max, ns);
	b->done = 0;
}

/*
 * First step of re-arming page @index.  Taking the folio lock waits for a
 * write fault that set the bit before the harvest took it: such a fault
 * holds the lock from ->page_mkwrite until its PTE is writable, so once we
 * own the lock that PTE exists and the write-protection below catches it.
 * Without the range helpers, this step write-protects the page itself.
 */
static void kvmmig_rearm_page(struct kvmmig_region *region, pgoff_t index)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct folio *folio;
	u64 start;

	/* Absent: reported by INITIALLY_SET, never touched, nothing mapped. */
	folio = kvmmig_lock_folio(region->mapping, index);
	if (!folio)
		return;
	start = ktime_get_ns();
#ifndef KVMMIG_HAVE_MAPPING_DIRTY_HELPERS
	folio_mkclean(folio);
#endif
	/* A device may write it behind the MMU's back: keep reporting it. */
	if (folio_maybe_dma_pinned(folio)) {
		set_bit(index, log->bitmap);
		atomic64_inc(&log->pinned_reported);
	}
	kvmmig_stat_max(&log->rearm_ns_max, ktime_get_ns() - start);
	folio_unlock(folio);
	folio_put(folio);
}

#ifdef KVMMIG_HAVE_MAPPING_DIRTY_HELPERS
/* Write-protect [first, last] in every mapping: one notifier call, one flush. */
static void kvmmig_wrprotect_range(struct kvmmig_region *region,
				   pgoff_t first, pgoff_t last)
{
	u64 start = ktime_get_ns();

	wp_shared_mapping_range(region->mapping, first, last - first + 1);
	kvmmig_stat_max(&region->log.rearm_ns_max, ktime_get_ns() - start);
}

/* Write-protect the set bits of @words in [from, to), gap-merged runs. */
static void kvmmig_wrprotect_bits(struct kvmmig_region *region,
				  const unsigned long *words, unsigned long w0,
				  unsigned long from, unsigned long to)
{
	unsigned long bit, first = 0, last = 0;
	bool open = false;

	for_each_set_bit_from(from, words, to) {
		bit = from;
		if (open && bit - last > KVMMIG_REARM_GAP + 1) {
			kvmmig_wrprotect_range(region, w0 * BITS_PER_LONG + first,
					       w0 * BITS_PER_LONG + last);
			open = false;
		}
		if (!open)
			first = bit;
		last = bit;
		open = true;
	}
	if (open)
		kvmmig_wrprotect_range(region, w0 * BITS_PER_LONG + first,
				       w0 * BITS_PER_LONG + last);
}
#else
static void kvmmig_wrprotect_bits(struct kvmmig_region *region,
				  const unsigned long *words, unsigned long w0,
				  unsigned long from, unsigned long to)
{
}
#endif

/*
 * Re-arm the pages of @words (taken from bitmap word @w0 on) in batches of
 * batch_pages pages: lock-step every page, then write-protect the batch's
 * runs, then reschedule.  No lock is held from one batch to the next.
 */
static void kvmmig_rearm_words(struct kvmmig_region *region,
			       const unsigned long *words, unsigned long nwords,
			       unsigned long w0)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct kvmmig_batch b = { .size = READ_ONCE(log->batch_pages) };
	unsigned long nbits = nwords * BITS_PER_LONG;
	unsigned long bit, from = 0;

	for_each_set_bit(bit, words, nbits) {
		if (!b.done) {
			b.start = ktime_get_ns();
			from = bit;
		}
		kvmmig_rearm_page(region, w0 * BITS_PER_LONG + bit);
		if (++b.done == b.size) {
			kvmmig_wrprotect_bits(region, words, w0, from, bit + 1);
			kvmmig_batch_end(log, &b);
			cond_resched();
		}
	}
	if (b.done) {
		kvmmig_wrprotect_bits(region, words, w0, from, nbits);
		kvmmig_batch_end(log, &b);
	}
}

/*
 * Take the bits of words [w0, w0 + nwords) into @words, clearing them.  A
 * bit set after its word was taken belongs to the next harvest.
 */
static unsigned long kvmmig_take_words(struct kvmmig_dirty_log *log,
				       unsigned long *words,
				       unsigned long nwords, unsigned long w0)
{
	unsigned long i, nr = 0;

	for (i = 0; i < nwords; i++) {
		words[i] = READ_ONCE(log->bitmap[w0 + i]) ?
			   xchg(&log->bitmap[w0 + i], 0) : 0;
		nr += hweight_long(words[i]);
		if (!(i % 4096))
			cond_resched();
	}
	return nr;
}

/* Give taken bits back, for a harvest that could not deliver them. */
static void kvmmig_return_words(struct kvmmig_dirty_log *log,
				const unsigned long *words,
				unsigned long nwords, unsigned long w0)
{
	unsigned long i, bit;

	for (i = 0; i < nwords; i++)
		for_each_set_bit(bit, &words[i], BITS_PER_LONG)
			set_bit((w0 + i) * BITS_PER_LONG + bit, log->bitmap);
}

/* Clear the whole bitmap and re-arm what was set: logging starts clean. */
static int kvmmig_dirty_log_reset(struct kvmmig_region *region)
{
	struct kvmmig_dirty_log *log = &region->log;
	unsigned long nwords = BITS_TO_LONGS(region->nr_pages);
	unsigned long *words;

	words = kvmalloc_array(nwords, sizeof(*words), GFP_KERNEL);
	if (!words)
		return -ENOMEM;
	kvmmig_take_words(log, words, nwords, 0);
	kvmmig_rearm_words(region, words, nwords, 0);
	kvfree(words);
	return 0;
}

static long kvmmig_dirty_log_enable(struct kvmmig_region *region,
				    void __user *argp)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct kvmmig_dirty_log_enable args;
	int i, ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KVMMIG_DIRTY_LOG_FLAGS_ALL)
		return -EOPNOTSUPP;
	if (args.pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++)
		if (args.reserved[i])
			return -EINVAL;
	if (args.batch_pages > KVMMIG_DIRTY_LOG_MAX_BATCH)
		return -EINVAL;
	switch (args.mode) {
	case KVMMIG_DIRTY_MODE_WRPROT:
		break;
	case KVMMIG_DIRTY_MODE_AD:
		break;
	default:
		return -EINVAL;
	}

	mutex_lock(&log->lock);
	if (log->enabled) {
		ret = -EBUSY;
		goto out;
	}
	WRITE_ONCE(log->batch_pages, args.batch_pages ?:
		   KVMMIG_DIRTY_LOG_DEFAULT_BATCH);
	if (args.mode == KVMMIG_DIRTY_MODE_AD) {
		ret = kvmmig_dirty_ad_enable(region);
		if (ret)
			goto out;
		if (args.flags & KVMMIG_DIRTY_LOG_F_INITIALLY_SET)
			bitmap_set(log->bitmap, 0, region->nr_pages);
		WRITE_ONCE(log->mode, args.mode);
		WRITE_ONCE(log->enabled, true);
		goto out;
	}
	kvmmig_dirty_ad_disarm(region);
	WRITE_ONCE(log->mode, args.mode);
	if (args.flags & KVMMIG_DIRTY_LOG_F_INITIALLY_SET) {
		/* Every page is reported once; no write-protection needed. */
		bitmap_set(log->bitmap, 0, region->nr_pages);
		ret = 0;
	} else {
		ret = kvmmig_dirty_log_reset(region);
	}
	if (!ret)
		WRITE_ONCE(log->enabled, true);
out:
	mutex_unlock(&log->lock);
	return ret;
}

static long kvmmig_dirty_log_disable(struct kvmmig_region *region,
				     void __user *argp)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct kvmmig_dirty_log_disable args;
	int i, ret = 0;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EOPNOTSUPP;
	if (args.pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(args.reserved); i++)
		if (args.reserved[i])
			return -EINVAL;

	mutex_lock(&log->lock);
	if (log->enabled)
		WRITE_ONCE(log->enabled, false);
	else
		ret = -ENOENT;
	mutex_unlock(&log->lock);
	return ret;
}

static int kvmmig_harvest_check(struct kvmmig_region *region,
				const struct kvmmig_dirty_log_harvest *h)
{
	u64 nr_pages = region->nr_pages;
	int i;

	if (h->flags)
		return -EOPNOTSUPP;
	if (h->pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(h->reserved); i++)
		if (h->reserved[i])
			return -EINVAL;
	/* By subtraction: first_page + num_pages may overflow. */
	if (!h->num_pages || h->first_page >= nr_pages ||
	    h->num_pages > nr_pages - h->first_page)
		return -EINVAL;
	if (h->first_page % 64)
		return -EINVAL;
	if (h->num_pages % 64 && h->num_pages != nr_pages - h->first_page)
		return -EINVAL;
	return 0;
}

static long kvmmig_dirty_log_harvest(struct kvmmig_region *region,
				     void __user *argp)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct kvmmig_dirty_log_harvest h;
	unsigned long nwords, w0, *words;
	u64 start = ktime_get_ns();
	unsigned long nr;
	bool rearm;
	int ret;

	BUILD_BUG_ON(BITS_PER_LONG != 64);

	if (copy_from_user(&h, argp, sizeof(h)))
		return -EFAULT;
	ret = kvmmig_harvest_check(region, &h);
	if (ret)
		return ret;
	if (!READ_ONCE(log->enabled))
		return -ENOENT;

	nwords = DIV_ROUND_UP(h.num_pages, 64);
	w0 = h.first_page / 64;
	words = kvmalloc_array(nwords, sizeof(*words), GFP_KERNEL);
	if (!words)
		return -ENOMEM;

	nr = kvmmig_take_words(log, words, nwords, w0);
	/* A/D mode cleans PTE dirty bits before the report, not after. */
	rearm = READ_ONCE(log->mode) != KVMMIG_DIRTY_MODE_AD;
	if (!rearm) {
		kvmmig_dirty_ad_collect(region, words, nwords, w0);
		nr = bitmap_weight(words, nwords * BITS_PER_LONG);
	}
	h.nr_dirty = nr;
	if (copy_to_user(u64_to_user_ptr(h.bitmap), words,
			 nwords * sizeof(*words)) ||
	    copy_to_user(argp, &h, sizeof(h))) {
		kvmmig_return_words(log, words, nwords, w0);
		ret = -EFAULT;
		goto out;
	}

	/*
	 * Re-arm after the copy: a write landing between the xchg and the
	 * re-arm of its page is already covered by this report.
	 */
	if (rearm)
		kvmmig_rearm_words(region, words, nwords, w0);

	atomic64_inc(&log->harvests);
	atomic64_add(nr, &log->pages_reported);
	start = ktime_get_ns() - start;
	atomic64_add(start, &log->harvest_ns_total);
	kvmmig_stat_max(&log->harvest_ns_max, start);
out:
	kvfree(words);
	return ret;
}

static long kvmmig_dirty_log_stats(struct kvmmig_region *region,
				   void __user *argp)
{
	struct kvmmig_dirty_log *log = &region->log;
	struct kvmmig_dirty_log_stats s;
	u32 flags;

	if (get_user(flags, (u32 __user *)argp))
		return -EFAULT;
	if (flags & ~KVMMIG_DIRTY_LOG_STATS_FLAGS_ALL)
		return -EOPNOTSUPP;

	memset(&s, 0, sizeof(s));
	s.state = READ_ONCE(log->enabled) ? KVMMIG_DIRTY_LOG_STATE_ENABLED : 0;
	s.mode = READ_ONCE(log->mode);
	s.batch_pages = READ_ONCE(log->batch_pages);
	s.harvests = atomic64_read(&log->harvests);
	s.pages_reported = atomic64_read(&log->pages_reported);
	s.write_faults = atomic64_read(&log->write_faults);
	s.pinned_reported = atomic64_read(&log->pinned_reported);
	s.batches = atomic64_read(&log->batches);
	s.batch_ns_total = atomic64_read(&log->batch_ns_total);
	s.batch_ns_max = atomic64_read(&log->batch_ns_max);
	s.harvest_ns_total = atomic64_read(&log->harvest_ns_total);
	s.harvest_ns_max = atomic64_read(&log->harvest_ns_max);
	s.rearm_ns_max = atomic64_read(&log->rearm_ns_max);
	s.ad_fallbacks = atomic64_read(&log->ad_fallbacks);
	if (flags & KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX) {
		/* A maximum racing with this reset may be lost: harmless. */
		atomic64_set(&log->batch_ns_max, 0);
		atomic64_set(&log->harvest_ns_max, 0);
		atomic64_set(&log->rearm_ns_max, 0);
	}
	if (copy_to_user(argp, &s, sizeof(s)))
		return -EFAULT;
	return 0;
}

long kvmmig_dirty_log_ioctl(struct kvmmig_region *region, unsigned int cmd,
			    void __user *argp)
{
	switch (cmd) {
	case KVMMIG_DIRTY_LOG_ENABLE:
		return kvmmig_dirty_log_enable(region, argp);
	case KVMMIG_DIRTY_LOG_DISABLE:
		return kvmmig_dirty_log_disable(region, argp);
	case KVMMIG_DIRTY_LOG_HARVEST:
		return kvmmig_dirty_log_harvest(region, argp);
	case KVMMIG_DIRTY_LOG_STATS:
		return kvmmig_dirty_log_stats(region, argp);
	default:
		return -ENOTTY;
	}
}
