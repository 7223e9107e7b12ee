/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_SESSION_H
#define _KVMMIG_SESSION_H

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/kvmmig.h>

struct file;
struct net;
struct notifier_block;

/* One opaque state record a VMM put (source) or migd added (destination). */
struct kvmmig_blob {
	u32 kind;
	u32 instance;
	u32 size;
	char name[KVMMIG_BLOB_NAME_LEN];
	u8 data[];
};

/*
 * A migration session: a VMM's regions, the state machine of
 * include/uapi/linux/kvmmig.h, and the state blobs.  The session fd owns
 * it; netlink commands and dumps take a reference for as long as they use
 * it.  @regions pin the regions' own files from creation until the fd is
 * released, so a region lives at least as long as the session.
 */
struct kvmmig_session {
	struct kref ref;
	u32 id;
	char name[KVMMIG_SESSION_NAME_LEN];
	struct pid *owner;		/* tgid of the creator */
	u32 nr_regions;
	struct file *regions[KVMMIG_SESSION_MAX_REGIONS];

	/* Everything below, and the regions' validity, under @lock. */
	struct mutex lock;
	bool live;			/* fd installed and not yet released */
	u32 state;			/* KVMMIG_SESSION_* */
	u64 seq;			/* bumped on every state change */
	u64 seq_read;			/* @seq as the last GET_INFO saw it */
	wait_queue_head_t wq;		/* poll() on the session fd */
	u32 nr_blobs;
	u64 blob_bytes;
	struct kvmmig_blob *blobs[KVMMIG_SESSION_MAX_BLOBS];
	/* The netlink socket of the migd that paused or received it. */
	bool has_controller;
	struct net *ctl_net;		/* compared only, never dereferenced */
	u32 ctl_portid;
};

/* What a netlink message says about a session, copied under its lock. */
struct kvmmig_session_snap {
	u32 id;
	char name[KVMMIG_SESSION_NAME_LEN];
	u32 state;
	u32 owner_pid;
	u32 nr_regions;
	u64 region_ids[KVMMIG_SESSION_MAX_REGIONS];
	u32 nr_blobs;
	u64 blob_bytes;
};

/*
 * What the session notifier chain hears: a session was created (@old_state
 * 0) or changed state.  The callbacks run under the session's lock, so
 * they hear the changes in the order they happened; they may sleep but
 * must not call back into the session.
 */
struct kvmmig_session_change {
	u32 id;
	const char *name;
	u32 state;
	u32 old_state;
	u32 reason;			/* KVMMIG_REASON_* */
};

/* Blob names: printable ASCII (isprint() also takes Latin-1). */
static inline bool kvmmig_printable(char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* session.c: objects, the registry and the state machine. */
struct kvmmig_session *kvmmig_session_alloc(const char *name, u32 incoming);
int kvmmig_session_add_region(struct kvmmig_session *s, struct file *file);
int kvmmig_session_register(struct kvmmig_session *s);
void kvmmig_session_unregister(struct kvmmig_session *s);
void kvmmig_session_go_live(struct kvmmig_session *s);
void kvmmig_session_end(struct kvmmig_session *s);
void kvmmig_session_put(struct kvmmig_session *s);

/* A referenced session, or NULL; put it with kvmmig_session_put(). */
struct kvmmig_session *kvmmig_session_get_by_id(u32 id);
struct kvmmig_session *kvmmig_session_get_by_name(const char *name);
/* The registered session with the lowest id >= *@cursor, referenced. */
struct kvmmig_session *kvmmig_session_get_next(unsigned long *cursor);

/* -ENOENT once the session has ended. */
int kvmmig_session_snapshot(struct kvmmig_session *s,
			    struct kvmmig_session_snap *snap);

/*
 * Transitions.  Each returns 0, -ENOENT (the session ended) or -EBUSY (not
 * in a state the transition starts from); ACK returns -ESTALE instead.
 */
int kvmmig_session_pause(struct kvmmig_session *s, struct net *net, u32 portid);
int kvmmig_session_ack_paused(struct kvmmig_session *s);
int kvmmig_session_resume(struct kvmmig_session *s);
int kvmmig_session_handover(struct kvmmig_session *s);
int kvmmig_session_receive(struct kvmmig_session *s, struct net *net,
			   u32 portid);
int kvmmig_session_arrive(struct kvmmig_session *s);
int kvmmig_session_ack_arrived(struct kvmmig_session *s);
int kvmmig_session_abort(struct kvmmig_session *s);

/* The netlink socket (@net, @portid) was closed. */
void kvmmig_session_controller_gone(struct net *net, u32 portid);

/* Hear of every change: @nb gets a struct kvmmig_session_change. */
int kvmmig_session_notifier_register(struct notifier_block *nb);
void kvmmig_session_notifier_unregister(struct notifier_block *nb);

/* Blobs. */
struct kvmmig_blob *kvmmig_blob_alloc(u32 size);
void kvmmig_blob_free(struct kvmmig_blob *blob);
void kvmmig_session_objects(long *sessions, long *blobs);
/* Keep @blob (0) or leave it to the caller: -EBUSY unless @state, -ENOSPC. */
int kvmmig_session_blob_add(struct kvmmig_session *s, u32 state,
			    struct kvmmig_blob *blob);
/*
 * Call @fn on blob @index under the session's lock if the session is in
 * @state: -ENODATA past the last blob, -ENOENT once ended, -EBUSY in
 * another state, else what @fn returns.
 */
int kvmmig_session_blob_read(struct kvmmig_session *s, u32 state, u32 index,
			     int (*fn)(const struct kvmmig_blob *blob, void *arg),
			     void *arg);

/* session_fd.c: the ioctls on /dev/kvmmig and on a session fd. */
int kvmmig_session_create(void __user *argp);
int kvmmig_session_open_region(void __user *argp);

#endif /* _KVMMIG_SESSION_H */
