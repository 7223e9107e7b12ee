// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log ioctls without a guest: the VMM's own writes (through the
 * mapping and pwrite) are reported exactly and once, initially-all-set,
 * sub-ranges, EFAULT losing nothing, and one negative test per
 * field and flag of every ioctl.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

#define PAGE		4096UL
#define NR_PAGES	1000UL		/* not a multiple of 64, on purpose */
#define SIZE		(NR_PAGES * PAGE)
#define WORDS		((NR_PAGES + 63) / 64)

FIXTURE(log) {
	int dev;
	int fd;
	char *mem;
	__u64 bitmap[WORDS];
};

FIXTURE_SETUP(log)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_api", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(log)
{
	munmap(self->mem, SIZE);
	close(self->fd);
	close(self->dev);
}

TEST_F(log, vmm_writes_are_reported_exactly_once)
{
	unsigned long pages[] = { 0, 1, 63, 64, 500, NR_PAGES - 1 };
	char buf[PAGE] = { 1 };
	int i;

	self->mem[7 * PAGE] = 1;	/* before logging: not reported */
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	for (i = 0; i < 5; i++)
		self->mem[pages[i] * PAGE + i] = 1;
	ASSERT_EQ(PAGE, pwrite(self->fd, buf, PAGE, pages[5] * PAGE));
	ASSERT_EQ(6, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(kvmmig_bitmap_is(self->bitmap, NR_PAGES, pages, 6));

	/* Nothing twice without a new write; reads are not writes. */
	ASSERT_EQ(0, self->mem[2 * PAGE]);
	ASSERT_EQ(PAGE, pread(self->fd, buf, PAGE, 3 * PAGE));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	/* Rewriting a harvested page faults again and is reported again. */
	self->mem[500 * PAGE] = 2;
	self->mem[500 * PAGE + 1] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 500));
}

TEST_F(log, enabling_write_protects_what_was_written_before)
{
	memset(self->mem, 1, SIZE);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	self->mem[42 * PAGE] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 42));
}

TEST_F(log, initially_all_set_reports_every_page_once)
{
	struct kvmmig_dirty_log_stats st;
	unsigned long i;

	self->mem[3 * PAGE] = 1;
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT,
				       KVMMIG_DIRTY_LOG_F_INITIALLY_SET, 0));
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	for (i = 0; i < NR_PAGES; i++)
		ASSERT_TRUE(bitmap_test(self->bitmap, i));
	/* No bit past the end of the region. */
	for (i = NR_PAGES; i < WORDS * 64; i++)
		ASSERT_FALSE(bitmap_test(self->bitmap, i));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	/* The one page mapped writable before enable was re-armed too. */
	self->mem[3 * PAGE] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(KVMMIG_DIRTY_LOG_STATE_ENABLED, st.state);
	EXPECT_EQ(3, st.harvests);
	EXPECT_EQ(NR_PAGES + 1, st.pages_reported);
	EXPECT_LE(2, st.write_faults);
	EXPECT_LE(1, st.batches);
	EXPECT_LE(st.batch_ns_max, st.batch_ns_total);
	EXPECT_LE(st.batch_ns_max, st.harvest_ns_max);
}

TEST_F(log, sub_range_harvest_leaves_the_rest)
{
	unsigned long pages[] = { 10, 64, 100, 191, 192, 999 };
	__u64 sub[2];
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	for (i = 0; i < 6; i++)
		self->mem[pages[i] * PAGE] = 1;

	/* Pages [64, 192): 64, 100, 191. */
	ASSERT_EQ(3, kvmmig_log_harvest(self->fd, 64, 128, sub));
	ASSERT_EQ(1ULL | 1ULL << 36, sub[0]);
	ASSERT_EQ(1ULL << 63, sub[1]);
	/* The tail range may end unaligned at the end of the region. */
	ASSERT_EQ(1, kvmmig_log_harvest(self->fd, 960, NR_PAGES - 960, sub));
	ASSERT_EQ(1ULL << (999 - 960), sub[0]);
	/* The rest is still there. */
	ASSERT_EQ(2, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 10));
	ASSERT_TRUE(bitmap_test(self->bitmap, 192));
}

TEST_F(log, efault_on_the_bitmap_loses_nothing)
{
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	self->mem[5 * PAGE] = 1;
	ASSERT_EQ(-EFAULT, kvmmig_log_harvest(self->fd, 0, NR_PAGES, NULL));
	ASSERT_EQ(-EFAULT, kvmmig_log_harvest(self->fd, 0, NR_PAGES, (void *)8));
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 5));
}

TEST_F(log, disable_keeps_stats_and_reenable_starts_clean)
{
	struct kvmmig_dirty_log_stats st;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	self->mem[5 * PAGE] = 1;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_EQ(0, kvmmig_log_disable(self->fd));
	ASSERT_EQ(-ENOENT, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(0, st.state);
	EXPECT_EQ(1, st.harvests);
	self->mem[6 * PAGE] = 1;
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	self->mem[6 * PAGE] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

TEST_F(log, small_batches_cover_everything)
{
	struct kvmmig_dirty_log_stats st;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 1));
	memset(self->mem, 3, SIZE);
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(1, st.batch_pages);
	/* One batch per page; enable had nothing to re-arm. */
	EXPECT_EQ(NR_PAGES, st.batches);
	memset(self->mem, 4, SIZE);
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

/*
 * Re-arming is exact at any run span (the rearm_span parameter): runs cut
 * by the span, by 33 clean pages between two dirty ones but not by 32, and
 * single pages; every reported page faults again on its next write.
 */
TEST_F(log, every_rearm_span_reports_exactly)
{
	static const long spans[] = { 1, 3, 33, 2048 };
	unsigned long pages[] = {
		0, 1, 2, 40, 73, 107, 500, 501, 502, 503, 520, NR_PAGES - 1,
	};
	int n = ARRAY_SIZE(pages), i, s;
	long old = kvmmig_param("rearm_span");

	if (old < 0)
		SKIP(return, "no rearm_span parameter");
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	for (s = 0; s < ARRAY_SIZE(spans); s++) {
		ASSERT_EQ(0, kvmmig_set_param("rearm_span", spans[s]));
		for (i = 0; i < n; i++)
			self->mem[pages[i] * PAGE] = s + 1;
		EXPECT_EQ(n, kvmmig_log_harvest_all(self->fd, NR_PAGES,
						    self->bitmap));
		EXPECT_TRUE(kvmmig_bitmap_is(self->bitmap, NR_PAGES, pages, n))
			TH_LOG("span %ld: first harvest", spans[s]);
		for (i = 0; i < n; i++)
			self->mem[pages[i] * PAGE + 1] = s + 1;
		EXPECT_EQ(n, kvmmig_log_harvest_all(self->fd, NR_PAGES,
						    self->bitmap));
		EXPECT_TRUE(kvmmig_bitmap_is(self->bitmap, NR_PAGES, pages, n))
			TH_LOG("span %ld: rewrite", spans[s]);
	}
	ASSERT_EQ(0, kvmmig_set_param("rearm_span", old));
}

/*
 * Pin four pages for DMA the way AF_XDP does (pin_user_pages() with
 * FOLL_WRITE | FOLL_LONGTERM): they are reported on every harvest while
 * pinned, and only until the one after the unpin.
 */
TEST_F(log, pinned_pages_are_reported_on_every_harvest)
{
	struct kvmmig_dirty_log_stats st;
	const char *why;
	int xsk, i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	xsk = kvmmig_pin_longterm(self->mem + 128 * PAGE, 4 * PAGE, &why);
	if (xsk < 0)
		SKIP(return, "%s: %s", why, strerror(-xsk));

	/* Pinning for write faulted the pages in: reported once anyway. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(4, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap)) TH_LOG("round %d", i);
		ASSERT_EQ(0xfULL, self->bitmap[128 / 64]);
	}
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_LE(12, st.pinned_reported);

	/* The socket unpins from a work item: soon the reports stop. */
	close(xsk);
	for (i = 0; i < 100; i++) {
		ASSERT_LE(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
		if (!kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap))
			break;
		usleep(20 * 1000);
	}
	ASSERT_GT(100, i);
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

TEST_F(log, ad_mode_is_reported_and_enabled_once)
{
	struct kvmmig_dirty_log_stats st = { 0 };

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	EXPECT_EQ(-EBUSY, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(KVMMIG_DIRTY_MODE_AD, st.mode);
	EXPECT_EQ(0, st.ad_fallbacks);
}

/* ---- KVMMIG_DIRTY_LOG_ENABLE ---- */

TEST_F(log, enable_bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, __kvmmig_log_enable(self->fd, NULL));
}

TEST_F(log, enable_unknown_flags_are_eopnotsupp)
{
	EXPECT_EQ(-EOPNOTSUPP, kvmmig_log_enable(self->fd, 0, 1U << 1, 0));
	EXPECT_EQ(-EOPNOTSUPP, kvmmig_log_enable(self->fd, 0, 1U << 31, 0));
}

TEST_F(log, enable_unknown_mode_is_einval)
{
	EXPECT_EQ(-EINVAL, kvmmig_log_enable(self->fd, 2, 0, 0));
	EXPECT_EQ(-EINVAL, kvmmig_log_enable(self->fd, ~0U, 0, 0));
}

TEST_F(log, enable_batch_too_big_is_einval)
{
	EXPECT_EQ(-EINVAL, kvmmig_log_enable(self->fd, 0, 0,
					     KVMMIG_DIRTY_LOG_MAX_BATCH + 1));
	EXPECT_EQ(0, kvmmig_log_enable(self->fd, 0, 0,
				       KVMMIG_DIRTY_LOG_MAX_BATCH));
}

TEST_F(log, enable_nonzero_pad_or_reserved_is_einval)
{
	struct kvmmig_dirty_log_enable args;
	int i;

	memset(&args, 0, sizeof(args));
	args.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_log_enable(self->fd, &args));
	for (i = 0; i < 4; i++) {
		memset(&args, 0, sizeof(args));
		args.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_log_enable(self->fd, &args))
			TH_LOG("reserved[%d]", i);
	}
}

TEST_F(log, enable_twice_is_ebusy)
{
	EXPECT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	EXPECT_EQ(-EBUSY, kvmmig_log_enable(self->fd, 0, 0, 0));
}

/* ---- KVMMIG_DIRTY_LOG_DISABLE ---- */

TEST_F(log, disable_bad_pointer_is_efault)
{
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	EXPECT_EQ(-EFAULT, __kvmmig_log_disable(self->fd, NULL));
}

TEST_F(log, disable_unknown_flags_are_eopnotsupp)
{
	struct kvmmig_dirty_log_disable args = { .flags = 1 };

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_log_disable(self->fd, &args));
}

TEST_F(log, disable_nonzero_pad_or_reserved_is_einval)
{
	struct kvmmig_dirty_log_disable args;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	memset(&args, 0, sizeof(args));
	args.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_log_disable(self->fd, &args));
	for (i = 0; i < 2; i++) {
		memset(&args, 0, sizeof(args));
		args.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_log_disable(self->fd, &args));
	}
}

TEST_F(log, disable_when_off_is_enoent)
{
	EXPECT_EQ(-ENOENT, kvmmig_log_disable(self->fd));
}

/* ---- KVMMIG_DIRTY_LOG_HARVEST ---- */

static struct kvmmig_dirty_log_harvest harvest_args(__u64 *bitmap)
{
	struct kvmmig_dirty_log_harvest h;

	memset(&h, 0, sizeof(h));
	h.num_pages = NR_PAGES;
	h.bitmap = (uintptr_t)bitmap;
	return h;
}

TEST_F(log, harvest_when_off_is_enoent)
{
	EXPECT_EQ(-ENOENT, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

TEST_F(log, harvest_bad_pointer_is_efault)
{
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	EXPECT_EQ(-EFAULT, __kvmmig_log_harvest(self->fd, NULL));
}

TEST_F(log, harvest_unwritable_bitmap_is_efault)
{
	__u64 *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	self->mem[0] = 1;
	EXPECT_EQ(-EFAULT, kvmmig_log_harvest(self->fd, 0, NR_PAGES, ro));
	EXPECT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	munmap(ro, PAGE);
}

TEST_F(log, harvest_unknown_flags_are_eopnotsupp)
{
	struct kvmmig_dirty_log_harvest h = harvest_args(self->bitmap);

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	h.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_log_harvest(self->fd, &h));
}

TEST_F(log, harvest_nonzero_pad_or_reserved_is_einval)
{
	struct kvmmig_dirty_log_harvest h;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	h = harvest_args(self->bitmap);
	h.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_log_harvest(self->fd, &h));
	for (i = 0; i < 3; i++) {
		h = harvest_args(self->bitmap);
		h.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_log_harvest(self->fd, &h));
	}
}

TEST_F(log, harvest_bad_range_is_einval)
{
	struct {
		__u64 first, num;
	} bad[] = {
		{ 0, 0 },			/* empty */
		{ 1, 64 },			/* first not 64-aligned */
		{ 0, 65 },			/* num not aligned, not at end */
		{ 0, NR_PAGES + 1 },		/* past the end */
		{ 1024, 64 },			/* starts past the end */
		{ 960, 64 },			/* runs past the end */
		{ 64, ~0ULL - 63 },		/* first + num overflows to 0 */
		{ 64, ~0ULL },			/* first + num overflows */
		{ ~0ULL - 63, 128 },		/* first huge, sum wraps */
	};
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		__u64 first = bad[i].first, num = bad[i].num;

		EXPECT_EQ(-EINVAL, kvmmig_log_harvest(self->fd, first, num,
						      self->bitmap))
			TH_LOG("first %llu num %llu", first, num);
	}
}

/* ---- KVMMIG_DIRTY_LOG_STATS ---- */

TEST_F(log, stats_bad_pointer_is_efault)
{
	EXPECT_EQ(-1, ioctl(self->fd, KVMMIG_DIRTY_LOG_STATS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(log, stats_unknown_flags_are_eopnotsupp)
{
	struct kvmmig_dirty_log_stats st;

	memset(&st, 0, sizeof(st));
	st.flags = 1U << 1;
	EXPECT_EQ(-1, ioctl(self->fd, KVMMIG_DIRTY_LOG_STATS, &st));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(log, stats_reset_max_zeroes_the_maxima_only)
{
	struct kvmmig_dirty_log_stats st;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, 0, 0, 0));
	memset(self->mem, 1, SIZE);
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	memset(&st, 0, sizeof(st));
	st.flags = KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX;
	ASSERT_EQ(0, ioctl(self->fd, KVMMIG_DIRTY_LOG_STATS, &st));
	EXPECT_LT(0, st.harvest_ns_max);
	EXPECT_LT(0, st.batch_ns_max);
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(0, st.harvest_ns_max);
	EXPECT_EQ(0, st.batch_ns_max);
	EXPECT_EQ(0, st.rearm_ns_max);
	EXPECT_LT(0, st.harvest_ns_total);
	EXPECT_EQ(1, st.harvests);
}

TEST_F(log, wrong_size_ioctls_are_enotty)
{
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(KVMMIG_IOCTL_TYPE, 0x12, __u64),
			    self->bitmap));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOW(KVMMIG_IOCTL_TYPE, 0x10, __u32),
			    self->bitmap));
	EXPECT_EQ(ENOTTY, errno);
}

KVMMIG_HARNESS_MAIN
