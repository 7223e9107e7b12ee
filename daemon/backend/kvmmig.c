// SPDX-License-Identifier: GPL-2.0
/*
 * kvmmig region backend (see kvmmig.h and
 * Documentation/dirty-logging.rst for the ioctls): the same code serves
 * an inherited region fd and the fds KVMMIG_OPEN_SESSION_REGION gives.
 *
 * Tracking is enabled without INITIALLY_SET: the engine sends every page
 * in its first round anyway, so the first harvest should report only the
 * pages written since logging started.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvmmig.h>

#include "common/io.h"
#include "common/log.h"
#include "common/zero.h"
#include "kvmmig.h"

/* Harvest in slices: a bounded bitmap, and the kernel reschedules anyway. */
#define HARVEST_SLICE	(1ull << 20)	/* pages: 4 GiB, a 128 KiB bitmap */

struct kvmmig_region {
	int fd;
	bool own_fd;		/* opened by migd (a session's), closed with it */
	bool tracking;
	uint64_t *slice;
	/*
	 * Destination: what each page may hold.  @written: data this
	 * migration stored.  @unchecked: whatever the region held before
	 * the migration, not looked at yet.  A page in neither is zero.
	 */
	uint64_t *written;
	uint64_t *unchecked;
	uint8_t *scratch;	/* ZERO_CHUNK bytes: pages read back */
};

/*
 * Zero pages are written from, and pages are read back into, buffers of
 * this size, many pages per call.
 */
#define ZERO_CHUNK	(64u << 10)

/*
 * Zeros are written from their own buffer, never from @scratch: a check
 * zeroes pages while the rest of its chunk is still to be looked at there.
 */
static const uint8_t zeros[ZERO_CHUNK];

bool migd_kvmmig_is_region(int fd)
{
	struct kvmmig_dirty_log_stats st = { 0 };

	return !ioctl(fd, KVMMIG_DIRTY_LOG_STATS, &st);
}

static int track_start(struct migd_region *r)
{
	struct kvmmig_region *k = r->priv;
	struct kvmmig_dirty_log_enable en = { .mode = KVMMIG_DIRTY_MODE_WRPROT };

	if (ioctl(k->fd, KVMMIG_DIRTY_LOG_ENABLE, &en))
		return errno == EBUSY ? -EBUSY : -errno;
	k->tracking = true;
	return 0;
}

static void track_stop(struct migd_region *r)
{
	struct kvmmig_region *k = r->priv;
	struct kvmmig_dirty_log_disable dis = { 0 };

	if (k->tracking && ioctl(k->fd, KVMMIG_DIRTY_LOG_DISABLE, &dis))
		pr_warn("%s: disabling the dirty log: %s", r->path, strerror(errno));
	k->tracking = false;
}

static int harvest(struct migd_region *r, uint64_t first, uint64_t n,
		   uint64_t *bitmap, uint64_t *nr_dirty)
{
	struct kvmmig_region *k = r->priv;
	uint64_t done = 0;

	*nr_dirty = 0;
	while (done < n) {
		uint64_t len = n - done > HARVEST_SLICE ? HARVEST_SLICE : n - done;
		struct kvmmig_dirty_log_harvest h = {
			.first_page = first + done,
			.num_pages = len,
			.bitmap = (uintptr_t)k->slice,
		};
		uint64_t *out = bitmap + done / 64;

		if (ioctl(k->fd, KVMMIG_DIRTY_LOG_HARVEST, &h))
			return -errno;
		/* OR in: the caller may still hold bits of an earlier harvest. */
		for (uint64_t w = 0; w < (len + 63) / 64; w++) {
			*nr_dirty += __builtin_popcountll(k->slice[w] & ~out[w]);
			out[w] |= k->slice[w];
		}
		done += len;
	}
	return 0;
}

static int read_pages(struct migd_region *r, uint64_t first, uint64_t n, void *buf)
{
	struct kvmmig_region *k = r->priv;

	return migd_pread_full(k->fd, buf, n * r->page_size, (off_t)(first * r->page_size));
}

/*
 * A region page never touched reads as zeros and takes no memory, so a
 * zero page that arrives is stored only where the region may hold
 * something else: data this migration wrote there, or what the VMM left
 * in the region before the migration (checked by reading it back, which
 * allocates nothing).  A mostly empty guest then allocates only its
 * non-zero pages here.
 */
static int prepare(struct migd_region *r, uint64_t npages)
{
	struct kvmmig_region *k = r->priv;
	size_t words = (npages + 63) / 64;

	/* The VMM made the region; it must be the source's size. */
	if (npages != r->npages)
		return -EMSGSIZE;
	k->written = calloc(words, 8);
	k->unchecked = malloc(words * 8);
	k->scratch = calloc(1, ZERO_CHUNK);
	if (!k->written || !k->unchecked || !k->scratch)
		return -ENOMEM;
	memset(k->unchecked, 0xff, words * 8);
	return 0;
}

static bool test_bit(const uint64_t *map, uint64_t i)
{
	return map[i / 64] & (1ull << (i % 64));
}

static void set_bits(uint64_t *map, uint64_t first, uint64_t n, bool on)
{
	for (uint64_t i = first; i < first + n; i++) {
		if (on)
			map[i / 64] |= 1ull << (i % 64);
		else
			map[i / 64] &= ~(1ull << (i % 64));
	}
}

/* Writes zeros over pages [first, first + n), ZERO_CHUNK at a time. */
static int zero_pages(struct migd_region *r, uint64_t first, uint64_t n)
{
	struct kvmmig_region *k = r->priv;
	uint64_t per = ZERO_CHUNK / r->page_size;

	while (n) {
		uint64_t c = n < per ? n : per;
		int ret = migd_pwrite_full(k->fd, zeros, c * r->page_size,
					   (off_t)(first * r->page_size));

		if (ret)
			return ret;
		first += c;
		n -= c;
	}
	return 0;
}

/*
 * Pages [first, first + n) still hold what the VMM left: read them back
 * and write zeros over those that are not zero.
 */
static int check_pages(struct migd_region *r, uint64_t first, uint64_t n)
{
	struct kvmmig_region *k = r->priv;
	uint64_t per = ZERO_CHUNK / r->page_size;

	while (n) {
		uint64_t c = n < per ? n : per;
		int ret = read_pages(r, first, c, k->scratch);

		if (ret)
			return ret;
		for (uint64_t i = 0; i < c; i++) {
			if (migd_is_zero(k->scratch + i * r->page_size, r->page_size))
				continue;
			ret = zero_pages(r, first + i, 1);
			if (ret)
				return ret;
		}
		first += c;
		n -= c;
	}
	return 0;
}

/* Pages [first, first + n) arrived all zero. */
static int write_zero(struct migd_region *r, uint64_t first, uint64_t n)
{
	struct kvmmig_region *k = r->priv;
	uint64_t end = first + n;

	while (first < end) {
		bool w = test_bit(k->written, first);
		bool u = !w && test_bit(k->unchecked, first);
		uint64_t run = 1;
		int ret = 0;

		while (first + run < end && test_bit(k->written, first + run) == w &&
		       (w || test_bit(k->unchecked, first + run) == u))
			run++;
		if (w)
			ret = zero_pages(r, first, run);
		else if (u)
			ret = check_pages(r, first, run);
		if (ret)
			return ret;
		set_bits(k->written, first, run, false);
		set_bits(k->unchecked, first, run, false);
		first += run;
	}
	return 0;
}

static int write_pages(struct migd_region *r, uint64_t first, uint64_t n,
		       const void *buf)
{
	struct kvmmig_region *k = r->priv;
	int ret;

	if (!buf)
		return write_zero(r, first, n);
	ret = migd_pwrite_full(k->fd, buf, n * r->page_size, (off_t)(first * r->page_size));
	if (ret)
		return ret;
	set_bits(k->written, first, n, true);
	set_bits(k->unchecked, first, n, false);
	return 0;
}

static int commit(struct migd_region *r)
{
	(void)r;
	return 0;
}

static void discard(struct migd_region *r)
{
	/*
	 * The VMM owns the region and drops it: told by the session's
	 * ABORTED state, or by migd's exit status for an inherited fd.
	 */
	(void)r;
}

static void kvmmig_close(struct migd_region *r)
{
	struct kvmmig_region *k = r->priv;

	if (!k)
		return;
	if (k->tracking)
		track_stop(r);
	if (k->own_fd)
		close(k->fd);
	free(k->slice);
	free(k->written);
	free(k->unchecked);
	free(k->scratch);
	free(k);
	r->priv = NULL;
}

static const struct migd_region_ops kvmmig_source_ops = {
	.track_start = track_start,
	.track_stop = track_stop,
	.harvest = harvest,
	.read_pages = read_pages,
	.close = kvmmig_close,
};

static const struct migd_region_ops kvmmig_dest_ops = {
	.prepare = prepare,
	.write_pages = write_pages,
	.commit = commit,
	.discard = discard,
	.close = kvmmig_close,
};

int migd_kvmmig_attach(struct migd_region *r, int fd, uint64_t size, bool source,
		       bool own_fd)
{
	struct kvmmig_region *k;

	if (!size || size % KVMMIG_PAGE_SIZE)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->fd = fd;
	k->own_fd = own_fd;
	if (source) {
		k->slice = calloc(HARVEST_SLICE / 64, 8);
		if (!k->slice) {
			free(k);
			return -ENOMEM;
		}
	}
	r->ops = source ? &kvmmig_source_ops : &kvmmig_dest_ops;
	r->page_size = KVMMIG_PAGE_SIZE;
	r->npages = size / KVMMIG_PAGE_SIZE;
	r->priv = k;
	return 0;
}

static int open_inherited(struct migd_region *r, int fd, bool source)
{
	struct stat st;

	if (!migd_kvmmig_is_region(fd))
		return errno == ENOTTY ? -ENOTTY : -errno;
	if (fstat(fd, &st))
		return -errno;
	return migd_kvmmig_attach(r, fd, st.st_size, source, false);
}

int migd_kvmmig_open_source(struct migd_region *r, int fd)
{
	return open_inherited(r, fd, true);
}

int migd_kvmmig_open_dest(struct migd_region *r, int fd)
{
	return open_inherited(r, fd, false);
}
