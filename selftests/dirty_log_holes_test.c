// SPDX-License-Identifier: GPL-2.0
/*
 * Every way mm can make a page writable again, or write it, behind
 * ->page_mkwrite's back, tried against the write-protect dirty log: the
 * page is written and harvested (so it is armed), the bypass runs, the
 * page is written again, and the next harvest must report it.  Then who
 * may drive a log that a session holds, and references kept by the re-arm.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "chaos.h"
#include "kvmmig_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define NR_PAGES	512UL
#define SIZE		(NR_PAGES * PAGE)
#define WORDS		(NR_PAGES / 64)
#define MPOL_MF_MOVE	(1 << 1)

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

/* The pages each test writes: one alone, a run, and the last one. */
static const unsigned long pages[] = {
	5, 100, 101, 102, 103, 130, 131, 200, 201, 202, 203, 204, 205,
	206, 207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218,
	219, 220, 221, 222, 223, 224, 225, NR_PAGES - 1,
};
#define NR_WRITTEN	(sizeof(pages) / sizeof(pages[0]))

#define HOLE_FIELDS		\
	int dev;		\
	int fd;			\
	char *mem;		\
	unsigned int gen;	\
	__u64 bitmap[WORDS]

FIXTURE(hole) {
	HOLE_FIELDS;
};

/* The same, for the tests that run once rather than once per bypass. */
FIXTURE(armed) {
	HOLE_FIELDS;
};

struct bypass {
	const char *what;
	/* Undo the re-arm of @self->mem's pages if mm lets it; 0 or -errno. */
	int (*run)(struct __test_metadata *_metadata, FIXTURE_DATA(hole) *self);
	/* Write the pages from a child forked after the bypass. */
	bool child_writes;
};

FIXTURE_VARIANT(hole) {
	const struct bypass *bypass;
};

static void setup(struct __test_metadata *_metadata, FIXTURE_DATA(hole) *self)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	self->fd = kvmmig_region(self->dev, SIZE, "dirty_log_holes", -1);
	ASSERT_LE(0, self->fd) TH_LOG("%s", strerror(-self->fd));
	self->mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->mem);
	/* Every page present and mapped writable, then logging on. */
	memset(self->mem, 1, SIZE);
	ASSERT_EQ(0, kvmmig_log_enable(self->fd, KVMMIG_DIRTY_MODE_WRPROT,
				       0, 0));
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES,
					    self->bitmap));
}

static void teardown(FIXTURE_DATA(hole) *self)
{
	numa_balancing_fast(false);
	if (self->mem != MAP_FAILED)
		munmap(self->mem, SIZE);
	close(self->fd);
	close(self->dev);
}

FIXTURE_SETUP(hole)
{
	setup(_metadata, self);
}

FIXTURE_TEARDOWN(hole)
{
	teardown(self);
}

FIXTURE_SETUP(armed)
{
	setup(_metadata, (FIXTURE_DATA(hole) *)self);
}

FIXTURE_TEARDOWN(armed)
{
	teardown((FIXTURE_DATA(hole) *)self);
}

static void write_pages(FIXTURE_DATA(hole) *self)
{
	size_t i;

	self->gen++;
	for (i = 0; i < NR_WRITTEN; i++)
		memcpy(self->mem + pages[i] * PAGE + 8, &self->gen,
		       sizeof(self->gen));
}

/* The next harvest reports exactly the written pages. */
static void expect_written(struct __test_metadata *_metadata,
			   FIXTURE_DATA(hole) *self, const char *when)
{
	long n = kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap);
	size_t i, missed = 0;

	for (i = 0; i < NR_WRITTEN; i++) {
		if (bitmap_test(self->bitmap, pages[i]))
			continue;
		if (!missed++)
			TH_LOG("%s: page %lu was written and not reported",
			       when, pages[i]);
	}
	ASSERT_EQ(0, missed) TH_LOG("%s: %zu of %zu written pages not reported",
				    when, missed, NR_WRITTEN);
	ASSERT_EQ(NR_WRITTEN, n) TH_LOG("%s", when);
}

static void expect_clean(struct __test_metadata *_metadata,
			 FIXTURE_DATA(hole) *self, const char *when)
{
	ASSERT_EQ(0, kvmmig_log_harvest_all(self->fd, NR_PAGES,
					    self->bitmap)) TH_LOG("%s", when);
}

/* ---- the bypasses ---- */

static int protect_and_back(FIXTURE_DATA(hole) *self, int prot)
{
	if (mprotect(self->mem, SIZE, prot) ||
	    mprotect(self->mem, SIZE, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

static int mprotect_ro(struct __test_metadata *_metadata,
		       FIXTURE_DATA(hole) *self)
{
	return protect_and_back(self, PROT_READ);
}

static int mprotect_none(struct __test_metadata *_metadata,
			 FIXTURE_DATA(hole) *self)
{
	return protect_and_back(self, PROT_NONE);
}

/* Part of the range only: the VMA splits, then merges back. */
static int mprotect_split(struct __test_metadata *_metadata,
			  FIXTURE_DATA(hole) *self)
{
	char *mid = self->mem + 100 * PAGE;

	if (mprotect(mid, 128 * PAGE, PROT_READ) ||
	    mprotect(mid, 128 * PAGE, PROT_READ | PROT_WRITE))
		return -errno;
	return 0;
}

#define MADVISE_BYPASS(name, advice)					\
static int name(struct __test_metadata *_metadata,			\
		FIXTURE_DATA(hole) *self)				\
{									\
	return madvise(self->mem, SIZE, advice) ? -errno : 0;		\
}
MADVISE_BYPASS(madv_dontneed, MADV_DONTNEED)
MADVISE_BYPASS(madv_cold, MADV_COLD)
MADVISE_BYPASS(madv_pageout, MADV_PAGEOUT)
MADVISE_BYPASS(madv_willneed, MADV_WILLNEED)
MADVISE_BYPASS(madv_populate_read, MADV_POPULATE_READ)
MADVISE_BYPASS(madv_random, MADV_RANDOM)

/* A child that inherited the mapping writes (child_writes). */
static int nothing(struct __test_metadata *_metadata, FIXTURE_DATA(hole) *self)
{
	return 0;
}

/* The parent writes after a fork whose child has exited. */
static int fork_and_exit(struct __test_metadata *_metadata,
			 FIXTURE_DATA(hole) *self)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (!pid)
		_exit(self->mem[5 * PAGE] == 0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -ECHILD;
	return 0;
}

/* The mapping moves; the pages are written at the new address. */
static int mremap_away(struct __test_metadata *_metadata,
		       FIXTURE_DATA(hole) *self)
{
	char *to = mmap(NULL, SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	char *moved;

	if (to == MAP_FAILED)
		return -errno;
	moved = mremap(self->mem, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED,
		       to);
	if (moved == MAP_FAILED) {
		munmap(to, SIZE);
		return -errno;
	}
	self->mem = moved;
	return 0;
}

static int move_all(FIXTURE_DATA(hole) *self, int node, long *moved)
{
	void *addrs[NR_PAGES];
	int nodes[NR_PAGES], status[NR_PAGES];
	unsigned long i;

	for (i = 0; i < NR_PAGES; i++) {
		addrs[i] = self->mem + i * PAGE;
		nodes[i] = node;
	}
	if (syscall(SYS_move_pages, 0, NR_PAGES, addrs, nodes, status,
		    MPOL_MF_MOVE) < 0)
		return -errno;
	*moved = 0;
	for (i = 0; i < NR_PAGES; i++)
		*moved += status[i] == node;
	return 0;
}

/* Every page to node 1 and back: each passes behind a migration entry. */
static int move_pages_there_and_back(struct __test_metadata *_metadata,
				     FIXTURE_DATA(hole) *self)
{
	long there, back;
	int ret;

	if (chaos_nr_nodes() < 2)
		SKIP(return 0, "one NUMA node: the bed boots two");
	/* The re-arm unmapped the pages; move_pages() moves mapped ones. */
	if (madvise(self->mem, SIZE, MADV_POPULATE_READ))
		return -errno;
	ret = move_all(self, 1, &there);
	if (!ret)
		ret = move_all(self, 0, &back);
	if (ret)
		return ret;
	TH_LOG("%ld pages moved to node 1, %ld back", there, back);
	/* Most of them must have moved, or nothing was tried. */
	if (there < (long)NR_PAGES / 2 || back < (long)NR_PAGES / 2)
		return -EAGAIN;
	return 0;
}

static int compact_memory(struct __test_metadata *_metadata,
			  FIXTURE_DATA(hole) *self)
{
	int fd = open("/proc/sys/vm/compact_memory", O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * A NUMA balancing scan.  It would make the PTEs PROT_NONE and the write
 * would take a hinting fault (do_numa_page()), which on 6.12 makes a dirty
 * PTE writable without ->page_mkwrite; but the scan skips dirty file folios
 * (change_pte_range()), and region folios stay dirty in write-protect
 * mode.  The scan is shown to have run over this process's anonymous
 * memory; the A/D test covers region pages taking the hinting fault.
 */
static int numa_scan(struct __test_metadata *_metadata,
		     FIXTURE_DATA(hole) *self)
{
	size_t anon_size = 4 << 20;
	char *anon;
	long updated;
	int ret;

	if (chaos_nr_nodes() < 2)
		SKIP(return 0, "one NUMA node: the bed boots two");
	ret = numa_balancing_fast(true);
	if (ret == -ENOENT)
		SKIP(return 0, "no CONFIG_NUMA_BALANCING");
	if (ret)
		return ret;
	anon = mmap(NULL, anon_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED) {
		numa_balancing_fast(false);
		return -errno;
	}
	memset(anon, 1, anon_size);
	updated = numa_scan_wait(anon_size / PAGE / 4);
	numa_balancing_fast(false);
	munmap(anon, anon_size);
	TH_LOG("NUMA balancing updated %ld PTEs", updated);
	/* Scans come in slices: a quarter shows the scanner ran here. */
	return updated >= (long)(anon_size / PAGE / 4) ? 0 : -ETIMEDOUT;
}

static const struct bypass
	b_mprotect_ro = { "mprotect read-only and back", mprotect_ro, false },
	b_mprotect_none = { "mprotect PROT_NONE and back", mprotect_none, false },
	b_mprotect_split = { "mprotect part of the VMA and back", mprotect_split, false },
	b_dontneed = { "MADV_DONTNEED", madv_dontneed, false },
	b_cold = { "MADV_COLD", madv_cold, false },
	b_pageout = { "MADV_PAGEOUT", madv_pageout, false },
	b_willneed = { "MADV_WILLNEED", madv_willneed, false },
	b_populate = { "MADV_POPULATE_READ", madv_populate_read, false },
	b_random = { "MADV_RANDOM", madv_random, false },
	b_fork_child = { "a forked child writes", nothing, true },
	b_fork_parent = { "fork, then the parent writes", fork_and_exit, false },
	b_mremap = { "mremap to another address", mremap_away, false },
	b_move = { "move_pages to node 1 and back", move_pages_there_and_back, false },
	b_compact = { "compaction", compact_memory, false },
	b_numa = { "a NUMA balancing scan", numa_scan, false };

#define BYPASS(name) FIXTURE_VARIANT_ADD(hole, name) { .bypass = &b_##name }
BYPASS(mprotect_ro);
BYPASS(mprotect_none);
BYPASS(mprotect_split);
BYPASS(dontneed);
BYPASS(cold);
BYPASS(pageout);
BYPASS(willneed);
BYPASS(populate);
BYPASS(random);
BYPASS(fork_child);
BYPASS(fork_parent);
BYPASS(mremap);
BYPASS(move);
BYPASS(compact);
BYPASS(numa);

TEST_F_TIMEOUT(hole, write_after_bypass_is_reported, 120)
{
	const struct bypass *b = variant->bypass;
	int round, ret, status;
	pid_t pid;

	/* Twice: the second round starts from pages the first re-armed. */
	for (round = 0; round < 2; round++) {
		write_pages(self);
		expect_written(_metadata, self, "before the bypass");
		expect_clean(_metadata, self, "armed");

		ret = b->run(_metadata, self);
		if (_metadata->exit_code == KSFT_SKIP)
			return;
		ASSERT_EQ(0, ret) TH_LOG("%s: %s", b->what, strerror(-ret));

		if (b->child_writes) {
			pid = fork();
			ASSERT_LE(0, pid);
			if (!pid) {
				write_pages(self);
				_exit(0);
			}
			ASSERT_EQ(pid, waitpid(pid, &status, 0));
			ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
		} else {
			write_pages(self);
		}
		expect_written(_metadata, self, b->what);
		expect_clean(_metadata, self, "after the report");
	}
}

/*
 * A page something holds a reference to beyond its mappings (here a pipe,
 * given the page by vmsplice(); a get_user_pages() writer alike) may be
 * written without a fault: it is reported by every harvest until the
 * reference is gone, once more by the harvest that saw it last.
 */
TEST_F(armed, referenced_page_stays_reported)
{
	struct iovec iov = { .iov_base = self->mem + 5 * PAGE, .iov_len = PAGE };
	char buf[PAGE];
	int p[2], i;

	ASSERT_EQ(0, pipe(p));
	self->mem[5 * PAGE] = 7;
	ASSERT_EQ(PAGE, vmsplice(p[1], &iov, 1, 0));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES,
						    self->bitmap));
		ASSERT_TRUE(bitmap_test(self->bitmap, 5));
	}
	ASSERT_EQ(PAGE, read(p[0], buf, PAGE));
	ASSERT_EQ(7, buf[0]);
	/* The last harvest saw the reference: one more report, then none. */
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	expect_clean(_metadata, (FIXTURE_DATA(hole) *)self,
		     "the pipe gave the page back");
	close(p[0]);
	close(p[1]);
}

/*
 * While a session holds the region, the VMM's region fd may not drive the
 * log (its harvest would take bits the migration needs); the session's
 * region fd may.  Once the session is gone the VMM's fd works again.
 */
TEST_F(armed, session_owns_the_log)
{
	struct kvmmig_dirty_log_harvest h = {
		.num_pages = NR_PAGES,
		.bitmap = (uintptr_t)self->bitmap,
	};
	struct kvmmig_dirty_log_enable en = { .mode = KVMMIG_DIRTY_MODE_WRPROT };
	struct kvmmig_dirty_log_disable dis = { 0 };
	struct kvmmig_dirty_log_stats stats = { 0 };
	int sfd, rfd;
	__u32 id;

	sfd = kvmmig_session(self->dev, "holes_owner", 0, &self->fd, 1, &id);
	ASSERT_LE(0, sfd) TH_LOG("%s", strerror(-sfd));
	rfd = kvmmig_open_session_region(self->dev, id, 0, 0);
	ASSERT_LE(0, rfd) TH_LOG("%s", strerror(-rfd));

	self->mem[7 * PAGE] = 3;
	EXPECT_EQ(-EBUSY, __kvmmig_log_harvest(self->fd, &h));
	EXPECT_EQ(-EBUSY, __kvmmig_log_disable(self->fd, &dis));
	EXPECT_EQ(-EBUSY, __kvmmig_log_enable(self->fd, &en));
	/* Reading the counters takes nothing from the migration. */
	EXPECT_EQ(0, __kvmmig_log_stats(self->fd, &stats));
	/* The VMM's attempts took nothing: the session's fd gets page 7. */
	ASSERT_EQ(1, kvmmig_log_harvest_all(rfd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 7));
	ASSERT_EQ(0, kvmmig_log_disable(rfd));
	ASSERT_EQ(0, kvmmig_log_enable(rfd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));

	close(rfd);
	close(sfd);
	self->mem[9 * PAGE] = 3;
	ASSERT_EQ(1, kvmmig_log_harvest_all(self->fd, NR_PAGES, self->bitmap));
	ASSERT_TRUE(bitmap_test(self->bitmap, 9));
}

KVMMIG_HARNESS_MAIN
