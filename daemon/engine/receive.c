// SPDX-License-Identifier: GPL-2.0
/*
 * Destination side of pre-copy (see precopy.h).  The stream reader checks
 * every record before we see it; this file maps the source's regions onto
 * ours, writes the pages, and commits only after a clean END, so any
 * failure leaves nothing: every region is discarded.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "precopy.h"

/* One bit per page is tracked for streams up to this size (64 GiB). */
#define RECV_TRACK_PAGES	(16ull << 20)
/* State held in memory until the end of the stream, whatever the VMM. */
#define RECV_MAX_STATE_BYTES	(256ull << 20)
#define RECV_MAX_STATE_BLOBS	4096
/* How often the VMM is asked whether it is still there. */
#define RECV_CHECK_NS		(100 * MIGD_NSEC_PER_MSEC)

struct receiver {
	struct migd_region *regions;
	unsigned int nregions;
	struct migd_region **by_id;	/* stream region index -> ours */
	uint32_t *ids;
	unsigned int nids;
	struct migd_conn *conn;
	const struct migd_dest_ops *dest;
	bool bound;			/* dest->bind() succeeded */
	bool barrier;			/* the source asked for COMMITTED */
	bool committed;			/* every region committed */
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_writer *w;
	struct migd_stats *st;
	uint64_t round_start, round_bytes0, round_zero;
	uint64_t last_check;
	/* STATE blobs: the complete ones, and the one being reassembled. */
	struct migd_state state;
	struct kvmmig_stream_state_desc cur_desc;
	uint8_t *cur;
	uint64_t cur_len;
};

static int read_fail(struct receiver *rc, int err)
{
	const struct kvmmig_stream_error *e = kvmmig_stream_reader_error(rc->r);

	if (err == -ECANCELED)
		return migd_stats_fail(rc->st, err, "cancelled");
	if (err == -ETIMEDOUT)
		return migd_stats_fail(rc->st, err, "no data from the source for %d s: the source or the network is dead",
				       rc->conn->timeout_ms / 1000);
	if (err == -ENODATA || err == -ECONNRESET)
		return migd_stats_fail(rc->st, err, "the source went away before the end of the migration: %s",
				       e->msg);
	return migd_stats_fail(rc->st, err, "rejected the stream: %s", e->msg);
}

/* The destination backend's own account of a failure, else strerror. */
static const char *dest_error(struct receiver *rc, int err)
{
	const char *msg = rc->dest && rc->dest->last_error ?
			  rc->dest->last_error(rc->dest->opaque) : NULL;

	return msg && *msg ? msg : strerror(-err);
}

static struct migd_region *lookup(struct receiver *rc, uint32_t id)
{
	for (unsigned int i = 0; i < rc->nids; i++)
		if (rc->ids[i] == id)
			return rc->by_id[i];
	return NULL;
}

static int map_regions(struct receiver *rc, const struct kvmmig_stream_hdr *hdr,
		       const struct kvmmig_stream_rec *rec)
{
	unsigned int n = rec->regions.count;
	int ret;

	if (rc->dest && rc->dest->bind) {
		ret = rc->dest->bind(rc->dest->opaque, rec->regions.regions, n,
				     &rc->regions, &rc->nregions);
		if (ret)
			return migd_stats_fail(rc->st, ret, "%s", dest_error(rc, ret));
		rc->bound = true;
	}
	if (n != rc->nregions)
		return migd_stats_fail(rc->st, -ENOENT, "the source has %u regions, this side %u", n,
				       rc->nregions);
	rc->by_id = calloc(n, sizeof(*rc->by_id));
	rc->ids = calloc(n, sizeof(*rc->ids));
	if (!rc->by_id || !rc->ids)
		return migd_stats_fail(rc->st, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < n; i++) {
		const struct kvmmig_stream_region *sr = &rec->regions.regions[i];
		struct migd_region *mine = NULL;

		for (unsigned int j = 0; j < rc->nregions; j++)
			if (!strcmp(rc->regions[j].name, sr->name))
				mine = &rc->regions[j];
		if (!mine && rc->dest)
			return migd_stats_fail(rc->st, -ENOENT, "the source's region \"%s\" is not in the session here",
					       sr->name);
		if (!mine)
			return migd_stats_fail(rc->st, -ENOENT, "the source's region \"%s\" has no destination here (name one NAME=PATH)",
					       sr->name);
		/* A region not sized yet (a new file) takes the source's pages. */
		if (!mine->npages)
			mine->page_size = hdr->page_size;
		if (mine->page_size != hdr->page_size)
			return migd_stats_fail(rc->st, -EINVAL, "region \"%s\": page size %" PRIu32
					       ", the source's is %" PRIu32, sr->name,
					       mine->page_size, hdr->page_size);
		ret = mine->ops->prepare(mine, sr->npages);
		if (ret == -EMSGSIZE)
			return migd_stats_fail(rc->st, ret, "region \"%s\" (%s) has %" PRIu64 " bytes, the source's %" PRIu64,
					       sr->name, mine->path,
					       mine->npages * mine->page_size, sr->size);
		if (ret)
			return migd_stats_fail(rc->st, ret, "region \"%s\" (%s, %" PRIu64 " bytes): %s",
					       sr->name, mine->path, sr->size, strerror(-ret));
		mine->id = sr->id;
		rc->by_id[i] = mine;
		rc->ids[i] = sr->id;
		rc->nids++;
		rc->st->mem_pages += sr->npages;
		pr_debug("region \"%s\": %" PRIu64 " bytes into %s", sr->name, sr->size,
			 mine->path);
	}
	return 0;
}

/* Answers with our view of the regions: the source compares it with its own. */
static int send_return_regions(struct receiver *rc, const struct kvmmig_stream_hdr *fwd,
			       const struct kvmmig_stream_rec *rec)
{
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_region *regs;
	unsigned int n = rec->regions.count;
	int ret;

	migd_stream_hdr_init(&hdr, fwd->page_size);
	hdr.flags = KVMMIG_STREAM_F_RETURN | (rc->barrier ? KVMMIG_STREAM_F_COMMITTED : 0);
	memcpy(hdr.migration_id, fwd->migration_id, 16);
	migd_conn_sink(rc->conn, &sink);
	ret = kvmmig_stream_writer_new(&rc->w, &sink, &hdr, NULL);
	if (ret)
		return migd_stats_fail(rc->st, ret, "starting the return stream: %s", strerror(-ret));
	regs = calloc(n, sizeof(*regs));
	if (!regs)
		return migd_stats_fail(rc->st, -ENOMEM, "out of memory");
	for (unsigned int i = 0; i < n; i++) {
		struct migd_region *mine = rc->by_id[i];

		regs[i].id = rc->ids[i];
		regs[i].size = mine->npages * mine->page_size;
		regs[i].page_size = mine->page_size;
		snprintf(regs[i].name, sizeof(regs[i].name), "%s", mine->name);
	}
	ret = kvmmig_stream_write_regions(rc->w, regs, n);
	free(regs);
	if (!ret)
		ret = kvmmig_stream_writer_flush(rc->w);
	if (ret)
		return migd_stats_fail(rc->st, ret, "answering the source: %s",
				       kvmmig_stream_writer_error(rc->w)->msg);
	return 0;
}

static int store_pages(struct receiver *rc, const struct kvmmig_stream_rec *rec)
{
	struct migd_region *r = lookup(rc, rec->pages.region->id);
	struct kvmmig_stream_page_iter it;
	struct kvmmig_stream_page pg;
	uint64_t first = 0, n = 0;
	const uint8_t *data = NULL;
	bool zero = false, have = false;
	int ret = 0;

	if (!r)
		return migd_stats_fail(rc->st, -ENOENT, "no region %" PRIu32, rec->pages.region->id);
	/* Coalesce runs of consecutive pages that are all zero or all adjacent. */
	kvmmig_stream_page_iter_init(&it, rec);
	for (;;) {
		bool more = kvmmig_stream_page_iter_next(&it, &pg);

		if (have && more && pg.index == first + n && !pg.data == zero &&
		    (zero || pg.data == data + n * r->page_size)) {
			n++;
			continue;
		}
		if (have) {
			ret = r->ops->write_pages(r, first, n, zero ? NULL : data);
			if (ret)
				return migd_stats_fail(rc->st, ret, "writing pages %" PRIu64 "-%" PRIu64
						       " of %s: %s", first, first + n - 1, r->path,
						       strerror(-ret));
		}
		if (!more)
			break;
		have = true;
		first = pg.index;
		n = 1;
		zero = !pg.data;
		data = pg.data;
	}
	rc->st->pages += rec->pages.count;
	rc->st->zero_pages += rec->pages.zero;
	rc->st->round_done += rec->pages.count;
	rc->round_zero += rec->pages.zero;
	return 0;
}

/* Reassembles a STATE blob; whole blobs wait in rc->state until the end. */
static int take_state(struct receiver *rc, const struct kvmmig_stream_rec *rec)
{
	const struct kvmmig_stream_state_desc *d = &rec->state.desc;
	uint64_t max_blob = rc->dest->max_state_blob;
	unsigned int max_blobs = rc->dest->max_state_blobs;
	char kind[16];
	int ret;

	if (!max_blobs || max_blobs > RECV_MAX_STATE_BLOBS)
		max_blobs = RECV_MAX_STATE_BLOBS;
	if (rec->state.offset == 0) {
		const char *k = migd_state_kind_name(d->kind, kind, sizeof(kind));

		if (max_blob && rec->state.total_size > max_blob)
			return migd_stats_fail(rc->st, -EMSGSIZE, "the source's state blob %s %" PRIu32
					       " \"%s\" has %" PRIu64 " bytes, the VMM here takes at most %"
					       PRIu64, k, d->instance, d->name, rec->state.total_size,
					       max_blob);
		if (rc->state.count >= max_blobs)
			return migd_stats_fail(rc->st, -ENOSPC, "the source sent more than %u state blobs",
					       max_blobs);
		if (rc->state.bytes + rec->state.total_size > RECV_MAX_STATE_BYTES)
			return migd_stats_fail(rc->st, -EMSGSIZE, "the source's state exceeds %llu MiB",
					       RECV_MAX_STATE_BYTES >> 20);
		rc->cur = malloc(rec->state.total_size ? rec->state.total_size : 1);
		if (!rc->cur)
			return migd_stats_fail(rc->st, -ENOMEM, "out of memory for a state blob of %" PRIu64
					       " bytes", rec->state.total_size);
		rc->cur_desc = *d;
		rc->cur_len = rec->state.total_size;
	}
	/* The reader has checked that chunks match and add up. */
	memcpy(rc->cur + rec->state.offset, rec->state.data, rec->state.len);
	if (rec->state.flags & KVMMIG_STATE_F_MORE)
		return 0;
	ret = migd_state_put_owned(&rc->state, &rc->cur_desc, rc->cur, rc->cur_len);
	rc->cur = NULL;
	if (ret)
		return migd_stats_fail(rc->st, ret, "out of memory for the state");
	return 0;
}

static int dest_check(struct receiver *rc)
{
	uint64_t now;
	int ret;

	if (!rc->dest || !rc->dest->check || !rc->bound)
		return 0;
	now = migd_now_ns();
	if (now - rc->last_check < RECV_CHECK_NS)
		return 0;
	rc->last_check = now;
	ret = rc->dest->check(rc->dest->opaque);
	return ret ? migd_stats_fail(rc->st, ret, "%s", dest_error(rc, ret)) : 0;
}

static void round_end(struct receiver *rc)
{
	if (!rc->st->round)
		return;
	migd_stats_round_done(rc->st, rc->round_start,
			      rc->st->bytes - rc->round_bytes0, rc->round_zero);
	pr_info("round %" PRIu32 "%s: %" PRIu64 " pages (%" PRIu64 " zero)",
		rc->st->round, rc->st->stopped ? " (stopped)" : "", rc->st->round_done,
		rc->round_zero);
}

/* All checked and complete: now, and only now, the pages count. */
static int commit(struct receiver *rc)
{
	for (unsigned int i = 0; i < rc->nregions; i++) {
		struct migd_region *r = &rc->regions[i];
		int ret = r->ops->commit(r);

		if (ret)
			return migd_stats_fail(rc->st, ret, "committing %s: %s", r->path, strerror(-ret));
	}
	rc->committed = true;
	return 0;
}

/*
 * The source's END has arrived and every page is in place: say so, and
 * wait for its end of stream, its word that its VMM's switch-over has
 * worked, before ours takes the VM.
 */
static int confirm_pages(struct receiver *rc)
{
	int ret = commit(rc);

	if (ret)
		return ret;
	ret = kvmmig_stream_write_committed(rc->w);
	if (!ret)
		ret = kvmmig_stream_writer_flush(rc->w);
	if (ret)
		return migd_stats_fail(rc->st, ret, "telling the source that the pages are in: %s",
				       kvmmig_stream_writer_error(rc->w)->msg);
	pr_debug("every page is in place; waiting for the source's switch-over");
	return 0;
}

static int run(struct receiver *rc, const struct migd_recv_opts *o)
{
	struct kvmmig_stream_reader_opts ro = {
		.mode = KVMMIG_STREAM_FORWARD,
		.track_pages = RECV_TRACK_PAGES,
	};
	struct kvmmig_stream_source src;
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_rec rec;
	int ret;

	migd_conn_source(rc->conn, &src);
	ret = kvmmig_stream_reader_new(&rc->r, &src, &ro);
	if (ret)
		return migd_stats_fail(rc->st, ret, "%s", strerror(-ret));
	ret = kvmmig_stream_read_header(rc->r, &hdr);
	if (ret)
		return read_fail(rc, ret);
	rc->st->page_size = hdr.page_size;
	rc->barrier = hdr.flags & KVMMIG_STREAM_F_COMMITTED;
	migd_progress_start(rc->st, o->progress);

	while ((ret = kvmmig_stream_read_next(rc->r, &rec)) > 0) {
		rc->st->bytes = kvmmig_stream_reader_offset(rc->r);
		ret = 0;
		switch (rec.type) {
		case KVMMIG_REC_REGIONS:
			ret = map_regions(rc, &hdr, &rec);
			if (!ret)
				ret = send_return_regions(rc, &hdr, &rec);
			break;
		case KVMMIG_REC_ROUND:
			round_end(rc);
			rc->st->round = rec.round.round;
			rc->st->stopped = rec.round.flags & KVMMIG_ROUND_F_STOPPED;
			rc->st->round_planned = rec.round.dirty_pages;
			rc->st->round_done = 0;
			rc->round_zero = 0;
			rc->round_start = migd_now_ns();
			rc->round_bytes0 = rc->st->bytes;
			break;
		case KVMMIG_REC_PAGE_DATA:
			ret = store_pages(rc, &rec);
			break;
		case KVMMIG_REC_STATE:
			if (rc->dest) {
				ret = take_state(rc, &rec);
				break;
			}
			/* Memory files: no VMM to hand it to. */
			pr_debug("ignoring a STATE record (kind %" PRIu32 ")",
				 rec.state.desc.kind);
			break;
		case KVMMIG_REC_DISCARD:
		case KVMMIG_REC_POSTCOPY:
			ret = migd_stats_fail(rc->st, -EOPNOTSUPP, "the source switched to post-copy, which this migd does not support yet");
			break;
		case KVMMIG_REC_END:
			round_end(rc);
			if (rc->barrier)
				ret = confirm_pages(rc);
			break;
		default:
			pr_debug("skipping an optional record 0x%08" PRIx32, rec.type);
			break;
		}
		if (!ret)
			ret = dest_check(rc);
		if (ret)
			return ret;
		migd_progress_update(rc->st, false);
	}
	if (ret < 0 && rc->committed && ret != -ECANCELED && ret != -ETIMEDOUT)
		return migd_stats_fail(rc->st, ret, "the source gave up at the switch-over (see its log): %s",
				       kvmmig_stream_reader_error(rc->r)->msg);
	if (ret < 0)
		return read_fail(rc, ret);
	rc->st->bytes = kvmmig_stream_reader_offset(rc->r);
	if (!rc->committed) {
		ret = commit(rc);
		if (ret)
			return ret;
	}
	rc->st->state_blobs = rc->state.count;
	rc->st->state_bytes = rc->state.bytes;
	if (rc->dest && rc->dest->arrive) {
		uint64_t t0 = migd_now_ns();

		pr_info("all memory and %u state blobs (%" PRIu64 " bytes) received; "
			"handing over to the VMM", rc->state.count, rc->state.bytes);
		ret = rc->dest->arrive(rc->dest->opaque, &rc->state, o->ack_timeout_ms,
				       migd_cancel_check, o->cancel);
		if (ret == -ECANCELED)
			return migd_stats_fail(rc->st, ret, "cancelled while the VMM was taking over");
		if (ret == -ETIMEDOUT && !(rc->dest->last_error &&
					   rc->dest->last_error(rc->dest->opaque)))
			return migd_stats_fail(rc->st, ret, "the VMM did not take over the VM in %d s",
					       o->ack_timeout_ms / 1000);
		if (ret)
			return migd_stats_fail(rc->st, ret, "handing over to the VMM: %s",
					       dest_error(rc, ret));
		pr_debug("the VMM took over in %.1f ms", (migd_now_ns() - t0) / 1e6);
	}
	ret = kvmmig_stream_write_end(rc->w);
	if (ret)
		pr_warn("the migration is complete here, but confirming it to the source failed: %s",
			kvmmig_stream_writer_error(rc->w)->msg);
	migd_conn_shutdown_write(rc->conn);
	return 0;
}

int migd_precopy_recv(struct migd_region *regions, unsigned int nregions,
		      struct migd_conn *conn, const struct migd_recv_opts *opts,
		      struct migd_stats *st)
{
	struct receiver rc = {
		.regions = regions,
		.nregions = nregions,
		.conn = conn,
		.dest = opts->dest,
		.st = st,
	};
	int ret;

	st->source = false;
	st->start_ns = migd_now_ns();
	ret = run(&rc, opts);
	migd_progress_stop();
	if (ret) {
		for (unsigned int i = 0; i < rc.nregions && rc.regions; i++)
			rc.regions[i].ops->discard(&rc.regions[i]);
		if (rc.dest && rc.dest->abort)
			rc.dest->abort(rc.dest->opaque);
	}
	st->end_ns = migd_now_ns();
	st->ok = !ret;
	free(rc.by_id);
	free(rc.ids);
	free(rc.cur);
	migd_state_free(&rc.state);
	kvmmig_stream_reader_free(rc.r);
	kvmmig_stream_writer_free(rc.w);
	return ret;
}
