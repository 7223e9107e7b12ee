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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
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

TEST_HARNESS_MAIN
