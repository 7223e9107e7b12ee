// SPDX-License-Identifier: GPL-2.0
/*
 * Source side of pre-copy (see precopy.h).
 *
 * Pages go out in batches read with one pread() per run of consecutive
 * dirty pages.  They cannot be sendfile()d: the record's CRC covers the
 * contents, so migd reads them anyway, and zero detection needs them too.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/zero.h"
#include "precopy.h"

#define BATCH_PAGES	1024

struct sender {
	struct migd_region *regions;
	unsigned int nregions;
	struct migd_conn *conn;
	struct migd_vm_ops *vm;
	struct kvmmig_stream_writer *w;
	struct kvmmig_stream_reader *r;		/* return stream */
	struct migd_stats *st;
	const struct migd_send_opts *opts;
	uint64_t **dirty;			/* per region bitmap */
	uint8_t *buf;
	struct kvmmig_stream_page *pages;
	uint64_t round_zero;
	bool barrier;				/* the destination sends COMMITTED */
	bool released;				/* our end of stream is out */
};

void migd_stream_hdr_init(struct kvmmig_stream_hdr *hdr, uint32_t page_size)
{
	unsigned int maj = 0, min = 0, pat = 0;

	memset(hdr, 0, sizeof(*hdr));
	hdr->version = KVMMIG_STREAM_VERSION;
	hdr->page_size = page_size;
	/* A version that does not parse (a local build) leaves zeros. */
	if (sscanf(MIGD_VERSION, "%u.%u.%u", &maj, &min, &pat) != 3)
		maj = min = pat = 0;
	hdr->sender_major = maj;
	hdr->sender_minor = min;
	hdr->sender_patch = pat;
}

/* A failed stream call: say whether the peer, the link or we broke it. */
static int stream_fail_msg(struct sender *s, int err, const char *what)
{
	const struct kvmmig_stream_error *e = kvmmig_stream_writer_error(s->w);

	if (err == -ECANCELED)
		return migd_stats_fail(s->st, err, "cancelled while %s", what);
	if (err == -EPIPE || err == -ECONNRESET)
		return migd_stats_fail(s->st, err, "%s while %s: the destination closed the connection (it rejected the stream or died; see its log)",
				       strerror(-err), what);
	if (err == -ETIMEDOUT)
		return migd_stats_fail(s->st, err, "no progress for %d s while %s: the destination or the network is dead",
				       s->conn->timeout_ms / 1000, what);
	return migd_stats_fail(s->st, err, "%s: %s", what, e->err ? e->msg : strerror(-err));
}

/* The VM backend's own account of a failure, else strerror. */
static const char *vm_error(struct sender *s, int err)
{
	const char *msg = s->vm->last_error ? s->vm->last_error(s->vm->opaque) : NULL;

	return msg && *msg ? msg : strerror(-err);
}

/* Sends the VMM's state blobs as STATE records; the VM is paused. */
static int send_state(struct sender *s)
{
	struct migd_state state = { 0 };
	char kind[16];
	int ret;

	if (!s->vm->get_state)
		return 0;
	ret = s->vm->get_state(s->vm->opaque, &state);
	if (ret) {
		migd_stats_fail(s->st, ret, "collecting the VM's state: %s", vm_error(s, ret));
		goto out;
	}
	for (unsigned int i = 0; i < state.count; i++) {
		const struct migd_state_blob *b = &state.blobs[i];

		ret = kvmmig_stream_write_state(s->w, &b->desc, b->data, b->len);
		if (ret && kvmmig_stream_writer_error(s->w)->rec_type != KVMMIG_REC_STATE) {
			stream_fail_msg(s, ret, "sending the VM's state");
			goto out;
		}
		if (ret) {
			/* The writer refused the blob itself (its name, its size). */
			migd_stats_fail(s->st, ret, "the VM's state blob %u (%s %" PRIu32 " \"%s\", %" PRIu64
					" bytes) cannot be sent: %s", i,
					migd_state_kind_name(b->desc.kind, kind, sizeof(kind)),
					b->desc.instance, b->desc.name, b->len,
					kvmmig_stream_writer_error(s->w)->msg);
			goto out;
		}
	}
	s->st->state_blobs = state.count;
	s->st->state_bytes = state.bytes;
	s->st->bytes = kvmmig_stream_writer_offset(s->w);
	pr_info("state: %u blobs, %" PRIu64 " bytes", state.count, state.bytes);
out:
	migd_state_free(&state);
	return ret;
}

static int send_batch(struct sender *s, struct migd_region *r, const uint64_t *idx,
		      unsigned int n)
{
	uint32_t ps = r->page_size;
	unsigned int i = 0, nzero = 0;
	int ret;

	/* One read per run of consecutive pages. */
	while (i < n) {
		unsigned int j = i + 1;

		while (j < n && idx[j] == idx[j - 1] + 1)
			j++;
		ret = r->ops->read_pages(r, idx[i], j - i, s->buf + (size_t)i * ps);
		if (ret)
			return migd_stats_fail(s->st, ret, "reading pages %" PRIu64 "-%" PRIu64 " of %s: %s",
					       idx[i], idx[j - 1], r->path, strerror(-ret));
		i = j;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = s->buf + (size_t)i * ps;

		s->pages[i].index = idx[i];
		s->pages[i].data = migd_is_zero(p, ps) ? NULL : p;
		nzero += !s->pages[i].data;
	}
	ret = kvmmig_stream_write_pages(s->w, r->id, s->pages, n);
	if (ret)
		return stream_fail_msg(s, ret, "sending pages");
	s->st->pages += n;
	s->st->zero_pages += nzero;
	s->round_zero += nzero;
	s->st->round_done += n;
	s->st->bytes = kvmmig_stream_writer_offset(s->w);
	migd_progress_update(s->st, false);
	return 0;
}

/* Sends and clears every page set in the region's bitmap. */
static int send_bitmap(struct sender *s, unsigned int ri)
{
	struct migd_region *r = &s->regions[ri];
	uint64_t *bm = s->dirty[ri];
	uint64_t idx[BATCH_PAGES];
	unsigned int n = 0;
	int ret;

	for (uint64_t w = 0; w < (r->npages + 63) / 64; w++) {
		uint64_t v = bm[w];

		bm[w] = 0;
		while (v) {
			idx[n++] = w * 64 + __builtin_ctzll(v);
			v &= v - 1;
			if (n == BATCH_PAGES) {
				ret = send_batch(s, r, idx, n);
				if (ret)
					return ret;
				n = 0;
			}
		}
	}
	return n ? send_batch(s, r, idx, n) : 0;
}

static int send_round(struct sender *s, uint32_t flags, uint64_t npages)
{
	uint64_t start = migd_now_ns(), bytes0 = kvmmig_stream_writer_offset(s->w);
	int ret;

	s->st->round++;
	s->st->stopped = flags & KVMMIG_ROUND_F_STOPPED;
	s->st->round_planned = npages;
	s->st->round_done = 0;
	s->round_zero = 0;
	ret = kvmmig_stream_write_round(s->w, s->st->round, flags, npages);
	if (ret)
		return stream_fail_msg(s, ret, "sending a ROUND");
	for (unsigned int i = 0; i < s->nregions; i++) {
		ret = send_bitmap(s, i);
		if (ret)
			return ret;
	}
	/* Flush so that the round's time includes its bytes leaving. */
	ret = kvmmig_stream_writer_flush(s->w);
	if (ret)
		return stream_fail_msg(s, ret, "sending pages");
	s->st->bytes = kvmmig_stream_writer_offset(s->w);
	migd_stats_round_done(s->st, start, s->st->bytes - bytes0, s->round_zero);
	migd_progress_update(s->st, true);
	pr_info("round %" PRIu32 "%s: %" PRIu64 " pages (%" PRIu64 " zero), %.1f MiB in %.3f s",
		s->st->round, s->st->stopped ? " (stopped)" : "", s->st->round_done,
		s->round_zero, (double)(s->st->bytes - bytes0) / (1 << 20),
		(double)(migd_now_ns() - start) / 1e9);
	return 0;
}

static int harvest(struct sender *s, uint64_t *total)
{
	*total = 0;
	for (unsigned int i = 0; i < s->nregions; i++) {
		struct migd_region *r = &s->regions[i];
		uint64_t n;
		int ret;

		ret = r->ops->harvest(r, 0, r->npages, s->dirty[i], &n);
		if (ret)
			return migd_stats_fail(s->st, ret, "harvesting the dirty log of %s: %s", r->path,
					       strerror(-ret));
		*total += n;
	}
	return 0;
}

/* The return stream: header and REGIONS must mirror ours exactly. */
static int check_return_regions(struct sender *s, const struct kvmmig_stream_hdr *fwd,
				const struct kvmmig_stream_region *mine)
{
	struct kvmmig_stream_source src;
	struct kvmmig_stream_reader_opts ro = { .mode = KVMMIG_STREAM_RETURN };
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_rec rec;
	int ret;

	migd_conn_source(s->conn, &src);
	ret = kvmmig_stream_reader_new(&s->r, &src, &ro);
	if (ret)
		return migd_stats_fail(s->st, ret, "%s", strerror(-ret));
	ret = kvmmig_stream_read_header(s->r, &hdr);
	if (!ret)
		ret = kvmmig_stream_read_next(s->r, &rec);
	if (ret < 0) {
		const struct kvmmig_stream_error *e = kvmmig_stream_reader_error(s->r);

		if (ret == -ENODATA)
			return migd_stats_fail(s->st, ret, "the destination closed the connection before accepting the regions (it refused them; see its log)");
		return migd_stats_fail(s->st, ret, "reading the destination's answer: %s", e->msg);
	}
	if (memcmp(hdr.migration_id, fwd->migration_id, 16) || hdr.page_size != fwd->page_size)
		return migd_stats_fail(s->st, -EPROTO, "the destination answered for another migration");
	s->barrier = hdr.flags & KVMMIG_STREAM_F_COMMITTED;
	if (ret == 0 || rec.type != KVMMIG_REC_REGIONS || rec.regions.count != s->nregions)
		return migd_stats_fail(s->st, -EPROTO, "the destination's regions differ from ours");
	for (unsigned int i = 0; i < s->nregions; i++) {
		const struct kvmmig_stream_region *a = &mine[i], *b = &rec.regions.regions[i];

		if (a->id != b->id || a->size != b->size || strcmp(a->name, b->name))
			return migd_stats_fail(s->st, -EPROTO, "the destination's region %u (\"%s\", %" PRIu64
					       " bytes) differs from ours (\"%s\", %" PRIu64 " bytes)",
					       i, b->name, b->size, a->name, a->size);
	}
	return 0;
}

/*
 * Reads the destination's next record, which must be @want (COMMITTED or
 * END; after END, the end of its stream too).
 */
static int wait_return(struct sender *s, uint32_t want)
{
	struct kvmmig_stream_rec rec;
	char name[32];
	int ret;

	ret = kvmmig_stream_read_next(s->r, &rec);
	if (ret > 0 && rec.type != want)
		return migd_stats_fail(s->st, -EPROTO, "unexpected %s record from the destination",
				       kvmmig_stream_rec_name(rec.type, name, sizeof(name)));
	if (ret > 0 && want == KVMMIG_REC_END)
		ret = kvmmig_stream_read_next(s->r, &rec);
	if (ret == 0 && want != KVMMIG_REC_END)
		ret = -ENODATA;
	if (ret < 0) {
		if ((ret == -ENODATA || ret == -ECONNRESET) && want == KVMMIG_REC_COMMITTED)
			return migd_stats_fail(s->st, ret, "the destination closed the connection before it had written the pages (it rejected the stream or died; see its log)");
		if (ret == -ENODATA || ret == -ECONNRESET)
			return migd_stats_fail(s->st, ret, "the destination closed the connection without confirming (it rejected the stream or died; see its log)");
		if (ret == -ECANCELED)
			return migd_stats_fail(s->st, ret, "cancelled while waiting for the destination");
		if (ret == -ETIMEDOUT)
			return migd_stats_fail(s->st, ret, "no confirmation from the destination in %d s",
					       s->conn->timeout_ms / 1000);
		return migd_stats_fail(s->st, ret, "waiting for the destination: %s",
				       kvmmig_stream_reader_error(s->r)->msg);
	}
	return 0;
}

/* While the VM pauses: give up on a cancel or when the peer has gone. */
static int pause_check(void *arg)
{
	struct sender *s = arg;

	if (migd_cancel_requested(s->opts->cancel))
		return -ECANCELED;
	return migd_conn_check_alive(s->conn);
}

/*
 * The barrier: every page is in place at the destination, which waits for
 * our end of stream before its VMM takes over.  The VMM's own switch-over
 * goes here; if it fails the destination must not go on, so it gets a
 * reset, never an end of stream.
 */
static int switch_over(struct sender *s)
{
	struct migd_vm_ops *vm = s->vm;
	uint64_t t0 = migd_now_ns();
	int ret;

	ret = wait_return(s, KVMMIG_REC_COMMITTED);
	if (ret)
		return ret;
	pr_debug("the destination has every page in place after %.1f ms of downtime",
		 (t0 - s->st->pause_ns) / 1e6);
	if (vm->switchover) {
		ret = vm->switchover(vm->opaque, s->opts->pause_timeout_ms, pause_check, s);
		if (ret) {
			migd_conn_abort(s->conn);
			if (ret == -ECANCELED)
				return migd_stats_fail(s->st, ret, "cancelled at the switch-over");
			if (ret == -ECONNRESET)
				return migd_stats_fail(s->st, ret, "at the switch-over: the destination closed the connection (it died; see its log)");
			return migd_stats_fail(s->st, ret, "at the switch-over: %s", vm_error(s, ret));
		}
		pr_debug("switch-over done in %.1f ms", (migd_now_ns() - t0) / 1e6);
	}
	return 0;
}

static int run(struct sender *s, struct migd_vm_ops *vm, bool *paused)
{
	const struct migd_send_opts *o = s->opts;
	struct kvmmig_stream_region sregs[KVMMIG_STREAM_MAX_REGIONS];
	struct kvmmig_stream_writer_opts wo = { 0 };
	struct migd_policy_state ps = { 0 };
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr hdr;
	uint32_t page_size = s->regions[0].page_size;
	uint64_t dirty, last_harvest, start;
	enum migd_stop_reason why;
	int ret;

	migd_stream_hdr_init(&hdr, page_size);
	/* Every new source asks for the barrier; only some VMMs need it. */
	if (!o->to_file)
		hdr.flags |= KVMMIG_STREAM_F_COMMITTED;
	ret = kvmmig_stream_new_id(hdr.migration_id);
	if (ret)
		return migd_stats_fail(s->st, ret, "no random migration id: %s", strerror(-ret));
	migd_conn_sink(s->conn, &sink);
	ret = kvmmig_stream_writer_new(&s->w, &sink, &hdr, &wo);
	if (ret)
		return migd_stats_fail(s->st, ret, "starting the stream: %s", strerror(-ret));

	memset(sregs, 0, sizeof(sregs[0]) * s->nregions);
	for (unsigned int i = 0; i < s->nregions; i++) {
		struct migd_region *r = &s->regions[i];

		sregs[i].id = r->id;
		sregs[i].size = r->npages * r->page_size;
		sregs[i].page_size = r->page_size;
		snprintf(sregs[i].name, sizeof(sregs[i].name), "%s", r->name);
		s->st->mem_pages += r->npages;
		s->dirty[i] = calloc((r->npages + 63) / 64, 8);
		if (!s->dirty[i])
			return migd_stats_fail(s->st, -ENOMEM, "out of memory for dirty bitmaps");
	}
	ret = kvmmig_stream_write_regions(s->w, sregs, s->nregions);
	if (!ret)
		ret = kvmmig_stream_writer_flush(s->w);
	if (ret)
		return stream_fail_msg(s, ret, "sending the regions");
	if (!o->to_file) {
		ret = check_return_regions(s, &hdr, sregs);
		if (ret)
			return ret;
		pr_debug("the destination agreed on the regions after %.1f ms%s",
			 (migd_now_ns() - s->st->start_ns) / 1e6,
			 s->barrier ? "; it will confirm the pages before the hand-over" : "");
		if (vm->switchover && !s->barrier)
			return migd_stats_fail(s->st, -EPROTONOSUPPORT, "the destination migd does not confirm that the pages are in place before the VM's own switch-over (no COMMITTED in its stream): update it");
	}

	/* Log from before the first pass reads a page, so no write is missed. */
	for (unsigned int i = 0; i < s->nregions; i++) {
		struct migd_region *r = &s->regions[i];

		ret = r->ops->track_start(r);
		if (ret)
			return migd_stats_fail(s->st, ret, "starting the dirty log of %s: %s", r->path,
					       strerror(-ret));
		for (uint64_t p = 0; p < r->npages; p++)
			s->dirty[i][p / 64] |= 1ull << (p % 64);
	}
	start = last_harvest = migd_now_ns();
	pr_debug("dirty logging on after %.1f ms", (start - s->st->start_ns) / 1e6);
	migd_progress_start(s->st, o->progress);
	ret = send_round(s, 0, s->st->mem_pages);
	if (ret)
		return ret;

	for (;;) {
		uint64_t now, bw;

		ret = harvest(s, &dirty);
		if (ret)
			return ret;
		ret = vm->check ? vm->check(vm->opaque) : 0;
		if (ret)
			return migd_stats_fail(s->st, ret, "%s", vm_error(s, ret));
		now = migd_now_ns();
		s->st->dirty_rate = (uint64_t)((double)dirty * MIGD_NSEC_PER_SEC /
					       (now - last_harvest + 1));
		last_harvest = now;
		/* The rate at which the guest dirtied pages during that round. */
		if (s->st->nrounds)
			s->st->rounds[s->st->nrounds - 1].dirty_rate = s->st->dirty_rate;
		bw = (uint64_t)((double)s->conn->bytes_out * MIGD_NSEC_PER_SEC / (now - start + 1));
		why = migd_policy_decide(&o->policy, &ps, s->st->round,
					 dirty * (page_size + KVMMIG_PAGE_ENTRY_SIZE), bw);
		pr_debug("after round %" PRIu32 ": %" PRIu64 " dirty pages, %.1f MB/s, estimated downtime %.1f ms: %s",
			 s->st->round, dirty, bw / 1e6,
			 ps.est_downtime_ns / 1e6, migd_stop_reason_name(why));
		if (why != MIGD_CONTINUE)
			break;
		if (migd_cancel_requested(o->cancel))
			return migd_stats_fail(s->st, -ECANCELED, "cancelled during pre-copy");
		ret = send_round(s, 0, dirty);
		if (ret)
			return ret;
	}
	s->st->stop_reason = why;
	s->st->est_downtime_ns = ps.est_downtime_ns;

	/*
	 * Stop-and-copy.  Downtime counts from the pause request: the VMM
	 * stops its vCPUs somewhere between that and its acknowledgement.
	 */
	s->st->pause_ns = migd_now_ns();
	if (vm->pause) {
		ret = vm->pause(vm->opaque, o->pause_timeout_ms, pause_check, s);
		if (ret == -ECANCELED)
			return migd_stats_fail(s->st, ret, "cancelled while pausing the VM");
		if (ret == -ECONNRESET)
			return migd_stats_fail(s->st, ret, "while pausing the VM: the destination closed the connection (it died; see its log)");
		if (ret == -ETIMEDOUT && !(vm->last_error && vm->last_error(vm->opaque)))
			return migd_stats_fail(s->st, ret, "pausing the VM: the VMM did not acknowledge in %d s",
					       o->pause_timeout_ms / 1000);
		if (ret)
			return migd_stats_fail(s->st, ret, "pausing the VM: %s", vm_error(s, ret));
		*paused = true;
	}
	pr_debug("VM paused in %.1f ms", (migd_now_ns() - s->st->pause_ns) / 1e6);
	ret = harvest(s, &dirty);
	if (ret)
		return ret;
	ret = send_round(s, KVMMIG_ROUND_F_STOPPED, dirty);
	if (ret)
		return ret;
	ret = send_state(s);
	if (ret)
		return ret;
	ret = kvmmig_stream_write_end(s->w);
	if (ret)
		return stream_fail_msg(s, ret, "sending END");
	s->st->bytes = kvmmig_stream_writer_offset(s->w);
	if (s->barrier) {
		ret = switch_over(s);
		if (ret)
			return ret;
	}
	/* After COMMITTED, this end of stream lets the destination go on. */
	ret = migd_conn_shutdown_write(s->conn);
	if (ret)
		return migd_stats_fail(s->st, ret, "closing the stream: %s", strerror(-ret));
	s->released = true;
	if (!o->to_file) {
		ret = wait_return(s, KVMMIG_REC_END);
		if (ret)
			return ret;
	}
	s->st->downtime_ns = migd_now_ns() - s->st->pause_ns;
	return 0;
}

int migd_precopy_send(struct migd_region *regions, unsigned int nregions,
		      struct migd_vm_ops *vm, struct migd_conn *conn,
		      const struct migd_send_opts *opts, struct migd_stats *st)
{
	struct sender s = {
		.regions = regions,
		.nregions = nregions,
		.conn = conn,
		.vm = vm,
		.st = st,
		.opts = opts,
	};
	bool paused = false;
	int ret;

	st->source = true;
	st->start_ns = migd_now_ns();
	st->target_downtime_ns = opts->policy.downtime_ns;
	st->page_size = regions[0].page_size;
	s.dirty = calloc(nregions, sizeof(*s.dirty));
	s.buf = malloc((size_t)BATCH_PAGES * regions[0].page_size);
	s.pages = calloc(BATCH_PAGES, sizeof(*s.pages));
	if (!s.dirty || !s.buf || !s.pages)
		ret = migd_stats_fail(st, -ENOMEM, "out of memory");
	else
		ret = run(&s, vm, &paused);
	migd_progress_stop();

	for (unsigned int i = 0; i < nregions; i++)
		if (regions[i].ops->track_stop)
			regions[i].ops->track_stop(&regions[i]);
	if (ret && s.barrier && !s.released) {
		/* An end of stream would let the destination go on: reset. */
		migd_conn_abort(conn);
	}
	if (ret) {
		/* The VM never left: let it run on here. */
		if (paused && vm->resume) {
			vm->resume(vm->opaque);
			pr_info("VM resumed on the source");
		}
	} else if (opts->to_file) {
		/* A save copies the VM; it does not move it. */
		if (paused && vm->resume)
			vm->resume(vm->opaque);
	} else if (vm->handed_over) {
		vm->handed_over(vm->opaque);
	}
	st->end_ns = migd_now_ns();
	st->bytes = conn->bytes_out;
	st->ok = !ret;
	for (unsigned int i = 0; s.dirty && i < nregions; i++)
		free(s.dirty[i]);
	free(s.dirty);
	free(s.buf);
	free(s.pages);
	kvmmig_stream_writer_free(s.w);
	kvmmig_stream_reader_free(s.r);
	return ret;
}
