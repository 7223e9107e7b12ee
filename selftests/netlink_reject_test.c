// SPDX-License-Identifier: GPL-2.0
/*
 * What the kvmmig genetlink family refuses: every command a session state
 * does not take, and one malformed request per attribute, each with the
 * extack that points at the attribute.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>

#include "netlink_fixture.h"

/* Invalid transitions: every command a state does not take, per state. */

FIXTURE(trans) {
	int dev;
	int r;
	int sfd;
	__u32 id;
	struct nlk k;
	struct nlk ev;
};

FIXTURE_VARIANT(trans) {
	__u32 state;
	bool incoming;
	__u8 path[3];		/* commands (0: the VMM's ack) to get there */
	int path_len;
	__u32 takes;		/* BIT(cmd) of the commands it takes */
};

#define B(cmd)	(1U << (cmd))

FIXTURE_VARIANT_ADD(trans, running) {
	.state = KVMMIG_SESSION_RUNNING,
	.takes = B(KVMMIG_CMD_SESSION_PAUSE),
};

FIXTURE_VARIANT_ADD(trans, pausing) {
	.state = KVMMIG_SESSION_PAUSING,
	.path = { KVMMIG_CMD_SESSION_PAUSE }, .path_len = 1,
	.takes = B(KVMMIG_CMD_SESSION_RESUME),
};

FIXTURE_VARIANT_ADD(trans, paused) {
	.state = KVMMIG_SESSION_PAUSED,
	.path = { KVMMIG_CMD_SESSION_PAUSE, 0 }, .path_len = 2,
	.takes = B(KVMMIG_CMD_SESSION_RESUME) |
		 B(KVMMIG_CMD_SESSION_HANDOVER) | B(KVMMIG_CMD_BLOB_GET),
};

FIXTURE_VARIANT_ADD(trans, done) {
	.state = KVMMIG_SESSION_DONE,
	.path = { KVMMIG_CMD_SESSION_PAUSE, 0, KVMMIG_CMD_SESSION_HANDOVER },
	.path_len = 3,
};

FIXTURE_VARIANT_ADD(trans, waiting) {
	.state = KVMMIG_SESSION_WAITING, .incoming = true,
	.takes = B(KVMMIG_CMD_SESSION_RECEIVE) | B(KVMMIG_CMD_SESSION_ABORT),
};

FIXTURE_VARIANT_ADD(trans, receiving) {
	.state = KVMMIG_SESSION_RECEIVING, .incoming = true,
	.path = { KVMMIG_CMD_SESSION_RECEIVE }, .path_len = 1,
	.takes = B(KVMMIG_CMD_SESSION_ARRIVE) | B(KVMMIG_CMD_SESSION_ABORT) |
		 B(KVMMIG_CMD_BLOB_ADD),
};

FIXTURE_VARIANT_ADD(trans, arrived) {
	.state = KVMMIG_SESSION_ARRIVED, .incoming = true,
	.path = { KVMMIG_CMD_SESSION_RECEIVE, KVMMIG_CMD_SESSION_ARRIVE },
	.path_len = 2,
	.takes = B(KVMMIG_CMD_SESSION_ABORT),
};

FIXTURE_VARIANT_ADD(trans, aborted) {
	.state = KVMMIG_SESSION_ABORTED, .incoming = true,
	.path = { KVMMIG_CMD_SESSION_ABORT }, .path_len = 1,
};

FIXTURE_SETUP(trans)
{
	struct nlk_event ev;
	int i, ret;

	self->sfd = -1;
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	if (!have_sessions(self->dev))
		SKIP(return, "the module has no sessions");
	ASSERT_EQ(0, __nlk_open(&self->k));
	ASSERT_EQ(0, __nlk_open(&self->ev));
	ASSERT_EQ(0, __nlk_join_events(&self->ev));
	self->r = kvmmig_region(self->dev, PAGE, "nl-trans", -1);
	ASSERT_LE(0, self->r);
	self->sfd = kvmmig_session(self->dev, "nl-trans",
				   variant->incoming ?
				   KVMMIG_SESSION_F_INCOMING : 0,
				   &self->r, 1, &self->id);
	ASSERT_LE(0, self->sfd);
	for (i = 0; i < variant->path_len; i++) {
		if (variant->path[i])
			ret = __nlk_session_cmd(&self->k, variant->path[i],
						self->id, NULL);
		else
			ret = kvmmig_session_ack(self->sfd,
						 KVMMIG_SESSION_PAUSING);
		ASSERT_EQ(0, ret) TH_LOG("step %d", i);
	}
	ASSERT_EQ(variant->state, kvmmig_session_state(self->sfd));
	/* Drain the events so far. */
	while (!nlk_next_event(&self->ev, &ev, 0))
		;
}

FIXTURE_TEARDOWN(trans)
{
	if (self->sfd >= 0)
		close(self->sfd);
	nlk_close(&self->k);
	nlk_close(&self->ev);
	close(self->dev);
}

TEST_F(trans, commands_a_state_does_not_take_are_ebusy)
{
	static const __u8 cmds[] = {
		KVMMIG_CMD_SESSION_PAUSE, KVMMIG_CMD_SESSION_RESUME,
		KVMMIG_CMD_SESSION_HANDOVER, KVMMIG_CMD_SESSION_RECEIVE,
		KVMMIG_CMD_SESSION_ARRIVE, KVMMIG_CMD_SESSION_ABORT,
		KVMMIG_CMD_BLOB_ADD, KVMMIG_CMD_BLOB_GET,
	};
	struct blob_rows *blobs = calloc(1, sizeof(*blobs));
	/* SESSION_ID is the first attribute: its offset in the request. */
	const __u32 id_offs = NLMSG_HDRLEN + GENL_HDRLEN;
	struct nlk_ext ext;
	struct nlk_event ev;
	size_t i;
	int ret;

	ASSERT_NE(NULL, blobs);
	for (i = 0; i < sizeof(cmds); i++) {
		if (variant->takes & B(cmds[i]))
			continue;
		if (cmds[i] == KVMMIG_CMD_BLOB_ADD)
			ret = __nlk_blob_add(&self->k, self->id,
					     KVMMIG_BLOB_VCPU, 0, "", "x", 1,
					     &ext);
		else if (cmds[i] == KVMMIG_CMD_BLOB_GET)
			ret = __nlk_dump_blobs(&self->k, self->id, blobs, &ext);
		else
			ret = __nlk_session_cmd(&self->k, cmds[i], self->id,
						&ext);
		EXPECT_EQ(-EBUSY, ret) TH_LOG("cmd %u", cmds[i]);
		/* The kernel passes no extack to a dump's start on 6.1. */
		if (cmds[i] != KVMMIG_CMD_BLOB_GET) {
			EXPECT_NE(0, ext.msg[0]) TH_LOG("cmd %u", cmds[i]);
			EXPECT_TRUE(ext.has_offs);
			EXPECT_EQ(id_offs, ext.offs);
		}
	}
	EXPECT_EQ(variant->state, kvmmig_session_state(self->sfd));
	EXPECT_EQ(-ETIMEDOUT, nlk_next_event(&self->ev, &ev, 0));
	free(blobs);
}

/* Malformed requests: one per attribute a command takes. */

/* Send @msg; the error and the extack's attribute offset must match. */
static int __send_bad(struct nlk *k, struct nl_msg *msg, struct nlk_ext *ext,
		      __u32 *offs)
{
	*offs = nlk_last_attr_offs(msg);
	return __nlk_request(k, msg, NULL, NULL, ext);
}

#define EXPECT_REJECTS_LAST(msg, err) do {				\
	__u32 __offs;							\
	int __ret = __send_bad(&self->k, msg, &self->ext, &__offs);	\
									\
	EXPECT_EQ(err, __ret) TH_LOG("%s", self->ext.msg);		\
	EXPECT_TRUE(self->ext.has_offs);				\
	EXPECT_EQ(__offs, self->ext.offs);				\
} while (0)

#define EXPECT_MISSING(msg, type) do {					\
	int __ret = __nlk_request(&self->k, msg, NULL, NULL, &self->ext); \
									\
	EXPECT_EQ(-EINVAL, __ret);					\
	EXPECT_TRUE(self->ext.has_miss);				\
	EXPECT_EQ(type, self->ext.miss_type);				\
} while (0)

/* A BLOB_ADD request with SESSION_ID, before the attribute under test. */
static struct nl_msg *blob_add_msg(FIXTURE_DATA(nl) *self, bool kind,
				   bool instance, bool data)
{
	struct nl_msg *msg = nlk_msg(&self->k, KVMMIG_CMD_BLOB_ADD, 0);

	if (!msg)
		return NULL;
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	if (kind)
		nla_put_u32(msg, KVMMIG_A_BLOB_KIND, KVMMIG_BLOB_VCPU);
	if (instance)
		nla_put_u32(msg, KVMMIG_A_BLOB_INSTANCE, 0);
	if (data)
		nla_put(msg, KVMMIG_A_BLOB_DATA, 1, "x");
	return msg;
}

#define RECEIVING_SESSION(name) do {					\
	NEW_SESSION(name, KVMMIG_SESSION_F_INCOMING);			\
	CMD_OK(KVMMIG_CMD_SESSION_RECEIVE, KVMMIG_SESSION_RECEIVING);	\
} while (0)

TEST_F(nl, bad_session_id_is_rejected)
{
	__u16 u16 = 1;
	__u64 u64 = 1;
	struct nl_msg *msg;

	NEW_SESSION("nl-badid", 0);
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_SESSION_ID, sizeof(u16), &u16);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_SESSION_ID, sizeof(u64), &u64);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, 0);
	EXPECT_REJECTS_LAST(msg, -ERANGE);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	EXPECT_MISSING(msg, KVMMIG_A_SESSION_ID);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));
}

TEST_F(nl, bad_session_name_is_rejected)
{
	char longname[KVMMIG_SESSION_NAME_LEN + 1];
	struct nl_msg *msg;

	NEW_SESSION("nl-badname", 0);
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, 0);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_SESSION_NAME, 4, "nl-b");	/* no NUL */
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	memset(longname, 'n', sizeof(longname));
	longname[KVMMIG_SESSION_NAME_LEN] = 0;
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, 0);
	ASSERT_NE(NULL, msg);
	nla_put_string(msg, KVMMIG_A_SESSION_NAME, longname);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	/* Both, or neither, of SESSION_ID and SESSION_NAME. */
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	nla_put_string(msg, KVMMIG_A_SESSION_NAME, "nl-badname");
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, 0);
	ASSERT_NE(NULL, msg);
	EXPECT_MISSING(msg, KVMMIG_A_SESSION_ID);
}

TEST_F(nl, bad_blob_kind_is_rejected)
{
	struct nl_msg *msg;
	__u16 u16 = 1;

	RECEIVING_SESSION("nl-badkind");
	msg = blob_add_msg(self, false, true, true);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_BLOB_KIND, 0);
	EXPECT_REJECTS_LAST(msg, -ERANGE);
	msg = blob_add_msg(self, false, true, true);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_BLOB_KIND, KVMMIG_BLOB_NESTED + 1);
	EXPECT_REJECTS_LAST(msg, -ERANGE);
	msg = blob_add_msg(self, false, true, true);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_BLOB_KIND, sizeof(u16), &u16);
	EXPECT_REJECTS_LAST(msg, -EINVAL);
	msg = blob_add_msg(self, false, true, true);
	ASSERT_NE(NULL, msg);
	EXPECT_MISSING(msg, KVMMIG_A_BLOB_KIND);
}

TEST_F(nl, bad_blob_instance_is_rejected)
{
	struct nl_msg *msg;
	__u64 u64 = 1;

	RECEIVING_SESSION("nl-badinst");
	msg = blob_add_msg(self, true, false, true);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_BLOB_INSTANCE, sizeof(u64), &u64);
	EXPECT_REJECTS_LAST(msg, -EINVAL);
	msg = blob_add_msg(self, true, false, true);
	ASSERT_NE(NULL, msg);
	EXPECT_MISSING(msg, KVMMIG_A_BLOB_INSTANCE);
}

TEST_F(nl, bad_blob_name_is_rejected)
{
	char longname[KVMMIG_BLOB_NAME_LEN + 1];
	struct nl_msg *msg;

	RECEIVING_SESSION("nl-badbname");
	msg = blob_add_msg(self, true, true, true);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_BLOB_NAME, 3, "abc");
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	memset(longname, 'b', sizeof(longname));
	longname[KVMMIG_BLOB_NAME_LEN] = 0;
	msg = blob_add_msg(self, true, true, true);
	ASSERT_NE(NULL, msg);
	nla_put_string(msg, KVMMIG_A_BLOB_NAME, longname);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = blob_add_msg(self, true, true, true);
	ASSERT_NE(NULL, msg);
	nla_put_string(msg, KVMMIG_A_BLOB_NAME, "bell\a");
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	/* The longest name is fine. */
	longname[KVMMIG_BLOB_NAME_LEN - 1] = 0;
	msg = blob_add_msg(self, true, true, true);
	ASSERT_NE(NULL, msg);
	nla_put_string(msg, KVMMIG_A_BLOB_NAME, longname);
	EXPECT_EQ(0, __nlk_request(&self->k, msg, NULL, NULL, &self->ext));
}

TEST_F(nl, bad_blob_data_is_rejected)
{
	static char big[KVMMIG_BLOB_MAX_SIZE + 1];
	struct session_rows rows;
	struct nl_msg *msg;

	RECEIVING_SESSION("nl-baddata");
	msg = blob_add_msg(self, true, true, false);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_BLOB_DATA, 0, NULL);
	EXPECT_REJECTS_LAST(msg, -ERANGE);
	msg = blob_add_msg(self, true, true, false);
	ASSERT_NE(NULL, msg);
	nla_put(msg, KVMMIG_A_BLOB_DATA, sizeof(big), big);
	EXPECT_REJECTS_LAST(msg, -ERANGE);
	msg = blob_add_msg(self, true, true, false);
	ASSERT_NE(NULL, msg);
	EXPECT_MISSING(msg, KVMMIG_A_BLOB_DATA);
	/* Nothing got in. */
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);
}

TEST_F(nl, unknown_attribute_is_rejected)
{
	struct nl_msg *msg;

	NEW_SESSION("nl-unknown", 0);
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	nla_put_u32(msg, KVMMIG_A_MAX + 1, 0);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	nla_put_u32(msg, KVMMIG_A_UNSPEC, 0);
	EXPECT_REJECTS_LAST(msg, -EINVAL);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));
}

TEST_F(nl, attribute_a_command_does_not_take_is_rejected)
{
	struct nl_msg *msg;

	NEW_SESSION("nl-foreign", 0);
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_PAUSE, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	nla_put_u64(msg, KVMMIG_A_REGION_SIZE, PAGE);
	EXPECT_REJECTS_LAST(msg, -EINVAL);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, 0);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	nla_put_u32(msg, KVMMIG_A_BLOB_KIND, KVMMIG_BLOB_VCPU);
	EXPECT_REJECTS_LAST(msg, -EINVAL);

	msg = nlk_msg(&self->k, KVMMIG_CMD_REGION_GET, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	nla_put_u32(msg, KVMMIG_A_SESSION_ID, self->id);
	EXPECT_REJECTS_LAST(msg, -EINVAL);
}

TEST_F(nl, unknown_command_is_eopnotsupp)
{
	struct nl_msg *msg;

	msg = nlk_msg(&self->k, KVMMIG_CMD_MAX + 1, 0);
	ASSERT_NE(NULL, msg);
	EXPECT_EQ(-EOPNOTSUPP, __nlk_request(&self->k, msg, NULL, NULL, NULL));
	/* Events are sent, not taken. */
	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_EVENT, 0);
	ASSERT_NE(NULL, msg);
	EXPECT_EQ(-EOPNOTSUPP, __nlk_request(&self->k, msg, NULL, NULL, NULL));
	/* REGION_GET is a dump only. */
	msg = nlk_msg(&self->k, KVMMIG_CMD_REGION_GET, 0);
	ASSERT_NE(NULL, msg);
	EXPECT_EQ(-EOPNOTSUPP, __nlk_request(&self->k, msg, NULL, NULL, NULL));
}

/* The controller: only the socket that paused or received counts. */

KVMMIG_HARNESS_MAIN
