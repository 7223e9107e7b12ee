// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU as the VM (see qemu.h and Documentation/qemu.rst for the order of
 * things and why).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "file.h"
#include "kvmmig.h"
#include "qemu.h"

/* How often a wait for a migration status asks query-migrate anyway. */
#define QUERY_EVERY_NS		(500 * MIGD_NSEC_PER_MSEC)
/* How long undoing a migration may take: migrate_cancel, cont, quit. */
#define UNDO_TIMEOUT_MS		10000
/* QEMU's own bandwidth cap, lifted: what it sends is device state only. */
#define QEMU_MAX_BANDWIDTH	(1ull << 40)

static int qfail(struct migd_qemu *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int qfail(struct migd_qemu *q, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->error, sizeof(q->error), fmt, ap);
	va_end(ap);
	return err;
}

/* The QMP client's message as ours. */
static int qmp_err(struct migd_qemu *q, int err)
{
	return qfail(q, err, "%s", q->qmp.error);
}

static const char *last_error(void *opaque)
{
	struct migd_qemu *q = opaque;

	return q->error[0] ? q->error : NULL;
}

/* query-status: the run state ("running", "paused", "inmigrate", ...). */
static int run_state(struct migd_qemu *q, char *state, size_t len)
{
	json_t *ret;
	int r = migd_qmp_exec(&q->qmp, "query-status", NULL, &ret);

	if (r)
		return qmp_err(q, r);
	snprintf(state, len, "%s", json_string_value(json_object_get(ret, "status")) ?: "?");
	json_decref(ret);
	return 0;
}

/*
 * query-migrate: the status ("none" before any migration) and, if QEMU
 * gives one, its error description.  *@info (if not NULL) the whole reply.
 */
static int mig_status(struct migd_qemu *q, char *status, size_t len, char *desc,
		      size_t dlen, json_t **info)
{
	json_t *ret;
	int r = migd_qmp_exec(&q->qmp, "query-migrate", NULL, &ret);

	if (r)
		return qmp_err(q, r);
	snprintf(status, len, "%s", json_string_value(json_object_get(ret, "status")) ?: "none");
	if (desc)
		snprintf(desc, dlen, "%s",
			 json_string_value(json_object_get(ret, "error-desc")) ?: "no reason given");
	if (info)
		*info = ret;
	else
		json_decref(ret);
	return 0;
}

static bool is_one_of(const char *s, const char *const *set)
{
	for (; s && *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

/* A migration has ended without reaching what was waited for. */
static const char *const end_states[] = { "failed", "cancelled", NULL };

struct status_match {
	const char *const *want;
};

static bool match_status(json_t *data, void *arg)
{
	struct status_match *m = arg;
	const char *s = json_string_value(json_object_get(data, "status"));

	return is_one_of(s, m->want) || is_one_of(s, end_states);
}

/*
 * Waits up to @timeout_ms until QEMU's migration status is one of @want
 * (copied to @got), from MIGRATION events and, in case one was missed,
 * query-migrate now and then; @check (may be NULL) runs between.  A
 * "failed" or "cancelled" migration not wanted is -EIO with QEMU's reason.
 */
static int wait_status(struct migd_qemu *q, const char *what, const char *const *want,
		       char *got, size_t glen, int timeout_ms,
		       int (*check)(void *arg), void *arg)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
	struct status_match m = { .want = want };
	uint64_t next_query = 0;
	char desc[400];
	json_t *ev;
	int r;

	for (;;) {
		uint64_t now = migd_now_ns();
		bool queried = now >= next_query;

		got[0] = 0;
		if (queried) {
			r = mig_status(q, got, glen, desc, sizeof(desc), NULL);
			if (r)
				return r;
			next_query = now + QUERY_EVERY_NS;
		} else {
			r = migd_qmp_wait_event(&q->qmp, "MIGRATION", match_status, &m,
						MIGD_POLL_SLICE_MS, &ev);
			if (r && r != -ETIMEDOUT)
				return qmp_err(q, r);
			if (!r) {
				snprintf(got, glen, "%s", json_string_value(json_object_get(
						json_object_get(ev, "data"), "status")));
				json_decref(ev);
				pr_debug("QEMU %s: migration %s", q->qmp.path, got);
			}
		}
		if (is_one_of(got, want))
			return 0;
		if (is_one_of(got, end_states)) {
			/* An event carries no reason: ask for it. */
			if (!queried && mig_status(q, got, glen, desc, sizeof(desc), NULL))
				snprintf(desc, sizeof(desc), "no reason given");
			return qfail(q, -EIO, "QEMU (%s): its migration %s while %s: %s",
				     q->qmp.path, got, what, desc);
		}
		r = check ? check(arg) : 0;
		if (r)
			return r;
		if (migd_now_ns() >= deadline)
			return qfail(q, -ETIMEDOUT, "QEMU (%s): %s: no migration status %s in %d ms (last: %s)",
				     q->qmp.path, what, want[0], timeout_ms, got[0] ? got : "?");
	}
}

static int set_capabilities(struct migd_qemu *q)
{
	int r;

	/* Both sides skip the shared RAM that migd moves. */
	r = migd_qmp_execf(&q->qmp, NULL, "migrate-set-capabilities",
			   "{s:[{s:s, s:b}, {s:s, s:b}, {s:s, s:b}]}", "capabilities",
			   "capability", "x-ignore-shared", "state", 1,
			   "capability", "events", "state", 1,
			   "capability", "pause-before-switchover", "state", q->source);
	return r ? qmp_err(q, r) : 0;
}

/* ---------------------------------------------------------------------- */
/* Source */

/*
 * Lets the guest run on the source after a failed hand-over: a migration
 * still going is cancelled (QEMU restarts the guest), a completed one
 * continued with cont.  A cancel from migd's user must not stop this, so
 * the waits here ignore it.
 */
static void src_undo(struct migd_qemu *q)
{
	static const char *const stopped[] = { "cancelled", "failed", "completed", NULL };
	struct migd_cancel *cancel = q->qmp.cancel;
	char status[64], state[64], keep[sizeof(q->error)];
	int r;

	if (!q->migrating && !q->completed)
		return;
	memcpy(keep, q->error, sizeof(keep));
	q->qmp.cancel = NULL;
	r = mig_status(q, status, sizeof(status), NULL, 0, NULL);
	if (r)
		goto fail;
	if (!is_one_of(status, stopped)) {
		pr_info("QEMU (%s): cancelling its migration (%s)", q->qmp.path, status);
		r = migd_qmp_exec(&q->qmp, "migrate_cancel", NULL, NULL);
		if (r) {
			qmp_err(q, r);
			goto fail;
		}
		r = wait_status(q, "cancelling", stopped, status, sizeof(status),
				UNDO_TIMEOUT_MS, NULL, NULL);
		if (r && r != -EIO)
			goto fail;
	}
	r = run_state(q, state, sizeof(state));
	if (r)
		goto fail;
	/* After "completed" the guest waits in postmigrate; never start a paused one. */
	if (strcmp(state, "running") && q->was_running) {
		r = migd_qmp_exec(&q->qmp, "cont", NULL, NULL);
		if (r) {
			qmp_err(q, r);
			goto fail;
		}
		r = run_state(q, state, sizeof(state));
		if (r)
			goto fail;
	}
	pr_info("QEMU (%s): the guest is %s on the source (migration %s)", q->qmp.path,
		state, status);
	q->migrating = q->completed = false;
	q->qmp.cancel = cancel;
	memcpy(q->error, keep, sizeof(keep));
	return;
fail:
	pr_err("QEMU (%s): letting the guest run on the source failed: %s", q->qmp.path,
	       q->error);
	q->qmp.cancel = cancel;
	memcpy(q->error, keep, sizeof(keep));
}

/*
 * The guest stops: QEMU starts migrating to the destination QEMU and stops
 * in pre-switchover with the vCPUs and devices stopped, before it has sent
 * any device state.  The engine's final harvest and last round follow;
 * the device state goes only in switchover(), once the destination has
 * written those pages, because loading it reads guest RAM (virtio rings).
 */
static int src_pause(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	static const char *const pre[] = { "pre-switchover", NULL };
	struct migd_qemu *q = opaque;
	uint64_t t0 = migd_now_ns();
	char status[64];
	int r;

	q->error[0] = 0;
	pr_info("QEMU (%s): migrating its devices to %s", q->qmp.path, q->uri);
	r = migd_qmp_execf(&q->qmp, NULL, "migrate", "{s:s}", "uri", q->uri);
	if (r) {
		qmp_err(q, r);
		goto undo;
	}
	q->migrating = true;
	r = wait_status(q, "waiting for pre-switchover", pre, status, sizeof(status),
			timeout_ms, check, arg);
	if (r)
		goto undo;
	pr_info("QEMU (%s): pre-switchover after %.1f ms: the guest is stopped", q->qmp.path,
		(migd_now_ns() - t0) / 1e6);
	/* Plain files have no dirty log: all of their pages go in the final round. */
	for (unsigned int i = 0; i < q->nregions; i++)
		if (q->plain[i])
			migd_file_dirty_all(&q->regions[i]);
	return 0;
undo:
	src_undo(q);
	return r;
}

/*
 * After the final round, QEMU must not have written guest RAM: what it
 * wrote now would never reach the destination.  Only regions with a dirty
 * log can tell; a plain file reports nothing.  Returns the pages written.
 */
static int src_lost_writes(struct migd_qemu *q, uint64_t *lost)
{
	*lost = 0;
	for (unsigned int i = 0; i < q->nregions; i++) {
		struct migd_region *r = &q->regions[i];
		uint64_t *bm, n = 0;
		int ret;

		if (q->plain[i] || !r->npages)
			continue;
		bm = calloc((r->npages + 63) / 64, 8);
		if (!bm)
			return qfail(q, -ENOMEM, "out of memory checking the dirty log of %s", r->path);
		ret = r->ops->harvest(r, 0, r->npages, bm, &n);
		free(bm);
		if (ret)
			return qfail(q, ret, "checking the dirty log of %s: %s", r->path,
				     strerror(-ret));
		*lost += n;
	}
	return 0;
}

/*
 * The destination has every page in place: let QEMU send the device
 * state.  Then nothing may have written guest RAM since the final
 * harvest; if something did, the destination would run on stale pages, so
 * the migration fails (resume() then conts the guest here).
 */
static int src_switchover(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	static const char *const done[] = { "completed", NULL };
	struct migd_qemu *q = opaque;
	uint64_t t0 = migd_now_ns(), lost;
	char status[64];
	int r;

	q->error[0] = 0;
	/* The last moment to give up cheaply: QEMU has sent no device state yet. */
	r = check ? check(arg) : 0;
	if (r)
		return r;
	pr_debug("QEMU (%s): migrate-continue", q->qmp.path);
	r = migd_qmp_execf(&q->qmp, NULL, "migrate-continue", "{s:s}", "state",
			   "pre-switchover");
	if (r)
		return qmp_err(q, r);
	r = wait_status(q, "sending the device state", done, status, sizeof(status),
			timeout_ms, check, arg);
	if (r)
		return r;
	q->migrating = false;
	q->completed = true;
	r = src_lost_writes(q, &lost);
	if (r)
		return r;
	if (lost)
		return qfail(q, -EIO, "QEMU (%s) wrote %" PRIu64 " pages of guest RAM after the guest stopped: the destination would run on stale memory",
			     q->qmp.path, lost);
	pr_info("QEMU (%s): devices migrated in %.1f ms", q->qmp.path,
		(migd_now_ns() - t0) / 1e6);
	return 0;
}

static void src_resume(void *opaque)
{
	src_undo(opaque);
}

static int64_t get_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void src_handed_over(void *opaque)
{
	struct migd_qemu *q = opaque;
	char status[64];
	json_t *info;

	q->completed = false;
	if (mig_status(q, status, sizeof(status), NULL, 0, &info)) {
		pr_warn("QEMU (%s): %s", q->qmp.path, q->error);
		return;
	}
	pr_info("QEMU (%s): migration %s: total %" PRId64 " ms, QEMU's downtime %" PRId64
		" ms, QEMU sent %" PRId64 " bytes of RAM; the guest stays stopped here",
		q->qmp.path, status, get_int(info, "total-time"), get_int(info, "downtime"),
		get_int(json_object_get(info, "ram"), "transferred"));
	json_decref(info);
}

static int src_check(void *opaque)
{
	struct migd_qemu *q = opaque;
	char state[64];

	return run_state(q, state, sizeof(state));
}

int migd_qemu_open_source(struct migd_qemu *q, const char *sock, const char *uri,
			  uint64_t downtime_ms, int timeout_ms, struct migd_cancel *cancel)
{
	static const char *const idle[] = { "none", "completed", "failed", "cancelled", NULL };
	char state[64], status[64];
	int r;

	memset(q, 0, sizeof(*q));
	q->source = true;
	snprintf(q->uri, sizeof(q->uri), "%s", uri);
	r = migd_qmp_open(&q->qmp, sock, timeout_ms, cancel);
	if (r)
		return qmp_err(q, r);
	r = run_state(q, state, sizeof(state));
	if (!r)
		r = mig_status(q, status, sizeof(status), NULL, 0, NULL);
	if (r)
		goto err;
	if (!is_one_of(status, idle)) {
		r = qfail(q, -EBUSY, "QEMU (%s): a migration is under way already (status %s)",
			  sock, status);
		goto err;
	}
	if (!strcmp(state, "postmigrate") || !strcmp(state, "inmigrate")) {
		r = qfail(q, -EINVAL, "QEMU (%s): the guest is in state %s, not one to migrate",
			  sock, state);
		goto err;
	}
	q->was_running = !strcmp(state, "running");
	r = set_capabilities(q);
	if (r)
		goto err;
	r = migd_qmp_execf(&q->qmp, NULL, "migrate-set-parameters", "{s:I, s:I}",
			   "max-bandwidth", (json_int_t)QEMU_MAX_BANDWIDTH,
			   "downtime-limit", (json_int_t)downtime_ms);
	if (r) {
		qmp_err(q, r);
		goto err;
	}
	pr_info("QEMU (%s): guest %s; its devices will go to %s", sock, state, uri);
	q->vm = (struct migd_vm_ops){
		.pause = src_pause,
		.switchover = src_switchover,
		.resume = src_resume,
		.handed_over = src_handed_over,
		.check = src_check,
		.last_error = last_error,
		.opaque = q,
	};
	return 0;
err:
	migd_qmp_close(&q->qmp);
	return r;
}

/* ---------------------------------------------------------------------- */
/* Destination */

static int dst_bind(void *opaque, const struct kvmmig_stream_region *src, unsigned int n,
		    struct migd_region **regions, unsigned int *nregions)
{
	struct migd_qemu *q = opaque;

	(void)src;
	(void)n;
	*regions = q->regions;
	*nregions = q->nregions;
	return 0;
}

static int dst_check(void *opaque)
{
	struct migd_qemu *q = opaque;
	char status[64], desc[400];
	int r = mig_status(q, status, sizeof(status), desc, sizeof(desc), NULL);

	if (r)
		return r;
	if (is_one_of(status, end_states))
		return qfail(q, -EIO, "QEMU (%s): its incoming migration %s: %s", q->qmp.path,
			     status, desc);
	return 0;
}

/*
 * Every page is in place: wait for QEMU to have loaded the device state,
 * then run the guest.  Only a guest that runs here lets the source go.
 */
static int dst_arrive(void *opaque, const struct migd_state *state, int timeout_ms,
		      int (*check)(void *arg), void *arg)
{
	static const char *const done[] = { "completed", NULL };
	struct migd_qemu *q = opaque;
	char status[64], run[64];
	int r;

	(void)state;
	q->error[0] = 0;
	r = wait_status(q, "waiting for the device state", done, status, sizeof(status),
			timeout_ms, check, arg);
	if (r)
		return r;
	r = migd_qmp_exec(&q->qmp, "cont", NULL, NULL);
	if (r)
		return qmp_err(q, r);
	q->running = true;
	r = run_state(q, run, sizeof(run));
	if (r)
		return r;
	if (strcmp(run, "running"))
		return qfail(q, -EIO, "QEMU (%s): the guest is %s after cont, not running",
			     q->qmp.path, run);
	pr_info("QEMU (%s): the guest runs here", q->qmp.path);
	return 0;
}

/*
 * The migration failed: the guest must never run with half its RAM, and
 * a destination QEMU cannot take a second incoming migration, so it goes.
 */
static void dst_abort(void *opaque)
{
	struct migd_qemu *q = opaque;
	int r;

	q->qmp.cancel = NULL;
	r = migd_qmp_exec(&q->qmp, "quit", NULL, NULL);
	if (r && r != -ECONNRESET && r != -ENOTCONN)
		pr_warn("QEMU (%s): %s", q->qmp.path, q->qmp.error);
	else
		pr_info("QEMU (%s): told to quit: it must not run half a guest", q->qmp.path);
}

int migd_qemu_open_dest(struct migd_qemu *q, const char *sock, int timeout_ms,
			struct migd_cancel *cancel)
{
	char state[64];
	int r;

	memset(q, 0, sizeof(*q));
	r = migd_qmp_open(&q->qmp, sock, timeout_ms, cancel);
	if (r)
		return qmp_err(q, r);
	r = run_state(q, state, sizeof(state));
	if (r)
		goto err;
	if (strcmp(state, "inmigrate")) {
		r = qfail(q, -EINVAL, "QEMU (%s): the guest is %s, not waiting for a migration (start QEMU with -incoming defer -S)",
			  sock, state);
		goto err;
	}
	/*
	 * "stop" while incoming clears autostart, as -S does: QEMU must not
	 * start the guest on "completed", before migd's last pages are in.
	 */
	r = migd_qmp_exec(&q->qmp, "stop", NULL, NULL);
	if (r) {
		qmp_err(q, r);
		goto err;
	}
	q->dest = (struct migd_dest_ops){
		.bind = dst_bind,
		.check = dst_check,
		.arrive = dst_arrive,
		.abort = dst_abort,
		.last_error = last_error,
		.opaque = q,
	};
	return 0;
err:
	migd_qmp_close(&q->qmp);
	return r;
}

int migd_qemu_incoming(struct migd_qemu *q, const char *uri)
{
	int r = set_capabilities(q);

	if (r)
		return r;
	snprintf(q->uri, sizeof(q->uri), "%s", uri);
	r = migd_qmp_execf(&q->qmp, NULL, "migrate-incoming", "{s:s}", "uri", uri);
	if (r)
		return qmp_err(q, r);
	q->incoming = true;
	pr_info("QEMU (%s): waiting for the devices on %s", q->qmp.path, uri);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Regions */

int migd_qemu_open_region(struct migd_qemu *q, struct migd_region *r, uint32_t page_size)
{
	struct stat st;
	int fd, ret;

	if (q->nregions >= sizeof(q->plain) / sizeof(q->plain[0]))
		return qfail(q, -E2BIG, "at most %zu regions with --qmp",
			     sizeof(q->plain) / sizeof(q->plain[0]));
	fd = open(r->path, (q->source ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		return qfail(q, ret, "%s: %s%s", r->path, strerror(-ret),
			     ret == -ENOENT ? " (start QEMU first: it creates its mem-path)" : "");
	}
	if (migd_kvmmig_is_region(fd)) {
		ret = migd_kvmmig_attach(r, fd, st.st_size, q->source, true);
		if (ret) {
			close(fd);
			return qfail(q, ret, "%s: %s", r->path, strerror(-ret));
		}
		pr_info("%s: a kvmmig region file%s", r->path,
			q->source ? ", its dirty log drives the rounds" : "");
	} else {
		close(fd);
		ret = q->source ? migd_file_open_source(r, r->path, page_size, NULL) :
				  migd_file_open_inplace(r, r->path, page_size);
		if (ret)
			return qfail(q, ret, "%s: cannot use it as QEMU's RAM", r->path);
		q->plain[q->nregions] = true;
		if (q->source)
			pr_info("%s: a plain file, without a dirty log: all of it is sent again once QEMU has stopped the guest",
				r->path);
	}
	if (!q->regions)
		q->regions = r;
	q->nregions++;
	return 0;
}

void migd_qemu_close(struct migd_qemu *q)
{
	migd_qmp_close(&q->qmp);
}
