// SPDX-License-Identifier: GPL-2.0
/*
 * A small client of the kvmmig genetlink family on libnl-genl-3.
 */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "nl_util.h"

/* Big enough for a BLOB_GET message with the largest blob. */
#define NLK_RCVBUF	(128 * 1024)

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

static int nlk_errno(int nlerr)
{
	/* libnl's own codes are not errnos; keep them apart. */
	return nlerr < 0 ? -1000 + nlerr : nlerr;
}

int __nlk_open(struct nlk *k)
{
	int one = 1, fd, ret;

	memset(k, 0, sizeof(*k));
	k->rbuf = malloc(NLK_RCVBUF);
	if (!k->rbuf)
		return -ENOMEM;
	memset(k->rbuf, 0, NLK_RCVBUF);
	k->sk = nl_socket_alloc();
	if (!k->sk) {
		ret = -ENOMEM;
		goto err;
	}
	ret = genl_connect(k->sk);
	if (ret)
		goto err;
	fd = nl_socket_get_fd(k->sk);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one))) {
		ret = -errno;
		goto err_close;
	}
	nl_socket_set_buffer_size(k->sk, 1 << 20, 1 << 20);
	k->family = genl_ctrl_resolve(k->sk, KVMMIG_GENL_NAME);
	if (k->family < 0) {
		ret = k->family == -NLE_OBJ_NOTFOUND ? -ENOENT :
						       nlk_errno(k->family);
		goto err_close;
	}
	return 0;

err_close:
	nl_close(k->sk);
err:
	nl_socket_free(k->sk);
	k->sk = NULL;
	free(k->rbuf);
	k->rbuf = NULL;
	return ret < 0 && ret > -1000 ? ret : nlk_errno(ret);
}

void nlk_close(struct nlk *k)
{
	if (k->sk) {
		nl_close(k->sk);
		nl_socket_free(k->sk);
		k->sk = NULL;
	}
	free(k->rbuf);
	k->rbuf = NULL;
}

int __nlk_join_events(struct nlk *k)
{
	int ret;

	k->events_grp = genl_ctrl_resolve_grp(k->sk, KVMMIG_GENL_NAME,
					      KVMMIG_GENL_MCGRP_EVENTS);
	if (k->events_grp < 0)
		return nlk_errno(k->events_grp);
	nl_socket_disable_seq_check(k->sk);
	ret = nl_socket_add_membership(k->sk, k->events_grp);
	return ret ? nlk_errno(ret) : 0;
}

struct nl_msg *nlk_msg(struct nlk *k, __u8 cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc_size(64 * 1024);

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0,
				flags, cmd, KVMMIG_GENL_VERSION)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

__u32 nlk_last_attr_offs(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *nla, *last = NULL;
	int rem;

	nla_for_each_attr(nla, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem)
		last = nla;
	return last ? (__u32)((char *)last - (char *)nlh) : 0;
}

static void nlk_parse_ext(struct nlmsghdr *nlh, struct nlk_ext *ext)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlmsgerr *err = nlmsg_data(nlh);
	size_t hlen = sizeof(*err);
	char *start;
	int len;

	if (!ext || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += err->msg.nlmsg_len - sizeof(struct nlmsghdr);
	start = (char *)err + NLMSG_ALIGN(hlen);
	len = (char *)nlh + nlh->nlmsg_len - start;
	if (len <= 0 || nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)start,
				  len, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(ext->msg, sizeof(ext->msg), "%s",
			 nla_get_string(tb[NLMSGERR_ATTR_MSG]));
	if (tb[NLMSGERR_ATTR_OFFS]) {
		ext->has_offs = true;
		ext->offs = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		ext->has_miss = true;
		ext->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
	}
}

/* One datagram's messages; 1 when the answer is complete. */
static int nlk_handle(struct nlk *k, char *buf, int n, __u32 seq,
		      nlk_reply_fn fn, void *arg, struct nlk_ext *ext,
		      int *result)
{
	struct nlattr *tb[KVMMIG_A_MAX + 1];
	struct nlmsghdr *nlh;

	for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, n);
	     nlh = nlmsg_next(nlh, &n)) {
		if (nlh->nlmsg_seq != seq)
			continue;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *err = nlmsg_data(nlh);

			nlk_parse_ext(nlh, ext);
			if (err->error || !*result)
				*result = err->error;
			return 1;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			int *err = nlmsg_data(nlh);

			if (nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(*err)))
				*result = *err;
			nlk_parse_ext(nlh, ext);
			return 1;
		}
		if (nlh->nlmsg_type != k->family)
			continue;
		if (genlmsg_parse(nlh, 0, tb, KVMMIG_A_MAX, NULL)) {
			*result = -EBADMSG;
			continue;
		}
		if (fn && !*result)
			*result = fn(tb, arg);
	}
	return 0;
}

int __nlk_request(struct nlk *k, struct nl_msg *msg, nlk_reply_fn fn,
		  void *arg, struct nlk_ext *ext)
{
	int fd = nl_socket_get_fd(k->sk), result = 0, n, ret;
	struct nlmsghdr *nlh;
	__u32 seq;

	if (ext)
		memset(ext, 0, sizeof(*ext));
	ret = nl_send_auto(k->sk, msg);
	nlh = nlmsg_hdr(msg);
	seq = nlh->nlmsg_seq;
	nlmsg_free(msg);
	if (ret < 0)
		return nlk_errno(ret);

	for (;;) {
		n = recv(fd, k->rbuf, NLK_RCVBUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (nlk_handle(k, k->rbuf, n, seq, fn, arg, ext, &result))
			return result;
	}
}

int __nlk_session_cmd(struct nlk *k, __u8 cmd, __u32 id, struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, cmd, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVMMIG_A_SESSION_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, NULL, NULL, ext);
}

int __nlk_blob_add(struct nlk *k, __u32 id, __u32 kind, __u32 instance,
		   const char *name, const void *data, __u32 size,
		   struct nlk_ext *ext)
{
	struct nl_msg *msg = nlk_msg(k, KVMMIG_CMD_BLOB_ADD, 0);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KVMMIG_A_SESSION_ID, id) ||
	    nla_put_u32(msg, KVMMIG_A_BLOB_KIND, kind) ||
	    nla_put_u32(msg, KVMMIG_A_BLOB_INSTANCE, instance) ||
	    (name && nla_put_string(msg, KVMMIG_A_BLOB_NAME, name)) ||
	    nla_put(msg, KVMMIG_A_BLOB_DATA, size, data)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return __nlk_request(k, msg, NULL, NULL, ext);
}

int nlk_next_event(struct nlk *k, struct nlk_event *ev, int timeout_ms)
{
	struct pollfd pfd = { .fd = nl_socket_get_fd(k->sk), .events = POLLIN };
	struct nlattr *tb[KVMMIG_A_MAX + 1];
	static char buf[8192];
	struct nlmsghdr *nlh;
	int n;

	for (;;) {
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0)
			return -errno;
		if (!n)
			return -ETIMEDOUT;
		n = recv(pfd.fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		nlh = (struct nlmsghdr *)buf;
		if (!nlmsg_ok(nlh, n) || nlh->nlmsg_type != k->family)
			continue;
		if (genlmsg_parse(nlh, 0, tb, KVMMIG_A_MAX, NULL))
			return -EBADMSG;
		if (((struct genlmsghdr *)nlmsg_data(nlh))->cmd !=
		    KVMMIG_CMD_SESSION_EVENT)
			return -EBADMSG;
		memset(ev, 0, sizeof(*ev));
		if (!tb[KVMMIG_A_SESSION_ID] || !tb[KVMMIG_A_SESSION_NAME] ||
		    !tb[KVMMIG_A_SESSION_STATE] || !tb[KVMMIG_A_SESSION_REASON])
			return -EBADMSG;
		ev->id = nla_get_u32(tb[KVMMIG_A_SESSION_ID]);
		nla_strlcpy(ev->name, tb[KVMMIG_A_SESSION_NAME],
			    sizeof(ev->name));
		ev->state = nla_get_u32(tb[KVMMIG_A_SESSION_STATE]);
		if (tb[KVMMIG_A_SESSION_OLD_STATE])
			ev->old_state = nla_get_u32(tb[KVMMIG_A_SESSION_OLD_STATE]);
		ev->reason = nla_get_u32(tb[KVMMIG_A_SESSION_REASON]);
		return 0;
	}
}

int nlk_wait_event(struct nlk *k, __u32 id, __u32 state,
		   struct nlk_event *ev, int timeout_ms)
{
	int ret;

	do {
		ret = nlk_next_event(k, ev, timeout_ms);
	} while (!ret && (ev->id != id || ev->state != state));
	return ret;
}
