// SPDX-License-Identifier: GPL-2.0
/*
 * A/D-bit dirty logging with host writers: writes through the mapping are
 * reported exactly and, after the first, without write faults; writes that
 * leave no PTE dirty bit (process_vm_writev(), pwrite, a dirty mapping torn
 * down) are reported too; the dirty-log invariant holds with a writer
 * thread running through the harvests; clean folios survive drop_caches and
 * fadvise; going back to write-protect mode protects every page again.
 * The refusal and fall-back with KVM are in dirty_log_kvm_test.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "chaos.h"
#include "kvmmig_util.h"
#include "vmm.h"

#define PAGE		4096UL
#define NR_PAGES	1000UL		/* not a multiple of 64, on purpose */
#define SIZE		(NR_PAGES * PAGE)
#define WORDS		((NR_PAGES + 63) / 64)

FIXTURE(ad) {
	int dev;
	int fd;
	char *mem;
	__u64 bitmap[WORDS];
};

FIXTURE_SETUP(ad)
{
	struct kvmmig_api api = { 0 };

	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, __kvmmig_get_api(self->dev, &api));
	if (!(api.features & KVMMIG_FEATURE_DIRTY_LOG_AD))
		SKIP(return, "the module has no A/D-bit mode");
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_ad", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
}

FIXTURE_TEARDOWN(ad)
{
	numa_balancing_fast(false);
	if (self->mem && self->mem != MAP_FAILED)
		munmap(self->mem, SIZE);
	close(self->fd);
	close(self->dev);
}

static __u64 write_faults(int fd)
{
	struct kvmmig_dirty_log_stats st = { 0 };

	if (__kvmmig_log_stats(fd, &st))
		return ~0ULL;
	return st.write_faults;
}

TEST_F(ad, host_writes_are_reported_exactly_and_fault_only_once)
{
	unsigned long pages[] = { 0, 1, 63, 64, 500, NR_PAGES - 1 };
	__u64 faults;
	int i, round;

	self->mem[7 * PAGE] = 1;	/* before logging: not reported */
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	for (round = 1; round <= 4; round++) {
		faults = write_faults(self->fd);
		for (i = 0; i < 6; i++)
			self->mem[pages[i] * PAGE + round] = round;
		ASSERT_EQ(6, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap))
			TH_LOG("round %d", round);
		ASSERT_TRUE(kvmmig_bitmap_is(self->bitmap, NR_PAGES, pages, 6));
		/* The pages stay writable: only the first round faults. */
		if (round > 1)
			ASSERT_EQ(faults, write_faults(self->fd));
		ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	}
	/* A page already written before logging is writable and clean. */
	self->mem[7 * PAGE] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 7));
}

TEST_F(ad, reads_are_not_reported)
{
	char buf[PAGE];
	volatile char c;
	int i;

	memset(self->mem, 1, SIZE);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	for (i = 0; i < NR_PAGES; i += 7)
		c = self->mem[i * PAGE];
	(void)c;
	ASSERT_EQ(PAGE, pread(self->fd, buf, PAGE, 3 * PAGE));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

/*
 * process_vm_writev() writes through get_user_pages(): a writable, clean
 * PTE gives no fault and gets no dirty bit.  The folio is marked dirty when
 * the pin is released, and that is what must reach the log.
 */
TEST_F(ad, process_vm_writev_is_reported)
{
	unsigned long page = 321;
	char data[64] = "written by process_vm_writev";
	struct iovec local = { data, sizeof(data) };
	struct iovec remote = { self->mem + page * PAGE + 100, sizeof(data) };
	__u64 faults;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	self->mem[page * PAGE] = 1;	/* now mapped writable */
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	for (i = 0; i < 3; i++) {
		faults = write_faults(self->fd);
		data[0] = 'a' + i;
		ASSERT_EQ(sizeof(data), process_vm_writev(getpid(), &local, 1,
							  &remote, 1, 0));
		ASSERT_EQ(faults, write_faults(self->fd));
		ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap)) TH_LOG("round %d", i);
		ASSERT_TRUE(bitmap_test(self->bitmap, page));
		ASSERT_EQ(0, memcmp(self->mem + page * PAGE + 100, data,
				    sizeof(data)));
	}
}

TEST_F(ad, pwrite_is_reported)
{
	char buf[PAGE] = { 5 };

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(PAGE, pwrite(self->fd, buf, PAGE, 77 * PAGE));
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 77));
}

/* A dirty PTE that goes away with its mapping hands its bit to the folio. */
TEST_F(ad, unmapping_a_dirty_mapping_keeps_the_write)
{
	char *second;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	second = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      self->fd, 0);
	ASSERT_NE(MAP_FAILED, second);
	second[600 * PAGE] = 1;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	second[600 * PAGE] = 2;		/* writable now: PTE dirty bit only */
	ASSERT_EQ(0, munmap(second, SIZE));
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 600));
}

/*
 * A/D harvests leave folios clean.  They are still the only copy of guest
 * RAM: drop_caches and fadvise(DONTNEED) must not discard them.
 */
TEST_F(ad, clean_pages_survive_drop_caches_and_fadvise)
{
	char buf[PAGE], want[PAGE];
	int fd, i;

	munmap(self->mem, SIZE);	/* mapped pages are never dropped */
	self->mem = NULL;
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	for (i = 0; i < 16; i++) {
		memset(want, i + 1, PAGE);
		ASSERT_EQ(PAGE, pwrite(self->fd, want, PAGE, i * PAGE));
	}
	ASSERT_EQ(16, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, write(fd, "3\n", 2));
	close(fd);
	ASSERT_EQ(0, posix_fadvise(self->fd, 0, SIZE, POSIX_FADV_DONTNEED));

	for (i = 0; i < 16; i++) {
		memset(want, i + 1, PAGE);
		ASSERT_EQ(PAGE, pread(self->fd, buf, PAGE, i * PAGE));
		ASSERT_EQ(0, memcmp(buf, want, PAGE)) TH_LOG("page %d", i);
	}
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

TEST_F(ad, initially_all_set_reports_every_page_once)
{
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD,
				       KVMMIG_DIRTY_LOG_F_INITIALLY_SET, 0));
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

/* Pages A/D mode left writable must fault again in write-protect mode. */
TEST_F(ad, write_protect_mode_after_ad_protects_every_page)
{
	struct kvmmig_dirty_log_stats st = { 0 };
	__u64 faults;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	memset(self->mem, 1, SIZE);
	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	memset(self->mem, 2, SIZE);	/* leaves every PTE dirty */
	ASSERT_EQ(0, kvmmig_log_disable(self->fd));

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	ASSERT_EQ(KVMMIG_DIRTY_MODE_WRPROT, st.mode);
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	faults = write_faults(self->fd);
	self->mem[10 * PAGE] = 3;
	self->mem[999 * PAGE] = 3;
	ASSERT_EQ(faults + 2, write_faults(self->fd));
	ASSERT_EQ(2, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
}

TEST_F(ad, pinned_pages_are_reported_on_every_harvest)
{
	const char *why;
	int xsk, i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	xsk = kvmmig_pin_longterm(self->mem + 128 * PAGE, 4 * PAGE, &why);
	if (xsk < 0)
		SKIP(return, "%s: %s", why, strerror(-xsk));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(4, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap)) TH_LOG("round %d", i);
		ASSERT_EQ(0xfULL, self->bitmap[128 / 64]);
	}
	close(xsk);
}

/*
 * The dirty-log invariant with a writer thread running through the
 * harvests.  A snapshot is taken after each harvest returns and another
 * just before the next starts: a page that differs between the two was
 * written after the first harvest returned, so the next one must report it.
 */
struct writer {
	char *mem;
	volatile int stop;
	volatile uint64_t iteration;
	uint64_t writes;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	unsigned int seed = 7;

	while (!w->stop) {
		unsigned long page = rand_r(&seed) % NR_PAGES;

		*(volatile uint64_t *)(w->mem + page * PAGE) = w->iteration;
		w->writes++;
	}
	return NULL;
}

TEST_F_TIMEOUT(ad, invariant_with_a_writer_thread, 300)
{
	char *after = malloc(SIZE), *before = malloc(SIZE);
	struct writer w = { .mem = self->mem, .iteration = 1 };
	unsigned long page, missed = 0, reported = 0;
	pthread_t thread;
	int it;

	ASSERT_NE(NULL, after);
	ASSERT_NE(NULL, before);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	memcpy(after, self->mem, SIZE);
	ASSERT_EQ(0, pthread_create(&thread, NULL, writer_main, &w));

	for (it = 2; it < 2 + 32; it++) {
		w.iteration = it;
		usleep(2000);
		memcpy(before, self->mem, SIZE);
		ASSERT_LE(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
		for (page = 0; page < NR_PAGES; page++) {
			if (!memcmp(after + page * PAGE, before + page * PAGE, PAGE))
				continue;
			if (!bitmap_test(self->bitmap, page))
				missed++;
		}
		reported += __builtin_popcountll(self->bitmap[0]);
		memcpy(after, self->mem, SIZE);
	}
	w.stop = 1;
	pthread_join(thread, NULL);
	EXPECT_EQ(0, missed);
	EXPECT_LT(0, reported);
	TH_LOG("%llu writes, %lu reports in the first word",
	       (unsigned long long)w.writes, reported);
	free(after);
	free(before);
}

/*
 * DISABLE leaves every page write-protected, as in write-protect mode:
 * pages A/D mode left writable fault on their next write.
 */
TEST_F(ad, disable_write_protects_every_page)
{
	unsigned long pages[] = { 0, 63, 64, 500, NR_PAGES - 1 };
	__u64 faults;
	int i;

	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	for (i = 0; i < 5; i++)
		self->mem[pages[i] * PAGE] = 1;
	ASSERT_EQ(5, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	for (i = 0; i < 5; i++)
		self->mem[pages[i] * PAGE] = 2;
	ASSERT_EQ(0, kvmmig_log_disable(self->fd));

	faults = write_faults(self->fd);
	for (i = 0; i < 5; i++)
		self->mem[pages[i] * PAGE] = 3;
	ASSERT_EQ(faults + 5, write_faults(self->fd));
}

/*
 * A/D mode falls back when KVM maps the region; the harvest then reports
 * every page of its range, and none past the region's end (1000 pages
 * here, not a multiple of 64).
 */
TEST_F(ad, fallback_reports_only_pages_that_exist)
{
	struct kvmmig_dirty_log_stats st = { 0 };
	struct vmm_vm vm;
	unsigned long i;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	vmm_create(&vm, self->mem, SIZE, 0);

	ASSERT_EQ(NR_PAGES, kvmmig_log_harvest_all(self->fd, NR_PAGES,
						   self->bitmap));
	for (i = NR_PAGES; i < WORDS * 64; i++)
		ASSERT_FALSE(bitmap_test(self->bitmap, i)) TH_LOG("page %lu", i);
	ASSERT_EQ(0, __kvmmig_log_stats(self->fd, &st));
	EXPECT_EQ(1, st.ad_fallbacks);
	vmm_destroy(&vm);
}

/*
 * In A/D mode a harvest leaves folios clean, so NUMA balancing scans
 * region pages: their PTEs become PROT_NONE and the next write takes a
 * hinting fault (do_numa_page()), which restores the PTE's write bit.  The
 * write must still be reported.
 */
TEST_F_TIMEOUT(ad, write_after_numa_hinting_fault_is_reported, 120)
{
	unsigned long pages[] = { 0, 1, 63, 64, 500, NR_PAGES - 1 };
	long updated, hints;
	int i, ret;

	if (chaos_nr_nodes() < 2)
		SKIP(return, "one NUMA node: the bed boots two");
	memset(self->mem, 1, SIZE);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_AD, 0, 0));
	for (i = 0; i < 6; i++)
		self->mem[pages[i] * PAGE] = 2;
	ASSERT_EQ(6, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));

	ret = numa_balancing_fast(true);
	if (ret == -ENOENT)
		SKIP(return, "no CONFIG_NUMA_BALANCING");
	ASSERT_EQ(0, ret);
	updated = numa_scan_wait(NR_PAGES);
	hints = vmstat("numa_hint_faults");
	for (i = 0; i < 6; i++)
		self->mem[pages[i] * PAGE] = 3;
	hints = vmstat("numa_hint_faults") - hints;
	ASSERT_EQ(0, numa_balancing_fast(false));
	TH_LOG("NUMA balancing updated %ld PTEs; the writes took %ld hinting faults",
	       updated, hints);
	ASSERT_LE((long)NR_PAGES, updated);
	ASSERT_LT(0, hints);
	ASSERT_EQ(6, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(kvmmig_bitmap_is(self->bitmap, NR_PAGES, pages, 6));
}

KVMMIG_HARNESS_MAIN
