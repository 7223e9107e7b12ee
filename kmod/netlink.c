// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "kvmmig" (Documentation/netlink/specs/
 * kvmmig.yaml): region and session dumps, the commands migd drives a
 * session with, its state blobs, and the "events" multicast group.  This
 * is the only file that knows genetlink.
 *
 * Every command has its own policy over the whole attribute space, so an
 * attribute a command does not take is rejected like an unknown one.
 * Every command, and joining the events group, needs CAP_NET_ADMIN: the
 * dumps and events name every VM's regions and owners and count its write
 * faults, a side channel on what the guest does.  The family lives in the
 * initial network namespace only: sessions and regions are not per
 * namespace.
 *
 * Netlink depends on sessions, never the other way round: it hears of
 * their changes through the session notifier chain it registers on.
 */

#include <linux/netlink.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <linux/kvmmig.h>

#include "compat.h"
#include "netlink.h"
#include "region.h"
#include "session.h"

static struct genl_family kvmmig_genl_family;

static struct netlink_range_validation kvmmig_blob_size_range = {
	.min = 1,
	.max = KVMMIG_BLOB_MAX_SIZE,
};

/* REGION_GET; SESSION_GET may filter by id or name. */
static const struct nla_policy kvmmig_nl_none_policy[KVMMIG_A_MAX + 1] = {
};

static const struct nla_policy kvmmig_nl_get_policy[KVMMIG_A_MAX + 1] = {
	[KVMMIG_A_SESSION_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
	[KVMMIG_A_SESSION_NAME]	= { .type = NLA_NUL_STRING,
				    .len = KVMMIG_SESSION_NAME_LEN - 1 },
};

/* The state changes and BLOB_GET: a session id, nothing else. */
static const struct nla_policy kvmmig_nl_id_policy[KVMMIG_A_MAX + 1] = {
	[KVMMIG_A_SESSION_ID]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static const struct nla_policy kvmmig_nl_blob_policy[KVMMIG_A_MAX + 1] = {
	[KVMMIG_A_SESSION_ID]	 = NLA_POLICY_MIN(NLA_U32, 1),
	[KVMMIG_A_BLOB_KIND]	 = NLA_POLICY_RANGE(NLA_U32, KVMMIG_BLOB_VCPU,
						    KVMMIG_BLOB_NESTED),
	[KVMMIG_A_BLOB_INSTANCE] = { .type = NLA_U32 },
	[KVMMIG_A_BLOB_NAME]	 = { .type = NLA_NUL_STRING,
				     .len = KVMMIG_BLOB_NAME_LEN - 1 },
	[KVMMIG_A_BLOB_DATA]	 = NLA_POLICY_FULL_RANGE(NLA_BINARY,
							 &kvmmig_blob_size_range),
};

/* Room for one BLOB_GET message with the largest blob. */
#define KVMMIG_NL_BLOB_MSG_SIZE						\
	(NLMSG_HDRLEN + GENL_HDRLEN + 4 * nla_total_size(sizeof(u32)) +	\
	 nla_total_size(KVMMIG_BLOB_NAME_LEN) +				\
	 nla_total_size(KVMMIG_BLOB_MAX_SIZE))

/* Events */

/*
 * Multicast KVMMIG_CMD_SESSION_EVENT to the "events" group.  A creation
 * (@c->old_state 0) leaves KVMMIG_A_SESSION_OLD_STATE out.
 */
static void kvmmig_nl_session_event(const struct kvmmig_session_change *c)
{
	struct sk_buff *skb;
	void *hdr;

	if (!genl_has_listeners(&kvmmig_genl_family, &init_net, 0))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!skb)
		goto err_lost;
	hdr = genlmsg_put(skb, 0, 0, &kvmmig_genl_family, 0,
			  KVMMIG_CMD_SESSION_EVENT);
	if (!hdr)
		goto err_free;
	if (nla_put_u32(skb, KVMMIG_A_SESSION_ID, c->id) ||
	    nla_put_string(skb, KVMMIG_A_SESSION_NAME, c->name) ||
	    nla_put_u32(skb, KVMMIG_A_SESSION_STATE, c->state) ||
	    (c->old_state &&
	     nla_put_u32(skb, KVMMIG_A_SESSION_OLD_STATE, c->old_state)) ||
	    nla_put_u32(skb, KVMMIG_A_SESSION_REASON, c->reason))
		goto err_free;
	genlmsg_end(skb, hdr);
	/* No listener or a full receive queue: the event is lost to it. */
	genlmsg_multicast(&kvmmig_genl_family, skb, 0, 0, GFP_KERNEL);
	return;

err_free:
	nlmsg_free(skb);
err_lost:
	/*
	 * As for a full receive queue: every listener's next read fails
	 * with ENOBUFS, so none waits for an event that will never come.
	 */
	genl_set_err(&kvmmig_genl_family, &init_net, 0, 0, -ENOBUFS);
}

static int kvmmig_nl_session_changed(struct notifier_block *nb,
				     unsigned long action, void *data)
{
	kvmmig_nl_session_event(data);
	return NOTIFY_DONE;
}

static struct notifier_block kvmmig_nl_session_notifier = {
	.notifier_call = kvmmig_nl_session_changed,
};

/* Regions */

struct kvmmig_nl_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u32 session_id;
};

static void *kvmmig_nl_dump_put(struct kvmmig_nl_dump *d, u8 cmd)
{
	return genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid,
			   d->cb->nlh->nlmsg_seq, &kvmmig_genl_family,
			   NLM_F_MULTI, cmd);
}

static int kvmmig_nl_put_dirty_log(struct sk_buff *skb,
				   struct kvmmig_region *region)
{
	struct kvmmig_dirty_log_info log;
	struct nlattr *nest;

	kvmmig_dirty_log_info(&region->log, &log);
	nest = nla_nest_start(skb, KVMMIG_A_DIRTY_LOG);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u8(skb, KVMMIG_A_DIRTY_ENABLED, log.enabled) ||
	    nla_put_u32(skb, KVMMIG_A_DIRTY_MODE, log.mode) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_DIRTY_HARVESTS, log.harvests,
			      KVMMIG_A_DIRTY_PAD) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_DIRTY_PAGES_REPORTED,
			      log.pages_reported, KVMMIG_A_DIRTY_PAD) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_DIRTY_WRITE_FAULTS,
			      log.write_faults, KVMMIG_A_DIRTY_PAD) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_DIRTY_BATCH_NS_MAX,
			      log.batch_ns_max, KVMMIG_A_DIRTY_PAD) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_DIRTY_HARVEST_NS_MAX,
			      log.harvest_ns_max, KVMMIG_A_DIRTY_PAD)) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/* Runs under the region list's lock. */
static int kvmmig_nl_fill_region(struct kvmmig_region *region, void *arg)
{
	struct kvmmig_nl_dump *d = arg;
	struct sk_buff *skb = d->skb;
	void *hdr;

	hdr = kvmmig_nl_dump_put(d, KVMMIG_CMD_REGION_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, KVMMIG_A_REGION_ID, region->id,
			      KVMMIG_A_PAD) ||
	    nla_put_string(skb, KVMMIG_A_REGION_NAME, region->name) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_REGION_SIZE,
			      (u64)kvmmig_region_nr_pages(region) << PAGE_SHIFT,
			      KVMMIG_A_PAD) ||
	    nla_put_s32(skb, KVMMIG_A_REGION_NODE, region->nid) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_REGION_PAGES,
			      atomic_long_read(&region->nr_allocated),
			      KVMMIG_A_PAD) ||
	    nla_put_u32(skb, KVMMIG_A_OWNER_PID, pid_vnr(region->owner)) ||
	    kvmmig_nl_put_dirty_log(skb, region)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int kvmmig_nl_region_dumpit(struct sk_buff *skb,
				   struct netlink_callback *cb)
{
	struct kvmmig_nl_dump d = { .skb = skb, .cb = cb };
	u64 cursor = cb->args[0];
	int ret;

	ret = kvmmig_region_for_each(&cursor, kvmmig_nl_fill_region, &d);
	cb->args[0] = cursor;
	if (ret == -EMSGSIZE && !skb->len)
		return ret;
	return skb->len;
}

/* Sessions */

static int kvmmig_nl_fill_session(struct sk_buff *skb,
				  const struct kvmmig_session_snap *snap,
				  u32 portid, u32 seq, int flags)
{
	struct nlattr *nest;
	void *hdr;
	u32 i;

	hdr = genlmsg_put(skb, portid, seq, &kvmmig_genl_family, flags,
			  KVMMIG_CMD_SESSION_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KVMMIG_A_SESSION_ID, snap->id) ||
	    nla_put_string(skb, KVMMIG_A_SESSION_NAME, snap->name) ||
	    nla_put_u32(skb, KVMMIG_A_SESSION_STATE, snap->state) ||
	    nla_put_u32(skb, KVMMIG_A_OWNER_PID, snap->owner_pid))
		goto err_cancel;
	nest = nla_nest_start(skb, KVMMIG_A_SESSION_REGIONS);
	if (!nest)
		goto err_cancel;
	for (i = 0; i < snap->nr_regions; i++)
		if (nla_put_u64_64bit(skb, KVMMIG_A_REGION_ID,
				      snap->region_ids[i], KVMMIG_A_PAD))
			goto err_cancel;
	nla_nest_end(skb, nest);
	if (nla_put_u32(skb, KVMMIG_A_SESSION_NR_BLOBS, snap->nr_blobs) ||
	    nla_put_u64_64bit(skb, KVMMIG_A_SESSION_BLOB_BYTES,
			      snap->blob_bytes, KVMMIG_A_PAD))
		goto err_cancel;
	genlmsg_end(skb, hdr);
	return 0;

err_cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* The session SESSION_ID names, referenced; extack says why not. */
static struct kvmmig_session *kvmmig_nl_session(struct genl_info *info)
{
	struct nlattr *attr = info->attrs[KVMMIG_A_SESSION_ID];
	struct kvmmig_session *s;

	if (GENL_REQ_ATTR_CHECK(info, KVMMIG_A_SESSION_ID)) {
		GENL_SET_ERR_MSG(info, "SESSION_ID is required");
		return ERR_PTR(-EINVAL);
	}
	s = kvmmig_session_get_by_id(nla_get_u32(attr));
	if (!s) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "SESSION_ID: no such session");
		return ERR_PTR(-ENOENT);
	}
	return s;
}

static int kvmmig_nl_session_get_doit(struct sk_buff *skb,
				      struct genl_info *info)
{
	struct nlattr *id = info->attrs[KVMMIG_A_SESSION_ID];
	struct nlattr *name = info->attrs[KVMMIG_A_SESSION_NAME];
	struct kvmmig_session_snap snap;
	struct kvmmig_session *s;
	struct sk_buff *msg;
	int ret;

	if (id && name) {
		NL_SET_ERR_MSG_ATTR(info->extack, name,
				    "SESSION_NAME: give SESSION_ID or SESSION_NAME, not both");
		return -EINVAL;
	}
	if (!id && !name) {
		GENL_REQ_ATTR_CHECK(info, KVMMIG_A_SESSION_ID);
		GENL_SET_ERR_MSG(info, "SESSION_ID or SESSION_NAME is required");
		return -EINVAL;
	}
	s = id ? kvmmig_session_get_by_id(nla_get_u32(id)) :
		 kvmmig_session_get_by_name(nla_data(name));
	ret = s ? kvmmig_session_snapshot(s, &snap) : -ENOENT;
	if (s)
		kvmmig_session_put(s);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(info->extack, id ?: name,
				    "no such session");
		return ret;
	}

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = kvmmig_nl_fill_session(msg, &snap, info->snd_portid,
				     info->snd_seq, 0);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static bool kvmmig_nl_session_match(struct nlattr **attrs,
				    const struct kvmmig_session_snap *snap)
{
	struct nlattr *id = attrs ? attrs[KVMMIG_A_SESSION_ID] : NULL;
	struct nlattr *name = attrs ? attrs[KVMMIG_A_SESSION_NAME] : NULL;

	if (id && nla_get_u32(id) != snap->id)
		return false;
	return !name || !strcmp(nla_data(name), snap->name);
}

static int kvmmig_nl_session_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct nlattr **attrs = kvmmig_genl_dump_attrs(cb);
	struct kvmmig_session_snap snap;
	unsigned long cursor = cb->args[0];
	struct kvmmig_session *s;
	int ret = 0;

	while ((s = kvmmig_session_get_next(&cursor))) {
		ret = kvmmig_session_snapshot(s, &snap);
		kvmmig_session_put(s);
		if (!ret && kvmmig_nl_session_match(attrs, &snap)) {
			ret = kvmmig_nl_fill_session(skb, &snap,
						     NETLINK_CB(cb->skb).portid,
						     cb->nlh->nlmsg_seq,
						     NLM_F_MULTI);
			if (ret)
				break;
		}
		cursor++;
	}
	cb->args[0] = cursor;
	if (ret == -EMSGSIZE && !skb->len)
		return ret;
	return skb->len;
}

/* State changes */

/* A state a command does not start from: say which it needs. */
#define kvmmig_nl_busy(info, ret, msg) ({				\
	int __ret = (ret);						\
									\
	if (__ret == -EBUSY)						\
		NL_SET_ERR_MSG_ATTR((info)->extack,			\
				    (info)->attrs[KVMMIG_A_SESSION_ID], msg); \
	__ret;								\
})

/* A transition migd asks for: @move, or @take which records the caller. */
static int kvmmig_nl_transition(struct genl_info *info,
				int (*move)(struct kvmmig_session *s),
				int (*take)(struct kvmmig_session *s,
					    struct net *net, u32 portid))
{
	struct kvmmig_session *s = kvmmig_nl_session(info);
	int ret;

	if (IS_ERR(s))
		return PTR_ERR(s);
	if (take)
		ret = take(s, genl_info_net(info), info->snd_portid);
	else
		ret = move(s);
	kvmmig_session_put(s);
	if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[KVMMIG_A_SESSION_ID],
				    "SESSION_ID: the session has ended");
	return ret;
}

static int kvmmig_nl_pause_doit(struct sk_buff *skb, struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info, NULL,
						   kvmmig_session_pause),
			      "SESSION_PAUSE needs a RUNNING session");
}

static int kvmmig_nl_resume_doit(struct sk_buff *skb, struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info, kvmmig_session_resume,
						   NULL),
			      "SESSION_RESUME needs a PAUSING or PAUSED session");
}

static int kvmmig_nl_handover_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info,
						   kvmmig_session_handover,
						   NULL),
			      "SESSION_HANDOVER needs a PAUSED session");
}

static int kvmmig_nl_receive_doit(struct sk_buff *skb,
				  struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info, NULL,
						   kvmmig_session_receive),
			      "SESSION_RECEIVE needs a WAITING session");
}

static int kvmmig_nl_arrive_doit(struct sk_buff *skb, struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info, kvmmig_session_arrive,
						   NULL),
			      "SESSION_ARRIVE needs a RECEIVING session");
}

static int kvmmig_nl_abort_doit(struct sk_buff *skb, struct genl_info *info)
{
	return kvmmig_nl_busy(info,
			      kvmmig_nl_transition(info, kvmmig_session_abort,
						   NULL),
			      "SESSION_ABORT needs a WAITING, RECEIVING or ARRIVED session");
}

/* Blobs */

static int kvmmig_nl_blob_add_doit(struct sk_buff *skb,
				   struct genl_info *info)
{
	struct nlattr **attrs = info->attrs;
	struct nlattr *name = attrs[KVMMIG_A_BLOB_NAME];
	struct nlattr *data = attrs[KVMMIG_A_BLOB_DATA];
	struct kvmmig_session *s;
	struct kvmmig_blob *blob;
	size_t i;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, KVMMIG_A_SESSION_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KVMMIG_A_BLOB_KIND) ||
	    GENL_REQ_ATTR_CHECK(info, KVMMIG_A_BLOB_INSTANCE) ||
	    GENL_REQ_ATTR_CHECK(info, KVMMIG_A_BLOB_DATA)) {
		GENL_SET_ERR_MSG(info, "SESSION_ID, BLOB_KIND, BLOB_INSTANCE and BLOB_DATA are required");
		return -EINVAL;
	}
	if (name) {
		for (i = 0; i < strlen(nla_data(name)); i++) {
			if (!kvmmig_printable(((char *)nla_data(name))[i])) {
				NL_SET_ERR_MSG_ATTR(info->extack, name,
						    "BLOB_NAME: not printable");
				return -EINVAL;
			}
		}
	}

	blob = kvmmig_blob_alloc(nla_len(data));
	if (!blob)
		return -ENOMEM;
	blob->kind = nla_get_u32(attrs[KVMMIG_A_BLOB_KIND]);
	blob->instance = nla_get_u32(attrs[KVMMIG_A_BLOB_INSTANCE]);
	if (name)
		nla_strscpy(blob->name, name, sizeof(blob->name));
	memcpy(blob->data, nla_data(data), blob->size);

	s = kvmmig_nl_session(info);
	if (IS_ERR(s)) {
		kvmmig_blob_free(blob);
		return PTR_ERR(s);
	}
	ret = kvmmig_session_blob_add(s, KVMMIG_SESSION_RECEIVING, blob);
	kvmmig_session_put(s);
	if (!ret)
		return 0;
	kvmmig_blob_free(blob);
	if (ret == -ENOSPC)
		GENL_SET_ERR_MSG(info, "the session holds the most blobs it may");
	else if (ret == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, attrs[KVMMIG_A_SESSION_ID],
				    "SESSION_ID: the session has ended");
	return kvmmig_nl_busy(info, ret, "BLOB_ADD needs a RECEIVING session");
}

/*
 * BLOB_GET is checked in ->start so that its errors come back as an error
 * ack like any command's (with extack where the kernel passes one there).
 */
static int kvmmig_nl_blob_start(struct netlink_callback *cb)
{
	struct nlattr **attrs = kvmmig_genl_dump_attrs(cb);
	struct nlattr *id = attrs[KVMMIG_A_SESSION_ID];
	struct kvmmig_session_snap snap;
	struct kvmmig_session *s;
	int ret;

	if (NL_REQ_ATTR_CHECK(cb->extack, NULL, attrs, KVMMIG_A_SESSION_ID)) {
		NL_SET_ERR_MSG(cb->extack, "SESSION_ID is required");
		return -EINVAL;
	}
	s = kvmmig_session_get_by_id(nla_get_u32(id));
	ret = s ? kvmmig_session_snapshot(s, &snap) : -ENOENT;
	if (s)
		kvmmig_session_put(s);
	if (ret) {
		NL_SET_ERR_MSG_ATTR(cb->extack, id, "SESSION_ID: no such session");
		return ret;
	}
	if (snap.state != KVMMIG_SESSION_PAUSED) {
		NL_SET_ERR_MSG_ATTR(cb->extack, id,
				    "BLOB_GET needs a PAUSED session");
		return -EBUSY;
	}
	cb->args[0] = snap.id;
	cb->args[1] = 0;
	/* A blob is one attribute: its message must fit in one skb. */
	cb->min_dump_alloc = KVMMIG_NL_BLOB_MSG_SIZE;
	return 0;
}

struct kvmmig_nl_blob_dump {
	struct kvmmig_nl_dump d;
	u32 index;
};

/* Runs under the session's lock. */
static int kvmmig_nl_fill_blob(const struct kvmmig_blob *blob, void *arg)
{
	struct kvmmig_nl_blob_dump *bd = arg;
	struct sk_buff *skb = bd->d.skb;
	void *hdr;

	hdr = kvmmig_nl_dump_put(&bd->d, KVMMIG_CMD_BLOB_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, KVMMIG_A_SESSION_ID, bd->d.session_id) ||
	    nla_put_u32(skb, KVMMIG_A_BLOB_INDEX, bd->index) ||
	    nla_put_u32(skb, KVMMIG_A_BLOB_KIND, blob->kind) ||
	    nla_put_u32(skb, KVMMIG_A_BLOB_INSTANCE, blob->instance) ||
	    nla_put_string(skb, KVMMIG_A_BLOB_NAME, blob->name) ||
	    nla_put(skb, KVMMIG_A_BLOB_DATA, blob->size, blob->data)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static int kvmmig_nl_blob_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct kvmmig_nl_blob_dump bd = {
		.d = { .skb = skb, .cb = cb, .session_id = cb->args[0] },
		.index = cb->args[1],
	};
	struct kvmmig_session *s;
	int ret;

	s = kvmmig_session_get_by_id(bd.d.session_id);
	if (!s)
		return -ENOENT;
	for (;;) {
		ret = kvmmig_session_blob_read(s, KVMMIG_SESSION_PAUSED,
					       bd.index, kvmmig_nl_fill_blob,
					       &bd);
		if (ret)
			break;
		bd.index++;
	}
	kvmmig_session_put(s);
	cb->args[1] = bd.index;

	if (ret == -ENODATA || (ret == -EMSGSIZE && skb->len))
		return skb->len;
	if (ret == -EBUSY)
		NL_SET_ERR_MSG(cb->extack, "the session left PAUSED");
	return ret;
}

/* Operations */

static const struct genl_ops kvmmig_nl_ops[] = {
	{
		.cmd	 = KVMMIG_CMD_REGION_GET,
		.flags	 = GENL_ADMIN_PERM,
		.dumpit	 = kvmmig_nl_region_dumpit,
		.policy	 = kvmmig_nl_none_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_GET,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_session_get_doit,
		.dumpit	 = kvmmig_nl_session_dumpit,
		.policy	 = kvmmig_nl_get_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_PAUSE,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_pause_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_RESUME,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_resume_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_HANDOVER,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_handover_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_RECEIVE,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_receive_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_ARRIVE,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_arrive_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_SESSION_ABORT,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_abort_doit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_BLOB_GET,
		.flags	 = GENL_ADMIN_PERM,
		.start	 = kvmmig_nl_blob_start,
		.dumpit	 = kvmmig_nl_blob_dumpit,
		.policy	 = kvmmig_nl_id_policy,
		.maxattr = KVMMIG_A_MAX,
	},
	{
		.cmd	 = KVMMIG_CMD_BLOB_ADD,
		.flags	 = GENL_ADMIN_PERM,
		.doit	 = kvmmig_nl_blob_add_doit,
		.policy	 = kvmmig_nl_blob_policy,
		.maxattr = KVMMIG_A_MAX,
	},
};

static const struct genl_multicast_group kvmmig_nl_mcgrps[] = {
	{
		.name	= KVMMIG_GENL_MCGRP_EVENTS,
		.flags	= KVMMIG_GENL_MCAST_CAP_NET_ADMIN,
	},
};

static struct genl_family kvmmig_genl_family __ro_after_init = {
	.name		= KVMMIG_GENL_NAME,
	.version	= KVMMIG_GENL_VERSION,
	.module		= THIS_MODULE,
	.parallel_ops	= true,
	.ops		= kvmmig_nl_ops,
	.n_ops		= ARRAY_SIZE(kvmmig_nl_ops),
	.mcgrps		= kvmmig_nl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(kvmmig_nl_mcgrps),
};

/* A netlink socket is gone: if it was a session's migd, act for it. */
static int kvmmig_nl_notify(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct netlink_notify *n = ptr;

	if (event == NETLINK_URELEASE && n->protocol == NETLINK_GENERIC &&
	    n->portid)
		kvmmig_session_controller_gone(n->net, n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block kvmmig_nl_notifier = {
	.notifier_call = kvmmig_nl_notify,
};

int kvmmig_netlink_init(void)
{
	int ret;

	ret = genl_register_family(&kvmmig_genl_family);
	if (ret)
		return ret;
	ret = netlink_register_notifier(&kvmmig_nl_notifier);
	if (ret)
		goto err_family;
	ret = kvmmig_session_notifier_register(&kvmmig_nl_session_notifier);
	if (ret)
		goto err_notifier;
	return 0;

err_notifier:
	netlink_unregister_notifier(&kvmmig_nl_notifier);
err_family:
	genl_unregister_family(&kvmmig_genl_family);
	return ret;
}

void kvmmig_netlink_exit(void)
{
	kvmmig_session_notifier_unregister(&kvmmig_nl_session_notifier);
	netlink_unregister_notifier(&kvmmig_nl_notifier);
	genl_unregister_family(&kvmmig_genl_family);
}
