// SPDX-License-Identifier: GPL-2.0
/*
 * Region files: the mountable kvmmig filesystem whose regular files are
 * regions, as QEMU's memory-backend-file uses them.  Creation, sizing
 * once, unlink while mapped, QEMU's own open/size/map/populate sequence,
 * hole punching (which the dirty log must report, never leave stale),
 * fallocate modes, NUMA policy from mbind() for faults and pwrite,
 * sessions over region files, directories for libvirt, and unmounting.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/mempolicy.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

#define PAGE		4096UL
#define NPAGES		256UL
#define SIZE		(NPAGES * PAGE)
#define KVMMIG_FS_MAGIC	0x6b766d6d

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

FIXTURE(rfile) {
	char dir[64];
	char path[96];
	int dev;
};

FIXTURE_SETUP(rfile)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	strcpy(self->dir, "/tmp/kvmmig-fs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	ASSERT_EQ(0, mount("none", self->dir, "kvmmig", 0, NULL))
		TH_LOG("mount -t kvmmig: %s", strerror(errno));
	snprintf(self->path, sizeof(self->path), "%s/guest.ram", self->dir);
}

FIXTURE_TEARDOWN(rfile)
{
	if (umount2(self->dir, MNT_DETACH))
		TH_LOG("umount %s: %s", self->dir, strerror(errno));
	rmdir(self->dir);
	if (self->dev >= 0)
		close(self->dev);
}

/* A region file of @size bytes at @path; fd or -errno. */
static int region_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (size && ftruncate(fd, size)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static char *map(int fd, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

TEST_F(rfile, statfs_names_the_filesystem)
{
	struct statfs st;

	ASSERT_EQ(0, statfs(self->dir, &st));
	ASSERT_EQ(KVMMIG_FS_MAGIC, (unsigned long)st.f_type);
	ASSERT_EQ(PAGE, (unsigned long)st.f_bsize);
}

TEST_F(rfile, create_size_stat_and_seek)
{
	int fd = region_file(self->path, 0);
	struct stat st;

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0600, st.st_mode & 0777);
	ASSERT_EQ(0, st.st_size);
	ASSERT_TRUE(kvmmig_debugfs_has_region("guest.ram"));

	ASSERT_EQ(0, ftruncate(fd, SIZE));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ((off_t)SIZE, st.st_size);
	ASSERT_EQ((off_t)SIZE, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, stat(self->path, &st));
	ASSERT_EQ((off_t)SIZE, st.st_size);
	close(fd);
	/* The name holds the region. */
	ASSERT_TRUE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(0, unlink(self->path));
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
}

TEST_F(rfile, the_size_is_set_once)
{
	int fd = region_file(self->path, SIZE);

	ASSERT_LE(0, fd);
	/* The same size again is fine: QEMU's destination reopens. */
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	ASSERT_EQ(-1, ftruncate(fd, 2 * SIZE));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(-1, ftruncate(fd, 0));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(-1, truncate(self->path, PAGE));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(-1, open(self->path, O_RDWR | O_TRUNC));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ((off_t)SIZE, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST_F(rfile, bad_sizes_are_refused)
{
	long max_mb = kvmmig_param("max_region_mb");
	int fd = region_file(self->path, 0);

	ASSERT_LE(0, fd);
	ASSERT_LT(0, max_mb);
	ASSERT_EQ(-1, ftruncate(fd, PAGE + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ftruncate(fd, ((off_t)max_mb << 20) + PAGE));
	ASSERT_EQ(EFBIG, errno);
	ASSERT_EQ(-1, ftruncate(fd, -PAGE));
	ASSERT_EQ(EINVAL, errno);
	/* Still unsized, so still sizeable. */
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	close(fd);
}

TEST_F(rfile, map_private_is_einval)
{
	int fd = region_file(self->path, SIZE);

	ASSERT_LE(0, fd);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, SIZE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, fd, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(sigbus_jmp, 1);
}

TEST_F(rfile, touching_an_unsized_region_is_sigbus)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int fd = region_file(self->path, 0);
	volatile char *mem;

	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, sigaction(SIGBUS, &sa, &old));
	if (!sigsetjmp(sigbus_jmp, 1)) {
		mem[0] = 1;
		EXPECT_EQ(0, 1) TH_LOG("no SIGBUS");
	}
	sigaction(SIGBUS, &old, NULL);
	/* Sized now: the same mapping works. */
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	mem[0] = 1;
	ASSERT_EQ(1, mem[0]);
	munmap((void *)mem, SIZE);
	close(fd);
}

TEST_F(rfile, unlinked_region_lives_while_mapped)
{
	long before = kvmmig_debugfs_pages();
	int fd = region_file(self->path, SIZE);
	char *mem;

	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x5a, SIZE);
	ASSERT_EQ(0, unlink(self->path));
	close(fd);
	ASSERT_EQ(-1, access(self->path, F_OK));
	ASSERT_TRUE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(0x5a, mem[SIZE - 1]);
	ASSERT_EQ(before + (long)NPAGES, kvmmig_debugfs_pages());
	munmap(mem, SIZE);
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(before, kvmmig_debugfs_pages());
}

TEST_F(rfile, every_open_sees_the_same_pages)
{
	int fd = region_file(self->path, SIZE), fd2;
	char buf[16] = { 0 };
	char *mem;

	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	strcpy(mem + 5 * PAGE, "through a map");
	fd2 = open(self->path, O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(14, pread(fd2, buf, 14, 5 * PAGE));
	ASSERT_STREQ("through a map", buf);
	ASSERT_EQ(8, pwrite(fd, "by write", 8, 9 * PAGE));
	ASSERT_EQ(0, memcmp(mem + 9 * PAGE, "by write", 8));
	/* Read-only opens cannot write. */
	ASSERT_EQ(-1, pwrite(fd2, "x", 1, 0));
	ASSERT_EQ(EBADF, errno);
	close(fd2);
	munmap(mem, SIZE);
	close(fd);
}

/*
 * QEMU's memory-backend-file (file_ram_open(), file_ram_alloc(),
 * qemu_ram_mmap(), qemu_prealloc_mem()), step by step, for a path that
 * does not exist yet and then for a directory (mkstemp + unlink).
 */
static void qemu_like_open(struct __test_metadata *_metadata,
			   const char *path, bool is_dir)
{
	char tmpl[128];
	struct statfs sfs;
	char *resv, *mem;
	long before;
	int fd;

	if (is_dir) {
		snprintf(tmpl, sizeof(tmpl), "%s/qemu_back_mem.XXXXXX", path);
		fd = mkstemp(tmpl);
		ASSERT_LE(0, fd) TH_LOG("mkstemp: %s", strerror(errno));
		ASSERT_EQ(0, unlink(tmpl));
	} else {
		ASSERT_EQ(-1, open(path, O_RDWR));
		ASSERT_EQ(ENOENT, errno);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
		ASSERT_LE(0, fd);
	}
	ASSERT_EQ(0, fstatfs(fd, &sfs));
	ASSERT_EQ(KVMMIG_FS_MAGIC, (unsigned long)sfs.f_type);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_END));
	ASSERT_EQ(0, ftruncate(fd, SIZE));

	resv = mmap(NULL, SIZE + PAGE, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, resv);
	mem = mmap(resv, SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED | MAP_NORESERVE, fd, 0);
	ASSERT_EQ(resv, mem);
	ASSERT_EQ(0, madvise(mem, SIZE, MADV_DONTFORK));
	before = kvmmig_debugfs_pages();
	ASSERT_EQ(0, madvise(mem, SIZE, MADV_POPULATE_WRITE))
		TH_LOG("MADV_POPULATE_WRITE: %s", strerror(errno));
	ASSERT_EQ(before + (long)NPAGES, kvmmig_debugfs_pages());
	mem[SIZE - 1] = 1;
	/* ram_block_discard_range(): punch, then drop the PTEs. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       SIZE - PAGE, PAGE));
	ASSERT_EQ(0, madvise(mem + SIZE - PAGE, PAGE, MADV_DONTNEED));
	ASSERT_EQ(before + (long)NPAGES - 1, kvmmig_debugfs_pages());
	ASSERT_EQ(0, mem[SIZE - 1]);
	munmap(resv, SIZE + PAGE);
	close(fd);
}

TEST_F(rfile, qemu_memory_backend_file_sequence)
{
	qemu_like_open(_metadata, self->path, false);
	ASSERT_TRUE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(0, unlink(self->path));
	qemu_like_open(_metadata, self->dir, true);
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
}

TEST_F(rfile, punched_pages_read_zero_and_are_reported_dirty)
{
	const unsigned long want[] = { 3, 4, 5, 8 };
	__u64 bitmap[NPAGES / 64];
	long before, nr;
	int fd = region_file(self->path, SIZE);
	char *mem;
	unsigned long i;

	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0xa5, 16 * PAGE);
	ASSERT_EQ(0, kvmmig_log_enable(fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	ASSERT_LE(0, kvmmig_log_harvest_all(fd, NPAGES, bitmap));
	before = kvmmig_debugfs_pages();

	/* Three whole pages, and 200 bytes inside page 8. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       3 * PAGE, 3 * PAGE));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       8 * PAGE + 100, 200));
	nr = kvmmig_log_harvest_all(fd, NPAGES, bitmap);
	ASSERT_EQ(4, nr);
	ASSERT_TRUE(kvmmig_bitmap_is(bitmap, NPAGES, want, 4));
	ASSERT_EQ(before - 3, kvmmig_debugfs_pages());

	for (i = 0; i < 16 * PAGE; i++) {
		bool hole = (i >= 3 * PAGE && i < 6 * PAGE) ||
			    (i >= 8 * PAGE + 100 && i < 8 * PAGE + 300);

		if (mem[i] != (hole ? 0 : (char)0xa5)) {
			EXPECT_EQ(hole ? 0 : (char)0xa5, mem[i])
				TH_LOG("byte %lu", i);
			break;
		}
	}
	/* The pages come back, zeroed, on the next touch, and log again. */
	mem[4 * PAGE] = 1;
	nr = kvmmig_log_harvest_all(fd, NPAGES, bitmap);
	ASSERT_EQ(1, nr);
	ASSERT_TRUE(bitmap_test(bitmap, 4));
	/* A hole past the end is no error and changes nothing. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       SIZE, PAGE));
	ASSERT_EQ(0, kvmmig_log_harvest_all(fd, NPAGES, bitmap));
	munmap(mem, SIZE);
	close(fd);
}

TEST_F(rfile, fallocate_modes)
{
	long before;
	int fd = region_file(self->path, SIZE);

	ASSERT_LE(0, fd);
	before = kvmmig_debugfs_pages();
	ASSERT_EQ(0, fallocate(fd, 0, 0, 8 * PAGE));
	ASSERT_EQ(before + 8, kvmmig_debugfs_pages());
	ASSERT_EQ(-1, fallocate(fd, 0, SIZE - PAGE, 2 * PAGE));
	ASSERT_EQ(EFBIG, errno);
	/* KEEP_SIZE: what lies inside is allocated, the rest ignored. */
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_KEEP_SIZE, SIZE - PAGE, 2 * PAGE));
	ASSERT_EQ(before + 9, kvmmig_debugfs_pages());
	ASSERT_EQ(-1, fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, PAGE));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, PAGE));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, fallocate(fd, FALLOC_FL_INSERT_RANGE, 0, PAGE));
	ASSERT_EQ(EOPNOTSUPP, errno);
	/* The VFS's own checks. */
	ASSERT_EQ(-1, fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, PAGE));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(-1, fallocate(fd, 0, -PAGE, PAGE));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, fallocate(fd, 0, 0, 0));
	ASSERT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(rfile, regions_from_the_ioctl_punch_holes_too)
{
	int fd = kvmmig_region(self->dev, SIZE, "ioctl_region", -1);
	char buf[8];

	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, "nonzero!", 8, PAGE));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       PAGE, PAGE));
	ASSERT_EQ(8, pread(fd, buf, 8, PAGE));
	ASSERT_EQ(0, memcmp(buf, "\0\0\0\0\0\0\0\0", 8));
	close(fd);
}

/*
 * The invariant under attack: whatever punches and writes race with
 * harvests, a copy refreshed with the pages each harvest reports ends up
 * equal to the region.  A punch that marked its pages before removing them
 * would let a harvest copy the old data and lose the hole.
 */
struct puncher {
	int fd;
	atomic_bool stop;
	unsigned long rounds;
};

#define RACE_PAGES	64UL

static void *punch_loop(void *arg)
{
	struct puncher *p = arg;
	char page[PAGE];
	unsigned long i = 0;

	while (!atomic_load(&p->stop)) {
		unsigned long pg = (i * 7) % RACE_PAGES;

		memset(page, (int)(i % 251) + 1, sizeof(page));
		if (pwrite(p->fd, page, PAGE, pg * PAGE) != PAGE)
			break;
		if (fallocate(p->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      ((i * 3) % RACE_PAGES) * PAGE, PAGE))
			break;
		i++;
	}
	p->rounds = i;
	return NULL;
}

static int copy_dirty(int fd, const __u64 *bitmap, char *copy)
{
	unsigned long pg;

	for (pg = 0; pg < RACE_PAGES; pg++)
		if (bitmap_test(bitmap, pg) &&
		    pread(fd, copy + pg * PAGE, PAGE, pg * PAGE) != PAGE)
			return -1;
	return 0;
}

TEST_F(rfile, punch_racing_harvests_leaves_no_stale_page)
{
	struct puncher p = { 0 };
	unsigned long pg;
	__u64 bitmap[1];
	char *copy, *now;
	pthread_t th;
	time_t end;
	int fd = region_file(self->path, RACE_PAGES * PAGE);

	ASSERT_LE(0, fd);
	copy = calloc(RACE_PAGES, PAGE);
	now = malloc(RACE_PAGES * PAGE);
	ASSERT_TRUE(copy && now);
	ASSERT_EQ(0, kvmmig_log_enable(fd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	p.fd = fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, punch_loop, &p));
	end = time(NULL) + 3;
	while (time(NULL) < end) {
		ASSERT_LE(0, kvmmig_log_harvest(fd, 0, RACE_PAGES, bitmap));
		ASSERT_EQ(0, copy_dirty(fd, bitmap, copy));
	}
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	ASSERT_LE(0, kvmmig_log_harvest(fd, 0, RACE_PAGES, bitmap));
	ASSERT_EQ(0, copy_dirty(fd, bitmap, copy));

	ASSERT_EQ((ssize_t)(RACE_PAGES * PAGE),
		  pread(fd, now, RACE_PAGES * PAGE, 0));
	for (pg = 0; pg < RACE_PAGES; pg++)
		EXPECT_EQ(0, memcmp(copy + pg * PAGE, now + pg * PAGE, PAGE))
			TH_LOG("page %lu is stale in the copy", pg);
	TH_LOG("%lu write+punch rounds", p.rounds);
	ASSERT_LT(1000, p.rounds);
	free(copy);
	free(now);
	close(fd);
}

static long sys_mbind(void *addr, unsigned long len, int mode,
		      const unsigned long *nodemask, unsigned long maxnode)
{
	return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, 0);
}

/*
 * The node of each page of @mem (move_pages(2) without moving), mapping
 * first with a read those that pwrite() allocated.
 */
static void nodes_of(char *mem, unsigned long n, int *status)
{
	void *pages[NPAGES];
	unsigned long i;

	for (i = 0; i < n; i++) {
		pages[i] = mem + i * PAGE;
		(void)*(volatile char *)pages[i];
	}
	if (syscall(SYS_move_pages, 0, n, pages, NULL, status, 0))
		for (i = 0; i < n; i++)
			status[i] = -errno;
}

TEST_F(rfile, mbind_places_faults_and_writes)
{
	unsigned long node1 = 1UL << 1, got = 0;
	int status[NPAGES], fd, mode = -1;
	char page[PAGE];
	unsigned long i;
	char *mem;

	if (node_free_pages(1) <= 0)
		SKIP(return, "no NUMA node 1");
	fd = region_file(self->path, SIZE);
	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, sys_mbind(mem, SIZE, MPOL_BIND, &node1, 8 * sizeof(node1)))
		TH_LOG("mbind: %s", strerror(errno));
	ASSERT_EQ(0, syscall(SYS_get_mempolicy, &mode, &got, 8 * sizeof(got),
			     mem, MPOL_F_ADDR));
	ASSERT_EQ(MPOL_BIND, mode);
	ASSERT_EQ(node1, got);

	/* Faults follow the VMA's policy ... */
	memset(mem, 1, SIZE / 2);
	/* ... pwrite() the region's copy of it. */
	memset(page, 2, sizeof(page));
	for (i = NPAGES / 2; i < NPAGES; i++)
		ASSERT_EQ((ssize_t)PAGE, pwrite(fd, page, PAGE, i * PAGE));
	nodes_of(mem, NPAGES, status);
	for (i = 0; i < NPAGES; i++)
		if (status[i] != 1) {
			EXPECT_EQ(1, status[i]) TH_LOG("page %lu", i);
			break;
		}

	/* Interleaving, for pwrite, goes by page index. */
	node1 = 3;
	ASSERT_EQ(0, sys_mbind(mem, SIZE, MPOL_INTERLEAVE, &node1,
			       8 * sizeof(node1)));
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       0, SIZE));
	for (i = 0; i < 8; i++)
		ASSERT_EQ((ssize_t)PAGE, pwrite(fd, page, PAGE, i * PAGE));
	nodes_of(mem, 8, status);
	for (i = 0; i < 8; i++)
		EXPECT_EQ((int)(i % 2), status[i]) TH_LOG("page %lu", i);
	munmap(mem, SIZE);
	close(fd);
}

TEST_F(rfile, a_session_takes_region_files_by_path)
{
	struct kvmmig_create_session cs = { .nr_regions = 1 };
	int fd = region_file(self->path, 0), sfd;
	__s32 fds[1];

	ASSERT_LE(0, fd);
	fds[0] = fd;
	cs.region_fds = (uintptr_t)fds;
	strcpy(cs.name, "rfile");
	/* Not sized yet: nothing to migrate. */
	ASSERT_EQ(-1, ioctl(self->dev, KVMMIG_CREATE_SESSION, &cs));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	sfd = ioctl(self->dev, KVMMIG_CREATE_SESSION, &cs);
	ASSERT_LE(0, sfd) TH_LOG("%s", strerror(errno));
	/* Claimed by the session: the size stays. */
	ASSERT_EQ(0, ftruncate(fd, SIZE));
	close(sfd);
	close(fd);
}

TEST_F(rfile, directories_links_and_renames_for_libvirt)
{
	char sub[128], path[160], other[160];
	int fd;

	snprintf(sub, sizeof(sub), "%s/libvirt", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	snprintf(sub, sizeof(sub), "%s/libvirt/qemu", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0700));
	snprintf(path, sizeof(path), "%s/ram0", sub);
	fd = region_file(path, SIZE);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8, pwrite(fd, "contents", 8, 0));
	close(fd);
	snprintf(other, sizeof(other), "%s/ram1", sub);
	ASSERT_EQ(0, rename(path, other));
	ASSERT_EQ(0, link(other, path));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-1, rmdir(sub));
	ASSERT_EQ(ENOTEMPTY, errno);
	ASSERT_EQ(0, unlink(path));
	ASSERT_TRUE(kvmmig_debugfs_has_region("ram0"));
	ASSERT_EQ(0, unlink(other));
	ASSERT_FALSE(kvmmig_debugfs_has_region("ram0"));
	ASSERT_EQ(0, rmdir(sub));
}

TEST_F(rfile, names_are_printable_and_truncated)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/a\tname-that-is-much-longer-than-31-bytes",
		 self->dir);
	fd = region_file(path, 0);
	ASSERT_LE(0, fd);
	ASSERT_TRUE(kvmmig_debugfs_has_region("a?name-that-is-much-longer-than"));
	close(fd);
}

TEST_F(rfile, region_files_do_not_count_against_the_process_limit)
{
	long limit = kvmmig_param("max_regions_per_process");
	char path[128];
	long i;

	ASSERT_LT(0, limit);
	for (i = 0; i <= limit; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/r%ld", self->dir, i);
		fd = region_file(path, PAGE);
		ASSERT_LE(0, fd) TH_LOG("file %ld: %s", i, strerror(-fd));
		close(fd);
	}
}

TEST_F(rfile, unmount_is_busy_while_a_region_is_open)
{
	long before = kvmmig_debugfs_pages();
	int fd = region_file(self->path, SIZE);
	char *mem;

	ASSERT_LE(0, fd);
	mem = map(fd, SIZE);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 9;
	ASSERT_EQ(-1, umount(self->dir));
	ASSERT_EQ(EBUSY, errno);
	/* Detached, the open region lives on until its last user. */
	ASSERT_EQ(0, umount2(self->dir, MNT_DETACH));
	close(fd);
	ASSERT_EQ(9, mem[0]);
	ASSERT_TRUE(kvmmig_debugfs_has_region("guest.ram"));
	munmap(mem, SIZE);
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(before, kvmmig_debugfs_pages());
	/* For the teardown. */
	ASSERT_EQ(0, mount("none", self->dir, "kvmmig", 0, NULL));
}

/*
 * A VMM killed while its mount is detached leaves nothing behind, whatever
 * it did to its RAM: populated, punched and touched again, or only written.
 */
static void die_holding_a_detached_region(const char *dir, const char *path,
					  bool qemu_like)
{
	int fd = region_file(path, SIZE);
	char *mem = fd < 0 ? MAP_FAILED : map(fd, SIZE);

	if (mem == MAP_FAILED)
		_exit(1);
	if (qemu_like) {
		if (madvise(mem, SIZE, MADV_DONTFORK) ||
		    madvise(mem, SIZE, MADV_POPULATE_WRITE) ||
		    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      SIZE - PAGE, PAGE) ||
		    madvise(mem + SIZE - PAGE, PAGE, MADV_DONTNEED))
			_exit(2);
		if (mem[SIZE - 1])
			_exit(3);
	} else {
		memset(mem, 3, SIZE);
	}
	if (umount2(dir, MNT_DETACH))
		_exit(4);
	kill(getpid(), SIGKILL);
}

static void check_dying_process(struct __test_metadata *_metadata,
				const char *dir, const char *path,
				bool qemu_like)
{
	long before = kvmmig_debugfs_pages();
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		die_holding_a_detached_region(dir, path, qemu_like);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
	/* The mount's last reference may be put by a worker: give it time. */
	for (int i = 0; i < 100 && kvmmig_debugfs_has_region("guest.ram"); i++)
		usleep(10000);
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(before, kvmmig_debugfs_pages());
	ASSERT_EQ(0, mount("none", dir, "kvmmig", 0, NULL));
}

TEST_F(rfile, a_dying_process_frees_a_detached_mount)
{
	check_dying_process(_metadata, self->dir, self->path, false);
	check_dying_process(_metadata, self->dir, self->path, true);
}

TEST_F(rfile, unmount_frees_every_region_and_lets_the_module_go)
{
	long before = kvmmig_debugfs_pages();
	int fd = region_file(self->path, SIZE);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fallocate(fd, 0, 0, SIZE));
	close(fd);
	close(self->dev);
	self->dev = -1;
	/* The mount holds the module ... */
	ASSERT_NE(0, __kvmmig_module_unload());
	ASSERT_TRUE(kvmmig_module_loaded());
	/* ... and unmounting frees what its names held. */
	ASSERT_EQ(0, umount(self->dir));
	ASSERT_FALSE(kvmmig_debugfs_has_region("guest.ram"));
	ASSERT_EQ(before, kvmmig_debugfs_pages());
	ASSERT_EQ(0, __kvmmig_module_unload());
	ASSERT_EQ(0, __kvmmig_module_load());
	ASSERT_EQ(0, mount("none", self->dir, "kvmmig", 0, NULL));
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
}

TEST_HARNESS_MAIN
