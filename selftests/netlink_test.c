// SPDX-License-Identifier: GPL-2.0
/*
 * The kvmmig genetlink family, from a libnl-genl-3 client: family and
 * group, region and session dumps, SESSION_GET, the events of every
 * transition, the source and destination paths with their blobs, RESUME
 * and ABORT, permissions, and what happens when migd or the VMM goes away.
 * What the family refuses is netlink_reject_test's.
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

TEST_F(nl, family_and_events_group_resolve)
{
	EXPECT_LT(0, self->k.family);
	EXPECT_LT(0, self->ev.events_grp);
	EXPECT_EQ(self->k.family, self->ev.family);
}

TEST_F(nl, region_dump_shows_every_field)
{
	struct region_rows rows;
	struct region_row *r0, *r1;
	char buf[PAGE];
	__u64 bitmap[2];

	memset(buf, 1, sizeof(buf));
	ASSERT_EQ(PAGE, pwrite(self->r[0], buf, PAGE, 0));
	ASSERT_EQ(PAGE, pwrite(self->r[0], buf, PAGE, 5 * PAGE));
	ASSERT_EQ(0, kvmmig_log_enable(self->r[1], KVMMIG_DIRTY_MODE_WRPROT,
				       KVMMIG_DIRTY_LOG_F_INITIALLY_SET, 0));
	ASSERT_EQ(128, kvmmig_log_harvest(self->r[1], 0, 128, bitmap));

	ASSERT_EQ(0, __nlk_dump_regions(&self->k, &rows));
	r0 = nlk_find_region(&rows, "nl-ram0");
	r1 = nlk_find_region(&rows, "nl-ram1");
	ASSERT_NE(NULL, r0);
	ASSERT_NE(NULL, r1);
	EXPECT_NE(r0->id, r1->id);
	EXPECT_EQ(SIZE, r0->size);
	EXPECT_EQ(2 * SIZE, r1->size);
	EXPECT_EQ(-1, r0->node);
	EXPECT_EQ(2, r0->pages);
	EXPECT_EQ(0, r1->pages);
	EXPECT_EQ((__u32)getpid(), r0->owner);
	EXPECT_EQ(0, r0->log_enabled);
	EXPECT_EQ(0, r0->harvests);
	EXPECT_EQ(1, r1->log_enabled);
	EXPECT_EQ(KVMMIG_DIRTY_MODE_WRPROT, r1->log_mode);
	EXPECT_EQ(1, r1->harvests);
	EXPECT_EQ(128, r1->reported);

	/* A closed region leaves the dump. */
	close(self->r[0]);
	ASSERT_EQ(0, __nlk_dump_regions(&self->k, &rows));
	EXPECT_EQ(NULL, nlk_find_region(&rows, "nl-ram0"));
	EXPECT_NE(NULL, nlk_find_region(&rows, "nl-ram1"));
}

TEST_F(nl, region_dump_follows_node_placement)
{
	struct region_rows rows;
	struct region_row *r;
	int fd;

	fd = kvmmig_region(self->dev, SIZE, "nl-node0", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __nlk_dump_regions(&self->k, &rows));
	r = nlk_find_region(&rows, "nl-node0");
	ASSERT_NE(NULL, r);
	EXPECT_EQ(0, r->node);
	close(fd);
}

TEST_F(nl, session_dump_shows_every_field)
{
	struct session_rows rows;
	struct region_rows regions;
	struct session_row *s = NULL;
	int i;

	NEW_SESSION("nl-dump", 0);
	ASSERT_EQ(0, __nlk_dump_regions(&self->k, &regions));
	ASSERT_EQ(0, __nlk_dump_sessions(&self->k, &rows));
	for (i = 0; i < rows.n; i++)
		if (rows.row[i].id == self->id)
			s = &rows.row[i];
	ASSERT_NE(NULL, s);
	EXPECT_STREQ("nl-dump", s->name);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, s->state);
	EXPECT_EQ((__u32)getpid(), s->owner);
	EXPECT_EQ(0, s->nr_blobs);
	EXPECT_EQ(0, s->blob_bytes);
	ASSERT_EQ(2, s->nr_regions);
	EXPECT_EQ(nlk_find_region(&regions, "nl-ram0")->id, s->regions[0]);
	EXPECT_EQ(nlk_find_region(&regions, "nl-ram1")->id, s->regions[1]);
}

TEST_F(nl, session_get_by_id_and_by_name)
{
	struct session_rows rows;

	NEW_SESSION("nl-get", KVMMIG_SESSION_F_INCOMING);
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows,
				   &self->ext));
	ASSERT_EQ(1, rows.n);
	EXPECT_STREQ("nl-get", rows.row[0].name);
	EXPECT_EQ(KVMMIG_SESSION_WAITING, rows.row[0].state);

	ASSERT_EQ(0, __nlk_get_session(&self->k, 0, "nl-get", &rows, &self->ext));
	ASSERT_EQ(1, rows.n);
	EXPECT_EQ(self->id, rows.row[0].id);

	EXPECT_EQ(-ENOENT, __nlk_get_session(&self->k, 0, "nl-none", &rows,
					 &self->ext));
	EXPECT_EQ(-ENOENT, __nlk_get_session(&self->k, self->id + 1000, NULL,
					 &rows, &self->ext));
	EXPECT_TRUE(self->ext.has_offs);
}

TEST_F(nl, source_path_pause_ack_blobs_handover)
{
	static const char vcpu[] = "vcpu0 registers";
	unsigned char dev[1000];
	struct blob_rows *blobs;
	struct nlk_event ev;
	struct session_rows rows;
	size_t i;

	for (i = 0; i < sizeof(dev); i++)
		dev[i] = i * 7;
	NEW_SESSION("nl-src", 0);
	ASSERT_FALSE(kvmmig_pollin(self->sfd, 0));
	ASSERT_EQ(0, __nlk_session_cmd(&self->k, KVMMIG_CMD_SESSION_PAUSE,
				       self->id, &self->ext));
	/* The VMM learns of it by poll(), as it would in its main loop. */
	ASSERT_TRUE(kvmmig_pollin(self->sfd, EVENT_MS));
	ASSERT_EQ(KVMMIG_SESSION_PAUSING, kvmmig_session_state(self->sfd));
	ASSERT_FALSE(kvmmig_pollin(self->sfd, 0));
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.old_state);
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_VCPU, 0, "regs",
				     vcpu, sizeof(vcpu)));
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_DEVICE, 3, "",
				     dev, sizeof(dev)));
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_PAUSED, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_REQUEST, ev.reason);
	EXPECT_STREQ("nl-src", ev.name);

	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(2, rows.row[0].nr_blobs);
	EXPECT_EQ(sizeof(vcpu) + sizeof(dev), rows.row[0].blob_bytes);

	blobs = calloc(1, sizeof(*blobs));
	ASSERT_NE(NULL, blobs);
	ASSERT_EQ(0, __nlk_dump_blobs(&self->k, self->id, blobs, &self->ext));
	ASSERT_EQ(2, blobs->n);
	EXPECT_EQ(self->id, blobs->row[0].session);
	EXPECT_EQ(0, blobs->row[0].index);
	EXPECT_EQ(KVMMIG_BLOB_VCPU, blobs->row[0].kind);
	EXPECT_EQ(0, blobs->row[0].instance);
	EXPECT_STREQ("regs", blobs->row[0].name);
	ASSERT_EQ(sizeof(vcpu), blobs->row[0].size);
	EXPECT_EQ(0, memcmp(vcpu, blobs->row[0].data, sizeof(vcpu)));
	EXPECT_EQ(1, blobs->row[1].index);
	EXPECT_EQ(KVMMIG_BLOB_DEVICE, blobs->row[1].kind);
	EXPECT_EQ(3, blobs->row[1].instance);
	EXPECT_STREQ("", blobs->row[1].name);
	ASSERT_EQ(sizeof(dev), blobs->row[1].size);
	EXPECT_EQ(0, memcmp(dev, blobs->row[1].data, sizeof(dev)));
	free(blobs);

	CMD_OK(KVMMIG_CMD_SESSION_HANDOVER, KVMMIG_SESSION_DONE);
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);
}

TEST_F(nl, destination_path_receive_blobs_arrive_ack)
{
	static unsigned char big[KVMMIG_BLOB_MAX_SIZE];
	struct kvmmig_session_blob out;
	static unsigned char buf[KVMMIG_BLOB_MAX_SIZE];
	struct nlk_event ev;
	size_t i;

	for (i = 0; i < sizeof(big); i++)
		big[i] = i ^ (i >> 8);
	NEW_SESSION("nl-dst", KVMMIG_SESSION_F_INCOMING);
	ASSERT_EQ(KVMMIG_SESSION_WAITING, kvmmig_session_state(self->sfd));
	CMD_OK(KVMMIG_CMD_SESSION_RECEIVE, KVMMIG_SESSION_RECEIVING);
	ASSERT_EQ(0, __nlk_blob_add(&self->k, self->id, KVMMIG_BLOB_VCPU, 1,
				    "cpu1", "abc", 3, &self->ext));
	ASSERT_EQ(0, __nlk_blob_add(&self->k, self->id, KVMMIG_BLOB_NESTED, 1,
				    NULL, big, sizeof(big), &self->ext))
		TH_LOG("%s", self->ext.msg);
	CMD_OK(KVMMIG_CMD_SESSION_ARRIVE, KVMMIG_SESSION_ARRIVED);

	ASSERT_EQ(3, kvmmig_get_blob(self->sfd, 0, buf, sizeof(buf), &out));
	EXPECT_EQ(KVMMIG_BLOB_VCPU, out.kind);
	EXPECT_EQ(1, out.instance);
	EXPECT_STREQ("cpu1", out.name);
	EXPECT_EQ(0, memcmp(buf, "abc", 3));
	ASSERT_EQ(sizeof(big), kvmmig_get_blob(self->sfd, 1, buf, sizeof(buf),
					       &out));
	EXPECT_EQ(KVMMIG_BLOB_NESTED, out.kind);
	EXPECT_STREQ("", out.name);
	EXPECT_EQ(0, memcmp(buf, big, sizeof(big)));
	EXPECT_EQ(-ENOENT, kvmmig_get_blob(self->sfd, 2, buf, sizeof(buf),
					   NULL));

	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_ARRIVED));
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_ARRIVED, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_REQUEST, ev.reason);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));
}

TEST_F(nl, vmm_gone_ends_the_session)
{
	struct session_rows rows;
	struct nlk_event ev;

	NEW_SESSION("nl-gone", 0);
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	close(self->sfd);
	self->sfd = -1;
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(self->id, ev.id);
	EXPECT_EQ(KVMMIG_SESSION_ABORTED, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_VMM_GONE, ev.reason);
	EXPECT_EQ(-ENOENT, __nlk_session_cmd(&self->k,
					     KVMMIG_CMD_SESSION_RESUME,
					     self->id, &self->ext));
	EXPECT_EQ(-ENOENT, __nlk_get_session(&self->k, self->id, NULL, &rows,
					 NULL));
}

TEST_F(nl, daemon_gone_resumes_a_paused_source)
{
	struct nlk migd;
	struct nlk_event ev;

	NEW_SESSION("nl-dgone", 0);
	ASSERT_EQ(0, __nlk_open(&migd));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_PAUSE,
				       self->id, NULL));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id,
				    KVMMIG_SESSION_PAUSING, &ev, EVENT_MS));
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id,
				    KVMMIG_SESSION_PAUSED, &ev, EVENT_MS));
	nlk_close(&migd);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_PAUSED, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_DAEMON_GONE, ev.reason);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));
}

TEST_F(nl, daemon_gone_aborts_a_receiving_destination)
{
	struct nlk migd;
	struct nlk_event ev;

	NEW_SESSION("nl-dgone2", KVMMIG_SESSION_F_INCOMING);
	ASSERT_EQ(0, __nlk_open(&migd));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_RECEIVE,
				       self->id, NULL));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id,
				    KVMMIG_SESSION_RECEIVING, &ev, EVENT_MS));
	nlk_close(&migd);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_ABORTED, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_RECEIVING, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_DAEMON_GONE, ev.reason);
	EXPECT_EQ(KVMMIG_SESSION_ABORTED, kvmmig_session_state(self->sfd));
}

TEST_F(nl, creation_event_has_no_old_state)
{
	struct nlk_event ev;

	self->sfd = kvmmig_session(self->dev, "nl-born", 0, self->r, 2,
				   &self->id);
	ASSERT_LE(0, self->sfd);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(self->id, ev.id);
	EXPECT_STREQ("nl-born", ev.name);
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.state);
	EXPECT_EQ(0, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_CREATED, ev.reason);
}

TEST_F(nl, session_dump_filters_by_id_or_name)
{
	struct session_rows rows;
	struct nl_msg *msg;
	int other, sfd2;
	__u32 id2;

	NEW_SESSION("nl-f1", 0);
	other = kvmmig_region(self->dev, PAGE, "nl-other", -1);
	ASSERT_LE(0, other);
	sfd2 = kvmmig_session(self->dev, "nl-f2", 0, &other, 1, &id2);
	ASSERT_LE(0, sfd2);

	ASSERT_EQ(0, __nlk_dump_sessions(&self->k, &rows));
	EXPECT_LE(2, rows.n);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_u32(msg, KVMMIG_A_SESSION_ID, id2));
	rows.n = 0;
	ASSERT_EQ(0, __nlk_request(&self->k, msg, nlk_session_row, &rows, NULL));
	ASSERT_EQ(1, rows.n);
	EXPECT_STREQ("nl-f2", rows.row[0].name);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_string(msg, KVMMIG_A_SESSION_NAME, "nl-f1"));
	rows.n = 0;
	ASSERT_EQ(0, __nlk_request(&self->k, msg, nlk_session_row, &rows, NULL));
	ASSERT_EQ(1, rows.n);
	EXPECT_EQ(self->id, rows.row[0].id);
	close(sfd2);
	close(other);
}

TEST_F(nl, resume_from_pausing_and_from_paused)
{
	struct session_rows rows;
	struct nlk_event ev;

	NEW_SESSION("nl-resume", 0);
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_VCPU, 0, "", "x",
				     1));
	CMD_OK(KVMMIG_CMD_SESSION_RESUME, KVMMIG_SESSION_RUNNING);
	/* The VMM was too late: its ack is stale, its blobs are gone. */
	EXPECT_EQ(-ESTALE, kvmmig_session_ack(self->sfd,
					      KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);

	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_VCPU, 0, "", "x",
				     1));
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id, KVMMIG_SESSION_PAUSED,
				    &ev, EVENT_MS));
	CMD_OK(KVMMIG_CMD_SESSION_RESUME, KVMMIG_SESSION_RUNNING);
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);
	EXPECT_EQ(0, rows.row[0].blob_bytes);
}

TEST_F(nl, abort_from_each_destination_state)
{
	static const __u32 steps[][2] = {
		{ 0, 0 },
		{ KVMMIG_CMD_SESSION_RECEIVE, 0 },
		{ KVMMIG_CMD_SESSION_RECEIVE, KVMMIG_CMD_SESSION_ARRIVE },
	};
	static const __u32 from[] = {
		KVMMIG_SESSION_WAITING, KVMMIG_SESSION_RECEIVING,
		KVMMIG_SESSION_ARRIVED,
	};
	struct nlk_event ev;
	char name[16], buf[8];
	int i, j;

	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "nl-abort%d", i);
		NEW_SESSION(name, KVMMIG_SESSION_F_INCOMING);
		for (j = 0; j < 2; j++) {
			if (!steps[i][j])
				break;
			if (steps[i][j] == KVMMIG_CMD_SESSION_ARRIVE)
				ASSERT_EQ(0, __nlk_blob_add(&self->k, self->id,
							    KVMMIG_BLOB_VCPU,
							    0, "", "x", 1,
							    NULL));
			ASSERT_EQ(0, __nlk_session_cmd(&self->k, steps[i][j],
						       self->id, NULL));
			ASSERT_EQ(0, nlk_next_event(&self->ev, &ev,
						    EVENT_MS));
		}
		ASSERT_EQ(from[i], kvmmig_session_state(self->sfd));
		CMD_OK(KVMMIG_CMD_SESSION_ABORT, KVMMIG_SESSION_ABORTED);
		EXPECT_EQ(-EBUSY, kvmmig_get_blob(self->sfd, 0, buf,
						  sizeof(buf), NULL));
		EXPECT_EQ(-ESTALE, kvmmig_session_ack(self->sfd,
						      KVMMIG_SESSION_ARRIVED));
		close(self->sfd);
		self->sfd = -1;
		ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
		EXPECT_EQ(KVMMIG_REASON_VMM_GONE, ev.reason);
	}
}

TEST_F(nl, blob_get_dumps_many_large_blobs_in_order)
{
	static unsigned char data[KVMMIG_BLOB_MAX_SIZE];
	struct blob_rows *blobs;
	struct nlk_event ev;
	int i;

	NEW_SESSION("nl-big", 0);
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	for (i = 0; i < 8; i++) {
		memset(data, 'A' + i, sizeof(data));
		ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_DEVICE, i,
					     "dev", data, sizeof(data) - i));
	}
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id, KVMMIG_SESSION_PAUSED,
				    &ev, EVENT_MS));

	blobs = calloc(1, sizeof(*blobs));
	ASSERT_NE(NULL, blobs);
	ASSERT_EQ(0, __nlk_dump_blobs(&self->k, self->id, blobs, &self->ext))
		TH_LOG("%s", self->ext.msg);
	ASSERT_EQ(8, blobs->n);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(i, blobs->row[i].index);
		EXPECT_EQ(i, blobs->row[i].instance);
		EXPECT_EQ(KVMMIG_BLOB_MAX_SIZE - i, blobs->row[i].size);
		EXPECT_EQ('A' + i, blobs->row[i].data[0]);
		EXPECT_EQ('A' + i, blobs->row[i].data[blobs->row[i].size - 1]);
	}
	free(blobs);
}

TEST_F(nl, blob_get_of_no_blobs_is_an_empty_dump)
{
	struct blob_rows *blobs;
	struct nlk_event ev;

	NEW_SESSION("nl-noblob", 0);
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	blobs = calloc(1, sizeof(*blobs));
	ASSERT_NE(NULL, blobs);
	EXPECT_EQ(0, __nlk_dump_blobs(&self->k, self->id, blobs, NULL));
	EXPECT_EQ(0, blobs->n);
	free(blobs);
}

TEST_F(nl, blob_get_needs_a_paused_session)
{
	struct blob_rows *blobs = calloc(1, sizeof(*blobs));

	ASSERT_NE(NULL, blobs);
	NEW_SESSION("nl-bg", 0);
	EXPECT_EQ(-EBUSY, __nlk_dump_blobs(&self->k, self->id, blobs, NULL));
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	EXPECT_EQ(-EBUSY, __nlk_dump_blobs(&self->k, self->id, blobs, NULL));
	EXPECT_EQ(-ENOENT, __nlk_dump_blobs(&self->k, self->id + 1000, blobs,
					NULL));
	EXPECT_EQ(0, blobs->n);
	free(blobs);
}

TEST_F(nl, blob_add_limit_is_enospc)
{
	int i, ret;

	NEW_SESSION("nl-many", KVMMIG_SESSION_F_INCOMING);
	CMD_OK(KVMMIG_CMD_SESSION_RECEIVE, KVMMIG_SESSION_RECEIVING);
	for (i = 0; i < KVMMIG_SESSION_MAX_BLOBS; i++) {
		ret = __nlk_blob_add(&self->k, self->id, KVMMIG_BLOB_VCPU, i,
				     "", "x", 1, &self->ext);
		ASSERT_EQ(0, ret) TH_LOG("blob %d: %s", i, self->ext.msg);
	}
	EXPECT_EQ(-ENOSPC, __nlk_blob_add(&self->k, self->id, KVMMIG_BLOB_VCPU,
					  0, "", "x", 1, &self->ext));
	EXPECT_NE(0, self->ext.msg[0]);
}

/* Permissions */

struct unpriv {
	__u32 id;
	const char *name;
};

/* NETLINK_ADD_MEMBERSHIP of the events group: 0 or its errno. */
static int join_events_errno(struct nlk *k)
{
	int grp = genl_ctrl_resolve_grp(k->sk, KVMMIG_GENL_NAME,
					KVMMIG_GENL_MCGRP_EVENTS);

	if (grp < 0)
		return -1;
	if (setsockopt(nl_socket_get_fd(k->sk), SOL_NETLINK,
		       NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)))
		return errno;
	return 0;
}

/*
 * In a child without CAP_NET_ADMIN: 0 if every check held, else which one
 * failed.  Nothing is open to it: the dumps and events tell every VM's
 * regions, owners and write-fault counts.
 */
static int unprivileged_client(void *arg)
{
	static const __u8 cmds[] = {
		KVMMIG_CMD_SESSION_PAUSE, KVMMIG_CMD_SESSION_RESUME,
		KVMMIG_CMD_SESSION_HANDOVER, KVMMIG_CMD_SESSION_RECEIVE,
		KVMMIG_CMD_SESSION_ARRIVE, KVMMIG_CMD_SESSION_ABORT,
	};
	struct unpriv *u = arg;
	struct session_rows rows;
	struct region_rows regions;
	struct blob_rows *blobs;
	struct nlk k, ev;
	size_t i;

	if (__nlk_open(&k))
		return 1;
	if (__nlk_dump_regions(&k, &regions) != -EPERM || regions.n)
		return 2;
	if (__nlk_dump_sessions(&k, &rows) != -EPERM || rows.n)
		return 3;
	if (__nlk_get_session(&k, u->id, NULL, &rows, NULL) != -EPERM || rows.n)
		return 4;
	if (__nlk_get_session(&k, 0, u->name, &rows, NULL) != -EPERM || rows.n)
		return 5;
	/* The group resolves (nlctrl is public), joining it does not. */
	if (__nlk_open(&ev))
		return 6;
	if (join_events_errno(&ev) != EPERM)
		return 7;
	nlk_close(&ev);
	for (i = 0; i < sizeof(cmds); i++)
		if (__nlk_session_cmd(&k, cmds[i], u->id, NULL) != -EPERM)
			return 10 + i;
	if (__nlk_blob_add(&k, u->id, KVMMIG_BLOB_VCPU, 0, "", "x", 1,
			   NULL) != -EPERM)
		return 20;
	blobs = calloc(1, sizeof(*blobs));
	if (!blobs || __nlk_dump_blobs(&k, u->id, blobs, NULL) != -EPERM)
		return 21;
	nlk_close(&k);
	return 0;
}

TEST_F(nl, without_cap_net_admin_every_command_and_the_group_is_eperm)
{
	struct unpriv u;
	struct nlk_event ev;

	NEW_SESSION("nl-perm", 0);
	u.id = self->id;
	u.name = "nl-perm";
	EXPECT_EQ(0, run_without_net_admin(unprivileged_client, &u))
		TH_LOG("see unprivileged_client() for the check that failed");
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, kvmmig_session_state(self->sfd));
	EXPECT_EQ(-ETIMEDOUT, nlk_next_event(&self->ev, &ev, 0));
}

TEST_F(nl, daemon_gone_resumes_a_pausing_source_and_drops_blobs)
{
	struct session_rows rows;
	struct nlk_event ev;
	struct nlk migd;

	NEW_SESSION("nl-dgone3", 0);
	ASSERT_EQ(0, __nlk_open(&migd));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_PAUSE,
				       self->id, NULL));
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_VCPU, 0, "", "x",
				     1));
	nlk_close(&migd);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_DAEMON_GONE, ev.reason);
	ASSERT_EQ(0, __nlk_get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);
}

TEST_F(nl, daemon_gone_aborts_an_arrived_destination)
{
	struct nlk_event ev;
	struct nlk migd;

	NEW_SESSION("nl-dgone4", KVMMIG_SESSION_F_INCOMING);
	ASSERT_EQ(0, __nlk_open(&migd));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_RECEIVE,
				       self->id, NULL));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_ARRIVE,
				       self->id, NULL));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id,
				    KVMMIG_SESSION_ARRIVED, &ev, EVENT_MS));
	nlk_close(&migd);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_ABORTED, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_ARRIVED, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_DAEMON_GONE, ev.reason);
}

TEST_F(nl, only_the_controlling_socket_counts)
{
	struct nlk a, b, idle;
	struct nlk_event ev;

	NEW_SESSION("nl-ctl", 0);
	ASSERT_EQ(0, __nlk_open(&a));
	ASSERT_EQ(0, __nlk_open(&b));
	ASSERT_EQ(0, __nlk_open(&idle));
	/* A socket that never paused it: closing it changes nothing. */
	ASSERT_EQ(0, __nlk_session_cmd(&idle, KVMMIG_CMD_SESSION_GET,
				       self->id, NULL));
	nlk_close(&idle);
	EXPECT_EQ(-ETIMEDOUT, nlk_next_event(&self->ev, &ev, 0));

	/* a pauses, b resumes and pauses: b is the controller now. */
	ASSERT_EQ(0, __nlk_session_cmd(&a, KVMMIG_CMD_SESSION_PAUSE, self->id,
				       NULL));
	ASSERT_EQ(0, __nlk_session_cmd(&b, KVMMIG_CMD_SESSION_RESUME,
				       self->id, NULL));
	ASSERT_EQ(0, __nlk_session_cmd(&b, KVMMIG_CMD_SESSION_PAUSE, self->id,
				       NULL));
	while (!nlk_next_event(&self->ev, &ev, 0))
		;
	nlk_close(&a);
	EXPECT_EQ(-ETIMEDOUT, nlk_next_event(&self->ev, &ev, 0));
	EXPECT_EQ(KVMMIG_SESSION_PAUSING, kvmmig_session_state(self->sfd));
	nlk_close(&b);
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_RUNNING, ev.state);
	EXPECT_EQ(KVMMIG_REASON_DAEMON_GONE, ev.reason);
}

TEST_F(nl, daemon_gone_after_handover_changes_nothing)
{
	struct nlk_event ev;
	struct nlk migd;

	NEW_SESSION("nl-ho", 0);
	ASSERT_EQ(0, __nlk_open(&migd));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_PAUSE,
				       self->id, NULL));
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, __nlk_session_cmd(&migd, KVMMIG_CMD_SESSION_HANDOVER,
				       self->id, NULL));
	while (!nlk_next_event(&self->ev, &ev, 0))
		;
	nlk_close(&migd);
	EXPECT_EQ(-ETIMEDOUT, nlk_next_event(&self->ev, &ev, 0));
	EXPECT_EQ(KVMMIG_SESSION_DONE, kvmmig_session_state(self->sfd));
	/* The VMM leaves: the last event says so. */
	close(self->sfd);
	self->sfd = -1;
	ASSERT_EQ(0, nlk_next_event(&self->ev, &ev, EVENT_MS));
	EXPECT_EQ(KVMMIG_SESSION_ABORTED, ev.state);
	EXPECT_EQ(KVMMIG_SESSION_DONE, ev.old_state);
	EXPECT_EQ(KVMMIG_REASON_VMM_GONE, ev.reason);
}

KVMMIG_HARNESS_MAIN
