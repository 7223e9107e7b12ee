/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small client of the kvmmig genetlink family on libnl-genl-3, the
 * selftests' second netlink client (migd uses libmnl).  libnl builds the
 * messages and resolves the family; replies are read with recv() so that
 * every error, extack and NLMSG_DONE is seen as the kernel sent it.
 */
#ifndef _KVMMIG_NL_UTIL_H
#define _KVMMIG_NL_UTIL_H

#include <stdbool.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <linux/kvmmig.h>

struct nlk {
	struct nl_sock *sk;
	int family;
	int events_grp;
	char *rbuf;		/* replies; touched once, so a request faults no page in */
};

/* What the kernel's error ack said besides the errno. */
struct nlk_ext {
	char msg[256];
	bool has_offs;
	__u32 offs;		/* of the bad attribute, in the request */
	bool has_miss;
	__u32 miss_type;	/* a required attribute that is missing */
};

struct nlk_event {
	__u32 id;
	char name[KVMMIG_SESSION_NAME_LEN];
	__u32 state;
	__u32 old_state;	/* 0: none (creation) */
	__u32 reason;
};

/* Connect and resolve the family; 0 or -errno. */
int __nlk_open(struct nlk *k);
void nlk_close(struct nlk *k);
/* Join the "events" group on @k (use a socket of its own for events). */
int __nlk_join_events(struct nlk *k);

/* A request for @cmd (@flags: NLM_F_DUMP or 0) to fill with nla_put_*. */
struct nl_msg *nlk_msg(struct nlk *k, __u8 cmd, int flags);

/* Called for each reply message with its top-level attributes. */
typedef int (*nlk_reply_fn)(struct nlattr **tb, void *arg);

/*
 * Send @msg (freed) and read the answer to the end: @fn (may be NULL) for
 * each reply.  Returns 0 or the -errno of the error ack or NLMSG_DONE;
 * @ext (may be NULL) gets the extack.
 */
int __nlk_request(struct nlk *k, struct nl_msg *msg, nlk_reply_fn fn,
		  void *arg, struct nlk_ext *ext);

/* @cmd with just SESSION_ID = @id. */
int __nlk_session_cmd(struct nlk *k, __u8 cmd, __u32 id, struct nlk_ext *ext);

/* KVMMIG_CMD_BLOB_ADD; 0 or -errno. */
int __nlk_blob_add(struct nlk *k, __u32 id, __u32 kind, __u32 instance,
		   const char *name, const void *data, __u32 size,
		   struct nlk_ext *ext);

/* The next event within @timeout_ms: 0, -ETIMEDOUT or -errno. */
int nlk_next_event(struct nlk *k, struct nlk_event *ev, int timeout_ms);
/* Read events until one for session @id reaches @state; 0 or -errno. */
int nlk_wait_event(struct nlk *k, __u32 id, __u32 state,
		   struct nlk_event *ev, int timeout_ms);

/* Where the last attribute put in @msg starts, as extack offsets count. */
__u32 nlk_last_attr_offs(struct nl_msg *msg);

#endif /* _KVMMIG_NL_UTIL_H */
