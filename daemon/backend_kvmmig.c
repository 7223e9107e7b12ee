// SPDX-License-Identifier: GPL-2.0
/*
 * kvmmig region backend (see backend_kvmmig.h and
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

#include "backend_kvmmig.h"
#include "log.h"

/* Harvest in slices: a bounded bitmap, and the kernel reschedules anyway. */
#define HARVEST_SLICE	(1ull << 20)	/* pages: 4 GiB, a 128 KiB bitmap */

struct kvmmig_region {
	int fd;
	bool own_fd;		/* opened by migd (a session's), closed with it */
	bool tracking;
	uint64_t *slice;
};

/* Zero pages are written from this, many pages per pwrite. */
#define ZERO_CHUNK	(64u << 10)

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
	size_t len = n * r->page_size;
	off_t off = first * r->page_size;
	char *p = buf;

	while (len) {
		ssize_t got = pread(k->fd, p, len, off);

		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!got)
			return -ENODATA;
		p += got;
		len -= got;
		off += got;
	}
	return 0;
}

static int prepare(struct migd_region *r, uint64_t npages)
{
	/* The VMM made the region; it must be the source's size. */
	if (npages != r->npages)
		return -EMSGSIZE;
	return 0;
}

static int write_pages(struct migd_region *r, uint64_t first, uint64_t n,
		       const void *buf)
{
	static const char zero[ZERO_CHUNK];
	struct kvmmig_region *k = r->priv;
	off_t off = first * r->page_size;
	size_t len = n * r->page_size;
	const char *p = buf;

	while (len) {
		size_t chunk = buf || len < sizeof(zero) ? len : sizeof(zero);
		ssize_t put = pwrite(k->fd, buf ? p : zero, chunk, off);

		if (put < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += put;
		len -= put;
		off += put;
	}
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
