// SPDX-License-Identifier: GPL-2.0
/*
 * kvmmig's own dirty logging on a region: rmap write-protection with the
 * default batch and two others (guest writer), the default again with a
 * host thread as the writer (no secondary MMU), and A/D-bit harvesting
 * (host writer: the mode is refused where KVM maps the region).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"
#include <linux/kvmmig.h>

struct region {
	int dev;
	int fd;
};

static void *region_map(struct bench_ctx *ctx, size_t size)
{
	struct kvmmig_create_region create = { .size = size };
	struct region *r;
	void *p;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	strcpy(create.name, "dirty_bench");
	r->dev = open("/dev/kvmmig", O_RDWR | O_CLOEXEC);
	if (r->dev < 0)
		goto err_free;
	r->fd = ioctl(r->dev, KVMMIG_CREATE_REGION, &create);
	if (r->fd < 0)
		goto err_close_dev;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED)
		goto err_close_fd;
	ctx->priv = r;
	return p;

err_close_fd:
	close(r->fd);
err_close_dev:
	close(r->dev);
err_free:
	free(r);
	return NULL;
}

static int enable(struct bench_ctx *ctx, uint32_t mode)
{
	struct region *r = ctx->priv;
	struct kvmmig_dirty_log_enable en = {
		.mode = mode,
		.batch_pages = ctx->m->param,
	};

	return ioctl(r->fd, KVMMIG_DIRTY_LOG_ENABLE, &en) ? -errno : 0;
}

static int wrprot_arm(struct bench_ctx *ctx)
{
	return enable(ctx, KVMMIG_DIRTY_MODE_WRPROT);
}

/*
 * A/D mode is refused (EXDEV) where an mm with MMU-notifier subscribers
 * maps the region; host-writer methods measure in a child that never had
 * a KVM VM (dirty_bench.c), so here it applies.
 */
static int ad_arm(struct bench_ctx *ctx)
{
	return enable(ctx, KVMMIG_DIRTY_MODE_AD);
}

static int region_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	struct region *r = ctx->priv;
	struct kvmmig_dirty_log_harvest h = {
		.first_page = 0,
		.num_pages = ctx->npages,
		.bitmap = (uintptr_t)ctx->bitmap,
	};

	if (ioctl(r->fd, KVMMIG_DIRTY_LOG_HARVEST, &h))
		return -errno;
	*dirty = h.nr_dirty;
	return 0;
}

static void region_teardown(struct bench_ctx *ctx)
{
	struct region *r = ctx->priv;

	if (!r)
		return;
	close(r->fd);
	close(r->dev);
	free(r);
	ctx->priv = NULL;
}

const struct bench_method bench_kvmmig_methods[] = {
	{
		.name = "kvmmig-wrprot", .guest = true,
		.map = region_map, .arm = wrprot_arm,
		.harvest = region_harvest, .teardown = region_teardown,
	},
	{
		.name = "kvmmig-wrprot-batch64", .guest = true, .param = 64,
		.map = region_map, .arm = wrprot_arm,
		.harvest = region_harvest, .teardown = region_teardown,
	},
	{
		.name = "kvmmig-wrprot-batch16k", .guest = true, .param = 16384,
		.map = region_map, .arm = wrprot_arm,
		.harvest = region_harvest, .teardown = region_teardown,
	},
	{
		/* The same region written by a host thread: no KVM to zap. */
		.name = "kvmmig-wrprot-host",
		.map = region_map, .arm = wrprot_arm,
		.harvest = region_harvest, .teardown = region_teardown,
	},
	{
		.name = "kvmmig-ad", .param = 0,
		.map = region_map, .arm = ad_arm,
		.harvest = region_harvest, .teardown = region_teardown,
	},
};
const int bench_nr_kvmmig_methods =
	sizeof(bench_kvmmig_methods) / sizeof(bench_kvmmig_methods[0]);
