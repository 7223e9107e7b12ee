// SPDX-License-Identifier: GPL-2.0
/*
 * KVM's own dirty logging, the peers kvmmig is measured against:
 * KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG with manual protection (with and
 * without initially-set), and the per-vCPU dirty ring.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

#define RING_ENTRIES	65536

static uint64_t popcount_bitmap(const uint64_t *bitmap, size_t npages)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < (npages + 63) / 64; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

static int untracked_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	*dirty = 0;
	return 0;
}

static int get_dirty_log(struct bench_ctx *ctx)
{
	struct kvm_dirty_log log = { .slot = 0, .dirty_bitmap = ctx->bitmap };

	return ioctl(ctx->vm.vm_fd, KVM_GET_DIRTY_LOG, &log) ? -errno : 0;
}

static int get_dirty_log_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	int ret = get_dirty_log(ctx);

	if (!ret)
		*dirty = popcount_bitmap(ctx->bitmap, ctx->npages);
	return ret;
}

static int manual_protect_setup(struct bench_ctx *ctx)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | ctx->m->param,
	};

	return ioctl(ctx->vm.vm_fd, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

static int clear_dirty_log_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	struct kvm_clear_dirty_log clear = {
		.slot = 0,
		.first_page = 0,
		.num_pages = ctx->npages,
		.dirty_bitmap = ctx->bitmap,
	};
	int ret = get_dirty_log(ctx);

	if (ret)
		return ret;
	*dirty = popcount_bitmap(ctx->bitmap, ctx->npages);
	return ioctl(ctx->vm.vm_fd, KVM_CLEAR_DIRTY_LOG, &clear) ? -errno : 0;
}

struct ring {
	pthread_mutex_t lock;	/* the vCPU thread collects on a full ring */
	struct kvm_dirty_gfn *gfns;
	uint32_t fetch;
	uint64_t collected;
};

static int ring_setup(struct bench_ctx *ctx)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_DIRTY_LOG_RING,
		.args[0] = RING_ENTRIES * sizeof(struct kvm_dirty_gfn),
	};
	struct ring *ring;

	if (ioctl(ctx->vm.kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DIRTY_LOG_RING) <= 0)
		return -EOPNOTSUPP;
	if (ioctl(ctx->vm.vm_fd, KVM_ENABLE_CAP, &cap))
		return -errno;
	ring = calloc(1, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	pthread_mutex_init(&ring->lock, NULL);
	ctx->priv = ring;
	return 0;
}

static int ring_arm(struct bench_ctx *ctx)
{
	struct ring *ring = ctx->priv;
	void *p;

	if (ring->gfns)
		return 0;
	p = mmap(NULL, RING_ENTRIES * sizeof(struct kvm_dirty_gfn),
		 PROT_READ | PROT_WRITE, MAP_SHARED, ctx->vcpu->fd,
		 KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
	if (p == MAP_FAILED)
		return -errno;
	ring->gfns = p;
	return 0;
}

/* Collect every published entry, hand them back, and reset the ring. */
static int ring_collect(struct bench_ctx *ctx)
{
	struct ring *ring = ctx->priv;
	struct kvm_dirty_gfn *gfn;
	uint64_t n = 0;
	int ret = 0;

	pthread_mutex_lock(&ring->lock);
	for (;;) {
		gfn = &ring->gfns[ring->fetch % RING_ENTRIES];
		if (!(__atomic_load_n(&gfn->flags, __ATOMIC_ACQUIRE) & KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (gfn->offset < ctx->npages)
			ctx->bitmap[gfn->offset / 64] |= 1ULL << (gfn->offset % 64);
		__atomic_store_n(&gfn->flags, KVM_DIRTY_GFN_F_RESET, __ATOMIC_RELEASE);
		ring->fetch++;
		n++;
	}
	ring->collected += n;
	if (n && ioctl(ctx->vm.vm_fd, KVM_RESET_DIRTY_RINGS, 0) < 0)
		ret = -errno;
	pthread_mutex_unlock(&ring->lock);
	return ret;
}

static int ring_full(struct bench_ctx *ctx)
{
	return ring_collect(ctx);
}

static int ring_harvest(struct bench_ctx *ctx, uint64_t *dirty)
{
	int ret = ring_collect(ctx);

	if (ret)
		return ret;
	/* Pages collected on full rings during the pass count too. */
	*dirty = popcount_bitmap(ctx->bitmap, ctx->npages);
	memset(ctx->bitmap, 0, (ctx->npages + 63) / 64 * 8);
	return 0;
}

static void ring_teardown(struct bench_ctx *ctx)
{
	struct ring *ring = ctx->priv;

	if (ring && ring->gfns)
		munmap(ring->gfns, RING_ENTRIES * sizeof(struct kvm_dirty_gfn));
	free(ring);
	ctx->priv = NULL;
}

const struct bench_method bench_kvm_methods[] = {
	{
		.name = "untracked", .guest = true, .peer = true,
		.harvest = untracked_harvest,
	},
	{
		.name = "kvm-get-dirty-log", .guest = true, .peer = true,
		.slot_flags = KVM_MEM_LOG_DIRTY_PAGES,
		.harvest = get_dirty_log_harvest,
	},
	{
		.name = "kvm-clear-dirty-log", .guest = true, .peer = true,
		.slot_flags = KVM_MEM_LOG_DIRTY_PAGES,
		.vm_setup = manual_protect_setup,
		.harvest = clear_dirty_log_harvest,
	},
	{
		.name = "kvm-clear-initially-set", .guest = true, .peer = true,
		.slot_flags = KVM_MEM_LOG_DIRTY_PAGES,
		.vm_setup = manual_protect_setup,
		.harvest = clear_dirty_log_harvest,
		.param = KVM_DIRTY_LOG_INITIALLY_SET,
	},
	{
		.name = "kvm-dirty-ring", .guest = true, .peer = true,
		.slot_flags = KVM_MEM_LOG_DIRTY_PAGES,
		.vm_setup = ring_setup,
		.arm = ring_arm,
		.harvest = ring_harvest,
		.ring_full = ring_full,
		.teardown = ring_teardown,
	},
};
const int bench_nr_kvm_methods = sizeof(bench_kvm_methods) / sizeof(bench_kvm_methods[0]);
