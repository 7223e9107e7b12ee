// SPDX-License-Identifier: GPL-2.0
/*
 * kvmmig sessions as a migd backend (see session.h and the state machine
 * in uapi linux/kvmmig.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend/kvmmig.h"
#include "common/clock.h"
#include "common/log.h"
#include "session.h"

#define DEV_PATH	"/dev/" KVMMIG_DEVICE_NAME

static void set_error(struct migd_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_error(struct migd_session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->error, sizeof(s->error), fmt, ap);
	va_end(ap);
}

/* A failed netlink request: the kernel's own words when it gave some. */
static const char *nl_error(struct migd_session *s, int err)
{
	if (err == -EPERM)
		return "permission denied (migd needs CAP_NET_ADMIN)";
	return s->nl.error[0] ? s->nl.error : strerror(-err);
}

const char *migd_session_nl_strerror(struct migd_nl *nl, int err)
{
	if (err == -ENOENT)
		return "no generic netlink family \"" KVMMIG_GENL_NAME
		       "\": is kvmmig.ko loaded?";
	if (nl->error[0])
		return nl->error;
	return strerror(-err);
}

static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes && !(bytes % (1 << 20)))
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
}

static int open_common(struct migd_session *s, bool source)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->dev = -1;
	s->source = source;
	ret = migd_nl_open(&s->nl, true);
	if (ret) {
		set_error(s, "%s", migd_session_nl_strerror(&s->nl, ret));
		return ret;
	}
	s->dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (s->dev < 0) {
		ret = -errno;
		set_error(s, DEV_PATH ": %s", strerror(-ret));
		return ret;
	}
	return 0;
}

static int get_by_name(struct migd_session *s, const char *name)
{
	int ret = migd_nl_session_get(&s->nl, name, 0, &s->info);

	if (ret == -ENOENT)
		set_error(s, "no session named \"%s\" (\"migd list\" shows them)", name);
	else if (ret)
		set_error(s, "session \"%s\": %s", name, nl_error(s, ret));
	return ret;
}

/* One migd per session; without /run, --cancel cannot find us, that is all. */
static int hold_pidfile(struct migd_session *s)
{
	char err[300];
	int ret;

	if (s->pidfile.path[0])
		return 0;
	ret = migd_pidfile_create(&s->pidfile, s->info.name, err, sizeof(err));
	if (ret == -EBUSY) {
		set_error(s, "%s", err);
		return ret;
	}
	if (ret)
		pr_warn("%s; \"migd --cancel %s\" will not find this migd", err,
			s->info.name);
	return 0;
}

/* One region of session @id: its fd, name and size; -ERANGE past the last. */
static int open_region(struct migd_session *s, uint32_t id, unsigned int index, bool rdonly,
		       struct kvmmig_open_session_region *out)
{
	int fd;

	memset(out, 0, sizeof(*out));
	out->flags = rdonly ? KVMMIG_OPEN_REGION_F_RDONLY : 0;
	out->session_id = id;
	out->index = index;
	fd = ioctl(s->dev, KVMMIG_OPEN_SESSION_REGION, out);
	if (fd < 0)
		return -errno;
	out->name[sizeof(out->name) - 1] = 0;
	return fd;
}

static void close_regions(struct migd_session *s)
{
	for (unsigned int i = 0; i < s->nregions; i++)
		if (s->regions[i].ops)
			s->regions[i].ops->close(&s->regions[i]);
	memset(s->regions, 0, sizeof(s->regions));
	s->nregions = 0;
}

/* Opens every region of the chosen session as the engine's regions. */
static int open_regions(struct migd_session *s)
{
	const char *name = s->info.name;
	unsigned int i;
	int ret;

	for (i = 0; i < KVMMIG_SESSION_MAX_REGIONS; i++) {
		struct kvmmig_open_session_region o;
		struct migd_region *r = &s->regions[i];
		int fd = open_region(s, s->info.id, i, s->source, &o);

		if (fd == -ERANGE)
			break;
		if (fd < 0) {
			if (fd == -EPERM)
				set_error(s, "session \"%s\": opening its regions needs CAP_NET_ADMIN",
					  name);
			else if (fd == -ENOENT)
				set_error(s, "session \"%s\" ended while migd opened it", name);
			else
				set_error(s, "session \"%s\": opening region %u: %s", name, i,
					  strerror(-fd));
			ret = fd;
			goto err;
		}
		snprintf(s->region_label[i], sizeof(s->region_label[i]), "%s:%s", name, o.name);
		ret = migd_kvmmig_attach(r, fd, o.size, s->source, true);
		if (ret) {
			close(fd);
			set_error(s, "session \"%s\": region \"%s\" (%" PRIu64 " bytes): %s",
				  name, o.name, (uint64_t)o.size, strerror(-ret));
			goto err;
		}
		snprintf(r->name, sizeof(r->name), "%s", o.name);
		r->id = i;
		r->path = s->region_label[i];
		s->nregions++;
	}
	if (!s->nregions) {
		set_error(s, "session \"%s\" has no regions", name);
		ret = -ENOENT;
		goto err;
	}
	return 0;
err:
	close_regions(s);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Events */

static int on_event(const struct migd_nl_session *ev, void *data)
{
	struct migd_session *s = data;

	if (ev->id != s->info.id)
		return 0;
	pr_debug("session %s: %s -> %s (%s)", s->info.name, migd_nl_state_name(ev->old_state),
		 migd_nl_state_name(ev->state), migd_nl_reason_name(ev->reason));
	s->info.state = ev->state;
	s->info.reason = ev->reason;
	if (ev->reason == KVMMIG_REASON_VMM_GONE || ev->state == KVMMIG_SESSION_ABORTED)
		s->gone = true;
	return 0;
}

/* Reads the queued events; -ENOENT (and s->error) if the session ended. */
static int poll_session(struct migd_session *s)
{
	int ret = migd_nl_events(&s->nl, 0, on_event, s);

	if (ret) {
		set_error(s, "reading kvmmig events: %s", strerror(-ret));
		return ret;
	}
	if (s->nl.ev_lost) {
		struct migd_nl_session now;

		s->nl.ev_lost = false;
		ret = migd_nl_session_get(&s->nl, NULL, s->info.id, &now);
		if (ret == -ENOENT) {
			s->gone = true;
			s->info.reason = KVMMIG_REASON_VMM_GONE;
		} else if (!ret) {
			s->info.state = now.state;
		}
	}
	if (s->gone) {
		set_error(s, "session \"%s\" ended during the migration: %s", s->info.name,
			  s->info.reason == KVMMIG_REASON_VMM_GONE || !s->info.reason ?
			  "its VMM closed it (or exited)" : migd_nl_reason_name(s->info.reason));
		return -ENOENT;
	}
	return 0;
}

/* Why a wait for @want ended with @err. */
static void wait_error(struct migd_session *s, int err, const char *want,
		       const struct migd_nl_session *last, int timeout_ms)
{
	const char *name = s->info.name;

	switch (err) {
	case -ETIMEDOUT:
		set_error(s, "the VMM of session \"%s\" did not acknowledge in %d s (still %s)",
			  name, timeout_ms / 1000,
			  migd_nl_state_name(last->state));
		break;
	case -ENOENT:
		s->gone = true;
		set_error(s, "session \"%s\" ended while waiting for %s: its VMM closed it (or exited)",
			  name, want);
		break;
	case -ESTALE:
		set_error(s, "session \"%s\" went to %s (%s) instead of %s", name,
			  migd_nl_state_name(last->state), migd_nl_reason_name(last->reason),
			  want);
		break;
	default:
		s->error[0] = 0;	/* the engine words cancel and peer loss */
	}
}

static const char *last_error(void *opaque)
{
	struct migd_session *s = opaque;

	return s->error[0] ? s->error : NULL;
}

/* ---------------------------------------------------------------------- */
/* Source */

static void vm_resume(void *opaque)
{
	struct migd_session *s = opaque;
	int ret;

	if (!s->paused)
		return;
	s->paused = false;
	ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_RESUME, s->info.id);
	if (ret == -ENOENT)
		pr_warn("session \"%s\" is gone: nothing to resume", s->info.name);
	else if (ret)
		pr_err("resuming session \"%s\": %s (the VM may still be paused)",
		       s->info.name, nl_error(s, ret));
	else
		pr_debug("session \"%s\" resumed", s->info.name);
}

static int vm_pause(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	struct migd_session *s = opaque;
	struct migd_nl_session last;
	int ret;

	s->error[0] = 0;
	ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_PAUSE, s->info.id);
	if (ret) {
		if (ret == -ENOENT)
			s->gone = true;
		set_error(s, "SESSION_PAUSE of \"%s\": %s", s->info.name,
			  ret == -ENOENT ? "the session is gone (its VMM exited?)" :
			  nl_error(s, ret));
		return ret;
	}
	s->paused = true;
	ret = migd_nl_wait_state(&s->nl, s->info.id, KVMMIG_SESSION_PAUSED,
				 KVMMIG_SESSION_PAUSING, timeout_ms, check, arg, &last);
	if (ret) {
		wait_error(s, ret, "PAUSED", &last, timeout_ms);
		/* Not paused after all: the VM must run on. */
		if (!s->gone)
			vm_resume(s);
		s->paused = false;
		return ret;
	}
	s->info.state = KVMMIG_SESSION_PAUSED;
	pr_debug("session \"%s\" paused with %" PRIu32 " blobs (%" PRIu64 " bytes)",
		 s->info.name, last.nr_blobs, last.blob_bytes);
	return 0;
}

static void vm_handed_over(void *opaque)
{
	struct migd_session *s = opaque;
	int ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_HANDOVER, s->info.id);

	s->paused = false;
	if (ret)
		pr_err("the destination runs the VM, but the hand-over of session \"%s\" failed: %s; stop its VMM here",
		       s->info.name, nl_error(s, ret));
}

struct blob_collect {
	struct migd_session *s;
	struct migd_state *state;
};

static int collect_blob(const struct migd_nl_blob *b, void *data)
{
	struct blob_collect *c = data;
	struct kvmmig_stream_state_desc d = {
		.kind = b->kind,
		.instance = b->instance,
	};

	snprintf(d.name, sizeof(d.name), "%s", b->name);
	return migd_state_put(c->state, &d, b->data, b->len);
}

static int vm_get_state(void *opaque, struct migd_state *state)
{
	struct migd_session *s = opaque;
	struct blob_collect c = { .s = s, .state = state };
	int ret = migd_nl_blob_dump(&s->nl, s->info.id, collect_blob, &c);

	if (ret == -ENOMEM)
		set_error(s, "out of memory for the state blobs");
	else if (ret)
		set_error(s, "BLOB_GET of session \"%s\": %s", s->info.name, nl_error(s, ret));
	return ret;
}

static int vm_check(void *opaque)
{
	return poll_session(opaque);
}

int migd_session_open_source(struct migd_session *s, const char *name)
{
	int ret = open_common(s, true);

	if (ret)
		return ret;
	ret = get_by_name(s, name);
	if (!ret)
		ret = hold_pidfile(s);
	if (ret)
		return ret;
	if (s->info.state != KVMMIG_SESSION_RUNNING) {
		set_error(s, "session \"%s\" is %s, not RUNNING%s", name,
			  migd_nl_state_name(s->info.state),
			  s->info.state == KVMMIG_SESSION_WAITING ?
			  ": it waits for an incoming migration (migd --listen)" :
			  s->info.state == KVMMIG_SESSION_PAUSING ||
			  s->info.state == KVMMIG_SESSION_PAUSED ?
			  ": another migd is migrating it" : "");
		return -EBUSY;
	}
	ret = open_regions(s);
	if (ret)
		return ret;
	s->vm = (struct migd_vm_ops){
		.pause = vm_pause,
		.resume = vm_resume,
		.handed_over = vm_handed_over,
		.get_state = vm_get_state,
		.check = vm_check,
		.last_error = last_error,
		.opaque = s,
	};
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Destination */

/* Does session @id have exactly the source's regions, by name and size? */
static int regions_match(struct migd_session *s, uint32_t id,
			 const struct kvmmig_stream_region *src, unsigned int n,
			 char *desc, size_t dlen)
{
	bool seen[KVMMIG_STREAM_MAX_REGIONS] = { false };
	unsigned int count = 0, matched = 0;
	size_t off = 0;

	desc[0] = 0;
	for (unsigned int i = 0; i < KVMMIG_SESSION_MAX_REGIONS; i++) {
		struct kvmmig_open_session_region o;
		int fd = open_region(s, id, i, true, &o);
		char size[32];

		if (fd == -ERANGE)
			break;
		if (fd < 0)
			return fd;
		close(fd);
		count++;
		fmt_size(size, sizeof(size), o.size);
		if (off < dlen)
			off += snprintf(desc + off, dlen - off, "%s\"%s\" %s", i ? ", " : "",
					o.name, size);
		for (unsigned int j = 0; j < n && j < KVMMIG_STREAM_MAX_REGIONS; j++) {
			if (!seen[j] && !strcmp(src[j].name, o.name) && src[j].size == o.size) {
				seen[j] = true;
				matched++;
				break;
			}
		}
	}
	return count == n && matched == n;
}

struct candidates {
	struct migd_nl_session list[64];
	unsigned int n;
};

static int collect_waiting(const struct migd_nl_session *ses, void *data)
{
	struct candidates *c = data;

	if (ses->state == KVMMIG_SESSION_WAITING && c->n < 64)
		c->list[c->n++] = *ses;
	return 0;
}

/* The one WAITING session whose regions are the source's. */
static int choose(struct migd_session *s, const struct kvmmig_stream_region *src,
		  unsigned int n)
{
	struct candidates *c = calloc(1, sizeof(*c));
	char want[512] = "", others[768] = "", matches[512] = "";
	unsigned int nmatch = 0;
	size_t wo = 0, oo = 0, mo = 0;
	int ret, pick = -1;

	if (!c)
		return -ENOMEM;
	ret = migd_nl_session_dump(&s->nl, collect_waiting, c);
	if (ret) {
		set_error(s, "listing the sessions: %s", nl_error(s, ret));
		goto out;
	}
	for (unsigned int i = 0; i < n && wo < sizeof(want); i++) {
		char size[32];

		fmt_size(size, sizeof(size), src[i].size);
		wo += snprintf(want + wo, sizeof(want) - wo, "%s\"%s\" %s", i ? ", " : "",
			       src[i].name, size);
	}
	for (unsigned int i = 0; i < c->n; i++) {
		char desc[400];
		int m = regions_match(s, c->list[i].id, src, n, desc, sizeof(desc));

		if (m == -ENOENT)	/* it ended meanwhile */
			continue;
		if (m < 0) {
			set_error(s, "session \"%s\": opening its regions: %s", c->list[i].name,
				  strerror(-m));
			ret = m;
			goto out;
		}
		if (m) {
			pick = i;
			nmatch++;
			if (mo < sizeof(matches))
				mo += snprintf(matches + mo, sizeof(matches) - mo, "%s\"%s\"",
					       nmatch > 1 ? ", " : "", c->list[i].name);
		} else if (oo < sizeof(others)) {
			oo += snprintf(others + oo, sizeof(others) - oo, "%s\"%s\" (%s)",
				       oo ? "; " : "", c->list[i].name, desc);
		}
	}
	if (nmatch == 1) {
		s->info = c->list[pick];
		pr_info("receiving into session \"%s\", the one WAITING session with these regions",
			s->info.name);
		ret = 0;
	} else if (nmatch > 1) {
		set_error(s, "several WAITING sessions have the source's regions (%s): name the one to receive into",
			  matches);
		ret = -EEXIST;
	} else {
		set_error(s, "no WAITING session has the source's regions (%s); "
			  "WAITING here: %s", want, c->n ? others : "none");
		ret = -ENOENT;
	}
out:
	free(c);
	return ret;
}

static int dest_bind(void *opaque, const struct kvmmig_stream_region *src, unsigned int n,
		     struct migd_region **regions, unsigned int *nregions)
{
	struct migd_session *s = opaque;
	int ret;

	s->error[0] = 0;
	if (s->want_name) {
		ret = get_by_name(s, s->want_name);
		if (ret)
			return ret;
		if (s->info.state != KVMMIG_SESSION_WAITING) {
			set_error(s, "session \"%s\" is %s, not WAITING", s->info.name,
				  migd_nl_state_name(s->info.state));
			return -EBUSY;
		}
	} else {
		ret = choose(s, src, n);
		if (!ret)
			ret = hold_pidfile(s);
		if (ret)
			return ret;
	}
	s->chosen = true;
	ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_RECEIVE, s->info.id);
	if (ret) {
		set_error(s, "SESSION_RECEIVE of \"%s\": %s", s->info.name,
			  ret == -ENOENT ? "the session is gone (its VMM exited?)" :
			  nl_error(s, ret));
		return ret;
	}
	s->received = true;
	s->info.state = KVMMIG_SESSION_RECEIVING;
	ret = open_regions(s);
	if (ret)
		return ret;
	*regions = s->regions;
	*nregions = s->nregions;
	return 0;
}

static int dest_check(void *opaque)
{
	return poll_session(opaque);
}

static int dest_arrive(void *opaque, const struct migd_state *state, int timeout_ms,
		       int (*check)(void *arg), void *arg)
{
	struct migd_session *s = opaque;
	struct migd_nl_session last;
	char kind[16];
	int ret;

	s->error[0] = 0;
	for (unsigned int i = 0; i < state->count; i++) {
		const struct migd_state_blob *b = &state->blobs[i];
		struct migd_nl_blob nb = {
			.kind = b->desc.kind,
			.instance = b->desc.instance,
			.data = b->data,
			.len = b->len,
		};

		snprintf(nb.name, sizeof(nb.name), "%s", b->desc.name);
		if (!b->len || b->len > KVMMIG_BLOB_MAX_SIZE) {
			set_error(s, "state blob %u (%s %" PRIu32 " \"%s\") has %" PRIu64
				  " bytes; a kvmmig session takes 1 to %d", i,
				  migd_state_kind_name(b->desc.kind, kind, sizeof(kind)),
				  b->desc.instance, b->desc.name, b->len, KVMMIG_BLOB_MAX_SIZE);
			return -EMSGSIZE;
		}
		ret = migd_nl_blob_add(&s->nl, s->info.id, &nb);
		if (ret) {
			set_error(s, "BLOB_ADD of state blob %u (%s %" PRIu32 " \"%s\", %" PRIu64
				  " bytes) to \"%s\": %s", i,
				  migd_state_kind_name(b->desc.kind, kind, sizeof(kind)),
				  b->desc.instance, b->desc.name, b->len, s->info.name,
				  nl_error(s, ret));
			return ret;
		}
	}
	ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_ARRIVE, s->info.id);
	if (ret) {
		set_error(s, "SESSION_ARRIVE of \"%s\": %s", s->info.name, nl_error(s, ret));
		return ret;
	}
	ret = migd_nl_wait_state(&s->nl, s->info.id, KVMMIG_SESSION_RUNNING,
				 KVMMIG_SESSION_ARRIVED, timeout_ms, check, arg, &last);
	if (ret) {
		wait_error(s, ret, "RUNNING", &last, timeout_ms);
		return ret;
	}
	s->received = false;	/* the VM is the VMM's now: nothing to abort */
	s->info.state = KVMMIG_SESSION_RUNNING;
	pr_info("session \"%s\" runs the VM here", s->info.name);
	return 0;
}

static void dest_abort(void *opaque)
{
	struct migd_session *s = opaque;
	int ret;

	if (!s->received || s->gone)
		return;
	s->received = false;
	ret = migd_nl_session_cmd(&s->nl, KVMMIG_CMD_SESSION_ABORT, s->info.id);
	if (ret == -ENOENT)
		return;
	if (ret)
		pr_err("aborting session \"%s\": %s", s->info.name, nl_error(s, ret));
	else
		pr_info("session \"%s\" aborted: its VMM drops what it received",
			s->info.name);
}

int migd_session_open_dest(struct migd_session *s, const char *name)
{
	int ret = open_common(s, false);

	if (ret)
		return ret;
	s->want_name = name;
	if (name) {
		/* Fail now, not when the source calls. */
		ret = get_by_name(s, name);
		if (!ret)
			ret = hold_pidfile(s);
		if (ret)
			return ret;
		if (s->info.state != KVMMIG_SESSION_WAITING) {
			set_error(s, "session \"%s\" is %s, not WAITING for a migration%s", name,
				  migd_nl_state_name(s->info.state),
				  s->info.state == KVMMIG_SESSION_RUNNING ?
				  " (its VMM must create it with KVMMIG_SESSION_F_INCOMING)" : "");
			return -EBUSY;
		}
	}
	s->dest = (struct migd_dest_ops){
		.bind = dest_bind,
		.check = dest_check,
		.arrive = dest_arrive,
		.abort = dest_abort,
		.last_error = last_error,
		.max_state_blob = KVMMIG_BLOB_MAX_SIZE,
		.max_state_blobs = KVMMIG_SESSION_MAX_BLOBS,
		.opaque = s,
	};
	return 0;
}

void migd_session_close(struct migd_session *s)
{
	close_regions(s);
	if (s->dev >= 0)
		close(s->dev);
	s->dev = -1;
	/* Closing the socket also makes the module undo a pause or a receive. */
	migd_nl_close(&s->nl);
	migd_pidfile_remove(&s->pidfile);
}
