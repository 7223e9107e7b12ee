// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink client for the kvmmig family (see netlink.h).  Replies are
 * walked by hand rather than with mnl_cb_run(), so that an error's
 * extended ack (the kernel's own words) reaches migd's message.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "common/cancel.h"
#include "common/clock.h"
#include "common/log.h"
#include "netlink.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK		11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK		10
#endif

/* Big enough for a dump's batch and for one blob of KVMMIG_BLOB_MAX_SIZE. */
#define NL_BUF_SIZE		(128u << 10)
/* A wait re-reads the session this often, in case an event went missing. */
#define RESYNC_MS		1000

/* ---------------------------------------------------------------------- */
/* Messages */

struct nlmsghdr *migd_nl_msg(struct migd_nl *nl, void *buf, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = nl->family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = KVMMIG_GENL_VERSION;
	return nlh;
}

static int extack_attr(const struct nlattr *a, void *data)
{
	struct migd_nl *nl = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
		snprintf(nl->error, sizeof(nl->error), "%s", mnl_attr_get_str(a));
		/* The kernel's messages have no trailing newline, but be sure. */
		nl->error[strcspn(nl->error, "\n")] = 0;
	}
	return MNL_CB_OK;
}

/* NLMSG_ERROR or NLMSG_DONE: the errno (0 for an ack) and the extack. */
static int msg_status(struct migd_nl *nl, const struct nlmsghdr *nlh)
{
	size_t off;
	int err;

	if (nlh->nlmsg_type == NLMSG_DONE) {
		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int))
			return 0;
		err = *(const int *)mnl_nlmsg_get_payload(nlh);
		off = sizeof(int);
	} else {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

		if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
			return -EBADMSG;
		err = e->error;
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
	}
	if (err && (nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
	    off < mnl_nlmsg_get_payload_len(nlh))
		mnl_attr_parse(nlh, off, extack_attr, nl);
	return err > 0 ? -err : err;
}

int migd_nl_request(struct migd_nl *nl, struct nlmsghdr *req,
		    int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	bool dump = req->nlmsg_flags & NLM_F_DUMP;
	uint32_t seq = req->nlmsg_seq;
	int ret = 0, cb_ret = 0;

	nl->error[0] = 0;
	if (!dump)
		req->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->cmd, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->cmd, nl->buf, NL_BUF_SIZE);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
		int len = n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != nl->portid)
				continue;	/* a late answer to an earlier request */
			if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
				ret = msg_status(nl, nlh);
				return ret ? ret : cb_ret;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb && !cb_ret)
				cb_ret = cb(nlh, data);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Family resolution */

struct family {
	uint16_t id;
	uint32_t group;
};

static int group_attr(const struct nlattr *grp, struct family *f)
{
	const struct nlattr *a;
	const char *name = NULL;
	uint32_t id = 0;

	mnl_attr_for_each_nested(a, grp) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_MCAST_GRP_NAME:
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				name = mnl_attr_get_str(a);
			break;
		case CTRL_ATTR_MCAST_GRP_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(a);
			break;
		}
	}
	if (name && !strcmp(name, KVMMIG_GENL_MCGRP_EVENTS))
		f->group = id;
	return 0;
}

static int family_attr(const struct nlattr *a, void *data)
{
	struct family *f = data;
	const struct nlattr *g;

	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			f->id = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		mnl_attr_for_each_nested(g, a)
			group_attr(g, f);
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, data);
	return 0;
}

static struct mnl_socket *open_socket(void)
{
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);

	if (!sk)
		return NULL;
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = errno;

		mnl_socket_close(sk);
		errno = err;
		return NULL;
	}
	return sk;
}

int migd_nl_open(struct migd_nl *nl, bool events)
{
	uint8_t msg[256];
	struct family f = { 0 };
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int one = 1, ret;

	memset(nl, 0, sizeof(*nl));
	nl->seq = time(NULL);
	nl->buf = malloc(NL_BUF_SIZE);
	if (!nl->buf)
		return -ENOMEM;
	nl->cmd = open_socket();
	if (!nl->cmd) {
		ret = -errno;
		goto err;
	}
	nl->portid = mnl_socket_get_portid(nl->cmd);
	/* Error messages from the kernel, without our request echoed. */
	mnl_socket_setsockopt(nl->cmd, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->cmd, NETLINK_CAP_ACK, &one, sizeof(one));

	nlh = mnl_nlmsg_put_header(msg);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KVMMIG_GENL_NAME);
	ret = migd_nl_request(nl, nlh, family_cb, &f);
	if (ret)
		goto err;
	if (!f.id) {
		ret = -ENOENT;
		goto err;
	}
	nl->family = f.id;
	nl->events_group = f.group;
	if (events) {
		if (!f.group) {
			snprintf(nl->error, sizeof(nl->error), "the kvmmig family has no \"%s\" group",
				 KVMMIG_GENL_MCGRP_EVENTS);
			ret = -ENOENT;
			goto err;
		}
		nl->ev = open_socket();
		if (!nl->ev) {
			ret = -errno;
			goto err;
		}
		if (mnl_socket_setsockopt(nl->ev, NETLINK_ADD_MEMBERSHIP, &f.group,
					  sizeof(f.group)) < 0) {
			ret = -errno;
			goto err;
		}
		fcntl(mnl_socket_get_fd(nl->ev), F_SETFL, O_NONBLOCK);
	}
	return 0;
err:
	migd_nl_close(nl);
	return ret;
}

void migd_nl_close(struct migd_nl *nl)
{
	if (nl->cmd)
		mnl_socket_close(nl->cmd);
	if (nl->ev)
		mnl_socket_close(nl->ev);
	free(nl->buf);
	nl->cmd = nl->ev = NULL;
	nl->buf = NULL;
}

/* ---------------------------------------------------------------------- */
/* Attributes */

static void copy_str(char *dst, size_t len, const struct nlattr *a)
{
	size_t n = mnl_attr_get_payload_len(a);
	const char *s = mnl_attr_get_payload(a);

	n = strnlen(s, n);
	if (n >= len)
		n = len - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* u64 attributes may be 4 bytes from an older kernel; take either. */
static uint64_t get_uint(const struct nlattr *a)
{
	switch (mnl_attr_get_payload_len(a)) {
	case 1:
		return mnl_attr_get_u8(a);
	case 2:
		return mnl_attr_get_u16(a);
	case 4:
		return mnl_attr_get_u32(a);
	case 8:
		return mnl_attr_get_u64(a);
	}
	return 0;
}

static int session_attr(const struct nlattr *a, void *data)
{
	struct migd_nl_session *s = data;
	const struct nlattr *r;

	switch (mnl_attr_get_type(a)) {
	case KVMMIG_A_SESSION_ID:
		s->id = get_uint(a);
		break;
	case KVMMIG_A_SESSION_NAME:
		copy_str(s->name, sizeof(s->name), a);
		break;
	case KVMMIG_A_SESSION_STATE:
		s->state = get_uint(a);
		break;
	case KVMMIG_A_SESSION_OLD_STATE:
		s->old_state = get_uint(a);
		break;
	case KVMMIG_A_SESSION_REASON:
		s->reason = get_uint(a);
		break;
	case KVMMIG_A_SESSION_NR_BLOBS:
		s->nr_blobs = get_uint(a);
		break;
	case KVMMIG_A_SESSION_BLOB_BYTES:
		s->blob_bytes = get_uint(a);
		break;
	case KVMMIG_A_OWNER_PID:
		s->owner_pid = get_uint(a);
		break;
	case KVMMIG_A_SESSION_REGIONS:
		mnl_attr_for_each_nested(r, a) {
			if (mnl_attr_get_type(r) == KVMMIG_A_REGION_ID &&
			    s->nr_regions < KVMMIG_SESSION_MAX_REGIONS)
				s->region_ids[s->nr_regions++] = get_uint(r);
		}
		break;
	}
	return MNL_CB_OK;
}

static void parse_session(const struct nlmsghdr *nlh, struct migd_nl_session *s)
{
	memset(s, 0, sizeof(*s));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), session_attr, s);
}

static int dirty_attr(const struct nlattr *a, void *data)
{
	struct migd_nl_region *r = data;

	switch (mnl_attr_get_type(a)) {
	case KVMMIG_A_DIRTY_ENABLED:
		r->dirty_enabled = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_MODE:
		r->dirty_mode = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_HARVESTS:
		r->harvests = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_PAGES_REPORTED:
		r->pages_reported = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_WRITE_FAULTS:
		r->write_faults = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_BATCH_NS_MAX:
		r->batch_ns_max = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_HARVEST_NS_MAX:
		r->harvest_ns_max = get_uint(a);
		break;
	}
	return MNL_CB_OK;
}

static int region_attr(const struct nlattr *a, void *data)
{
	struct migd_nl_region *r = data;

	switch (mnl_attr_get_type(a)) {
	case KVMMIG_A_REGION_ID:
		r->id = get_uint(a);
		break;
	case KVMMIG_A_REGION_NAME:
		copy_str(r->name, sizeof(r->name), a);
		break;
	case KVMMIG_A_REGION_SIZE:
		r->size = get_uint(a);
		break;
	case KVMMIG_A_REGION_NODE:
		r->node = (int32_t)get_uint(a);
		break;
	case KVMMIG_A_REGION_PAGES:
		r->pages = get_uint(a);
		break;
	case KVMMIG_A_OWNER_PID:
		r->owner_pid = get_uint(a);
		break;
	case KVMMIG_A_DIRTY_LOG:
		r->has_dirty = true;
		mnl_attr_parse_nested(a, dirty_attr, r);
		break;
	}
	return MNL_CB_OK;
}

static int blob_attr(const struct nlattr *a, void *data)
{
	struct migd_nl_blob *b = data;

	switch (mnl_attr_get_type(a)) {
	case KVMMIG_A_BLOB_INDEX:
		b->index = get_uint(a);
		break;
	case KVMMIG_A_BLOB_KIND:
		b->kind = get_uint(a);
		break;
	case KVMMIG_A_BLOB_INSTANCE:
		b->instance = get_uint(a);
		break;
	case KVMMIG_A_BLOB_NAME:
		copy_str(b->name, sizeof(b->name), a);
		break;
	case KVMMIG_A_BLOB_DATA:
		b->data = mnl_attr_get_payload(a);
		b->len = mnl_attr_get_payload_len(a);
		break;
	}
	return MNL_CB_OK;
}

/* ---------------------------------------------------------------------- */
/* Commands */

struct session_cb {
	int (*cb)(const struct migd_nl_session *s, void *data);
	void *data;
	struct migd_nl_session *out;
};

static int session_msg(const struct nlmsghdr *nlh, void *data)
{
	struct session_cb *c = data;
	struct migd_nl_session s;

	parse_session(nlh, &s);
	if (c->out) {
		*c->out = s;
		return 0;
	}
	return c->cb(&s, c->data);
}

int migd_nl_session_get(struct migd_nl *nl, const char *name, uint32_t id,
			struct migd_nl_session *s)
{
	uint8_t msg[512];
	struct session_cb c = { .out = s };
	struct nlmsghdr *nlh = migd_nl_msg(nl, msg, KVMMIG_CMD_SESSION_GET, 0);
	int ret;

	if (name)
		mnl_attr_put_strz(nlh, KVMMIG_A_SESSION_NAME, name);
	else
		mnl_attr_put_u32(nlh, KVMMIG_A_SESSION_ID, id);
	memset(s, 0, sizeof(*s));
	ret = migd_nl_request(nl, nlh, session_msg, &c);
	if (!ret && !s->id)
		ret = -ENOENT;
	return ret;
}

int migd_nl_session_dump(struct migd_nl *nl,
			 int (*cb)(const struct migd_nl_session *s, void *data), void *data)
{
	uint8_t msg[256];
	struct session_cb c = { .cb = cb, .data = data };
	struct nlmsghdr *nlh = migd_nl_msg(nl, msg, KVMMIG_CMD_SESSION_GET, NLM_F_DUMP);

	return migd_nl_request(nl, nlh, session_msg, &c);
}

int migd_nl_session_cmd(struct migd_nl *nl, uint8_t cmd, uint32_t id)
{
	uint8_t msg[256];
	struct nlmsghdr *nlh = migd_nl_msg(nl, msg, cmd, 0);

	mnl_attr_put_u32(nlh, KVMMIG_A_SESSION_ID, id);
	return migd_nl_request(nl, nlh, NULL, NULL);
}

struct region_cb {
	int (*cb)(const struct migd_nl_region *r, void *data);
	void *data;
};

static int region_msg(const struct nlmsghdr *nlh, void *data)
{
	struct region_cb *c = data;
	struct migd_nl_region r = { .node = -1 };

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), region_attr, &r);
	return c->cb(&r, c->data);
}

int migd_nl_region_dump(struct migd_nl *nl,
			int (*cb)(const struct migd_nl_region *r, void *data), void *data)
{
	uint8_t msg[256];
	struct region_cb c = { .cb = cb, .data = data };
	struct nlmsghdr *nlh = migd_nl_msg(nl, msg, KVMMIG_CMD_REGION_GET, NLM_F_DUMP);

	return migd_nl_request(nl, nlh, region_msg, &c);
}

struct blob_cb {
	int (*cb)(const struct migd_nl_blob *b, void *data);
	void *data;
};

static int blob_msg(const struct nlmsghdr *nlh, void *data)
{
	struct blob_cb *c = data;
	struct migd_nl_blob b = { 0 };

	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), blob_attr, &b);
	if (!b.data)
		return -EBADMSG;
	return c->cb(&b, c->data);
}

int migd_nl_blob_dump(struct migd_nl *nl, uint32_t session_id,
		      int (*cb)(const struct migd_nl_blob *b, void *data), void *data)
{
	uint8_t msg[256];
	struct blob_cb c = { .cb = cb, .data = data };
	struct nlmsghdr *nlh = migd_nl_msg(nl, msg, KVMMIG_CMD_BLOB_GET, NLM_F_DUMP);

	mnl_attr_put_u32(nlh, KVMMIG_A_SESSION_ID, session_id);
	return migd_nl_request(nl, nlh, blob_msg, &c);
}

int migd_nl_blob_add(struct migd_nl *nl, uint32_t session_id, const struct migd_nl_blob *b)
{
	uint8_t *msg;
	struct nlmsghdr *nlh;
	int ret;

	if (!b->len || b->len > KVMMIG_BLOB_MAX_SIZE)
		return -EMSGSIZE;
	msg = malloc(MIGD_NL_MSG_SIZE);
	if (!msg)
		return -ENOMEM;
	nlh = migd_nl_msg(nl, msg, KVMMIG_CMD_BLOB_ADD, 0);
	mnl_attr_put_u32(nlh, KVMMIG_A_SESSION_ID, session_id);
	mnl_attr_put_u32(nlh, KVMMIG_A_BLOB_KIND, b->kind);
	mnl_attr_put_u32(nlh, KVMMIG_A_BLOB_INSTANCE, b->instance);
	mnl_attr_put_strz(nlh, KVMMIG_A_BLOB_NAME, b->name);
	mnl_attr_put(nlh, KVMMIG_A_BLOB_DATA, b->len, b->data);
	ret = migd_nl_request(nl, nlh, NULL, NULL);
	free(msg);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Events */

int migd_nl_events(struct migd_nl *nl, int timeout_ms,
		   int (*cb)(const struct migd_nl_session *ev, void *data), void *data)
{
	int fd;

	if (!nl->ev) {
		struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
		return 0;
	}
	fd = mnl_socket_get_fd(nl->ev);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->buf;
		ssize_t n;
		int len, ret;

		n = poll(&pfd, 1, timeout_ms);
		if (n < 0)
			return errno == EINTR ? 0 : -errno;
		if (n == 0)
			return 0;
		/* After the first event, only what is already queued. */
		timeout_ms = 0;
		n = recv(fd, nl->buf, NL_BUF_SIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				nl->ev_lost = true;
				continue;
			}
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		len = n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
			struct migd_nl_session ev;

			if (nlh->nlmsg_type != nl->family ||
			    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g) ||
			    g->cmd != KVMMIG_CMD_SESSION_EVENT)
				continue;
			parse_session(nlh, &ev);
			ret = cb ? cb(&ev, data) : 0;
			if (ret)
				return ret;
		}
	}
}

struct wait_ctx {
	uint32_t id;
	struct migd_nl_session *last;
	bool gone;
};

static int wait_event(const struct migd_nl_session *ev, void *data)
{
	struct wait_ctx *w = data;

	if (ev->id != w->id)
		return 0;
	w->last->state = ev->state;
	w->last->old_state = ev->old_state;
	w->last->reason = ev->reason;
	if (ev->reason == KVMMIG_REASON_VMM_GONE)
		w->gone = true;
	return 0;
}

int migd_nl_wait_state(struct migd_nl *nl, uint32_t id, uint32_t want, uint32_t via,
		       int timeout_ms, int (*check)(void *arg), void *arg,
		       struct migd_nl_session *last)
{
	uint64_t start = migd_now_ns(), resync = 0;
	struct wait_ctx w = { .id = id, .last = last };
	int ret;

	memset(last, 0, sizeof(*last));
	for (;;) {
		uint64_t now = migd_now_ns();

		/*
		 * Queued events first, then a fresh read now and then (or after
		 * the socket dropped events), so no old event undoes it.
		 */
		ret = migd_nl_events(nl, 0, wait_event, &w);
		if (ret)
			return ret;
		if (nl->ev_lost || !resync || now - resync >= RESYNC_MS * MIGD_NSEC_PER_MSEC) {
			uint32_t reason = last->reason;

			nl->ev_lost = false;
			resync = now;
			ret = migd_nl_session_get(nl, NULL, id, last);
			if (ret)
				return ret;
			last->reason = reason;
		}
		if (w.gone)
			return -ENOENT;
		if (last->state == want)
			return 0;
		if (last->state != via)
			return -ESTALE;
		ret = check ? check(arg) : 0;
		if (ret)
			return ret;
		if (timeout_ms > 0 && now - start >= (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC)
			return -ETIMEDOUT;
		ret = migd_nl_events(nl, MIGD_POLL_SLICE_MS, wait_event, &w);
		if (ret)
			return ret;
	}
}

/* ---------------------------------------------------------------------- */
/* Names */

const char *migd_nl_state_name(uint32_t state)
{
	static const char *const names[] = {
		[KVMMIG_SESSION_RUNNING] = "RUNNING",
		[KVMMIG_SESSION_PAUSING] = "PAUSING",
		[KVMMIG_SESSION_PAUSED] = "PAUSED",
		[KVMMIG_SESSION_DONE] = "DONE",
		[KVMMIG_SESSION_WAITING] = "WAITING",
		[KVMMIG_SESSION_RECEIVING] = "RECEIVING",
		[KVMMIG_SESSION_ARRIVED] = "ARRIVED",
		[KVMMIG_SESSION_ABORTED] = "ABORTED",
	};
	static char buf[24];

	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		return names[state];
	snprintf(buf, sizeof(buf), "state %u", state);
	return buf;
}

const char *migd_nl_reason_name(uint32_t reason)
{
	switch (reason) {
	case KVMMIG_REASON_REQUEST:
		return "a request";
	case KVMMIG_REASON_VMM_GONE:
		return "its VMM closed the session";
	case KVMMIG_REASON_DAEMON_GONE:
		return "the migd controlling it exited";
	case KVMMIG_REASON_CREATED:
		return "created";
	}
	return "unknown reason";
}
