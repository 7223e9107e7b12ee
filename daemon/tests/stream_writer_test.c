// SPDX-License-Identifier: GPL-2.0
/*
 * The stream writer.  Round trips: each kind of record written with the
 * library, its bytes compared with those of the independent encoder in
 * wire.c (written from the specification), and read back with the
 * library's reader.  Then the calls the writer refuses, what it leaves
 * written when it does, and migration ids.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"
#include "wire.h"

/* ---------------------------------------------------------------------- */
/* Round trips: writer -> reader, and writer bytes == spec encoder bytes */

/* A reader of the stream in @mb. */
static struct kvmmig_stream_reader *new_reader(const struct kvmmig_stream_membuf *mb,
					       struct kvmmig_stream_source *src,
					       struct kvmmig_stream_memsrc *m,
					       uint64_t track)
{
	struct kvmmig_stream_reader_opts opts = { .track_pages = track };
	struct kvmmig_stream_reader *r;

	kvmmig_stream_source_mem(src, m, mb->data, mb->len);
	if (kvmmig_stream_reader_new(&r, src, &opts))
		abort();
	return r;
}

static void test_roundtrip_regions_round_end(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, NULL);
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	struct kvmmig_stream_hdr hdr;
	struct wbuf want = { 0 };
	struct w_hdr wh;

	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 0, 20), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 2, KVMMIG_ROUND_F_STOPPED, 3), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	/* Same stream from the specification's encoder. */
	w_hdr_default(&wh);
	w_header(&want, &wh);
	w_regions2(&want);
	{
		struct wbuf body = { 0 };

		wb_round(&body, 1, 0, 20);
		w_record(&want, W_ROUND, body.p, body.len);
		body.len = 0;
		wb_round(&body, 2, W_STOPPED, 3);
		w_record(&want, W_ROUND, body.p, body.len);
		wb_free(&body);
	}
	w_end(&want);
	CHECK_EQ(mb.len, want.len);
	CHECK(mb.len == want.len && !memcmp(mb.data, want.p, want.len));

	r = new_reader(&mb, &src, &m, 0);
	CHECK_EQ(kvmmig_stream_read_header(r, &hdr), 0);
	CHECK_EQ(hdr.version, 1);
	CHECK_EQ(hdr.page_size, 4096);
	CHECK_EQ(hdr.migration_id[15], 16);
	CHECK_EQ(hdr.sender_minor, 1);

	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_REGIONS);
	CHECK_EQ(rec.offset, 64);
	CHECK_EQ(rec.regions.count, 2);
	CHECK_EQ(rec.regions.regions[1].id, 7);
	CHECK_EQ(rec.regions.regions[1].size, 4 * 4096);
	CHECK_EQ(rec.regions.regions[1].npages, 4);
	CHECK(!strcmp(rec.regions.regions[0].name, "ram0"));
	CHECK(!strcmp(rec.regions.regions[1].name, "ram1"));

	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_ROUND);
	CHECK_EQ(rec.round.round, 1);
	CHECK_EQ(rec.round.flags, 0);
	CHECK_EQ(rec.round.dirty_pages, 20);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.round.round, 2);
	CHECK_EQ(rec.round.flags, KVMMIG_ROUND_F_STOPPED);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_END);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 0);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 0);
	CHECK_EQ(kvmmig_stream_reader_offset(r), mb.len);
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

static void test_roundtrip_pages(void)
{
	static uint8_t pg[6][4096];
	struct kvmmig_stream_writer_opts opts = { .detect_zero = true };
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, &opts);
	struct kvmmig_stream_page pages[6];
	struct kvmmig_stream_page_iter it;
	struct kvmmig_stream_page page;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	struct wbuf want = { 0 };
	uint64_t idx[6] = { 0, 2, 3, 9, 14, 15 };
	uint64_t ent[6];
	int n = 0;

	for (int i = 0; i < 6; i++) {
		fill_page(pg[i], idx[i], 0);
		pages[i].index = idx[i];
		pages[i].data = pg[i];
		ent[i] = idx[i];
	}
	/* Page 2 has no data (zero), page 9 is all zero bytes (detected). */
	pages[1].data = NULL;
	ent[1] |= W_ZERO;
	memset(pg[3], 0, 4096);
	ent[3] |= W_ZERO;

	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 0), 0);
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, pages, 6), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	w_prefix_stopped(&want);
	w_pages(&want, 1, ent, 6, 4096, 0);
	w_end(&want);
	CHECK(mb.len == want.len && !memcmp(mb.data, want.p, want.len));

	r = new_reader(&mb, &src, &m, 0);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_PAGE_DATA);
	CHECK_EQ(rec.pages.region->id, 1);
	CHECK_EQ(rec.pages.count, 6);
	CHECK_EQ(rec.pages.zero, 2);
	kvmmig_stream_page_iter_init(&it, &rec);
	while (kvmmig_stream_page_iter_next(&it, &page)) {
		CHECK_EQ(page.index, idx[n]);
		CHECK_EQ(kvmmig_stream_rec_index(&rec, n), idx[n]);
		if (n == 1 || n == 3)
			CHECK(!page.data);
		else
			CHECK(page.data && !memcmp(page.data, pg[n], 4096));
		n++;
	}
	CHECK_EQ(n, 6);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_END);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 0);
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

/* A small max_body splits PAGE_DATA; the pages all come back in order. */
static void test_roundtrip_pages_split(void)
{
	struct kvmmig_stream_writer_opts opts = { .max_body = 3 * 4096 + 64 };
	static uint8_t pg[16][4096];
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, &opts);
	struct kvmmig_stream_page pages[16];
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	unsigned int records = 0, seen = 0;
	int ret;

	for (int i = 0; i < 16; i++) {
		fill_page(pg[i], i, 9);
		pages[i].index = i;
		pages[i].data = i % 4 == 3 ? NULL : pg[i];
	}
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 16), 0);
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, pages, 16), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	r = new_reader(&mb, &src, &m, 0);
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		struct kvmmig_stream_page_iter it;
		struct kvmmig_stream_page page;

		if (rec.type != KVMMIG_REC_PAGE_DATA)
			continue;
		records++;
		CHECK(rec.body_len <= opts.max_body);
		kvmmig_stream_page_iter_init(&it, &rec);
		while (kvmmig_stream_page_iter_next(&it, &page)) {
			CHECK_EQ(page.index, seen);
			CHECK(!page.data == (seen % 4 == 3));
			if (page.data)
				CHECK(!memcmp(page.data, pg[seen], 4096));
			seen++;
		}
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(seen, 16);
	CHECK_EQ(records, 4);	/* 3 full pages (and their zero pages) each */
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
}

static void test_roundtrip_state(void)
{
	struct kvmmig_stream_writer_opts opts = { .max_body = 64 + 4096 + 16 };
	struct kvmmig_stream_state_desc vcpu = { KVMMIG_STATE_VCPU, 3, 0x5eed, "" };
	struct kvmmig_stream_state_desc dev = { KVMMIG_STATE_DEVICE, 0, 0x5eed, "virtio-net.0" };
	struct kvmmig_stream_state_desc nested = { KVMMIG_STATE_NESTED, 3, 0x5eed, "" };
	static uint8_t big[10000], nst[300];
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, &opts);
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	static uint8_t got[10000];
	struct wbuf want = { 0 };
	uint64_t got_len = 0;
	unsigned int chunks = 0, blobs = 0;
	int ret;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	memset(nst, 0xab, sizeof(nst));
	nst[0] = 1;	/* flags: guest mode */
	nst[2] = 1;	/* format: SVM */
	nst[3] = 0;
	nst[4] = sizeof(nst) & 0xff;
	nst[5] = sizeof(nst) >> 8;
	nst[6] = nst[7] = 0;

	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 0), 0);
	CHECK_EQ(kvmmig_stream_write_state(w, &vcpu, big, 1000), 0);
	CHECK_EQ(kvmmig_stream_write_state(w, &dev, NULL, 0), 0);
	CHECK_EQ(kvmmig_stream_write_state(w, &nested, nst, sizeof(nst)), 0);
	CHECK_EQ(kvmmig_stream_write_state(w, &vcpu, big, sizeof(big)), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	/* The spec encoder's version of the first three blobs. */
	w_prefix_stopped(&want);
	w_state(&want, W_VCPU, 3, 0, 1000, "", big, 1000);
	w_state(&want, W_DEVICE, 0, 0, 0, "virtio-net.0", NULL, 0);
	w_state(&want, W_NESTED, 3, 0, sizeof(nst), "", nst, sizeof(nst));
	CHECK(mb.len > want.len && !memcmp(mb.data, want.p, want.len));

	r = new_reader(&mb, &src, &m, 0);
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		if (rec.type != KVMMIG_REC_STATE)
			continue;
		chunks++;
		switch (blobs) {
		case 0:
			CHECK_EQ(rec.state.desc.kind, KVMMIG_STATE_VCPU);
			CHECK_EQ(rec.state.desc.instance, 3);
			CHECK_EQ(rec.state.desc.format, 0x5eed);
			CHECK_EQ(rec.state.len, 1000);
			CHECK(!memcmp(rec.state.data, big, 1000));
			break;
		case 1:
			CHECK_EQ(rec.state.desc.kind, KVMMIG_STATE_DEVICE);
			CHECK(!strcmp(rec.state.desc.name, "virtio-net.0"));
			CHECK_EQ(rec.state.len, 0);
			CHECK_EQ(rec.state.total_size, 0);
			break;
		case 2:
			CHECK_EQ(rec.state.desc.kind, KVMMIG_STATE_NESTED);
			CHECK_EQ(rec.state.len, sizeof(nst));
			CHECK(!memcmp(rec.state.data, nst, sizeof(nst)));
			break;
		case 3:
			CHECK_EQ(rec.state.offset, got_len);
			CHECK_EQ(rec.state.total_size, sizeof(big));
			memcpy(got + got_len, rec.state.data, rec.state.len);
			got_len += rec.state.len;
			break;
		}
		if (!(rec.state.flags & KVMMIG_STATE_F_MORE))
			blobs++;
	}
	CHECK_EQ(ret, 0);
	CHECK_EQ(blobs, 4);
	CHECK_EQ(chunks, 3 + 3);	/* 10000 bytes in 4112-byte chunks */
	CHECK_EQ(got_len, sizeof(big));
	CHECK(!memcmp(got, big, sizeof(big)));
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

static void test_roundtrip_postcopy(void)
{
	struct kvmmig_stream_writer_opts opts = { .track_pages = 1 << 20 };
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, &opts);
	struct kvmmig_stream_page all[16], some[4];
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	uint64_t dirty[2] = { 3, 11 };
	static uint8_t pg[4096];
	struct wbuf want = { 0 };
	uint64_t e16[16], e4[4];
	uint32_t types[16];
	int n = 0, ret;

	memset(pg, 0x5a, sizeof(pg));
	for (int i = 0; i < 16; i++) {
		all[i].index = i;
		all[i].data = NULL;
		e16[i] = i | W_ZERO;
	}
	for (int i = 0; i < 4; i++) {
		some[i].index = i;
		some[i].data = NULL;
		e4[i] = i | W_ZERO;
	}

	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 0, 0), 0);
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, all, 16), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 2, KVMMIG_ROUND_F_STOPPED, 0), 0);
	CHECK_EQ(kvmmig_stream_write_discard(w, 1, dirty, 2), 0);
	CHECK_EQ(kvmmig_stream_write_postcopy(w), 0);
	/* Page 3 again after POSTCOPY: allowed, it was discarded. */
	all[3].data = pg;
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, &all[3], 1), 0);
	/* Page 4 was never discarded: the writer refuses to resend it. */
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, &all[4], 1), -EEXIST);
	/* Region 7 never sent, page 11 discarded: END is refused until they are. */
	CHECK_EQ(kvmmig_stream_write_end(w), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_pages(w, 7, some, 4), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, &all[11], 1), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	w_prefix(&want);
	w_pages(&want, 1, e16, 16, 4096, 0);
	w_round(&want, 2, W_STOPPED);
	w_index_list(&want, W_DISCARD, 1, dirty, 2);
	w_record(&want, W_POSTCOPY, NULL, 0);
	{
		struct wbuf body = { 0 };

		wb_u32(&body, 1);
		wb_u32(&body, 1);
		wb_u64(&body, 3);
		wb_put(&body, pg, sizeof(pg));
		w_record(&want, W_PAGE_DATA, body.p, body.len);
		wb_free(&body);
	}
	w_pages(&want, 7, e4, 4, 4096, 0);
	{
		uint64_t e = 11 | W_ZERO;

		w_pages(&want, 1, &e, 1, 4096, 0);
	}
	w_end(&want);
	CHECK(mb.len == want.len && !memcmp(mb.data, want.p, want.len));

	r = new_reader(&mb, &src, &m, 1 << 20);
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		if (n < 16)
			types[n] = rec.type;
		if (rec.type == KVMMIG_REC_DISCARD) {
			CHECK_EQ(rec.pages.count, 2);
			CHECK_EQ(kvmmig_stream_rec_index(&rec, 1), 11);
		}
		n++;
	}
	CHECK_EQ(ret, 0);
	CHECK(kvmmig_stream_reader_tracking(r));
	CHECK_EQ(n, 10);
	CHECK_EQ(types[4], KVMMIG_REC_DISCARD);
	CHECK_EQ(types[5], KVMMIG_REC_POSTCOPY);
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

static void test_roundtrip_return_stream(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, KVMMIG_STREAM_F_RETURN, NULL);
	uint64_t req[3] = { 1, 5, 15 };
	struct wbuf want = { 0 };
	struct parsed p;
	struct w_hdr h;

	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	/* Forward-only records are refused in a return stream. */
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 0, 0), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_page_request(w, 1, req, 3), 0);
	CHECK_EQ(kvmmig_stream_write_page_request(w, 7, req, 1), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	w_hdr_default(&h);
	h.flags = W_F_RETURN;
	w_header(&want, &h);
	w_regions2(&want);
	w_index_list(&want, W_PAGE_REQUEST, 1, req, 3);
	w_index_list(&want, W_PAGE_REQUEST, 7, req, 1);
	w_end(&want);
	CHECK(mb.len == want.len && !memcmp(mb.data, want.p, want.len));

	parse_mode(mb.data, mb.len, KVMMIG_STREAM_RETURN, 0, &p);
	CHECK_EQ(p.ret, 0);
	CHECK_EQ(p.nrec, 4);
	CHECK_EQ(p.types[1], KVMMIG_REC_PAGE_REQUEST);
	/* A reader that wants a forward stream refuses it. */
	parse_mode(mb.data, mb.len, KVMMIG_STREAM_FORWARD, 0, &p);
	CHECK_EQ(p.ret, -EPROTO);
	CHECK(!strcmp(p.err.field, "flags"));
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

/* COMMITTED: only where the return header promised it, once, before END. */
static void test_roundtrip_committed(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w;
	struct wbuf want = { 0 };
	struct parsed p;
	struct w_hdr h;

	/* A forward stream: never, whatever its flags. */
	w = new_writer(&mb, KVMMIG_STREAM_F_COMMITTED, NULL);
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_committed(w), -EPROTO);
	kvmmig_stream_writer_free(w);
	kvmmig_stream_membuf_free(&mb);
	/* A return stream without the flag: never either. */
	w = new_writer(&mb, KVMMIG_STREAM_F_RETURN, NULL);
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_committed(w), -EPROTO);
	kvmmig_stream_writer_free(w);
	kvmmig_stream_membuf_free(&mb);

	w = new_writer(&mb, KVMMIG_STREAM_F_RETURN | KVMMIG_STREAM_F_COMMITTED, NULL);
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	/* END before it breaks the promise. */
	CHECK_EQ(kvmmig_stream_write_end(w), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_committed(w), 0);
	CHECK_EQ(kvmmig_stream_write_committed(w), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	w_hdr_default(&h);
	h.flags = W_F_RETURN | W_F_COMMITTED;
	w_header(&want, &h);
	w_regions2(&want);
	w_record(&want, W_COMMITTED, NULL, 0);
	w_end(&want);
	CHECK(mb.len == want.len && !memcmp(mb.data, want.p, want.len));
	parse_mode(mb.data, mb.len, KVMMIG_STREAM_RETURN, 0, &p);
	CHECK_EQ(p.ret, 0);
	CHECK_EQ(p.nrec, 3);
	CHECK_EQ(p.types[1], KVMMIG_REC_COMMITTED);
	kvmmig_stream_membuf_free(&mb);
	wb_free(&want);
}

static void test_roundtrip_optional(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, NULL);
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;

	CHECK_EQ(kvmmig_stream_write_optional(w, 0x80000042, "hello", 5), 0);
	CHECK_EQ(kvmmig_stream_write_optional(w, 0x42, "hello", 5), -EINVAL);
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 0), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	kvmmig_stream_writer_free(w);

	r = new_reader(&mb, &src, &m, 0);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, 0x80000042);
	CHECK_EQ(rec.body_len, 5);
	CHECK(!memcmp(rec.body, "hello", 5));
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	CHECK_EQ(rec.type, KVMMIG_REC_REGIONS);
	kvmmig_stream_reader_free(r);
	kvmmig_stream_membuf_free(&mb);
}

/* ---------------------------------------------------------------------- */
/* What the writer refuses */

static int failing_write(void *opaque, const void *buf, size_t len)
{
	int *budget = opaque;

	(void)buf;
	if ((size_t)*budget < len)
		return -ENOSPC;
	*budget -= len;
	return 0;
}

static void test_writer_rules(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w = new_writer(&mb, 0, NULL);
	struct kvmmig_stream_page pg[2] = { { 3, NULL }, { 2, NULL } };
	struct kvmmig_stream_region bad = { .id = 1, .size = 100, .name = "x" };
	struct kvmmig_stream_writer_opts opts = { 0 };
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr h;
	uint64_t offset;
	int budget;

	CHECK_EQ(kvmmig_stream_write_pages(w, 1, pg, 1), -EPROTO);
	CHECK(strstr(kvmmig_stream_writer_error(w)->msg, "PAGE_DATA before REGIONS"));
	CHECK_EQ(kvmmig_stream_write_regions(w, &bad, 1), -EINVAL);
	CHECK(!strcmp(kvmmig_stream_writer_error(w)->field, "regions[0].size"));
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 2, 0, 0), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 4, 0), -EOPNOTSUPP);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 0, 0), 0);
	offset = kvmmig_stream_writer_offset(w);
	/* Nothing is written for a rejected call: not in order, out of range. */
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, pg, 2), -EINVAL);
	pg[1].index = 16;
	CHECK_EQ(kvmmig_stream_write_pages(w, 1, pg, 2), -ERANGE);
	CHECK_EQ(kvmmig_stream_write_pages(w, 9, pg, 1), -ENOENT);
	CHECK_EQ(kvmmig_stream_writer_offset(w), offset);
	/* END is refused until the VM has been stopped. */
	CHECK_EQ(kvmmig_stream_write_end(w), -EPROTO);
	CHECK_EQ(kvmmig_stream_write_round(w, 2, KVMMIG_ROUND_F_STOPPED, 0), 0);
	CHECK_EQ(kvmmig_stream_write_end(w), 0);
	CHECK_EQ(kvmmig_stream_write_round(w, 3, 0, 0), -EPROTO);
	kvmmig_stream_writer_free(w);
	{
		struct wbuf out = { .p = mb.data, .len = mb.len };

		EXPECT_OK(&out);
	}
	kvmmig_stream_membuf_free(&mb);

	/* Bad headers are refused at creation. */
	kvmmig_stream_sink_membuf(&sink, &mb);
	default_hdr(&h, 0);
	h.page_size = 1000;
	CHECK_EQ(kvmmig_stream_writer_new(&w, &sink, &h, NULL), -EINVAL);
	default_hdr(&h, 0);
	memset(h.migration_id, 0, 16);
	CHECK_EQ(kvmmig_stream_writer_new(&w, &sink, &h, NULL), -EINVAL);
	default_hdr(&h, 0x100);
	CHECK_EQ(kvmmig_stream_writer_new(&w, &sink, &h, NULL), -EOPNOTSUPP);

	/* A sink error is sticky. */
	budget = 200;
	sink.write = failing_write;
	sink.opaque = &budget;
	default_hdr(&h, 0);
	CHECK_EQ(kvmmig_stream_writer_new(&w, &sink, &h, &opts), 0);
	CHECK_EQ(kvmmig_stream_write_regions(w, regions2, 2), 0);
	CHECK_EQ(kvmmig_stream_writer_flush(w), -ENOSPC);
	CHECK_EQ(kvmmig_stream_write_round(w, 1, 0, 0), -ENOSPC);
	CHECK_EQ(kvmmig_stream_write_end(w), -ENOSPC);
	kvmmig_stream_writer_free(w);
}

static void test_new_id(void)
{
	uint8_t a[16], b[16];

	CHECK_EQ(kvmmig_stream_new_id(a), 0);
	CHECK_EQ(kvmmig_stream_new_id(b), 0);
	CHECK(memcmp(a, b, 16));
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_roundtrip_regions_round_end),
	T(test_roundtrip_pages),
	T(test_roundtrip_pages_split),
	T(test_roundtrip_state),
	T(test_roundtrip_postcopy),
	T(test_roundtrip_return_stream),
	T(test_roundtrip_committed),
	T(test_roundtrip_optional),
	T(test_writer_rules),
	T(test_new_id),
#undef T
};

HARNESS_MAIN(tests, NULL)
