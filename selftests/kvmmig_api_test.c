// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kvmmig and KVMMIG_GET_API: the device answers, and every malformed
 * argument gets its own errno.
 */

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = __kvmmig_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", KVMMIG_DEV_PATH,
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

TEST(device_node_is_a_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(KVMMIG_DEV_PATH, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* Only root may create guest RAM and sessions. */
	ASSERT_EQ(0600, st.st_mode & 0777);
}

TEST_F(dev, get_api_reports_version_and_features)
{
	struct kvmmig_api api;
	int i;

	memset(&api, 0, sizeof(api));
	ASSERT_EQ(0, __kvmmig_get_api(self->fd, &api));
	ASSERT_EQ(KVMMIG_API_VERSION, api.api_version);
	/* No bit may be set for a feature this header does not define. */
	ASSERT_EQ(0, api.features & ~KVMMIG_FEATURES_ALL);
	ASSERT_EQ(0, api.flags);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, api.reserved[i]);
}

TEST_F(dev, get_api_bad_pointer_is_efault)
{
	ASSERT_EQ(-EFAULT, __kvmmig_get_api(self->fd, NULL));
	ASSERT_EQ(-EFAULT, __kvmmig_get_api(self->fd, (void *)1));
}

TEST_F(dev, get_api_unwritable_buffer_is_efault)
{
	struct kvmmig_api *api;

	/* Readable (so the input checks pass) but not writable. */
	api = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, api);
	ASSERT_EQ(-EFAULT, __kvmmig_get_api(self->fd, api));
	munmap(api, 4096);
}

TEST_F(dev, get_api_nonzero_flags_is_einval)
{
	struct kvmmig_api api;

	memset(&api, 0, sizeof(api));
	api.flags = 1;
	ASSERT_EQ(-EINVAL, __kvmmig_get_api(self->fd, &api));
	api.flags = 0x80000000u;
	ASSERT_EQ(-EINVAL, __kvmmig_get_api(self->fd, &api));
}

TEST_F(dev, get_api_nonzero_reserved_is_einval)
{
	struct kvmmig_api api;
	int i;

	for (i = 0; i < 6; i++) {
		memset(&api, 0, sizeof(api));
		api.reserved[i] = 1ULL << (i * 9);
		EXPECT_EQ(-EINVAL, __kvmmig_get_api(self->fd, &api))
			TH_LOG("reserved[%d] not rejected", i);
	}
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct kvmmig_api api;

	memset(&api, 0, sizeof(api));
	/* Unused number, foreign type, and GET_API with a wrong size. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(KVMMIG_IOCTL_TYPE, 0x7f, struct kvmmig_api), &api));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(0xAE, 0x00), 0));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(KVMMIG_IOCTL_TYPE, 0x00, __u64), &api));
	EXPECT_EQ(ENOTTY, errno);
}

KVMMIG_HARNESS_MAIN
