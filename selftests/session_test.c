// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions from the VMM's side: KVMMIG_CREATE_SESSION and every malformed
 * argument, the session fd's ioctls (GET_INFO, ACK, PUT_BLOB, GET_BLOB)
 * field by field, poll(), KVMMIG_OPEN_SESSION_REGION, and lifetimes:
 * which fd keeps what alive, and that nothing is left behind.  States
 * only migd can reach are reached through netlink (lib/nl_util).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define SIZE		(16 * PAGE)

/* Hidden from the compiler, which rejects a literal NULL buffer. */
void *volatile bad_ptr;

FIXTURE(session) {
	int dev;
	int r[2];
	struct kvmmig_create_session args;
	struct nlk k;
};

FIXTURE_SETUP(session)
{
	struct kvmmig_api api;

	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	memset(&api, 0, sizeof(api));
	ASSERT_EQ(0, __kvmmig_get_api(self->dev, &api));
	if (!(api.features & KVMMIG_FEATURE_SESSION))
		SKIP(return, "the module has no sessions");
	self->r[0] = kvmmig_region(self->dev, SIZE, "st-ram0", -1);
	ASSERT_LE(0, self->r[0]);
	self->r[1] = kvmmig_region(self->dev, SIZE, "st-ram1", -1);
	ASSERT_LE(0, self->r[1]);
	memset(&self->args, 0, sizeof(self->args));
	self->args.nr_regions = 2;
	self->args.region_fds = (uintptr_t)self->r;
	strcpy(self->args.name, "st");
	ASSERT_EQ(0, __nlk_open(&self->k));
}

FIXTURE_TEARDOWN(session)
{
	nlk_close(&self->k);
	close(self->dev);
}

static int create(FIXTURE_DATA(session) *self)
{
	return __kvmmig_create_session(self->dev, &self->args);
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

TEST_HARNESS_MAIN
