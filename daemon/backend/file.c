// SPDX-License-Identifier: GPL-2.0
/*
 * File-backed regions (see file.h).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/io.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "dirtylog.h"
#include "file.h"

struct file_region {
	int fd;
	/* Source */
	struct migd_dirtylog log;
	bool have_log;
	bool all_dirty;			/* the next harvest reports every page */
	/* Destination */
	struct migd_tmpfile tmp;
	uint64_t *written;		/* pages that may be non-zero */
};

/* ---------------------------------------------------------------------- */
/* Source */

static int src_track_start(struct migd_region *r)
{
	struct file_region *f = r->priv;
	uint64_t *scratch;

	if (!f->have_log)
		return 0;
	/* Old marks are from before the first pass, which sends everything. */
	scratch = calloc((r->npages + 63) / 64, 8);
	if (!scratch)
		return -ENOMEM;
	migd_dirtylog_harvest(&f->log, 0, r->npages, scratch);
	free(scratch);
	return 0;
}

static void src_track_stop(struct migd_region *r)
{
	(void)r;
}

static int src_harvest(struct migd_region *r, uint64_t first, uint64_t n,
		       uint64_t *bitmap, uint64_t *nr_dirty)
{
	struct file_region *f = r->priv;

	*nr_dirty = f->have_log ? migd_dirtylog_harvest(&f->log, first, n, bitmap) : 0;
	if (!f->all_dirty)
		return 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!(bitmap[i / 64] & (1ull << (i % 64))))
			(*nr_dirty)++;
		bitmap[i / 64] |= 1ull << (i % 64);
	}
	f->all_dirty = false;
	return 0;
}

void migd_file_dirty_all(struct migd_region *r)
{
	struct file_region *f = r->priv;

	f->all_dirty = true;
}

static int src_read_pages(struct migd_region *r, uint64_t first, uint64_t n,
			  void *buf)
{
	struct file_region *f = r->priv;

	return migd_pread_full(f->fd, buf, n * r->page_size, first * r->page_size);
}

static void file_close(struct migd_region *r)
{
	struct file_region *f = r->priv;

	if (!f)
		return;
	if (f->have_log)
		migd_dirtylog_close(&f->log);
	migd_tmpfile_close(&f->tmp);
	if (f->fd >= 0)
		close(f->fd);
	free(f->written);
	free(f);
	r->priv = NULL;
}

static const struct migd_region_ops file_source_ops = {
	.track_start = src_track_start,
	.track_stop = src_track_stop,
	.harvest = src_harvest,
	.read_pages = src_read_pages,
	.close = file_close,
};

static int vm_pause(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	return migd_dirtylog_pause(opaque, timeout_ms, check, arg);
}

static void vm_resume(void *opaque)
{
	migd_dirtylog_set_state(opaque, MIGD_VM_RUNNING);
}

static void vm_handed_over(void *opaque)
{
	migd_dirtylog_set_state(opaque, MIGD_VM_HANDED_OVER);
}

int migd_file_open_source(struct migd_region *r, const char *path,
			  uint32_t page_size, struct migd_vm_ops *vm)
{
	char log_path[PATH_MAX];
	struct file_region *f;
	struct stat st;
	int ret;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->tmp.fd = -1;
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		pr_err("%s: %s", path, strerror(-ret));
		goto err;
	}
	if (fstat(f->fd, &st)) {
		ret = -errno;
		pr_err("%s: %s", path, strerror(-ret));
		goto err;
	}
	ret = -EINVAL;
	if (!st.st_size || st.st_size % page_size) {
		pr_err("%s: size %jd is not a non-zero multiple of the page size %" PRIu32,
		       path, (intmax_t)st.st_size, page_size);
		goto err;
	}
	r->npages = st.st_size / page_size;
	r->page_size = page_size;

	if (snprintf(log_path, sizeof(log_path), "%s.dirty", path) >= (int)sizeof(log_path)) {
		ret = -ENAMETOOLONG;
		goto err;
	}
	ret = migd_dirtylog_open(&f->log, log_path);
	if (!ret) {
		if (f->log.npages != r->npages || f->log.hdr->page_size != page_size) {
			pr_err("%s: dirty log is for %" PRIu64 " pages of %" PRIu32
			       " bytes, the file has %" PRIu64, log_path, f->log.npages,
			       f->log.hdr->page_size, r->npages);
			migd_dirtylog_close(&f->log);
			ret = -EINVAL;
			goto err;
		}
		f->have_log = true;
		if (vm && !vm->pause) {
			vm->pause = vm_pause;
			vm->resume = vm_resume;
			vm->handed_over = vm_handed_over;
			vm->opaque = &f->log;
		}
		pr_debug("%s: dirty log %s", path, log_path);
	} else if (ret != -ENOENT) {
		pr_err("%s: %s", log_path, ret == -EINVAL ? "not a migd dirty log" : strerror(-ret));
		goto err;
	} else {
		pr_debug("%s: no dirty log, the file is taken as unchanging", path);
	}
	r->ops = &file_source_ops;
	r->path = path;
	r->priv = f;
	return 0;
err:
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Destination */

static int dst_prepare(struct migd_region *r, uint64_t npages)
{
	struct file_region *f = r->priv;
	int ret;

	if (npages > (uint64_t)INT64_MAX / r->page_size)
		return -EFBIG;
	ret = migd_tmpfile_open(&f->tmp, r->path);
	if (ret)
		return ret;
	if (ftruncate(f->tmp.fd, (off_t)(npages * r->page_size)))
		return -errno;
	f->written = calloc((npages + 63) / 64, 8);
	if (!f->written)
		return -ENOMEM;
	r->npages = npages;
	return 0;
}

static int dst_write_pages(struct migd_region *r, uint64_t first, uint64_t n,
			   const void *buf)
{
	static const char zero[4096];
	struct file_region *f = r->priv;
	off_t off = first * r->page_size;
	uint64_t i;
	int ret;

	if (buf) {
		for (i = first; i < first + n; i++)
			f->written[i / 64] |= 1ull << (i % 64);
		return migd_pwrite_full(f->tmp.fd, buf, n * r->page_size, off);
	}
	/* Zero: a page never written is zero already (the file was sparse). */
	for (i = first; i < first + n; i++) {
		if (!(f->written[i / 64] & (1ull << (i % 64))))
			continue;
		off = i * r->page_size;
		if (!fallocate(f->tmp.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       off, r->page_size))
			goto cleared;
		for (uint32_t o = 0; o < r->page_size; o += sizeof(zero)) {
			ret = migd_pwrite_full(f->tmp.fd, zero, sizeof(zero), off + o);
			if (ret)
				return ret;
		}
cleared:
		f->written[i / 64] &= ~(1ull << (i % 64));
	}
	return 0;
}

static int dst_commit(struct migd_region *r)
{
	struct file_region *f = r->priv;

	return migd_tmpfile_commit(&f->tmp);
}

static void dst_discard(struct migd_region *r)
{
	struct file_region *f = r->priv;

	migd_tmpfile_close(&f->tmp);
}

static const struct migd_region_ops file_dest_ops = {
	.prepare = dst_prepare,
	.write_pages = dst_write_pages,
	.commit = dst_commit,
	.discard = dst_discard,
	.close = file_close,
};

int migd_file_open_dest(struct migd_region *r, const char *path,
			uint32_t page_size)
{
	struct file_region *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->fd = -1;
	f->tmp.fd = -1;
	r->ops = &file_dest_ops;
	r->path = path;
	r->page_size = page_size;
	r->npages = 0;
	r->priv = f;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Destination, in place */

static int inplace_prepare(struct migd_region *r, uint64_t npages)
{
	/* The VMM made the file; it must be the source's size. */
	return npages == r->npages ? 0 : -EMSGSIZE;
}

/*
 * Zero pages are stored always: what the file held before is not known.
 * A hole costs nothing and reads as zeros through the VMM's mapping too.
 */
static int inplace_write_pages(struct migd_region *r, uint64_t first, uint64_t n,
			       const void *buf)
{
	static const char zero[64 << 10];
	struct file_region *f = r->priv;
	off_t off = first * r->page_size, len = n * r->page_size;
	int ret;

	if (buf)
		return migd_pwrite_full(f->fd, buf, len, off);
	if (!fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
		return 0;
	while (len) {
		size_t c = len < (off_t)sizeof(zero) ? (size_t)len : sizeof(zero);

		ret = migd_pwrite_full(f->fd, zero, c, off);
		if (ret)
			return ret;
		off += c;
		len -= c;
	}
	return 0;
}

static int inplace_commit(struct migd_region *r)
{
	(void)r;
	/* The VMM maps the same page cache: the pages are visible already. */
	return 0;
}

static void inplace_discard(struct migd_region *r)
{
	/* Half a guest stays in the file: the VMM must not run it (file.h). */
	(void)r;
}

static const struct migd_region_ops file_inplace_ops = {
	.prepare = inplace_prepare,
	.write_pages = inplace_write_pages,
	.commit = inplace_commit,
	.discard = inplace_discard,
	.close = file_close,
};

int migd_file_open_inplace(struct migd_region *r, const char *path,
			   uint32_t page_size)
{
	struct file_region *f = calloc(1, sizeof(*f));
	struct stat st;
	int ret;

	if (!f)
		return -ENOMEM;
	f->tmp.fd = -1;
	f->fd = open(path, O_RDWR | O_CLOEXEC);
	if (f->fd < 0 || fstat(f->fd, &st)) {
		ret = -errno;
		pr_err("%s: %s", path, strerror(-ret));
		goto err;
	}
	if (!st.st_size || st.st_size % page_size) {
		pr_err("%s: size %jd is not a non-zero multiple of the page size %" PRIu32,
		       path, (intmax_t)st.st_size, page_size);
		ret = -EINVAL;
		goto err;
	}
	r->ops = &file_inplace_ops;
	r->path = path;
	r->page_size = page_size;
	r->npages = st.st_size / page_size;
	r->priv = f;
	return 0;
err:
	if (f->fd >= 0)
		close(f->fd);
	free(f);
	return ret;
}
