// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: creation and every malformed argument, mmap (shared only),
 * pread/pwrite, NUMA placement, limits, debugfs, lifetime and leaks, and
 * unloading the module while a region exists or is being released.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

#define PAGE		4096UL
#define SIZE		(1UL << 20)

FIXTURE(region) {
	int dev;
	struct kvmmig_create_region args;
};

FIXTURE_SETUP(region)
{
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	memset(&self->args, 0, sizeof(self->args));
	self->args.size = SIZE;
	strcpy(self->args.name, "region_test");
}

FIXTURE_TEARDOWN(region)
{
	close(self->dev);
}

/* Hidden from the compiler, which rejects a literal NULL buffer. */
void *volatile bad_ptr;

static long pages_now(void)
{
	return kvmmig_debugfs_pages();
}

TEST_F(region, create_is_cloexec_and_sized)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	ASSERT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ((off_t)SIZE, lseek(fd, 0, SEEK_END));
	ASSERT_TRUE(kvmmig_debugfs_has_region("region_test"));
	close(fd);
	ASSERT_FALSE(kvmmig_debugfs_has_region("region_test"));
}

TEST_F(region, bad_pointer_is_efault)
{
	ASSERT_EQ(-EFAULT, __kvmmig_create_region(self->dev, NULL));
}

TEST_F(region, unknown_flags_are_eopnotsupp)
{
	self->args.flags = 1U << 1;
	ASSERT_EQ(-EOPNOTSUPP, __kvmmig_create_region(self->dev, &self->args));
	self->args.flags = 1U << 31;
	ASSERT_EQ(-EOPNOTSUPP, __kvmmig_create_region(self->dev, &self->args));
}

TEST_F(region, nonzero_reserved_is_einval)
{
	int i;

	for (i = 0; i < 4; i++) {
		self->args.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args))
			TH_LOG("reserved[%d]", i);
		self->args.reserved[i] = 0;
	}
}

TEST_F(region, bad_size_is_einval)
{
	self->args.size = 0;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	self->args.size = PAGE + 1;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	self->args.size = 100;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
}

TEST_F(region, too_big_is_efbig)
{
	long max_mb = kvmmig_param("max_region_mb");

	ASSERT_LT(0, max_mb);
	self->args.size = ((__u64)max_mb << 20) + PAGE;
	EXPECT_EQ(-EFBIG, __kvmmig_create_region(self->dev, &self->args));
	self->args.size = ~0ULL & ~(PAGE - 1);
	EXPECT_EQ(-EFBIG, __kvmmig_create_region(self->dev, &self->args));
}

TEST_F(region, bad_name_is_einval)
{
	/* No NUL inside the field. */
	memset(self->args.name, 'a', sizeof(self->args.name));
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	/* Garbage after the NUL. */
	memset(self->args.name, 0, sizeof(self->args.name));
	strcpy(self->args.name, "ok");
	self->args.name[20] = 'x';
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	/* Not printable. */
	memset(self->args.name, 0, sizeof(self->args.name));
	strcpy(self->args.name, "tab\there");
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
}

TEST_F(region, bad_node_is_einval)
{
	/* A node without the flag. */
	self->args.node = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	self->args.flags = KVMMIG_REGION_F_NODE;
	self->args.node = -1;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
	self->args.node = 1 << 20;
	EXPECT_EQ(-EINVAL, __kvmmig_create_region(self->dev, &self->args));
}

TEST_F(region, too_many_is_emfile)
{
	long max = kvmmig_param("max_regions_per_process");
	int fds[256], i, fd;

	ASSERT_LT(0, max);
	ASSERT_GE(256, max);
	for (i = 0; i < max; i++) {
		fds[i] = __kvmmig_create_region(self->dev, &self->args);
		ASSERT_LE(0, fds[i]) TH_LOG("region %d: %s", i, strerror(-fds[i]));
	}
	EXPECT_EQ(-EMFILE, __kvmmig_create_region(self->dev, &self->args));
	/* Closing one frees a slot. */
	close(fds[0]);
	fd = __kvmmig_create_region(self->dev, &self->args);
	EXPECT_LE(0, fd);
	fds[0] = fd;
	for (i = 0; i < max; i++)
		close(fds[i]);
}

TEST_F(region, map_private_is_einval)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	p = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(region, mapping_and_pread_pwrite_see_the_same_bytes)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	char buf[3 * PAGE], *mem;
	long before = pages_now();
	size_t i;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);

	/* Pages start zeroed, and reading a hole allocates nothing. */
	ASSERT_EQ(sizeof(buf), pread(fd, buf, sizeof(buf), 5 * PAGE));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ(0, buf[i]);
	ASSERT_EQ(before, pages_now());
	ASSERT_EQ(0, mem[SIZE - 1]);
	ASSERT_EQ(before + 1, pages_now());

	memset(mem + PAGE, 0x5a, PAGE);
	ASSERT_EQ(PAGE, pread(fd, buf, PAGE, PAGE));
	for (i = 0; i < PAGE; i++)
		ASSERT_EQ(0x5a, buf[i]);

	/* A write straddling pages, seen through the mapping. */
	memset(buf, 0xc3, sizeof(buf));
	ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), 7 * PAGE + 100));
	for (i = 0; i < sizeof(buf); i++)
		ASSERT_EQ((char)0xc3, mem[7 * PAGE + 100 + i]);
	ASSERT_EQ(0, mem[7 * PAGE + 99]);

	/* From the region into itself: the source faults while copying. */
	ASSERT_EQ(PAGE, pwrite(fd, mem + PAGE, PAGE, 20 * PAGE));
	ASSERT_EQ(0x5a, mem[20 * PAGE + 17]);

	/* Reads stop at the end; writes past it have no room. */
	ASSERT_EQ(PAGE, pread(fd, buf, 2 * PAGE, SIZE - PAGE));
	ASSERT_EQ(0, pread(fd, buf, PAGE, SIZE));
	ASSERT_EQ(-1, pwrite(fd, buf, PAGE, SIZE));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(-1, pwrite(fd, bad_ptr, PAGE, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pread(fd, bad_ptr, PAGE, 0));
	ASSERT_EQ(EFAULT, errno);

	munmap(mem, SIZE);
	close(fd);
	ASSERT_EQ(before, pages_now());
}

TEST_F(region, sendfile_and_splice_read_the_pages)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	char buf[2 * PAGE], out[2 * PAGE];
	int pipefd[2], tmp;
	off_t off = PAGE;

	ASSERT_LE(0, fd);
	memset(buf, 0x3c, PAGE);
	memset(buf + PAGE, 0, PAGE);	/* the second page is never touched */
	ASSERT_EQ(PAGE, pwrite(fd, buf, PAGE, PAGE));

	/* sendfile() to a regular file, then read that back. */
	tmp = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	ASSERT_LE(0, tmp);
	ASSERT_EQ(2 * PAGE, sendfile(tmp, fd, &off, 2 * PAGE));
	ASSERT_EQ(3 * PAGE, off);
	ASSERT_EQ(2 * PAGE, pread(tmp, out, sizeof(out), 0));
	ASSERT_EQ(0, memcmp(buf, out, sizeof(out)));
	close(tmp);

	/* splice() into a pipe. */
	ASSERT_EQ(0, pipe(pipefd));
	off = PAGE;
	ASSERT_EQ(PAGE, splice(fd, &off, pipefd[1], NULL, PAGE, 0));
	ASSERT_EQ(PAGE, read(pipefd[0], out, PAGE));
	ASSERT_EQ(0, memcmp(buf, out, PAGE));
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
}

TEST_F(region, access_past_the_end_is_sigbus)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	volatile char *mem;
	int status;
	pid_t pid;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, 2 * SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		mem[SIZE] = 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGBUS, WTERMSIG(status));
	munmap((void *)mem, 2 * SIZE);
	close(fd);
}

TEST_F(region, pages_land_on_the_requested_node)
{
	long free0, free1, free2;
	void *pages[16];
	int status[16], i, fd;
	char *mem;

	if (node_free_pages(1) <= 0)
		SKIP(return, "no NUMA node 1");
	free0 = node_free_pages(1);
	fd = kvmmig_region(self->dev, 64 * SIZE, "on_node1", 1);
	ASSERT_LE(0, fd);
	mem = mmap(NULL, 64 * SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, 64 * SIZE);
	for (i = 0; i < 16; i++)
		pages[i] = mem + i * 4 * SIZE;
	ASSERT_EQ(0, syscall(SYS_move_pages, 0, 16, pages, NULL, status, 0));
	for (i = 0; i < 16; i++)
		EXPECT_EQ(1, status[i]) TH_LOG("page %d", i);
	free1 = node_free_pages(1);
	/* 64 MiB (16384 pages) came from node 1 ... */
	EXPECT_LE(free1 + 16384 - 256, free0);

	munmap(mem, 64 * SIZE);
	close(fd);
	/* ... and went back to it (counting per-CPU free lists). */
	free2 = node_free_pages(1);
	EXPECT_GE(free2 + 256, free0)
		TH_LOG("node 1 free pages %ld -> %ld -> %ld", free0, free1,
		       free2);
}

TEST_F(region, lives_until_the_last_mapping_is_gone)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	long before = pages_now();
	char *mem;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 7, SIZE);
	close(fd);
	/* The mapping keeps it: contents and listing survive the close. */
	ASSERT_TRUE(kvmmig_debugfs_has_region("region_test"));
	ASSERT_EQ(7, mem[SIZE / 2]);
	ASSERT_EQ(before + (long)(SIZE / PAGE), pages_now());
	munmap(mem, SIZE);
	ASSERT_FALSE(kvmmig_debugfs_has_region("region_test"));
	ASSERT_EQ(before, pages_now());
}

TEST_F(region, drop_caches_keeps_the_contents)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	char buf[PAGE];
	FILE *f;

	ASSERT_LE(0, fd);
	memset(buf, 0x77, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(fd, buf, PAGE, 3 * PAGE));
	f = fopen("/proc/sys/vm/drop_caches", "w");
	ASSERT_NE(NULL, f);
	fputs("3\n", f);
	fclose(f);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(PAGE, pread(fd, buf, PAGE, 3 * PAGE));
	ASSERT_EQ(0x77, buf[PAGE - 1]);
	close(fd);
}

TEST_F(region, unknown_ioctl_is_enotty)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, KVMMIG_CREATE_REGION, &self->args));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, _IO(KVMMIG_IOCTL_TYPE, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST_F(region, module_unload_is_refused_while_a_region_exists)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	char *mem;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	mem[0] = 1;
	close(self->dev);
	self->dev = -1;

	/* Held by the fd ... */
	EXPECT_NE(0, __kvmmig_module_unload());
	EXPECT_TRUE(kvmmig_module_loaded());
	close(fd);
	/* ... and by the mapping alone. */
	EXPECT_NE(0, __kvmmig_module_unload());
	EXPECT_TRUE(kvmmig_module_loaded());
	EXPECT_EQ(1, mem[0]);
	munmap(mem, SIZE);
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
}

/* The module's reference count, as /sys/module/kvmmig/refcnt says. */
static long module_refs(void)
{
	long refs = -1;
	FILE *f = fopen("/sys/module/kvmmig/refcnt", "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &refs) != 1)
		refs = -1;
	fclose(f);
	return refs;
}

/*
 * __fput() drops the module reference of a file's fops before it evicts
 * the inode and puts the mount, which can be the filesystem's last and run
 * its kill_sb.  So a region file must hold the module a second time, through
 * its filesystem, until its __fput() is over.
 */
TEST_F(region, a_region_file_holds_the_module_through_its_filesystem)
{
	int fd = __kvmmig_create_region(self->dev, &self->args);
	long before;

	ASSERT_LE(0, fd);
	close(self->dev);
	self->dev = -1;
	before = module_refs();
	ASSERT_LE(0, before);
	/* The fd's fops and the superblock under it. */
	EXPECT_EQ(2, before);
	EXPECT_EQ(-EAGAIN, __kvmmig_module_unload());
	close(fd);
	EXPECT_EQ(0, module_refs());
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
}

struct unmapper {
	char *mem;
	bool done;		/* munmap() returned: the file is released */
};

static void *unmap_region(void *arg)
{
	struct unmapper *u = arg;

	munmap(u->mem, SIZE);
	__atomic_store_n(&u->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * rmmod racing the release of the last region: it fails (EAGAIN) until
 * the release is over, then succeeds, and the module loads again.  A
 * module freed under a release still running is an Oops on the console.
 */
TEST_F(region, unload_racing_the_last_release_waits_for_it)
{
	struct unmapper u;
	pthread_t thread;
	int round, fd, ret;

	if (!getenv("KVMMIG_KO"))
		SKIP(return, "no KVMMIG_KO to load the module again from");
	close(self->dev);
	self->dev = -1;
	for (round = 0; round < 20; round++) {
		self->dev = __kvmmig_open();
		ASSERT_LE(0, self->dev);
		fd = __kvmmig_create_region(self->dev, &self->args);
		ASSERT_LE(0, fd);
		close(self->dev);
		self->dev = -1;
		u.mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			     fd, 0);
		ASSERT_NE(MAP_FAILED, u.mem);
		memset(u.mem, round, SIZE);
		close(fd);

		/* The mapping is the last reference; drop it on a thread. */
		u.done = false;
		ASSERT_EQ(0, pthread_create(&thread, NULL, unmap_region, &u));
		do {
			ret = __kvmmig_module_unload();
		} while (ret == -EAGAIN &&
			 !__atomic_load_n(&u.done, __ATOMIC_ACQUIRE));
		if (ret == -EAGAIN)	/* the release was over just now */
			ret = __kvmmig_module_unload();
		pthread_join(thread, NULL);
		ASSERT_EQ(0, ret) TH_LOG("round %d: unload: %s", round,
					 strerror(-ret));
		ASSERT_FALSE(kvmmig_module_loaded());
		ASSERT_EQ(0, __kvmmig_module_load());
	}
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	EXPECT_EQ(0, pages_now());
}

/* Last in this fixture, so it runs after every test above. */
TEST_F(region, no_pages_left_behind)
{
	/* Every test above closed its regions. */
	ASSERT_EQ(0, kvmmig_debugfs_pages());
}

KVMMIG_HARNESS_MAIN
