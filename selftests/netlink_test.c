// SPDX-License-Identifier: GPL-2.0
/*
 * The kvmmig genetlink family, from a libnl-genl-3 client: family and
 * group, region and session dumps, SESSION_GET, the events of every
 * transition, the source and destination paths with their blobs, RESUME
 * and ABORT, invalid transitions, permissions, one malformed request per
 * attribute, and what happens when migd or the VMM goes away.
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

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "nl_util.h"
#include "session_util.h"

#define PAGE		4096UL
#define SIZE		(64 * PAGE)
#define EVENT_MS	5000	/* generous: a missing event fails, not a slow one */

FIXTURE(nl) {
	int dev;
	int r[2];
	int sfd;
	__u32 id;
	struct nlk k;		/* requests: the test plays migd */
	struct nlk ev;		/* the "events" group */
	struct nlk_ext ext;
};

static bool have_sessions(int dev)
{
	struct kvmmig_api api;

	memset(&api, 0, sizeof(api));
	return !__kvmmig_get_api(dev, &api) &&
	       (api.features & KVMMIG_FEATURE_SESSION);
}

FIXTURE_SETUP(nl)
{
	int ret;

	self->sfd = -1;
	self->dev = __kvmmig_open();
	ASSERT_LE(0, self->dev);
	if (!have_sessions(self->dev))
		SKIP(return, "the module has no sessions");
	ret = __nlk_open(&self->k);
	ASSERT_EQ(0, ret) TH_LOG("family %s: %d", KVMMIG_GENL_NAME, ret);
	ASSERT_EQ(0, __nlk_open(&self->ev));
	ASSERT_EQ(0, __nlk_join_events(&self->ev));
	self->r[0] = kvmmig_region(self->dev, SIZE, "nl-ram0", -1);
	ASSERT_LE(0, self->r[0]);
	self->r[1] = kvmmig_region(self->dev, 2 * SIZE, "nl-ram1", -1);
	ASSERT_LE(0, self->r[1]);
}

FIXTURE_TEARDOWN(nl)
{
	if (self->sfd >= 0)
		close(self->sfd);
	nlk_close(&self->k);
	nlk_close(&self->ev);
	close(self->dev);
}

/* Create session @name and eat its creation event. */
#define NEW_SESSION(name, flags) do {					\
	struct nlk_event __ev;						\
									\
	self->sfd = kvmmig_session(self->dev, name, flags, self->r, 2,	\
				   &self->id);				\
	ASSERT_LE(0, self->sfd) TH_LOG("%s", strerror(-self->sfd));	\
	ASSERT_EQ(0, nlk_next_event(&self->ev, &__ev, EVENT_MS));	\
	ASSERT_EQ(self->id, __ev.id);					\
	ASSERT_EQ(KVMMIG_REASON_CREATED, __ev.reason);			\
} while (0)

/* Command @cmd on the fixture's session, and its event. */
#define CMD_OK(cmd, to) do {						\
	struct nlk_event __ev;						\
	int __ret = __nlk_session_cmd(&self->k, cmd, self->id,		\
				      &self->ext);			\
									\
	ASSERT_EQ(0, __ret) TH_LOG("cmd %d: %s (%s)", cmd,		\
				   strerror(-__ret), self->ext.msg);	\
	ASSERT_EQ(0, nlk_next_event(&self->ev, &__ev, EVENT_MS));	\
	ASSERT_EQ(self->id, __ev.id);					\
	ASSERT_EQ(to, __ev.state);					\
	ASSERT_EQ(KVMMIG_REASON_REQUEST, __ev.reason);			\
	ASSERT_EQ(to, kvmmig_session_state(self->sfd));			\
} while (0)

/* Dumps */

struct region_row {
	__u64 id, size, pages;
	__s32 node;
	__u32 owner;
	char name[KVMMIG_REGION_NAME_LEN];
	bool has_log;
	__u8 log_enabled;
	__u32 log_mode;
	__u64 harvests, reported;
};

struct region_rows {
	int n;
	struct region_row row[64];
};

static int region_row(struct nlattr **tb, void *arg)
{
	struct nlattr *log[KVMMIG_A_DIRTY_MAX + 1];
	struct region_rows *rows = arg;
	struct region_row *r;

	if (rows->n == 64)
		return -E2BIG;
	r = &rows->row[rows->n++];
	memset(r, 0, sizeof(*r));
	if (!tb[KVMMIG_A_REGION_ID] || !tb[KVMMIG_A_REGION_NAME] ||
	    !tb[KVMMIG_A_REGION_SIZE] || !tb[KVMMIG_A_REGION_NODE] ||
	    !tb[KVMMIG_A_REGION_PAGES] || !tb[KVMMIG_A_OWNER_PID] ||
	    !tb[KVMMIG_A_DIRTY_LOG])
		return -EBADMSG;
	r->id = nla_get_u64(tb[KVMMIG_A_REGION_ID]);
	nla_strlcpy(r->name, tb[KVMMIG_A_REGION_NAME], sizeof(r->name));
	r->size = nla_get_u64(tb[KVMMIG_A_REGION_SIZE]);
	r->node = (__s32)nla_get_u32(tb[KVMMIG_A_REGION_NODE]);
	r->pages = nla_get_u64(tb[KVMMIG_A_REGION_PAGES]);
	r->owner = nla_get_u32(tb[KVMMIG_A_OWNER_PID]);
	if (nla_parse_nested(log, KVMMIG_A_DIRTY_MAX, tb[KVMMIG_A_DIRTY_LOG],
			     NULL))
		return -EBADMSG;
	if (!log[KVMMIG_A_DIRTY_ENABLED] || !log[KVMMIG_A_DIRTY_MODE] ||
	    !log[KVMMIG_A_DIRTY_HARVESTS] ||
	    !log[KVMMIG_A_DIRTY_PAGES_REPORTED] ||
	    !log[KVMMIG_A_DIRTY_WRITE_FAULTS] ||
	    !log[KVMMIG_A_DIRTY_BATCH_NS_MAX] ||
	    !log[KVMMIG_A_DIRTY_HARVEST_NS_MAX])
		return -EBADMSG;
	r->has_log = true;
	r->log_enabled = nla_get_u8(log[KVMMIG_A_DIRTY_ENABLED]);
	r->log_mode = nla_get_u32(log[KVMMIG_A_DIRTY_MODE]);
	r->harvests = nla_get_u64(log[KVMMIG_A_DIRTY_HARVESTS]);
	r->reported = nla_get_u64(log[KVMMIG_A_DIRTY_PAGES_REPORTED]);
	return 0;
}

static int __dump_regions(struct nlk *k, struct region_rows *rows)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_REGION_GET, NLM_F_DUMP);

	rows->n = 0;
	return msg ? __nlk_request(k, msg, region_row, rows, NULL) : -ENOMEM;
}

static struct region_row *find_region(struct region_rows *rows,
				      const char *name)
{
	int i;

	for (i = 0; i < rows->n; i++)
		if (!strcmp(rows->row[i].name, name))
			return &rows->row[i];
	return NULL;
}

struct session_row {
	__u32 id, state, owner, nr_blobs, nr_regions;
	__u64 blob_bytes;
	__u64 regions[KVMMIG_SESSION_MAX_REGIONS];
	char name[KVMMIG_SESSION_NAME_LEN];
};

struct session_rows {
	int n;
	struct session_row row[16];
};

static int session_row(struct nlattr **tb, void *arg)
{
	struct session_rows *rows = arg;
	struct session_row *s;
	struct nlattr *nla;
	int rem;

	if (rows->n == 16)
		return -E2BIG;
	s = &rows->row[rows->n++];
	memset(s, 0, sizeof(*s));
	if (!tb[KVMMIG_A_SESSION_ID] || !tb[KVMMIG_A_SESSION_NAME] ||
	    !tb[KVMMIG_A_SESSION_STATE] || !tb[KVMMIG_A_OWNER_PID] ||
	    !tb[KVMMIG_A_SESSION_REGIONS] || !tb[KVMMIG_A_SESSION_NR_BLOBS] ||
	    !tb[KVMMIG_A_SESSION_BLOB_BYTES])
		return -EBADMSG;
	s->id = nla_get_u32(tb[KVMMIG_A_SESSION_ID]);
	nla_strlcpy(s->name, tb[KVMMIG_A_SESSION_NAME], sizeof(s->name));
	s->state = nla_get_u32(tb[KVMMIG_A_SESSION_STATE]);
	s->owner = nla_get_u32(tb[KVMMIG_A_OWNER_PID]);
	s->nr_blobs = nla_get_u32(tb[KVMMIG_A_SESSION_NR_BLOBS]);
	s->blob_bytes = nla_get_u64(tb[KVMMIG_A_SESSION_BLOB_BYTES]);
	nla_for_each_nested(nla, tb[KVMMIG_A_SESSION_REGIONS], rem) {
		if (nla_type(nla) != KVMMIG_A_REGION_ID ||
		    s->nr_regions == KVMMIG_SESSION_MAX_REGIONS)
			return -EBADMSG;
		s->regions[s->nr_regions++] = nla_get_u64(nla);
	}
	return 0;
}

static int __dump_sessions(struct nlk *k, struct session_rows *rows)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);

	rows->n = 0;
	return msg ? __nlk_request(k, msg, session_row, rows, NULL) : -ENOMEM;
}

/* SESSION_GET do by id (@name NULL) or by name. */
static int __get_session(struct nlk *k, __u32 id, const char *name,
			 struct session_rows *rows, struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_SESSION_GET, 0);

	rows->n = 0;
	if (!msg)
		return -ENOMEM;
	if ((name && nla_put_string(msg, KVMMIG_A_SESSION_NAME, name)) ||
	    (!name && nla_put_u32(msg, KVMMIG_A_SESSION_ID, id))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, session_row, rows, ext);
}

struct blob_rows {
	int n;
	struct {
		__u32 index, kind, instance, size, session;
		char name[KVMMIG_BLOB_NAME_LEN];
		unsigned char data[KVMMIG_BLOB_MAX_SIZE];
	} row[8];
};

static int blob_row(struct nlattr **tb, void *arg)
{
	struct blob_rows *rows = arg;
	int i = rows->n;

	if (i == 8)
		return -E2BIG;
	if (!tb[KVMMIG_A_SESSION_ID] || !tb[KVMMIG_A_BLOB_INDEX] ||
	    !tb[KVMMIG_A_BLOB_KIND] || !tb[KVMMIG_A_BLOB_INSTANCE] ||
	    !tb[KVMMIG_A_BLOB_NAME] || !tb[KVMMIG_A_BLOB_DATA] ||
	    nla_len(tb[KVMMIG_A_BLOB_DATA]) > KVMMIG_BLOB_MAX_SIZE)
		return -EBADMSG;
	rows->row[i].session = nla_get_u32(tb[KVMMIG_A_SESSION_ID]);
	rows->row[i].index = nla_get_u32(tb[KVMMIG_A_BLOB_INDEX]);
	rows->row[i].kind = nla_get_u32(tb[KVMMIG_A_BLOB_KIND]);
	rows->row[i].instance = nla_get_u32(tb[KVMMIG_A_BLOB_INSTANCE]);
	nla_strlcpy(rows->row[i].name, tb[KVMMIG_A_BLOB_NAME],
		    sizeof(rows->row[i].name));
	rows->row[i].size = nla_len(tb[KVMMIG_A_BLOB_DATA]);
	memcpy(rows->row[i].data, nla_data(tb[KVMMIG_A_BLOB_DATA]),
	       rows->row[i].size);
	rows->n++;
	return 0;
}

static int __dump_blobs(struct nlk *k, __u32 id, struct blob_rows *rows,
			struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_BLOB_GET, NLM_F_DUMP);

	rows->n = 0;
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVMMIG_A_SESSION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, blob_row, rows, ext);
}

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

	ASSERT_EQ(0, __dump_regions(&self->k, &rows));
	r0 = find_region(&rows, "nl-ram0");
	r1 = find_region(&rows, "nl-ram1");
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
	ASSERT_EQ(0, __dump_regions(&self->k, &rows));
	EXPECT_EQ(NULL, find_region(&rows, "nl-ram0"));
	EXPECT_NE(NULL, find_region(&rows, "nl-ram1"));
}

TEST_F(nl, region_dump_follows_node_placement)
{
	struct region_rows rows;
	struct region_row *r;
	int fd;

	fd = kvmmig_region(self->dev, SIZE, "nl-node0", 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, __dump_regions(&self->k, &rows));
	r = find_region(&rows, "nl-node0");
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
	ASSERT_EQ(0, __dump_regions(&self->k, &regions));
	ASSERT_EQ(0, __dump_sessions(&self->k, &rows));
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
	EXPECT_EQ(find_region(&regions, "nl-ram0")->id, s->regions[0]);
	EXPECT_EQ(find_region(&regions, "nl-ram1")->id, s->regions[1]);
}

TEST_F(nl, session_get_by_id_and_by_name)
{
	struct session_rows rows;

	NEW_SESSION("nl-get", KVMMIG_SESSION_F_INCOMING);
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows,
				   &self->ext));
	ASSERT_EQ(1, rows.n);
	EXPECT_STREQ("nl-get", rows.row[0].name);
	EXPECT_EQ(KVMMIG_SESSION_WAITING, rows.row[0].state);

	ASSERT_EQ(0, __get_session(&self->k, 0, "nl-get", &rows, &self->ext));
	ASSERT_EQ(1, rows.n);
	EXPECT_EQ(self->id, rows.row[0].id);

	EXPECT_EQ(-ENOENT, __get_session(&self->k, 0, "nl-none", &rows,
					 &self->ext));
	EXPECT_EQ(-ENOENT, __get_session(&self->k, self->id + 1000, NULL,
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

	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(2, rows.row[0].nr_blobs);
	EXPECT_EQ(sizeof(vcpu) + sizeof(dev), rows.row[0].blob_bytes);

	blobs = calloc(1, sizeof(*blobs));
	ASSERT_NE(NULL, blobs);
	ASSERT_EQ(0, __dump_blobs(&self->k, self->id, blobs, &self->ext));
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
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
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
	EXPECT_EQ(-ENOENT, __get_session(&self->k, self->id, NULL, &rows,
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

	ASSERT_EQ(0, __dump_sessions(&self->k, &rows));
	EXPECT_LE(2, rows.n);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_u32(msg, KVMMIG_A_SESSION_ID, id2));
	rows.n = 0;
	ASSERT_EQ(0, __nlk_request(&self->k, msg, session_row, &rows, NULL));
	ASSERT_EQ(1, rows.n);
	EXPECT_STREQ("nl-f2", rows.row[0].name);

	msg = nlk_msg(&self->k, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);
	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, nla_put_string(msg, KVMMIG_A_SESSION_NAME, "nl-f1"));
	rows.n = 0;
	ASSERT_EQ(0, __nlk_request(&self->k, msg, session_row, &rows, NULL));
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
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
	EXPECT_EQ(0, rows.row[0].nr_blobs);

	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	ASSERT_EQ(0, kvmmig_put_blob(self->sfd, KVMMIG_BLOB_VCPU, 0, "", "x",
				     1));
	ASSERT_EQ(0, kvmmig_session_ack(self->sfd, KVMMIG_SESSION_PAUSING));
	ASSERT_EQ(0, nlk_wait_event(&self->ev, self->id, KVMMIG_SESSION_PAUSED,
				    &ev, EVENT_MS));
	CMD_OK(KVMMIG_CMD_SESSION_RESUME, KVMMIG_SESSION_RUNNING);
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
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
	ASSERT_EQ(0, __dump_blobs(&self->k, self->id, blobs, &self->ext))
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
	EXPECT_EQ(0, __dump_blobs(&self->k, self->id, blobs, NULL));
	EXPECT_EQ(0, blobs->n);
	free(blobs);
}

TEST_F(nl, blob_get_needs_a_paused_session)
{
	struct blob_rows *blobs = calloc(1, sizeof(*blobs));

	ASSERT_NE(NULL, blobs);
	NEW_SESSION("nl-bg", 0);
	EXPECT_EQ(-EBUSY, __dump_blobs(&self->k, self->id, blobs, NULL));
	CMD_OK(KVMMIG_CMD_SESSION_PAUSE, KVMMIG_SESSION_PAUSING);
	EXPECT_EQ(-EBUSY, __dump_blobs(&self->k, self->id, blobs, NULL));
	EXPECT_EQ(-ENOENT, __dump_blobs(&self->k, self->id + 1000, blobs,
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
	if (__dump_regions(&k, &regions) != -EPERM || regions.n)
		return 2;
	if (__dump_sessions(&k, &rows) != -EPERM || rows.n)
		return 3;
	if (__get_session(&k, u->id, NULL, &rows, NULL) != -EPERM || rows.n)
		return 4;
	if (__get_session(&k, 0, u->name, &rows, NULL) != -EPERM || rows.n)
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
	if (!blobs || __dump_blobs(&k, u->id, blobs, NULL) != -EPERM)
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
			ret = __dump_blobs(&self->k, self->id, blobs, &ext);
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
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
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
	ASSERT_EQ(0, __get_session(&self->k, self->id, NULL, &rows, NULL));
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
