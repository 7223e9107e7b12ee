// SPDX-License-Identifier: GPL-2.0
/*
 * A session's state blobs from the VMM's side: PUT_BLOB and GET_BLOB
 * field by field, their limits, and that a VMM stalled in GET_BLOB holds
 * no lock and delays no netlink socket's close.
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

/* An incoming session in ARRIVED holding the blobs "a" (3 bytes), "b". */
static int create_arrived(FIXTURE_DATA(session) *self)
{
	int fd, ret;

	self->args.flags = KVMMIG_SESSION_F_INCOMING;
	fd = create(self);
	if (fd < 0)
		return fd;
	ret = nl_cmd(self, KVMMIG_CMD_SESSION_RECEIVE, self->args.id);
	if (!ret)
		ret = __nlk_blob_add(&self->k, self->args.id, KVMMIG_BLOB_VCPU,
				     0, "a", "xyz", 3, NULL);
	if (!ret)
		ret = __nlk_blob_add(&self->k, self->args.id,
				     KVMMIG_BLOB_DEVICE, 9, "b", "0123456789",
				     10, NULL);
	if (!ret)
		ret = nl_cmd(self, KVMMIG_CMD_SESSION_ARRIVE, self->args.id);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* PUT_BLOB */

static void blob_init(struct kvmmig_session_blob *blob, const void *data,
		      __u32 size)
{
	memset(blob, 0, sizeof(*blob));
	blob->kind = KVMMIG_BLOB_VCPU;
	blob->size = size;
	blob->data = (uintptr_t)data;
	strcpy(blob->name, "regs");
}

TEST_F(session, put_blob_when_not_pausing_is_ebusy)
{
	struct kvmmig_session_blob blob;
	int fd = create(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	EXPECT_EQ(-EBUSY, __kvmmig_put_blob(fd, &blob));
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_PAUSE, self->args.id));
	ASSERT_EQ(0, kvmmig_session_ack(fd, KVMMIG_SESSION_PAUSING));
	EXPECT_EQ(-EBUSY, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_bad_pointers_are_efault)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, __kvmmig_put_blob(fd, bad_ptr));
	blob_init(&blob, bad_ptr, 8);
	EXPECT_EQ(-EFAULT, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_flags_are_eopnotsupp)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	blob.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_nonzero_pad_is_einval)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	blob.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_nonzero_reserved_is_einval)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self), i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		blob_init(&blob, "x", 1);
		blob.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	}
	close(fd);
}

TEST_F(session, put_blob_unknown_kind_is_einval)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	blob.kind = 0;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob.kind = KVMMIG_BLOB_NESTED + 1;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_bad_size_is_einval)
{
	static char big[KVMMIG_BLOB_MAX_SIZE + 1];
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, big, 0);
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob.size = KVMMIG_BLOB_MAX_SIZE + 1;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob.size = KVMMIG_BLOB_MAX_SIZE;
	EXPECT_EQ(0, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_nonzero_index_is_einval)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	blob.index = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_bad_name_is_einval)
{
	struct kvmmig_session_blob blob;
	int fd = create_pausing(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, "x", 1);
	memset(blob.name, 'n', sizeof(blob.name));
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob_init(&blob, "x", 1);
	blob.name[sizeof(blob.name) - 1] = 'z';
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob_init(&blob, "x", 1);
	blob.name[0] = '\n';
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	blob_init(&blob, "x", 1);
	blob.name[1] = (char)0xe9;
	EXPECT_EQ(-EINVAL, __kvmmig_put_blob(fd, &blob));
	/* Empty is fine. */
	blob_init(&blob, "x", 1);
	memset(blob.name, 0, sizeof(blob.name));
	EXPECT_EQ(0, __kvmmig_put_blob(fd, &blob));
	close(fd);
}

TEST_F(session, put_blob_counts_and_limit)
{
	struct kvmmig_session_info info;
	static char data[100];
	int fd = create_pausing(self), i;

	ASSERT_LE(0, fd);
	for (i = 0; i < KVMMIG_SESSION_MAX_BLOBS; i++)
		ASSERT_EQ(0, kvmmig_put_blob(fd, KVMMIG_BLOB_VCPU, i, "",
					     data, 1 + i % 100))
			TH_LOG("blob %d", i);
	EXPECT_EQ(-ENOSPC, kvmmig_put_blob(fd, KVMMIG_BLOB_VCPU, 0, "", data,
					   1));
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	EXPECT_EQ(KVMMIG_SESSION_MAX_BLOBS, info.nr_blobs);
	/* 2 x (1 + ... + 100) + (1 + ... + 56) */
	EXPECT_EQ(2 * 5050 + 1596, info.blob_bytes);
	/* RESUME drops them. */
	ASSERT_EQ(0, nl_cmd(self, KVMMIG_CMD_SESSION_RESUME, self->args.id));
	ASSERT_EQ(0, __kvmmig_session_info(fd, &info));
	EXPECT_EQ(0, info.nr_blobs);
	EXPECT_EQ(0, info.blob_bytes);
	close(fd);
}

/* GET_BLOB */

TEST_F(session, get_blob_when_not_arrived_is_ebusy)
{
	char buf[16];
	int fd = create(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EBUSY, kvmmig_get_blob(fd, 0, buf, sizeof(buf), NULL));
	close(fd);
}

TEST_F(session, get_blob_bad_pointers_are_efault)
{
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EFAULT, __kvmmig_get_blob(fd, bad_ptr));
	EXPECT_EQ(-EFAULT, kvmmig_get_blob(fd, 0, bad_ptr, 16, NULL));
	close(fd);
}

TEST_F(session, get_blob_flags_are_eopnotsupp)
{
	struct kvmmig_session_blob blob;
	char buf[16];
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	blob_init(&blob, buf, sizeof(buf));
	blob.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, __kvmmig_get_blob(fd, &blob));
	close(fd);
}

TEST_F(session, get_blob_nonzero_pad_or_reserved_is_einval)
{
	struct kvmmig_session_blob blob;
	char buf[16];
	int fd = create_arrived(self), i;

	ASSERT_LE(0, fd);
	blob_init(&blob, buf, sizeof(buf));
	blob.pad = 1;
	EXPECT_EQ(-EINVAL, __kvmmig_get_blob(fd, &blob));
	for (i = 0; i < 2; i++) {
		blob_init(&blob, buf, sizeof(buf));
		blob.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, __kvmmig_get_blob(fd, &blob));
	}
	close(fd);
}

TEST_F(session, get_blob_past_the_last_is_enoent)
{
	char buf[16];
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, kvmmig_get_blob(fd, 2, buf, sizeof(buf), NULL));
	EXPECT_EQ(-ENOENT, kvmmig_get_blob(fd, UINT32_MAX, buf, sizeof(buf),
					   NULL));
	close(fd);
}

TEST_F(session, get_blob_too_small_is_enospc_with_the_size)
{
	struct kvmmig_session_blob out;
	char buf[16];
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(-ENOSPC, kvmmig_get_blob(fd, 1, buf, 9, &out));
	EXPECT_EQ(10, out.size);
	EXPECT_EQ(0, buf[0]);
	EXPECT_EQ(-ENOSPC, kvmmig_get_blob(fd, 1, NULL, 0, &out));
	EXPECT_EQ(10, out.size);
	close(fd);
}

TEST_F(session, get_blob_returns_what_migd_added)
{
	struct kvmmig_session_blob out;
	char buf[16];
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(3, kvmmig_get_blob(fd, 0, buf, sizeof(buf), &out));
	EXPECT_EQ(KVMMIG_BLOB_VCPU, out.kind);
	EXPECT_EQ(0, out.instance);
	EXPECT_STREQ("a", out.name);
	EXPECT_EQ(0, memcmp(buf, "xyz", 3));
	ASSERT_EQ(10, kvmmig_get_blob(fd, 1, buf, sizeof(buf), &out));
	EXPECT_EQ(KVMMIG_BLOB_DEVICE, out.kind);
	EXPECT_EQ(9, out.instance);
	EXPECT_STREQ("b", out.name);
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	/* Collected: ACK runs it here, and the blobs are gone. */
	ASSERT_EQ(0, kvmmig_session_ack(fd, KVMMIG_SESSION_ARRIVED));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(fd));
	EXPECT_EQ(-EBUSY, kvmmig_get_blob(fd, 0, buf, sizeof(buf), NULL));
	close(fd);
}

/*
 * A VMM stalled in GET_BLOB: the copy to user space faults on a page that
 * a userfaultfd holds back, until stall_end() fills it.
 */
struct stall {
	int sfd;
	int uffd;
	char *buf;
	pthread_t thread;
	bool started;
	int ret;			/* what GET_BLOB returned */
};

static void *stalled_get_blob(void *arg)
{
	struct stall *st = arg;

	st->ret = kvmmig_get_blob(st->sfd, 0, st->buf, PAGE, NULL);
	return NULL;
}

/* GET_BLOB of blob 0 on @sfd on a thread, faulting in the copy; 0 or -errno. */
static int stall_start(struct stall *st, int sfd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	struct pollfd pfd;
	struct uffd_msg msg;

	memset(st, 0, sizeof(*st));
	st->sfd = sfd;
	st->uffd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (st->uffd < 0)
		return -errno;
	if (ioctl(st->uffd, UFFDIO_API, &api))
		return -errno;
	st->buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (st->buf == MAP_FAILED)
		return -errno;
	memset(&reg, 0, sizeof(reg));
	reg.range.start = (uintptr_t)st->buf;
	reg.range.len = PAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(st->uffd, UFFDIO_REGISTER, &reg))
		return -errno;
	if (pthread_create(&st->thread, NULL, stalled_get_blob, st))
		return -EAGAIN;
	st->started = true;
	/* The kernel's copy has faulted and waits for us. */
	pfd.fd = st->uffd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 10000) != 1)
		return -ETIMEDOUT;
	if (read(st->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -EIO;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -EIO;
}

/* Fill the page: the copy goes on and GET_BLOB returns. */
static void stall_end(struct stall *st)
{
	struct uffdio_zeropage zp;

	if (!st->started)
		return;
	memset(&zp, 0, sizeof(zp));
	zp.range.start = (uintptr_t)st->buf;
	zp.range.len = PAGE;
	ioctl(st->uffd, UFFDIO_ZEROPAGE, &zp);
	pthread_join(st->thread, NULL);
	st->started = false;
}

static void stall_free(struct stall *st)
{
	stall_end(st);
	if (st->uffd >= 0)
		close(st->uffd);
	if (st->buf && st->buf != MAP_FAILED)
		munmap(st->buf, PAGE);
}

/* A call that must not wait for the stalled VMM, on a thread of its own. */
struct bystander {
	int (*fn)(void *arg);
	void *arg;
	pthread_t thread;
	int ret;
};

static void *bystander_run(void *arg)
{
	struct bystander *b = arg;

	b->ret = b->fn(b->arg);
	return NULL;
}

/*
 * @b->fn's result, or -ETIMEDOUT when it did not return within 10 s: then
 * it waits for the stalled VMM, and bystander_join() collects it after
 * stall_end().
 */
static int bystander_call(struct bystander *b)
{
	struct timespec ts;

	if (pthread_create(&b->thread, NULL, bystander_run, b))
		return -EAGAIN;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	if (pthread_timedjoin_np(b->thread, NULL, &ts))
		return -ETIMEDOUT;
	b->thread = 0;
	return b->ret;
}

static void bystander_join(struct bystander *b)
{
	if (b->thread)
		pthread_join(b->thread, NULL);
}

static int close_nlk(void *arg)
{
	nlk_close(arg);
	return 0;
}

TEST_F(session, a_vmm_stalled_in_get_blob_delays_no_socket_close)
{
	struct bystander b = { .fn = close_nlk };
	struct nlk other;
	struct stall st;
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	/* A socket that never controlled a session, used once. */
	ASSERT_EQ(0, __nlk_open(&other));
	ASSERT_EQ(0, __nlk_session_cmd(&other, KVMMIG_CMD_SESSION_GET,
				       self->args.id, NULL));
	b.arg = &other;
	ASSERT_EQ(0, stall_start(&st, fd)) {
		stall_free(&st);
		close(fd);
	}
	EXPECT_EQ(0, bystander_call(&b))
		TH_LOG("closing an unrelated netlink socket waited for the VMM");
	stall_end(&st);
	bystander_join(&b);
	EXPECT_EQ(3, st.ret);
	EXPECT_EQ(KVMMIG_SESSION_ARRIVED, kvmmig_session_state(fd));
	stall_free(&st);
	close(fd);
}

struct looker {
	struct nlk k;
	__u32 id;
	int sfd;
};

/* SESSION_GET do and dump, and GET_INFO: each takes the session's lock. */
static int look_at_the_session(void *arg)
{
	struct looker *l = arg;
	struct nl_msg *msg;
	int ret;

	ret = __nlk_session_cmd(&l->k, KVMMIG_CMD_SESSION_GET, l->id, NULL);
	if (ret)
		return ret;
	msg = nlk_msg(&l->k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	ret = __nlk_request(&l->k, msg, NULL, NULL, NULL);
	if (ret)
		return ret;
	ret = kvmmig_session_state(l->sfd);
	return ret == KVMMIG_SESSION_ARRIVED ? 0 : -EPROTO;
}

TEST_F(session, a_vmm_stalled_in_get_blob_holds_no_lock)
{
	struct bystander b = { .fn = look_at_the_session };
	struct looker l;
	struct stall st;
	int fd = create_arrived(self);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __nlk_open(&l.k));
	l.id = self->args.id;
	l.sfd = fd;
	b.arg = &l;
	ASSERT_EQ(0, stall_start(&st, fd)) {
		stall_free(&st);
		close(fd);
	}
	EXPECT_EQ(0, bystander_call(&b))
		TH_LOG("SESSION_GET or GET_INFO waited for the VMM's fault");
	stall_end(&st);
	bystander_join(&b);
	EXPECT_EQ(3, st.ret);
	EXPECT_EQ(0, memcmp(st.buf, "xyz", 3));
	stall_free(&st);
	nlk_close(&l.k);
	close(fd);
}

KVMMIG_HARNESS_MAIN
