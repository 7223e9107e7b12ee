// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions from the VMM's side: KVMMIG_CREATE_SESSION and every malformed
 * argument, GET_INFO and ACK field by field, poll(),
 * KVMMIG_OPEN_SESSION_REGION, and lifetimes: which fd keeps what alive,
 * and that nothing is left behind.  The state blobs are
 * session_blob_test's.  States only migd can reach are reached through
 * netlink (lib/nl_util).
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "session_fixture.h"

/* @expr creates a session: close it again. */
#define ASSERT_CREATES(expr) do {					\
	int __fd = (expr);						\
									\
	ASSERT_LE(0, __fd) TH_LOG("%s", strerror(-__fd));		\
	close(__fd);							\
} while (0)

static long pages_now(void)
{
	return kvmmig_debugfs_pages();
}

TEST_F(session, get_api_reports_sessions)
{
	struct kvmmig_api api;

	memset(&api, 0, sizeof(api));
	ASSERT_EQ(0, __kvmmig_get_api(self->dev, &api));
	EXPECT_TRUE(api.features & KVMMIG_FEATURE_SESSION);
}

TEST_F(session, create_gives_a_cloexec_fd_and_an_id)
{
	struct kvmmig_session_info info;
	int fd = create(self);

	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_NE(0, self->args.id);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, info.state);
	EXPECT_EQ(self->args.id, info.id);
	EXPECT_EQ(0, info.nr_blobs);
	EXPECT_EQ(0, info.blob_bytes);
	EXPECT_EQ(0, info.seq);
	close(fd);
}

TEST_F(session, create_incoming_starts_waiting)
{
	int fd;

	self->args.flags = KVMMIG_SESSION_F_INCOMING;
	fd = create(self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(KVMMIG_SESSION_WAITING, kvmmig_session_state(fd));
	close(fd);
}

TEST_F(session, create_with_a_taken_name_is_eexist)
{
	int fd = create(self), fd2, r2;

	ASSERT_LE(0, fd);
	r2 = kvmmig_region(self->dev, SIZE, "st-ram2", -1);
	ASSERT_LE(0, r2);
	EXPECT_EQ(-EEXIST, kvmmig_session(self->dev, "st", 0, &r2, 1, NULL));
	close(fd);
	/* The name is free again once the session has ended. */
	fd2 = kvmmig_session(self->dev, "st", 0, &r2, 1, NULL);
	EXPECT_LE(0, fd2);
	close(fd2);
	close(r2);
}

TEST_F(session, a_region_in_two_sessions_is_ebusy)
{
	int fd = create(self), fd2;

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, kvmmig_session(self->dev, "st2", 0, &self->r[1], 1,
					 NULL));
	close(fd);
	fd2 = kvmmig_session(self->dev, "st2", 0, &self->r[1], 1, NULL);
	EXPECT_LE(0, fd2);
	close(fd2);
}

TEST_F(session, open_session_region_reads_and_writes_the_region)
{
	struct kvmmig_open_session_region args;
	char buf[PAGE], *mem;
	int fd = create(self), rfd;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->r[1],
		   0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem + 3 * PAGE, 0x5a, PAGE);

	memset(&args, 0, sizeof(args));
	args.session_id = self->args.id;
	args.index = 1;
	rfd = __kvmmig_open_session_region(self->dev, &args);
	ASSERT_LE(0, rfd) TH_LOG("%s", strerror(-rfd));
	EXPECT_EQ(FD_CLOEXEC, fcntl(rfd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(SIZE, args.size);
	EXPECT_STREQ("st-ram1", args.name);
	ASSERT_EQ(PAGE, pread(rfd, buf, PAGE, 3 * PAGE));
	EXPECT_EQ(0x5a, buf[0]);
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(rfd, buf, PAGE, 4 * PAGE));
	EXPECT_EQ((char)0xa5, mem[4 * PAGE + 17]);
	/* No mapping through migd's fd. */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, SIZE, PROT_READ, MAP_SHARED, rfd, 0));
	EXPECT_EQ(ENODEV, errno);
	close(rfd);
	munmap(mem, SIZE);
	close(fd);
}


/* KVMMIG_CREATE_SESSION: every field. */

TEST_F(session, create_bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, __kvmmig_create_session(self->dev, bad_ptr));
}

TEST_F(session, create_unwritable_argument_is_efault)
{
	struct kvmmig_create_session *args;

	/* Readable, so every check passes, but the id cannot be written. */
	args = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, args);
	*args = self->args;
	ASSERT_EQ(0, mprotect(args, PAGE, PROT_READ));
	EXPECT_EQ(-EFAULT, __kvmmig_create_session(self->dev, args));
	munmap(args, PAGE);
	/* Nothing was left registered: the name and the regions are free. */
	ASSERT_CREATES(create(self));
}

TEST_F(session, create_unknown_flags_are_eopnotsupp)
{
	self->args.flags = 1U << 1;
	EXPECT_EQ(-EOPNOTSUPP, create(self));
	self->args.flags = 1U << 31;
	EXPECT_EQ(-EOPNOTSUPP, create(self));
}

TEST_F(session, create_nonzero_pad_is_einval)
{
	self->args.pad = 1;
	EXPECT_EQ(-EINVAL, create(self));
}

TEST_F(session, create_nonzero_reserved_is_einval)
{
	int i;

	for (i = 0; i < 4; i++) {
		memset(self->args.reserved, 0, sizeof(self->args.reserved));
		self->args.reserved[i] = 1ULL << (i * 13);
		EXPECT_EQ(-EINVAL, create(self)) TH_LOG("reserved[%d]", i);
	}
}

TEST_F(session, create_without_regions_is_einval)
{
	self->args.nr_regions = 0;
	EXPECT_EQ(-EINVAL, create(self));
}

TEST_F(session, create_with_too_many_regions_is_einval)
{
	self->args.nr_regions = KVMMIG_SESSION_MAX_REGIONS + 1;
	EXPECT_EQ(-EINVAL, create(self));
	self->args.nr_regions = UINT32_MAX;
	EXPECT_EQ(-EINVAL, create(self));
}

TEST_F(session, create_with_the_most_regions_works)
{
	int fds[KVMMIG_SESSION_MAX_REGIONS], i, fd;
	char name[16];

	for (i = 0; i < KVMMIG_SESSION_MAX_REGIONS; i++) {
		snprintf(name, sizeof(name), "st-many%d", i);
		fds[i] = kvmmig_region(self->dev, PAGE, name, -1);
		ASSERT_LE(0, fds[i]);
	}
	fd = kvmmig_session(self->dev, "st-many", 0, fds,
			    KVMMIG_SESSION_MAX_REGIONS, NULL);
	ASSERT_LE(0, fd) TH_LOG("%s", strerror(-fd));
	close(fd);
	for (i = 0; i < KVMMIG_SESSION_MAX_REGIONS; i++)
		close(fds[i]);
}

TEST_F(session, create_bad_fd_array_is_efault)
{
	int *fds;
	char *mem;

	self->args.region_fds = (uintptr_t)bad_ptr;
	EXPECT_EQ(-EFAULT, create(self));

	/* The array runs into an unmapped page. */
	mem = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, munmap(mem + PAGE, PAGE));
	fds = (int *)(mem + PAGE) - 1;
	fds[0] = self->r[0];
	self->args.region_fds = (uintptr_t)fds;
	EXPECT_EQ(-EFAULT, create(self));
	munmap(mem, PAGE);
}

TEST_F(session, create_with_a_closed_fd_is_ebadf)
{
	int fds[2] = { self->r[0], -1 };

	self->args.region_fds = (uintptr_t)fds;
	EXPECT_EQ(-EBADF, create(self));
	fds[1] = 1000;
	EXPECT_EQ(-EBADF, create(self));
	/* The region taken before the bad fd is free again. */
	ASSERT_CREATES(kvmmig_session(self->dev, "st-after", 0, &self->r[0], 1,
				      NULL));
}

TEST_F(session, create_with_a_fd_that_is_not_a_region_is_einval)
{
	int fds[2] = { self->r[0] }, p[2], sfd;

	ASSERT_EQ(0, pipe(p));
	self->args.region_fds = (uintptr_t)fds;
	fds[1] = self->dev;
	EXPECT_EQ(-EINVAL, create(self));
	fds[1] = p[0];
	EXPECT_EQ(-EINVAL, create(self));

	/* A session fd is not a region either. */
	sfd = kvmmig_session(self->dev, "st-other", 0, &self->r[1], 1, NULL);
	ASSERT_LE(0, sfd);
	fds[1] = sfd;
	EXPECT_EQ(-EINVAL, create(self));
	close(p[0]);
	close(p[1]);
	close(sfd);
}

TEST_F(session, create_with_a_clone_fd_is_einval)
{
	struct kvmmig_session_info info;
	int fds[1], sfd, rfd;

	sfd = kvmmig_session(self->dev, "st-other", 0, &self->r[1], 1, NULL);
	ASSERT_LE(0, sfd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, __kvmmig_session_info(sfd, &info));
	rfd = kvmmig_open_session_region(self->dev, info.id, 0, 0);
	ASSERT_LE(0, rfd);
	close(sfd);
	fds[0] = rfd;
	EXPECT_EQ(-EINVAL, kvmmig_session(self->dev, "st", 0, fds, 1, NULL));
	close(rfd);
}

TEST_F(session, create_with_a_repeated_region_is_einval)
{
	int fds[2] = { self->r[0], self->r[0] };

	self->args.region_fds = (uintptr_t)fds;
	EXPECT_EQ(-EINVAL, create(self));
	/* Another fd on the same region is the same region. */
	fds[1] = dup(self->r[0]);
	ASSERT_LE(0, fds[1]);
	EXPECT_EQ(-EINVAL, create(self));
	close(fds[1]);
}

TEST_F(session, create_empty_name_is_einval)
{
	memset(self->args.name, 0, sizeof(self->args.name));
	EXPECT_EQ(-EINVAL, create(self));
}

TEST_F(session, create_unterminated_name_is_einval)
{
	memset(self->args.name, 'a', sizeof(self->args.name));
	EXPECT_EQ(-EINVAL, create(self));
	/* The longest name fits with its NUL. */
	self->args.name[sizeof(self->args.name) - 1] = 0;
	ASSERT_CREATES(create(self));
}

TEST_F(session, create_garbage_after_the_name_is_einval)
{
	self->args.name[sizeof(self->args.name) - 1] = 'x';
	EXPECT_EQ(-EINVAL, create(self));
	self->args.name[sizeof(self->args.name) - 1] = 0;
	self->args.name[3] = 1;
	EXPECT_EQ(-EINVAL, create(self));
}

TEST_F(session, create_name_with_bad_characters_is_einval)
{
	static const char *const bad[] = {
		"a/b", "a b", ".hidden", "-opt", "a=b", "fd:3", "tab\t", "\xe9",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(self->args.name, 0, sizeof(self->args.name));
		strcpy(self->args.name, bad[i]);
		EXPECT_EQ(-EINVAL, create(self)) TH_LOG("name '%s'", bad[i]);
	}
	strcpy(self->args.name, "vm_0.a-b");
	ASSERT_CREATES(create(self));
}

TEST_F(session, failed_create_leaves_the_regions_free)
{
	int fd = kvmmig_session(self->dev, "st", 0, &self->r[0], 1, NULL);

	ASSERT_LE(0, fd);
	/* Name taken: r[1] was taken into the new session, then let go. */
	self->args.region_fds = (uintptr_t)&self->r[1];
	self->args.nr_regions = 1;
	EXPECT_EQ(-EEXIST, create(self));
	strcpy(self->args.name, "st-b");
	close(fd);
	fd = create(self);
	EXPECT_LE(0, fd);
	close(fd);
}

/* GET_INFO */

TEST_F(session, get_info_bad_pointer_is_efault)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, __kvmmig_session_info(fd, bad_ptr));
	close(fd);
}

TEST_F(session, get_info_flags_are_eopnotsupp)
{
	struct kvmmig_session_info info;
	int fd = create(self);

	ASSERT_LE(0, fd);
	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_session_info(fd, &info));
	close(fd);
}

TEST_F(session, get_info_zeroes_reserved)
{
	struct kvmmig_session_info info;
	int fd = create(self), i;

	ASSERT_LE(0, fd);
	memset(&info, 0xff, sizeof(info));
	info.flags = 0;
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, info.reserved[i]);
	close(fd);
}

/* ACK */

TEST_F(session, ack_bad_pointer_is_efault)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, __kvmmig_session_ack(fd, bad_ptr));
	close(fd);
}

TEST_F(session, ack_flags_are_eopnotsupp)
{
	struct kvmmig_session_ack ack = {
		.flags = 1, .state = KVMMIG_SESSION_PAUSING,
	};
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_session_ack(fd, &ack));
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, kvmmig_session_state(fd));
	close(fd);
}

TEST_F(session, ack_nonzero_reserved_is_einval)
{
	struct kvmmig_session_ack ack = { .state = KVMMIG_SESSION_PAUSING };
	int fd = create_pausing(self), i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		memset(ack.reserved, 0, sizeof(ack.reserved));
		ack.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_session_ack(fd, &ack));
	}
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, kvmmig_session_state(fd));
	close(fd);
}

TEST_F(session, ack_of_a_state_that_takes_none_is_einval)
{
	static const __u32 states[] = {
		0, KVMMIG_SESSION_RUNNING, KVMMIG_SESSION_PAUSED,
		KVMMIG_SESSION_DONE, KVMMIG_SESSION_WAITING,
		KVMMIG_SESSION_RECEIVING, KVMMIG_SESSION_ABORTED, 9, UINT32_MAX,
	};
	int fd = create_pausing(self);
	size_t i;

	ASSERT_LE(0, fd);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		EXPECT_EQ(-EINVAL, kvmmig_session_ack(fd, states[i]))
			TH_LOG("state %u", states[i]);
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, kvmmig_session_state(fd));
	close(fd);
}

TEST_F(session, ack_of_a_state_left_is_estale)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ESTALE, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	EXPECT_EQ(-ESTALE, kvmmig_session_ack(fd, KVMMIG_SESSION_ARRIVED));
	/* migd resumed before the VMM acknowledged: the ack is stale. */
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_PAUSE, self->args.id));
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_RESUME, self->args.id));
	EXPECT_EQ(-ESTALE, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(fd));
	close(fd);
}

TEST_F(session, ack_pausing_makes_it_paused)
{
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	EXPECT_EQ(KVMMIG_SESSION_PAUSED, kvmmig_session_state(fd));
	EXPECT_EQ(-ESTALE, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	close(fd);
}

/* poll() */

TEST_F(session, poll_reports_each_state_change_until_read)
{
	struct kvmmig_session_info info;
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_FALSE(kvmmig_pollin(fd, 0));
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_PAUSE, self->args.id));
	EXPECT_TRUE(kvmmig_pollin(fd, 0));
	EXPECT_TRUE(kvmmig_pollin(fd, 0));
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	EXPECT_EQ(1, info.seq);
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, info.state);
	EXPECT_FALSE(kvmmig_pollin(fd, 0));

	/* Two changes before a read: one POLLIN, seq moves by two. */
	ASSERT_EQ(0, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_RESUME, self->args.id));
	EXPECT_TRUE(kvmmig_pollin(fd, 0));
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	EXPECT_EQ(3, info.seq);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, info.state);
	EXPECT_FALSE(kvmmig_pollin(fd, 0));

	/* A failed command changes nothing. */
	EXPECT_EQ(-EBUSY, nl_cmd(self, KVMMIG_CMD_SESSION_HANDOVER,
				 self->args.id));
	EXPECT_FALSE(kvmmig_pollin(fd, 0));
	close(fd);
}

static void *wait_pollin(void *arg)
{
	return (void *)(uintptr_t)kvmmig_pollin(*(int *)arg, 10000);
}

TEST_F(session, poll_wakes_a_waiting_vmm)
{
	pthread_t t;
	void *woke;
	int fd = create(self);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, wait_pollin, &fd));
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_PAUSE, self->args.id));
	ASSERT_EQ(0, pthread_join(t, &woke));
	EXPECT_TRUE(woke != NULL);
	close(fd);
}

/* KVMMIG_OPEN_SESSION_REGION */

static int open_region_unprivileged(void *arg)
{
	__u32 id = *(__u32 *)arg;
	int dev = __kvmmig_open();

	if (dev < 0)
		return 100;
	return -kvmmig_open_session_region(dev, id, 0, 0);
}

TEST_F(session, open_region_needs_cap_net_admin)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(EPERM, run_without_net_admin(open_region_unprivileged,
					       &self->args.id));
	close(fd);
}

TEST_F(session, open_region_bad_pointer_is_efault)
{
	EXPECT_EQ(-EFAULT, __kvmmig_open_session_region(self->dev, bad_ptr));
}

TEST_F(session, open_region_flags_are_eopnotsupp)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EOPNOTSUPP, kvmmig_open_session_region(self->dev,
							  self->args.id, 0,
							  1U << 1));
	EXPECT_EQ(-EOPNOTSUPP, kvmmig_open_session_region(self->dev,
							  self->args.id, 0,
							  1U << 31));
	close(fd);
}

TEST_F(session, open_region_nonzero_pad_or_reserved_is_einval)
{
	struct kvmmig_open_session_region args;
	int fd = create(self), i;

	ASSERT_LE(0, fd);
	memset(&args, 0, sizeof(args));
	args.session_id = self->args.id;
	args.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_open_session_region(self->dev, &args));
	for (i = 0; i < 4; i++) {
		memset(&args, 0, sizeof(args));
		args.session_id = self->args.id;
		args.reserved[i] = 1;
		EXPECT_EQ(-EINVAL,
			  __kvmmig_open_session_region(self->dev, &args));
	}
	close(fd);
}

TEST_F(session, open_region_of_no_session_is_enoent)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, kvmmig_open_session_region(self->dev, 0, 0, 0));
	EXPECT_EQ(-ENOENT, kvmmig_open_session_region(self->dev,
						      self->args.id + 1000,
						      0, 0));
	close(fd);
	/* An ended session is no session. */
	EXPECT_EQ(-ENOENT, kvmmig_open_session_region(self->dev,
						      self->args.id, 0, 0));
}

TEST_F(session, open_region_index_out_of_range_is_erange)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ERANGE, kvmmig_open_session_region(self->dev,
						      self->args.id, 2, 0));
	EXPECT_EQ(-ERANGE, kvmmig_open_session_region(self->dev,
						      self->args.id,
						      UINT32_MAX, 0));
	close(fd);
}

TEST_F(session, open_region_rdonly_refuses_writes)
{
	char buf[PAGE];
	int fd = create(self), rfd;

	ASSERT_LE(0, fd);
	rfd = kvmmig_open_session_region(self->dev, self->args.id, 0,
					 KVMMIG_OPEN_REGION_F_RDONLY);
	ASSERT_LE(0, rfd);
	EXPECT_EQ(O_RDONLY, fcntl(rfd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(PAGE, pread(rfd, buf, PAGE, 0));
	EXPECT_EQ(-1, pwrite(rfd, buf, PAGE, 0));
	EXPECT_EQ(EBADF, errno);
	close(rfd);
	close(fd);
}

TEST_F(session, open_region_fd_runs_the_dirty_log)
{
	__u64 bitmap[1] = { 0 };
	char *mem;
	int fd = create(self), rfd;

	ASSERT_LE(0, fd);
	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->r[0],
		   0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 1, SIZE);
	rfd = kvmmig_open_session_region(self->dev, self->args.id, 0,
					 KVMMIG_OPEN_REGION_F_RDONLY);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, kvmmig_log_enable(rfd, KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	mem[5 * PAGE] = 2;
	ASSERT_EQ(1, kvmmig_log_harvest(rfd, 0, SIZE / PAGE, bitmap));
	EXPECT_EQ(1ULL << 5, bitmap[0]);
	/* The VMM's own fd sees the same log. */
	EXPECT_EQ(-EBUSY, kvmmig_log_enable(self->r[0],
					    KVMMIG_DIRTY_MODE_WRPROT, 0, 0));
	close(rfd);
	munmap(mem, SIZE);
	close(fd);
}

/* Lifetimes */

TEST_F(session, the_session_keeps_its_regions)
{
	long before = pages_now();
	char buf[PAGE];
	int fd, rfd;

	memset(buf, 3, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(self->r[0], buf, PAGE, 0));
	fd = create(self);
	ASSERT_LE(0, fd);
	close(self->r[0]);
	close(self->r[1]);
	/* Held by the session alone: listed, contents kept. */
	EXPECT_TRUE(kvmmig_debugfs_has_region("st-ram0"));
	rfd = kvmmig_open_session_region(self->dev, self->args.id, 0, 0);
	ASSERT_LE(0, rfd);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(PAGE, pread(rfd, buf, PAGE, 0));
	EXPECT_EQ(3, buf[PAGE - 1]);
	close(rfd);
	EXPECT_EQ(before + 1, pages_now());
	close(fd);
	/* The last holder is gone: so are the regions and their pages. */
	EXPECT_FALSE(kvmmig_debugfs_has_region("st-ram0"));
	EXPECT_FALSE(kvmmig_debugfs_has_region("st-ram1"));
	EXPECT_EQ(before, pages_now());
}

TEST_F(session, regions_outlive_the_session)
{
	long before = pages_now();
	char buf[PAGE];
	int fd = create(self);

	ASSERT_LE(0, fd);
	memset(buf, 4, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(self->r[1], buf, PAGE, PAGE));
	close(fd);
	EXPECT_TRUE(kvmmig_debugfs_has_region("st-ram1"));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(PAGE, pread(self->r[1], buf, PAGE, PAGE));
	EXPECT_EQ(4, buf[0]);
	close(self->r[0]);
	close(self->r[1]);
	EXPECT_FALSE(kvmmig_debugfs_has_region("st-ram1"));
	EXPECT_EQ(before, pages_now());
}

TEST_F(session, migd_fd_keeps_the_region_after_the_vmm_is_gone)
{
	long before = pages_now();
	char buf[PAGE];
	int fd = create(self), rfd;

	ASSERT_LE(0, fd);
	rfd = kvmmig_open_session_region(self->dev, self->args.id, 1, 0);
	ASSERT_LE(0, rfd);
	memset(buf, 6, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(rfd, buf, PAGE, 0));
	close(fd);
	close(self->r[0]);
	close(self->r[1]);
	EXPECT_FALSE(kvmmig_debugfs_has_region("st-ram0"));
	EXPECT_TRUE(kvmmig_debugfs_has_region("st-ram1"));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(PAGE, pread(rfd, buf, PAGE, 0));
	EXPECT_EQ(6, buf[0]);
	close(rfd);
	EXPECT_FALSE(kvmmig_debugfs_has_region("st-ram1"));
	EXPECT_EQ(before, pages_now());
}

TEST_F(session, session_fd_unknown_ioctl_is_enotty)
{
	struct kvmmig_dirty_log_stats stats;
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, ioctl(fd, _IO(KVMMIG_IOCTL_TYPE, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(fd, KVMMIG_CREATE_SESSION, &self->args));
	EXPECT_EQ(ENOTTY, errno);
	memset(&stats, 0, sizeof(stats));
	EXPECT_EQ(-1, ioctl(fd, KVMMIG_DIRTY_LOG_STATS, &stats));
	EXPECT_EQ(ENOTTY, errno);
	/* And the session ioctls are not region ioctls. */
	EXPECT_EQ(-1, ioctl(self->r[0], KVMMIG_SESSION_GET_INFO, &stats));
	EXPECT_EQ(ENOTTY, errno);
	close(fd);
}

TEST_F(session, module_unload_is_refused_while_a_session_exists)
{
	int fd = create(self);

	ASSERT_LE(0, fd);
	close(self->r[0]);
	close(self->r[1]);
	close(self->dev);
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	close(self->dev);
	self->dev = -1;
	nlk_close(&self->k);
	/* Only the session fd is left, and it holds the module. */
	EXPECT_NE(0, __kvmmig_module_unload());
	EXPECT_TRUE(kvmmig_module_loaded());
	close(fd);
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
}

/* Last in this fixture, so it runs after every test above. */
TEST_F(session, no_pages_left_behind)
{
	ASSERT_EQ(0, kvmmig_debugfs_pages());
}

KVMMIG_HARNESS_MAIN
