// SPDX-License-Identifier: GPL-2.0
/*
 * What the stream tests share (see stream_util.h).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "stream_util.h"

/* ---------------------------------------------------------------------- */
/* Parsing */

void parse_src(const struct kvmmig_stream_source *src, enum kvmmig_stream_mode mode,
	       uint64_t track, struct parsed *p)
{
	struct kvmmig_stream_reader_opts opts = { .mode = mode, .track_pages = track };
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	int ret;

	memset(p, 0, sizeof(*p));
	ret = kvmmig_stream_reader_new(&r, src, &opts);
	if (ret) {
		p->ret = ret;
		return;
	}
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		if (p->nrec < MAX_RECS) {
			p->types[p->nrec] = rec.type;
			p->offsets[p->nrec] = rec.offset;
		}
		p->nrec++;
	}
	p->ret = ret;
	p->err = *kvmmig_stream_reader_error(r);
	p->tracking = kvmmig_stream_reader_tracking(r);
	/* Errors are sticky, and a finished stream stays finished. */
	if (kvmmig_stream_read_next(r, &rec) != ret)
		p->ret = -9999;
	kvmmig_stream_reader_free(r);
}

void parse_mode(const void *data, size_t len, enum kvmmig_stream_mode mode,
		uint64_t track, struct parsed *p)
{
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;

	kvmmig_stream_source_mem(&src, &m, data, len);
	parse_src(&src, mode, track, p);
}

void parse(const struct wbuf *b, struct parsed *p)
{
	parse_mode(b->p, b->len, KVMMIG_STREAM_ANY, 1 << 20, p);
}

void expect_ok_line(int line, const struct wbuf *b)
{
	struct parsed p;

	parse(b, &p);
	if (p.ret)
		check_fail(line, "expected a valid stream, got %d: %s", p.ret, p.err.msg);
}

void expect_err_line(int line, const struct wbuf *b, uint64_t track,
		     int err, const char *field, uint32_t rec_type,
		     long long offset)
{
	struct parsed p;

	parse_mode(b->p, b->len, KVMMIG_STREAM_ANY, track, &p);
	if (p.ret != -err) {
		check_fail(line, "expected %s, got %d (%s): %s", strerrorname_np(err),
			   p.ret, p.ret < 0 ? strerrorname_np(-p.ret) : "-", p.err.msg);
		return;
	}
	if (p.err.err != err)
		check_fail(line, "error struct has errno %d", p.err.err);
	if (field && strcmp(p.err.field, field))
		check_fail(line, "expected field \"%s\", got \"%s\" (%s)", field,
			   p.err.field, p.err.msg);
	if (p.err.rec_type != rec_type)
		check_fail(line, "expected record type 0x%x, got 0x%x (%s)", rec_type,
			   p.err.rec_type, p.err.msg);
	if (offset >= 0 && p.err.offset != (uint64_t)offset)
		check_fail(line, "expected offset %lld, got %llu (%s)", offset,
			   (unsigned long long)p.err.offset, p.err.msg);
	if (!strstr(p.err.msg, "offset") || (field && *field && !strstr(p.err.msg, field)))
		check_fail(line, "message lacks offset or field: %s", p.err.msg);
	if (verbose)
		printf("#   %s: %s\n", strerrorname_np(err), p.err.msg);
}

/* ---------------------------------------------------------------------- */
/* Writing with the library */

const struct kvmmig_stream_region regions2[2] = {
	{ .id = 1, .size = 16 * 4096, .page_size = 4096, .name = "ram0" },
	{ .id = 7, .size = 4 * 4096, .page_size = 4096, .name = "ram1" },
};

void default_hdr(struct kvmmig_stream_hdr *h, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->flags = flags;
	h->page_size = 4096;
	for (int i = 0; i < 16; i++)
		h->migration_id[i] = i + 1;
	h->sender_minor = 1;
}

struct kvmmig_stream_writer *new_writer(struct kvmmig_stream_membuf *mb,
					uint32_t flags,
					const struct kvmmig_stream_writer_opts *opts)
{
	struct kvmmig_stream_writer *w = NULL;
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr h;

	memset(mb, 0, sizeof(*mb));
	kvmmig_stream_sink_membuf(&sink, mb);
	default_hdr(&h, flags);
	if (kvmmig_stream_writer_new(&w, &sink, &h, opts))
		abort();
	return w;
}

void fill_page(uint8_t *p, uint64_t index, uint8_t seed)
{
	for (int k = 0; k < 4096; k++)
		p[k] = (uint8_t)(index + seed + k / 512);
}

void representative(struct kvmmig_stream_membuf *mb)
{
	struct kvmmig_stream_writer_opts opts = { .track_pages = 1 << 20, .max_body = 8192 };
	struct kvmmig_stream_state_desc vcpu = { KVMMIG_STATE_VCPU, 0, 1, "cpu0" };
	struct kvmmig_stream_state_desc dev = { KVMMIG_STATE_DEVICE, 2, 1, "rtc" };
	struct kvmmig_stream_writer *w = new_writer(mb, 0, &opts);
	static uint8_t pg[3][4096], blob[9000];
	struct kvmmig_stream_page p1[3], z[16];
	uint64_t d[1] = { 5 };

	for (int i = 0; i < 3; i++) {
		fill_page(pg[i], i, 3);
		p1[i].index = 4 + i;
		p1[i].data = pg[i];
	}
	for (int i = 0; i < 16; i++) {
		z[i].index = i;
		z[i].data = i == 5 ? pg[0] : NULL;
	}
	memset(blob, 0x11, sizeof(blob));

	kvmmig_stream_write_optional(w, 0x80000001, "sender=test", 11);
	kvmmig_stream_write_regions(w, regions2, 2);
	kvmmig_stream_write_round(w, 1, 0, 16);
	kvmmig_stream_write_pages(w, 1, z, 16);
	kvmmig_stream_write_round(w, 2, 0, 3);
	kvmmig_stream_write_pages(w, 1, p1, 3);
	kvmmig_stream_write_round(w, 3, KVMMIG_ROUND_F_STOPPED, 1);
	kvmmig_stream_write_state(w, &vcpu, blob, 100);
	kvmmig_stream_write_state(w, &dev, blob, sizeof(blob));
	kvmmig_stream_write_discard(w, 1, d, 1);
	kvmmig_stream_write_postcopy(w);
	kvmmig_stream_write_pages(w, 1, &z[5], 1);
	kvmmig_stream_write_pages(w, 7, z, 4);
	kvmmig_stream_write_optional(w, 0x80000002, NULL, 0);
	if (kvmmig_stream_write_end(w)) {
		fprintf(stderr, "representative: %s\n", kvmmig_stream_writer_error(w)->msg);
		abort();
	}
	kvmmig_stream_writer_free(w);
}
