// SPDX-License-Identifier: GPL-2.0
/*
 * Migration sessions: the registry (ids and names), lifetimes, the state
 * machine of uapi/linux/kvmmig.h with one function per transition, and the
 * state blobs.  Every state change bumps the sequence number poll() on the
 * session fd compares, and is announced on a notifier chain (netlink.c
 * multicasts it); this file knows none of its listeners.
 *
 * Locking: kvmmig_sessions_lock (the registry) nests outside each session's
 * lock.  Changes are announced under the session's lock, so they leave in
 * the order the states changed.  Nothing here sleeps under a spinlock.
 */

#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/hash.h>
#include <linux/mm.h>
#include <linux/notifier.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "region.h"
#include "session.h"

static DEFINE_MUTEX(kvmmig_sessions_lock);
static DEFINE_XARRAY_ALLOC1(kvmmig_sessions);	/* id -> session */
static u32 kvmmig_next_session_id;
static BLOCKING_NOTIFIER_HEAD(kvmmig_session_chain);

/*
 * How many sessions have a controller whose netlink portid hashes to each
 * bucket.  The release hook runs for every generic netlink socket closed
 * on the host: for one that controls no session it reads one counter and
 * takes no lock, so an unrelated process never waits for a session.
 */
#define KVMMIG_CTL_HASH_BITS	6
static atomic_t kvmmig_ctl_count[1 << KVMMIG_CTL_HASH_BITS];

static atomic_t *kvmmig_ctl_bucket(u32 portid)
{
	return &kvmmig_ctl_count[hash_32(portid, KVMMIG_CTL_HASH_BITS)];
}

static void kvmmig_session_clear_controller(struct kvmmig_session *s)
{
	lockdep_assert_held(&s->lock);
	if (!s->has_controller)
		return;
	s->has_controller = false;
	atomic_dec(kvmmig_ctl_bucket(s->ctl_portid));
}

static void kvmmig_session_set_controller(struct kvmmig_session *s,
					  struct net *net, u32 portid)
{
	lockdep_assert_held(&s->lock);
	kvmmig_session_clear_controller(s);
	atomic_inc(kvmmig_ctl_bucket(portid));
	s->has_controller = true;
	s->ctl_net = net;
	s->ctl_portid = portid;
}

/* States a migd is in the middle of: they keep blobs and a controller. */
#define KVMMIG_SESSION_MIGRATING	(BIT(KVMMIG_SESSION_PAUSING) |	\
					 BIT(KVMMIG_SESSION_PAUSED) |	\
					 BIT(KVMMIG_SESSION_RECEIVING) | \
					 BIT(KVMMIG_SESSION_ARRIVED))

/* Sessions and blobs allocated, live or not: for leak checks. */
static atomic_long_t kvmmig_nr_sessions = ATOMIC_LONG_INIT(0);
static atomic_long_t kvmmig_nr_blobs = ATOMIC_LONG_INIT(0);

struct kvmmig_blob *kvmmig_blob_alloc(u32 size)
{
	struct kvmmig_blob *blob;

	blob = kvzalloc(struct_size(blob, data, size), GFP_KERNEL_ACCOUNT);
	if (!blob)
		return NULL;
	blob->size = size;
	atomic_long_inc(&kvmmig_nr_blobs);
	return blob;
}

void kvmmig_blob_free(struct kvmmig_blob *blob)
{
	if (!blob)
		return;
	kvfree(blob);
	atomic_long_dec(&kvmmig_nr_blobs);
}

static void kvmmig_session_drop_blobs(struct kvmmig_session *s)
{
	u32 i;

	for (i = 0; i < s->nr_blobs; i++) {
		kvmmig_blob_free(s->blobs[i]);
		s->blobs[i] = NULL;
	}
	s->nr_blobs = 0;
	s->blob_bytes = 0;
}

struct kvmmig_session *kvmmig_session_alloc(const char *name, u32 incoming)
{
	struct kvmmig_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	atomic_long_inc(&kvmmig_nr_sessions);
	kref_init(&s->ref);
	strscpy(s->name, name, sizeof(s->name));
	s->owner = get_pid(task_tgid(current));
	mutex_init(&s->lock);
	init_waitqueue_head(&s->wq);
	s->state = incoming ? KVMMIG_SESSION_WAITING : KVMMIG_SESSION_RUNNING;
	return s;
}

/*
 * Take a region into the session before it is registered: the file
 * reference pins the region, the bit keeps it out of other sessions.
 */
int kvmmig_session_add_region(struct kvmmig_session *s, struct file *file)
{
	struct kvmmig_region *region = kvmmig_region_from_file(file);
	int ret;
	u32 i;

	if (!region || s->nr_regions >= KVMMIG_SESSION_MAX_REGIONS)
		return -EINVAL;
	for (i = 0; i < s->nr_regions; i++)
		if (s->regions[i]->private_data == region)
			return -EINVAL;
	ret = kvmmig_dirty_log_claim(&region->log);
	if (ret)
		return ret;
	s->regions[s->nr_regions++] = get_file(file);
	return 0;
}

static void kvmmig_session_drop_regions(struct file **files, u32 nr)
{
	struct kvmmig_region *region;
	u32 i;

	for (i = 0; i < nr; i++) {
		region = files[i]->private_data;
		kvmmig_dirty_log_unclaim(&region->log);
		fput(files[i]);
	}
}

static void kvmmig_session_release(struct kref *ref)
{
	struct kvmmig_session *s = container_of(ref, struct kvmmig_session,
						ref);

	/* Set only if the session never went live. */
	kvmmig_session_drop_regions(s->regions, s->nr_regions);
	kvmmig_session_drop_blobs(s);
	put_pid(s->owner);
	mutex_destroy(&s->lock);
	kfree(s);
	atomic_long_dec(&kvmmig_nr_sessions);
}

void kvmmig_session_put(struct kvmmig_session *s)
{
	kref_put(&s->ref, kvmmig_session_release);
}

/* Give @s an id unless its name is taken.  -EEXIST, -EBUSY, -ENOMEM. */
int kvmmig_session_register(struct kvmmig_session *s)
{
	struct kvmmig_session *other;
	unsigned long idx;
	int ret;

	mutex_lock(&kvmmig_sessions_lock);
	xa_for_each(&kvmmig_sessions, idx, other) {
		if (!strcmp(other->name, s->name)) {
			ret = -EEXIST;
			goto out;
		}
	}
	ret = xa_alloc_cyclic(&kvmmig_sessions, &s->id, s,
			      XA_LIMIT(1, U32_MAX), &kvmmig_next_session_id,
			      GFP_KERNEL);
	if (ret > 0)
		ret = 0;	/* the ids wrapped: fine */
out:
	mutex_unlock(&kvmmig_sessions_lock);
	return ret;
}

void kvmmig_session_unregister(struct kvmmig_session *s)
{
	mutex_lock(&kvmmig_sessions_lock);
	xa_erase(&kvmmig_sessions, s->id);
	mutex_unlock(&kvmmig_sessions_lock);
}

int kvmmig_session_notifier_register(struct notifier_block *nb)
{
	return blocking_notifier_chain_register(&kvmmig_session_chain, nb);
}

void kvmmig_session_notifier_unregister(struct notifier_block *nb)
{
	blocking_notifier_chain_unregister(&kvmmig_session_chain, nb);
}

/* Tell the chain that @s is in its state now, coming from @old (0: new). */
static void kvmmig_session_announce(struct kvmmig_session *s, u32 old,
				    u32 reason)
{
	struct kvmmig_session_change change = {
		.id		= s->id,
		.name		= s->name,
		.state		= s->state,
		.old_state	= old,
		.reason		= reason,
	};

	lockdep_assert_held(&s->lock);
	blocking_notifier_call_chain(&kvmmig_session_chain, 0, &change);
}

/* The fd is installed: netlink may use the session now.  Say so. */
void kvmmig_session_go_live(struct kvmmig_session *s)
{
	mutex_lock(&s->lock);
	s->live = true;
	kvmmig_session_announce(s, 0, KVMMIG_REASON_CREATED);
	mutex_unlock(&s->lock);
}

/*
 * Every state change goes through here, with the lock held: drop what the
 * new state does not keep, wake the VMM, tell the chain (migd).
 */
static void kvmmig_session_set_state(struct kvmmig_session *s, u32 state,
				     u32 reason)
{
	u32 old = s->state;

	lockdep_assert_held(&s->lock);
	s->state = state;
	if (!(BIT(state) & KVMMIG_SESSION_MIGRATING)) {
		kvmmig_session_drop_blobs(s);
		kvmmig_session_clear_controller(s);
	}
	WRITE_ONCE(s->seq, s->seq + 1);
	wake_up_interruptible_poll(&s->wq, EPOLLIN | EPOLLRDNORM);
	kvmmig_session_announce(s, old, reason);
}

/*
 * The session fd was released: the session ends, its name is free again,
 * and netlink commands on it get ENOENT from now on.
 */
void kvmmig_session_end(struct kvmmig_session *s)
{
	struct file *files[KVMMIG_SESSION_MAX_REGIONS];
	u32 nr;

	kvmmig_session_unregister(s);

	mutex_lock(&s->lock);
	kvmmig_session_set_state(s, KVMMIG_SESSION_ABORTED,
				 KVMMIG_REASON_VMM_GONE);
	s->live = false;
	nr = s->nr_regions;
	memcpy(files, s->regions, nr * sizeof(files[0]));
	s->nr_regions = 0;
	mutex_unlock(&s->lock);

	kvmmig_session_drop_regions(files, nr);
	kvmmig_session_put(s);
}

struct kvmmig_session *kvmmig_session_get_by_id(u32 id)
{
	struct kvmmig_session *s;

	mutex_lock(&kvmmig_sessions_lock);
	s = xa_load(&kvmmig_sessions, id);
	if (s)
		kref_get(&s->ref);
	mutex_unlock(&kvmmig_sessions_lock);
	return s;
}

struct kvmmig_session *kvmmig_session_get_by_name(const char *name)
{
	struct kvmmig_session *s, *found = NULL;
	unsigned long idx;

	mutex_lock(&kvmmig_sessions_lock);
	xa_for_each(&kvmmig_sessions, idx, s) {
		if (!strcmp(s->name, name)) {
			kref_get(&s->ref);
			found = s;
			break;
		}
	}
	mutex_unlock(&kvmmig_sessions_lock);
	return found;
}

struct kvmmig_session *kvmmig_session_get_next(unsigned long *cursor)
{
	unsigned long idx = *cursor;
	struct kvmmig_session *s;

	mutex_lock(&kvmmig_sessions_lock);
	s = xa_find(&kvmmig_sessions, &idx, U32_MAX, XA_PRESENT);
	if (s) {
		kref_get(&s->ref);
		*cursor = idx;
	}
	mutex_unlock(&kvmmig_sessions_lock);
	return s;
}

int kvmmig_session_snapshot(struct kvmmig_session *s,
			    struct kvmmig_session_snap *snap)
{
	struct kvmmig_region *region;
	int ret = -ENOENT;
	u32 i;

	mutex_lock(&s->lock);
	if (!s->live)
		goto out;
	snap->id = s->id;
	memcpy(snap->name, s->name, sizeof(snap->name));
	snap->state = s->state;
	snap->owner_pid = pid_vnr(s->owner);
	snap->nr_regions = s->nr_regions;
	for (i = 0; i < s->nr_regions; i++) {
		region = s->regions[i]->private_data;
		snap->region_ids[i] = region->id;
	}
	snap->nr_blobs = s->nr_blobs;
	snap->blob_bytes = s->blob_bytes;
	ret = 0;
out:
	mutex_unlock(&s->lock);
	return ret;
}

/*
 * The common shape of a transition: from a state in @from to @to.  @err is
 * what a session in another state gets.
 */
static int kvmmig_session_move(struct kvmmig_session *s, unsigned long from,
			       u32 to, int err)
{
	int ret = 0;

	mutex_lock(&s->lock);
	if (!s->live)
		ret = -ENOENT;
	else if (!(BIT(s->state) & from))
		ret = err;
	else
		kvmmig_session_set_state(s, to, KVMMIG_REASON_REQUEST);
	mutex_unlock(&s->lock);
	return ret;
}

/* Like kvmmig_session_move(), and the caller's socket becomes controller. */
static int kvmmig_session_take(struct kvmmig_session *s, u32 from, u32 to,
			       struct net *net, u32 portid)
{
	int ret = 0;

	mutex_lock(&s->lock);
	if (!s->live) {
		ret = -ENOENT;
	} else if (s->state != from) {
		ret = -EBUSY;
	} else {
		kvmmig_session_set_state(s, to, KVMMIG_REASON_REQUEST);
		kvmmig_session_set_controller(s, net, portid);
	}
	mutex_unlock(&s->lock);
	return ret;
}

/* migd: RUNNING -> PAUSING; the VMM must stop, put its blobs and ACK. */
int kvmmig_session_pause(struct kvmmig_session *s, struct net *net, u32 portid)
{
	return kvmmig_session_take(s, KVMMIG_SESSION_RUNNING,
				   KVMMIG_SESSION_PAUSING, net, portid);
}

/* VMM: PAUSING -> PAUSED, its blobs are all put. */
int kvmmig_session_ack_paused(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_PAUSING),
				   KVMMIG_SESSION_PAUSED, -ESTALE);
}

/* migd: PAUSING or PAUSED -> RUNNING, the migration failed. */
int kvmmig_session_resume(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_PAUSING) |
				   BIT(KVMMIG_SESSION_PAUSED),
				   KVMMIG_SESSION_RUNNING, -EBUSY);
}

/* migd: PAUSED -> DONE, the destination runs the VM. */
int kvmmig_session_handover(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_PAUSED),
				   KVMMIG_SESSION_DONE, -EBUSY);
}

/* migd: WAITING -> RECEIVING, it fills the regions and adds blobs. */
int kvmmig_session_receive(struct kvmmig_session *s, struct net *net,
			   u32 portid)
{
	return kvmmig_session_take(s, KVMMIG_SESSION_WAITING,
				   KVMMIG_SESSION_RECEIVING, net, portid);
}

/* migd: RECEIVING -> ARRIVED, everything is here. */
int kvmmig_session_arrive(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_RECEIVING),
				   KVMMIG_SESSION_ARRIVED, -EBUSY);
}

/* VMM: ARRIVED -> RUNNING, it collected the blobs. */
int kvmmig_session_ack_arrived(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_ARRIVED),
				   KVMMIG_SESSION_RUNNING, -ESTALE);
}

/* migd: a destination state -> ABORTED, the migration failed. */
int kvmmig_session_abort(struct kvmmig_session *s)
{
	return kvmmig_session_move(s, BIT(KVMMIG_SESSION_WAITING) |
				   BIT(KVMMIG_SESSION_RECEIVING) |
				   BIT(KVMMIG_SESSION_ARRIVED),
				   KVMMIG_SESSION_ABORTED, -EBUSY);
}

/*
 * A netlink socket was released.  If it controlled a session, a paused
 * source runs again and a destination being filled is abandoned: a dead
 * migd must not leave a VM stopped or half received.  A socket that
 * controls nothing (the counter of its bucket is zero) costs one read.
 */
void kvmmig_session_controller_gone(struct net *net, u32 portid)
{
	struct kvmmig_session *s;
	unsigned long idx;

	/*
	 * A socket becomes a controller in its own sendmsg(), which returned
	 * before its release began: the increment is visible here.
	 */
	if (!atomic_read(kvmmig_ctl_bucket(portid)))
		return;

	mutex_lock(&kvmmig_sessions_lock);
	xa_for_each(&kvmmig_sessions, idx, s) {
		mutex_lock(&s->lock);
		if (s->live && s->has_controller && s->ctl_net == net &&
		    s->ctl_portid == portid) {
			switch (s->state) {
			case KVMMIG_SESSION_PAUSING:
			case KVMMIG_SESSION_PAUSED:
				kvmmig_session_set_state(s,
							 KVMMIG_SESSION_RUNNING,
							 KVMMIG_REASON_DAEMON_GONE);
				break;
			default:
				kvmmig_session_set_state(s,
							 KVMMIG_SESSION_ABORTED,
							 KVMMIG_REASON_DAEMON_GONE);
				break;
			}
		}
		mutex_unlock(&s->lock);
	}
	mutex_unlock(&kvmmig_sessions_lock);
}

int kvmmig_session_blob_add(struct kvmmig_session *s, u32 state,
			    struct kvmmig_blob *blob)
{
	int ret = 0;

	mutex_lock(&s->lock);
	if (!s->live) {
		ret = -ENOENT;
	} else if (s->state != state) {
		ret = -EBUSY;
	} else if (s->nr_blobs >= KVMMIG_SESSION_MAX_BLOBS) {
		ret = -ENOSPC;
	} else {
		s->blobs[s->nr_blobs++] = blob;
		s->blob_bytes += blob->size;
	}
	mutex_unlock(&s->lock);
	return ret;
}

int kvmmig_session_blob_read(struct kvmmig_session *s, u32 state, u32 index,
			     int (*fn)(const struct kvmmig_blob *blob, void *arg),
			     void *arg)
{
	int ret;

	mutex_lock(&s->lock);
	if (!s->live)
		ret = -ENOENT;
	else if (s->state != state)
		ret = -EBUSY;
	else if (index >= s->nr_blobs)
		ret = -ENODATA;
	else
		ret = fn(s->blobs[index], arg);
	mutex_unlock(&s->lock);
	return ret;
}

void kvmmig_session_objects(long *sessions, long *blobs)
{
	*sessions = atomic_long_read(&kvmmig_nr_sessions);
	*blobs = atomic_long_read(&kvmmig_nr_blobs);
}
