// SPDX-License-Identifier: GPL-2.0
/*
 * Session ioctls for the selftests.
 */

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "session_util.h"

int __kvmmig_create_session(int devfd, struct kvmmig_create_session *args)
{
	int fd = ioctl(devfd, KVMMIG_CREATE_SESSION, args);

	return fd < 0 ? -errno : fd;
}

int kvmmig_session(int devfd, const char *name, __u32 flags, const int *fds,
		   unsigned int nr, __u32 *id)
{
	struct kvmmig_create_session args;
	int fd;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.nr_regions = nr;
	args.region_fds = (uintptr_t)fds;
	snprintf(args.name, sizeof(args.name), "%s", name);
	fd = __kvmmig_create_session(devfd, &args);
	if (fd >= 0 && id)
		*id = args.id;
	return fd;
}

int __kvmmig_session_info(int fd, struct kvmmig_session_info *info)
{
	return ioctl(fd, KVMMIG_SESSION_GET_INFO, info) ? -errno : 0;
}

int kvmmig_session_state(int fd)
{
	struct kvmmig_session_info info;
	int ret;

	memset(&info, 0, sizeof(info));
	ret = __kvmmig_session_info(fd, &info);
	return ret ? ret : (int)info.state;
}

int __kvmmig_session_ack(int fd, struct kvmmig_session_ack *ack)
{
	return ioctl(fd, KVMMIG_SESSION_ACK, ack) ? -errno : 0;
}

int kvmmig_session_ack(int fd, __u32 state)
{
	struct kvmmig_session_ack ack = { .state = state };

	return __kvmmig_session_ack(fd, &ack);
}

int __kvmmig_put_blob(int fd, struct kvmmig_session_blob *blob)
{
	return ioctl(fd, KVMMIG_SESSION_PUT_BLOB, blob) ? -errno : 0;
}

int kvmmig_put_blob(int fd, __u32 kind, __u32 instance, const char *name,
		    const void *data, __u32 size)
{
	struct kvmmig_session_blob blob;

	memset(&blob, 0, sizeof(blob));
	blob.kind = kind;
	blob.instance = instance;
	blob.size = size;
	blob.data = (uintptr_t)data;
	snprintf(blob.name, sizeof(blob.name), "%s", name);
	return __kvmmig_put_blob(fd, &blob);
}

int __kvmmig_get_blob(int fd, struct kvmmig_session_blob *blob)
{
	return ioctl(fd, KVMMIG_SESSION_GET_BLOB, blob) ? -errno : 0;
}

int kvmmig_get_blob(int fd, __u32 index, void *data, __u32 size,
		    struct kvmmig_session_blob *out)
{
	struct kvmmig_session_blob blob;
	int ret;

	memset(&blob, 0, sizeof(blob));
	blob.index = index;
	blob.size = size;
	blob.data = (uintptr_t)data;
	ret = __kvmmig_get_blob(fd, &blob);
	if (out)
		*out = blob;
	return ret ? ret : (int)blob.size;
}

int __kvmmig_open_session_region(int devfd,
				 struct kvmmig_open_session_region *args)
{
	int fd = ioctl(devfd, KVMMIG_OPEN_SESSION_REGION, args);

	return fd < 0 ? -errno : fd;
}

int kvmmig_open_session_region(int devfd, __u32 id, __u32 index, __u32 flags)
{
	struct kvmmig_open_session_region args;

	memset(&args, 0, sizeof(args));
	args.flags = flags;
	args.session_id = id;
	args.index = index;
	return __kvmmig_open_session_region(devfd, &args);
}

bool kvmmig_pollin(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

int drop_cap_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	int word = CAP_NET_ADMIN / 32;
	__u32 bit = 1U << (CAP_NET_ADMIN % 32);

	if (prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0))
		return -errno;
	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[word].effective &= ~bit;
	data[word].permitted &= ~bit;
	data[word].inheritable &= ~bit;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

int run_without_net_admin(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (drop_cap_net_admin())
			_exit(255);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
