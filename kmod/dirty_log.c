// SPDX-License-Identifier: GPL-2.0
/*
 * Lock-light dirty logging of a region (write-protect mode).
 *
 * A write fault sets the page's bit (region.c).  A harvest takes bitmap
 * words with xchg(), copies them to user space, then re-arms exactly the
 * reported pages (rearm.c): it walks the taken bits only, groups nearby
 * dirty pages into runs of bounded span, and arms each run with one
 * MMU-notifier invalidation (KVM zaps its NPT/EPT entries for the run)
 * and one TLB flush per mapping.  The next write faults again.  The cost
 * follows the dirty pages and how they cluster, not the region size; no
 * lock is held from one run to the next.  See
 * Documentation/dirty-logging.rst for why the re-arm is exact and
 * Documentation/performance.rst for where the time goes.
 */

#include <linux/bitmap.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/kvmmig.h>

#include "compat.h"
#include "dirty_ad.h"
#include "dirty_log.h"
#include "rearm.h"

/* Dirty pages re-armed between two reschedule points. */
#define KVMMIG_DIRTY_LOG_DEFAULT_BATCH	2048

/*
 * Dirty pages at most this far apart share a run.  The clean pages between
 * them lose their KVM mappings too (a read fault each, later) and cost the
 * walk of their PTEs and SPTEs, about as much per page as a run's fixed
 * cost divided by 32 on the test bed.
 */
#define KVMMIG_REARM_GAP		32

/*
 * The widest run.  A vCPU writing a page inside a run being write-protected
 * retries until the whole invalidation ends, so the span bounds that wait
 * whatever the region size; fewer, wider runs mean fewer invalidations,
 * each of which costs a TLB-flush IPI to every CPU running a vCPU and
 * retries every vCPU fault in flight.
 */
#define KVMMIG_REARM_SPAN		2048

static unsigned int rearm_span = KVMMIG_REARM_SPAN;
module_param(rearm_span, uint, 0644);
MODULE_PARM_DESC(rearm_span,
		 "Widest re-arm run in pages (tuning; default 2048)");

/*
 * Scattered dirty pages make one run each, and each run costs an
 * invalidation: a batch also ends after this many runs, or 2048 isolated
 * pages would go 8 ms without a reschedule point on the test bed.
 */
#define KVMMIG_BATCH_RUNS		64

static bool harvest_profile;
module_param(harvest_profile, bool, 0644);
MODULE_PARM_DESC(harvest_profile,
		 "Log where each harvest's time goes (debugging; slows harvests)");

/* Where one harvest's time went, with harvest_profile set. */
struct kvmmig_prof {
	u64 take, copy, wp, wp_max, resched;
	unsigned long runs, switches;
};

static inline u64 kvmmig_prof_now(const struct kvmmig_prof *prof)
{
	return prof ? ktime_get_ns() : 0;
}

int kvmmig_dirty_log_init(struct kvmmig_dirty_log *log, pgoff_t nr_pages)
{
	log->nr_pages = nr_pages;
	log->bitmap = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(unsigned long),
			       GFP_KERNEL_ACCOUNT);
	if (!log->bitmap)
		return -ENOMEM;
	init_rwsem(&log->lock);
	log->batch_pages = KVMMIG_DIRTY_LOG_DEFAULT_BATCH;
	return 0;
}

int kvmmig_dirty_log_size(struct kvmmig_dirty_log *log, pgoff_t nr_pages)
{
	unsigned long *bitmap;
	int ret = 0;

	bitmap = kvcalloc(BITS_TO_LONGS(nr_pages), sizeof(unsigned long),
			  GFP_KERNEL_ACCOUNT);
	if (!bitmap)
		return -ENOMEM;

	down_write(&log->lock);
	if (log->nr_pages || log->enabled ||
	    test_bit(KVMMIG_DIRTY_LOG_CLAIMED, &log->flags)) {
		ret = -EBUSY;
	} else {
		swap(log->bitmap, bitmap);
		log->nr_pages = nr_pages;
	}
	up_write(&log->lock);
	kvfree(bitmap);
	return ret;
}

void kvmmig_dirty_log_destroy(struct kvmmig_dirty_log *log)
{
	kvfree(log->bitmap);
}

static void kvmmig_stat_max(atomic64_t *max, s64 val)
{
	s64 old = atomic64_read(max);

	while (val > old && !atomic64_try_cmpxchg(max, &old, val))
		;
}

struct kvmmig_batch {
	u32 size;
	u32 done;
	u32 runs;
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
	b->runs = 0;
}

/* Arm one run, with its share of the harvest's profile. */
static void kvmmig_rearm_timed(struct kvmmig_rearm *ra,
			       const unsigned long *words, unsigned long base,
			       pgoff_t first, pgoff_t last,
			       struct kvmmig_prof *prof)
{
	u64 start = ktime_get_ns(), ns;

	kvmmig_rearm_run(ra, words, base, first, last);
	ns = ktime_get_ns() - start;
	kvmmig_stat_max(&ra->log->rearm_ns_max, ns);
	if (prof) {
		prof->wp += ns;
		prof->wp_max = max(prof->wp_max, ns);
		prof->runs++;
	}
}

static void kvmmig_resched(struct kvmmig_prof *prof)
{
	unsigned long sw;
	u64 t0;

	if (!prof) {
		cond_resched();
		return;
	}
	sw = current->nvcsw + current->nivcsw;
	t0 = ktime_get_ns();
	cond_resched();
	prof->resched += ktime_get_ns() - t0;
	prof->switches += current->nvcsw + current->nivcsw - sw;
}

/*
 * Re-arm the pages of @words (taken from bitmap word @w0 on).  Only set
 * bits are visited.  A run grows while the next dirty page is at most
 * KVMMIG_REARM_GAP pages on, the run stays within the span and
 * KVMMIG_REARM_MAX_PAGES dirty pages, and the batch is not full; after
 * batch_pages pages or KVMMIG_BATCH_RUNS runs the harvester reschedules.
 * No lock is held from one run to the next.
 */
static void kvmmig_rearm_words(struct kvmmig_rearm *ra,
			       const unsigned long *words, unsigned long nwords,
			       unsigned long w0, struct kvmmig_prof *prof)
{
	struct kvmmig_dirty_log *log = ra->log;
	struct kvmmig_batch b = { .size = READ_ONCE(log->batch_pages) };
	unsigned long nbits = nwords * BITS_PER_LONG, base = w0 * BITS_PER_LONG;
	unsigned long first, last, next, run;

	next = find_first_bit(words, nbits);
	while (next < nbits) {
		if (!b.done)
			b.start = ktime_get_ns();
		first = next;
		run = 0;
		do {
			last = next;
			b.done++;
			run++;
			next = find_next_bit(words, nbits, last + 1);
		} while (next < nbits && next - last <= KVMMIG_REARM_GAP + 1 &&
			 next - first < ra->span &&
			 run < KVMMIG_REARM_MAX_PAGES && b.done < b.size);
		kvmmig_rearm_timed(ra, words, base, base + first, base + last,
				   prof);
		if (b.done >= b.size || ++b.runs >= KVMMIG_BATCH_RUNS) {
			kvmmig_batch_end(log, &b);
			kvmmig_resched(prof);
		}
	}
	kvmmig_batch_end(log, &b);
}

static unsigned long kvmmig_rearm_span(void)
{
	return clamp(READ_ONCE(rearm_span), 1U, 1U << 20);
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
static int kvmmig_dirty_log_reset(struct kvmmig_dirty_log *log)
{
	unsigned long nwords = BITS_TO_LONGS(log->nr_pages);
	struct kvmmig_rearm ra;
	unsigned long *words;
	int ret;

	ret = kvmmig_rearm_init(&ra, log, kvmmig_rearm_span());
	if (ret)
		return ret;
	words = kvmalloc_array(nwords, sizeof(*words), GFP_KERNEL);
	if (!words) {
		kvmmig_rearm_destroy(&ra);
		return -ENOMEM;
	}
	kvmmig_take_words(log, words, nwords, 0);
	kvmmig_rearm_words(&ra, words, nwords, 0, NULL);
	kvfree(words);
	kvmmig_rearm_destroy(&ra);
	return 0;
}

/*
 * While a session holds the region, only the session's region fds (migd)
 * may drive its log: a harvest by the VMM would take bits the migration
 * needs and leave the destination stale.  Called with the log's lock.
 */
static int kvmmig_dirty_log_may_drive(struct kvmmig_dirty_log *log,
				      bool session_fd)
{
	if (!session_fd && test_bit(KVMMIG_DIRTY_LOG_CLAIMED, &log->flags))
		return -EBUSY;
	return 0;
}

int kvmmig_dirty_log_claim(struct kvmmig_dirty_log *log)
{
	int ret = 0;

	/* Under the lock: a harvest by the VMM in flight finishes first. */
	down_write(&log->lock);
	if (!log->nr_pages)
		ret = -EINVAL;
	else if (test_and_set_bit(KVMMIG_DIRTY_LOG_CLAIMED, &log->flags))
		ret = -EBUSY;
	up_write(&log->lock);
	return ret;
}

void kvmmig_dirty_log_unclaim(struct kvmmig_dirty_log *log)
{
	clear_bit(KVMMIG_DIRTY_LOG_CLAIMED, &log->flags);
}

static long kvmmig_dirty_log_enable(struct kvmmig_dirty_log *log,
				    void __user *argp, bool session_fd)
{
	struct kvmmig_dirty_log_enable args;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KVMMIG_DIRTY_LOG_FLAGS_ALL)
		return -EOPNOTSUPP;
	if (args.pad || memchr_inv(args.reserved, 0, sizeof(args.reserved)))
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

	down_write(&log->lock);
	ret = kvmmig_dirty_log_may_drive(log, session_fd);
	if (ret)
		goto out;
	if (log->enabled) {
		ret = -EBUSY;
		goto out;
	}
	WRITE_ONCE(log->batch_pages, args.batch_pages ?:
		   KVMMIG_DIRTY_LOG_DEFAULT_BATCH);
	if (args.mode == KVMMIG_DIRTY_MODE_AD) {
		ret = kvmmig_dirty_ad_enable(log);
		if (ret)
			goto out;
		if (args.flags & KVMMIG_DIRTY_LOG_F_INITIALLY_SET)
			bitmap_set(log->bitmap, 0, log->nr_pages);
		WRITE_ONCE(log->mode, args.mode);
		WRITE_ONCE(log->enabled, true);
		goto out;
	}
	ret = kvmmig_dirty_ad_disarm(log);
	if (ret)
		goto out;
	WRITE_ONCE(log->mode, args.mode);
	if (args.flags & KVMMIG_DIRTY_LOG_F_INITIALLY_SET) {
		/* Every page is reported once; no write-protection needed. */
		bitmap_set(log->bitmap, 0, log->nr_pages);
		ret = 0;
	} else {
		ret = kvmmig_dirty_log_reset(log);
	}
	if (!ret)
		WRITE_ONCE(log->enabled, true);
out:
	up_write(&log->lock);
	return ret;
}

static long kvmmig_dirty_log_disable(struct kvmmig_dirty_log *log,
				     void __user *argp, bool session_fd)
{
	struct kvmmig_dirty_log_disable args;
	int ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags)
		return -EOPNOTSUPP;
	if (args.pad || memchr_inv(args.reserved, 0, sizeof(args.reserved)))
		return -EINVAL;

	down_write(&log->lock);
	ret = kvmmig_dirty_log_may_drive(log, session_fd);
	if (ret)
		goto out;
	if (!log->enabled) {
		ret = -ENOENT;
		goto out;
	}
	/* Pages stay write-protected until written, whatever the mode was. */
	ret = kvmmig_dirty_ad_disarm(log);
	if (!ret)
		WRITE_ONCE(log->enabled, false);
out:
	up_write(&log->lock);
	return ret;
}

static int kvmmig_harvest_check(struct kvmmig_dirty_log *log,
				const struct kvmmig_dirty_log_harvest *h)
{
	u64 nr_pages = log->nr_pages;

	if (h->flags)
		return -EOPNOTSUPP;
	if (h->pad || memchr_inv(h->reserved, 0, sizeof(h->reserved)))
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

/*
 * Take, report and re-arm, with the log's lock held shared: harvests run
 * side by side, enable and disable wait for them.
 */
static int kvmmig_harvest_locked(struct kvmmig_dirty_log *log,
				 struct kvmmig_dirty_log_harvest *h,
				 void __user *argp, unsigned long *words,
				 struct kvmmig_rearm *ra,
				 struct kvmmig_prof *prof)
{
	unsigned long nwords = DIV_ROUND_UP(h->num_pages, 64);
	unsigned long w0 = h->first_page / 64, nr;
	bool rearm = true;
	u64 t0;

	if (!log->enabled)
		return -ENOENT;

	t0 = kvmmig_prof_now(prof);
	nr = kvmmig_take_words(log, words, nwords, w0);
	/* A/D mode cleans PTE dirty bits before the report, not after. */
	if (READ_ONCE(log->mode) == KVMMIG_DIRTY_MODE_AD) {
		rearm = false;
		kvmmig_dirty_ad_collect(log, words, nwords, w0);
		nr = bitmap_weight(words, h->num_pages);
	}
	h->nr_dirty = nr;
	if (prof) {
		prof->take = ktime_get_ns() - t0;
		t0 = ktime_get_ns();
	}
	if (copy_to_user(u64_to_user_ptr(h->bitmap), words,
			 nwords * sizeof(*words)) ||
	    copy_to_user(argp, h, sizeof(*h))) {
		kvmmig_return_words(log, words, nwords, w0);
		return -EFAULT;
	}
	if (prof)
		prof->copy = ktime_get_ns() - t0;

	/*
	 * Re-arm after the copy: a write landing between the xchg and the
	 * re-arm of its page is already covered by this report.
	 */
	if (rearm)
		kvmmig_rearm_words(ra, words, nwords, w0, prof);
	return 0;
}

static long kvmmig_dirty_log_harvest(struct kvmmig_dirty_log *log,
				     void __user *argp, bool session_fd)
{
	struct kvmmig_prof prof_buf = {}, *prof = NULL;
	struct kvmmig_dirty_log_harvest h;
	u64 start = ktime_get_ns();
	struct kvmmig_rearm ra;
	unsigned long *words;
	int ret;

	BUILD_BUG_ON(BITS_PER_LONG != 64);

	if (copy_from_user(&h, argp, sizeof(h)))
		return -EFAULT;
	ret = kvmmig_harvest_check(log, &h);
	if (ret)
		return ret;

	words = kvmalloc_array(DIV_ROUND_UP(h.num_pages, 64), sizeof(*words),
			       GFP_KERNEL);
	if (!words)
		return -ENOMEM;
	ret = kvmmig_rearm_init(&ra, log, kvmmig_rearm_span());
	if (ret)
		goto out_words;
	if (READ_ONCE(harvest_profile))
		prof = &prof_buf;

	ret = down_read_killable(&log->lock);
	if (ret)
		goto out_rearm;
	ret = kvmmig_dirty_log_may_drive(log, session_fd);
	if (!ret)
		ret = kvmmig_harvest_locked(log, &h, argp, words, &ra, prof);
	up_read(&log->lock);
	if (ret)
		goto out_rearm;

	atomic64_inc(&log->harvests);
	atomic64_add(h.nr_dirty, &log->pages_reported);
	start = ktime_get_ns() - start;
	atomic64_add(start, &log->harvest_ns_total);
	kvmmig_stat_max(&log->harvest_ns_max, start);
	if (prof)
		pr_info("harvest profile: pages %llu dirty %llu ns: total %llu take %llu copy %llu arm %llu in %lu runs (max %llu) resched %llu (%lu switches); armed alone %lu, kept %lu, LRU drains %lu\n",
			h.num_pages, h.nr_dirty, start, prof->take, prof->copy,
			prof->wp, prof->runs, prof->wp_max,
			prof->resched, prof->switches, ra.busy, ra.kept,
			ra.drains);
out_rearm:
	kvmmig_rearm_destroy(&ra);
out_words:
	kvfree(words);
	return ret;
}

static long kvmmig_dirty_log_stats(struct kvmmig_dirty_log *log,
				   void __user *argp)
{
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

void kvmmig_dirty_log_info(struct kvmmig_dirty_log *log,
			   struct kvmmig_dirty_log_info *info)
{
	info->enabled = READ_ONCE(log->enabled);
	info->mode = READ_ONCE(log->mode);
	info->harvests = atomic64_read(&log->harvests);
	info->pages_reported = atomic64_read(&log->pages_reported);
	info->write_faults = atomic64_read(&log->write_faults);
	info->batch_ns_max = atomic64_read(&log->batch_ns_max);
	info->harvest_ns_max = atomic64_read(&log->harvest_ns_max);
}

long kvmmig_dirty_log_ioctl(struct kvmmig_dirty_log *log, unsigned int cmd,
			    void __user *argp, bool session_fd)
{
	switch (cmd) {
	case KVMMIG_DIRTY_LOG_ENABLE:
		return kvmmig_dirty_log_enable(log, argp, session_fd);
	case KVMMIG_DIRTY_LOG_DISABLE:
		return kvmmig_dirty_log_disable(log, argp, session_fd);
	case KVMMIG_DIRTY_LOG_HARVEST:
		return kvmmig_dirty_log_harvest(log, argp, session_fd);
	case KVMMIG_DIRTY_LOG_STATS:
		return kvmmig_dirty_log_stats(log, argp);
	default:
		return -ENOTTY;
	}
}
