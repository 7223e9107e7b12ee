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
	return 0;
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
