// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking a VMM could do for memory its own threads write, with no
 * KVM involved: PAGEMAP_SCAN over userfaultfd async write-protection, and
 * soft-dirty bits (/proc/self/clear_refs plus /proc/self/pagemap).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

/* From linux/fs.h of 6.7 and later; the build machine's headers are older. */
#ifndef PAGEMAP_SCAN
#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_UNPOPULATED	(1 << 13)
#define UFFD_FEATURE_WP_ASYNC		(1 << 15)
#endif

#define SCAN_VEC	4096

struct scan {
	int uffd;
	int pagemap;
	struct page_region vec[SCAN_VEC];
};

static int scan_arm(struct bench_ctx *ctx)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED,
	};
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)ctx->mem, .len = ctx->size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct uffdio_writeprotect wp = {
		.range = reg.range,
		.mode = UFFDIO_WRITEPROTECT_MODE_WP,
	};
	struct scan *scan;
	int ret;

	scan = calloc(1, sizeof(*scan));
	if (!scan)
		return -ENOMEM;
	scan->pagemap = -1;
	scan->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (scan->uffd < 0) {
		ret = -errno;
		goto err_free;
	}
	if (ioctl(scan->uffd, UFFDIO_API, &api) ||
	    ioctl(scan->uffd, UFFDIO_REGISTER, &reg) ||
	    ioctl(scan->uffd, UFFDIO_WRITEPROTECT, &wp)) {
		ret = errno == EINVAL ? -EOPNOTSUPP : -errno;
		goto err_close;
	}
	scan->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (scan->pagemap < 0) {
		ret = -errno;
		goto err_close;
	}
	ctx->priv = scan;
	return 0;

err_close:
	close(scan->uffd);
err_free:
	free(scan);
	return ret;
}

static int scan_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	struct scan *scan = ctx->priv;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)ctx->mem,
		.end = (uintptr_t)ctx->mem + ctx->size,
		.vec = (uintptr_t)scan->vec,
		.vec_len = SCAN_VEC,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	uint64_t n = 0;
	long i, ret;

	/* A full vector stops the walk at walk_end: go on from there. */
	while (arg.start < arg.end) {
		ret = ioctl(scan->pagemap, PAGEMAP_SCAN, &arg);
		if (ret < 0)
			return -errno;
		for (i = 0; i < ret; i++)
			n += (scan->vec[i].end - scan->vec[i].start) / VMM_PAGE_SIZE;
		arg.start = arg.walk_end;
	}
	*dirty = n;
	return 0;
}

static void scan_teardown(struct bench_ctx *ctx)
{
	struct scan *scan = ctx->priv;

	if (!scan)
		return;
	close(scan->pagemap);
	close(scan->uffd);
	free(scan);
	ctx->priv = NULL;
}

struct soft_dirty {
	int clear_refs;
	int pagemap;
	uint64_t *entries;
};

static int soft_dirty_clear(struct soft_dirty *sd)
{
	return pwrite(sd->clear_refs, "4", 1, 0) == 1 ? 0 : -errno;
}

static int soft_dirty_arm(struct bench_ctx *ctx)
{
	struct soft_dirty *sd;
	int ret;

	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->entries = malloc(ctx->npages * sizeof(uint64_t));
	sd->clear_refs = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	sd->pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!sd->entries || sd->clear_refs < 0 || sd->pagemap < 0) {
		ret = sd->entries ? -errno : -ENOMEM;
		goto err;
	}
	ret = soft_dirty_clear(sd);
	if (ret)
		goto err;
	ctx->priv = sd;
	return 0;
err:
	if (sd->clear_refs >= 0)
		close(sd->clear_refs);
	if (sd->pagemap >= 0)
		close(sd->pagemap);
	free(sd->entries);
	free(sd);
	return ret;
}

static int soft_dirty_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	struct soft_dirty *sd = ctx->priv;
	off_t off = (uintptr_t)ctx->mem / VMM_PAGE_SIZE * sizeof(uint64_t);
	size_t len = ctx->npages * sizeof(uint64_t);
	uint64_t n = 0;
	size_t i;

	if (pread(sd->pagemap, sd->entries, len, off) != (ssize_t)len)
		return -EIO;
	for (i = 0; i < ctx->npages; i++)
		n += (sd->entries[i] >> 55) & 1;
	*dirty = n;
	/* Soft-dirty clears the whole process's bits, not a range. */
	return soft_dirty_clear(sd);
}

static void soft_dirty_teardown(struct bench_ctx *ctx)
{
	struct soft_dirty *sd = ctx->priv;

	if (!sd)
		return;
	close(sd->clear_refs);
	close(sd->pagemap);
	free(sd->entries);
	free(sd);
	ctx->priv = NULL;
}

const struct bench_method bench_host_methods[] = {
	{
		.name = "pagemap-scan-uffd-wp", .peer = true,
		.arm = scan_arm, .harvest = scan_harvest,
		.teardown = scan_teardown,
	},
	{
		.name = "soft-dirty", .peer = true,
		.arm = soft_dirty_arm, .harvest = soft_dirty_harvest,
		.teardown = soft_dirty_teardown,
	},
};
const int bench_nr_host_methods = sizeof(bench_host_methods) / sizeof(bench_host_methods[0]);
