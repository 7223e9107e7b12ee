// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the migration stream library and "migd verify", run on the
 * build machine.  Inputs are built with the independent encoder in wire.c
 * (from the specification), so the reader is held to the spec; the writer
 * is held to it by comparing its bytes with the same encoder's.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/verify.h"
#include "stream/crc32c.h"
#include "stream/stream.h"
#include "harness.h"
#include "wire.h"


/* ---------------------------------------------------------------------- */
/* Parsing helpers */

#define MAX_RECS 512

struct parsed {
	int ret;
	struct kvmmig_stream_error err;
	unsigned int nrec;
	uint32_t types[MAX_RECS];
	uint64_t offsets[MAX_RECS];
	bool tracking;
};

static void parse_src(const struct kvmmig_stream_source *src,
		      enum kvmmig_stream_mode mode, uint64_t track,
		      struct parsed *p)
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

static void parse_mode(const void *data, size_t len, enum kvmmig_stream_mode mode,
		       uint64_t track, struct parsed *p)
{
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;

	kvmmig_stream_source_mem(&src, &m, data, len);
	parse_src(&src, mode, track, p);
}

static void parse(const struct wbuf *b, struct parsed *p)
{
	parse_mode(b->p, b->len, KVMMIG_STREAM_ANY, 1 << 20, p);
}

static void expect_ok_line(int line, const struct wbuf *b)
{
	struct parsed p;

	parse(b, &p);
	if (p.ret)
		check_fail(line, "expected a valid stream, got %d: %s", p.ret, p.err.msg);
}

static void expect_err_line(int line, const struct wbuf *b, uint64_t track,
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

#define EXPECT_OK(b) expect_ok_line(__LINE__, b)
#define EXPECT_ERR(b, err, field, type, off) \
	expect_err_line(__LINE__, b, 1 << 20, err, field, type, off)
#define EXPECT_ERR_NOTRACK(b, err, field, type, off) \
	expect_err_line(__LINE__, b, 0, err, field, type, off)

/* Offset of the first record after w_prefix(): header, REGIONS, ROUND 1. */
#define PREFIX_LEN	(64 + 16 + 8 + 2 * 64 + 16 + 16)

/* Header, REGIONS, ROUND 1 STOPPED. */
static void w_prefix_stopped(struct wbuf *b)
{
	struct w_hdr h;

	w_hdr_default(&h);
	w_header(b, &h);
	w_regions2(b);
	w_round(b, 1, W_STOPPED);
}

/* ---------------------------------------------------------------------- */
/* CRC32C */

static void test_crc32c(void)
{
	uint8_t buf[1031];

	CHECK_EQ(w_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(kvmmig_crc32c(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(kvmmig_crc32c_sw(0, "123456789", 9), 0xe3069283u);
	CHECK_EQ(kvmmig_crc32c(0, "", 0), 0);

	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = rand();
	/* Every length and misalignment against the bit-at-a-time reference. */
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= sizeof(buf); len += 1 + len / 8) {
			uint32_t want = w_crc32c(0, buf + off, len);

			CHECK_EQ(kvmmig_crc32c(0, buf + off, len), want);
			CHECK_EQ(kvmmig_crc32c_sw(0, buf + off, len), want);
			/* Chaining. */
			CHECK_EQ(kvmmig_crc32c(kvmmig_crc32c(0, buf + off, len / 3),
					       buf + off + len / 3, len - len / 3), want);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Writer helpers */

static const struct kvmmig_stream_region regions2[] = {
	{ .id = 1, .size = 16 * 4096, .page_size = 4096, .name = "ram0" },
	{ .id = 7, .size = 4 * 4096, .page_size = 4096, .name = "ram1" },
};

static void default_hdr(struct kvmmig_stream_hdr *h, uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	h->flags = flags;
	h->page_size = 4096;
	for (int i = 0; i < 16; i++)
		h->migration_id[i] = i + 1;
	h->sender_minor = 1;
}

static struct kvmmig_stream_writer *new_writer(struct kvmmig_stream_membuf *mb,
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

/* Page contents the same way wire.c fills them. */
static void fill_page(uint8_t *p, uint64_t index, uint8_t seed)
{
	for (int k = 0; k < 4096; k++)
		p[k] = (uint8_t)(index + seed + k / 512);
}

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

/* ---------------------------------------------------------------------- */
/* Round trips: writer -> reader, and writer bytes == spec encoder bytes */

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

/* The largest body the spec allows is accepted, one more byte is not. */
static void test_max_body(void)
{
	struct wbuf b = { 0 };
	uint8_t *body = calloc(1, W_MAX_BODY);

	w_prefix_stopped(&b);
	w_record(&b, W_OPTIONAL | 7, body, W_MAX_BODY);
	w_end(&b);
	EXPECT_OK(&b);
	free(body);
	wb_free(&b);
}

/* ---------------------------------------------------------------------- */
/* A representative stream with every forward record type */

static void representative(struct kvmmig_stream_membuf *mb)
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

static void test_truncation_every_offset(void)
{
	struct kvmmig_stream_membuf mb;
	struct parsed p;
	unsigned int bad = 0;

	representative(&mb);
	parse_mode(mb.data, mb.len, KVMMIG_STREAM_FORWARD, 1 << 20, &p);
	CHECK_EQ(p.ret, 0);
	CHECK_EQ(p.nrec, 18);

	for (size_t len = 0; len < mb.len; len++) {
		/* A fresh copy of exactly @len bytes, so ASan sees any overread. */
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, mb.data, len);
		parse_mode(copy, len, KVMMIG_STREAM_FORWARD, 1 << 20, &p);
		if (p.ret != -ENODATA || p.err.err != ENODATA) {
			if (bad++ < 5)
				check_fail(__LINE__, "truncated at %zu: %d %s", len, p.ret, p.err.msg);
		}
		free(copy);
	}
	CHECK_EQ(bad, 0);
	kvmmig_stream_membuf_free(&mb);
}

/* A source that hands out at most @step bytes per read, then maybe fails. */
struct trickle {
	const uint8_t *data;
	size_t len, pos, step, fail_at;
};

static ssize_t trickle_read(void *opaque, void *buf, size_t len)
{
	struct trickle *t = opaque;
	size_t n = t->len - t->pos;

	if (t->fail_at && t->pos >= t->fail_at)
		return -EIO;
	if (n > t->step)
		n = t->step;
	if (n > len)
		n = len;
	memcpy(buf, t->data + t->pos, n);
	t->pos += n;
	return n;
}

static void test_streaming_source(void)
{
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_source src = { .read = trickle_read };
	size_t steps[] = { 1, 3, 7, 8, 13, 4096, 70000 };
	struct parsed p;

	representative(&mb);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct trickle t = { .data = mb.data, .len = mb.len, .step = steps[i] };

		src.opaque = &t;
		parse_src(&src, KVMMIG_STREAM_ANY, 1 << 20, &p);
		CHECK_EQ(p.ret, 0);
		CHECK_EQ(p.nrec, 18);
	}
	/* An I/O error mid-stream is passed on as itself. */
	{
		struct trickle t = { .data = mb.data, .len = mb.len, .step = 100,
				     .fail_at = 1000 };

		src.opaque = &t;
		parse_src(&src, KVMMIG_STREAM_ANY, 1 << 20, &p);
		CHECK_EQ(p.ret, -EIO);
		CHECK(strstr(p.err.msg, "read failed"));
	}
	kvmmig_stream_membuf_free(&mb);
}

/* ---------------------------------------------------------------------- */
/* Bad input, one test per class of the specification's error table */

static void test_bad_magic(void)
{
	struct wbuf b = { 0 };

	w_prefix_stopped(&b);
	w_end(&b);
	b.p[0] = 0x88;
	EXPECT_ERR(&b, ENOEXEC, "magic", 0, 0);
	/* A foreign file shorter than a header is still foreign, not truncated. */
	b.p[0] = 'x';
	b.len = 1;
	EXPECT_ERR(&b, ENOEXEC, "magic", 0, 0);
	wb_free(&b);
}

static void test_unknown_version(void)
{
	struct wbuf b = { 0 };
	struct w_hdr h;

	w_hdr_default(&h);
	h.version = 2;
	w_header(&b, &h);
	w_regions2(&b);
	EXPECT_ERR(&b, EPROTONOSUPPORT, "version", 0, 0);
	/* Reported from the first 12 bytes: another version's header may be shorter. */
	b.len = 12;
	EXPECT_ERR(&b, EPROTONOSUPPORT, "version", 0, 0);
	wb_free(&b);
}

static void test_header_reserved(void)
{
	static const char *const fields[] = { "reserved0", "reserved1", "reserved2" };

	for (int i = 0; i < 3; i++) {
		struct wbuf b = { 0 };
		struct w_hdr h;

		w_hdr_default(&h);
		if (i == 0)
			h.reserved0 = 1;
		else if (i == 1)
			h.reserved1 = 0x100;
		else
			h.reserved2[11] = 1;
		w_header(&b, &h);
		w_regions2(&b);
		w_round(&b, 1, W_STOPPED);
		w_end(&b);
		EXPECT_ERR(&b, EINVAL, fields[i], 0, 0);
		wb_free(&b);
	}
}

static void test_record_reserved(void)
{
	struct wbuf b = { 0 };
	size_t off;

	/* Trailer reserved word (not covered by the CRC). */
	w_prefix_stopped(&b);
	off = w_end(&b);
	b.p[off + 12] = 1;
	EXPECT_ERR(&b, EINVAL, "reserved", KVMMIG_REC_END, off);
	wb_free(&b);

	/* Padding, with a CRC that covers it. */
	w_prefix_stopped(&b);
	off = w_record(&b, W_OPTIONAL | 1, "abc", 3);
	b.p[off + 8 + 4] = 0xff;
	w_fix_crc(&b, off);
	w_end(&b);
	EXPECT_ERR(&b, EINVAL, "padding", W_OPTIONAL | 1, off);
	wb_free(&b);

	/* REGIONS header reserved word. */
	{
		struct w_hdr h;

		w_hdr_default(&h);
		w_header(&b, &h);
		off = w_regions2(&b);
		b.p[off + 8 + 4] = 1;
		w_fix_crc(&b, off);
		EXPECT_ERR(&b, EINVAL, "reserved", KVMMIG_REC_REGIONS, off);
		/* A region entry's reserved word. */
		b.p[off + 8 + 4] = 0;
		b.p[off + 8 + 8 + 64 + 20] = 1;
		w_fix_crc(&b, off);
		EXPECT_ERR(&b, EINVAL, "regions[1].reserved", KVMMIG_REC_REGIONS, off);
		wb_free(&b);
	}

	/* STATE reserved. */
	w_prefix_stopped(&b);
	off = w_state(&b, W_VCPU, 0, 0, 4, "", "abcd", 4);
	b.p[off + 8 + 24] = 1;
	w_fix_crc(&b, off);
	EXPECT_ERR(&b, EINVAL, "reserved", KVMMIG_REC_STATE, off);
	wb_free(&b);

	/* Reserved bits of a page entry; ZERO is reserved outside PAGE_DATA. */
	{
		uint64_t e[2] = { 1, 2 | (1ull << 52) };

		w_prefix(&b);
		off = w_pages(&b, 1, e, 2, 4096, 0);
		EXPECT_ERR(&b, EINVAL, "entry[1].reserved", KVMMIG_REC_PAGE_DATA, off);
		wb_free(&b);

		e[1] = 2 | W_ZERO;
		w_prefix_stopped(&b);
		off = w_index_list(&b, W_DISCARD, 1, e, 2);
		EXPECT_ERR(&b, EINVAL, "entry[1].reserved", KVMMIG_REC_DISCARD, off);
		wb_free(&b);
	}
}

static void test_unknown_mandatory_record(void)
{
	struct wbuf b = { 0 };
	size_t off;

	w_prefix(&b);
	off = w_record(&b, 0x42, "what", 4);
	w_end(&b);
	EXPECT_ERR(&b, ENOMSG, "type", 0x42, off);
	wb_free(&b);

	/* Type 0 is never valid (a zeroed hole in a file would look like it). */
	w_prefix(&b);
	off = w_record(&b, 0, NULL, 0);
	EXPECT_ERR(&b, ENOMSG, "type", 0, off);
	wb_free(&b);
}

static void test_unknown_optional_record_skipped(void)
{
	struct wbuf b = { 0 };
	struct parsed p;
	struct w_hdr h;
	uint64_t e = 3;

	/* Before REGIONS, between rounds, between STATE chunks, and last. */
	w_hdr_default(&h);
	w_header(&b, &h);
	w_record(&b, W_OPTIONAL | 0x1234, "future", 6);
	w_regions2(&b);
	w_round(&b, 1, 0);
	w_record(&b, 0xfffffffe, NULL, 0);
	w_pages(&b, 1, &e, 1, 4096, 0);
	w_round(&b, 2, W_STOPPED);
	w_state(&b, W_VCPU, 0, W_MORE, 8, "", "abcd", 4);
	w_record(&b, W_OPTIONAL | 9, "between chunks", 14);
	w_state(&b, W_VCPU, 0, 0, 8, "", "efgh", 4);
	w_record(&b, W_OPTIONAL, "x", 1);
	w_end(&b);
	parse(&b, &p);
	CHECK_EQ(p.ret, 0);
	CHECK_EQ(p.nrec, 11);
	CHECK_EQ(p.types[0], W_OPTIONAL | 0x1234);
	CHECK_EQ(p.types[3], 0xfffffffe);
	CHECK_EQ(p.types[9], W_OPTIONAL);
	wb_free(&b);
}

static void test_oversized_length(void)
{
	struct wbuf b = { 0 };
	size_t off;

	/* Rejected from the record header alone: no body follows. */
	w_prefix(&b);
	off = b.len;
	wb_u32(&b, W_PAGE_DATA);
	wb_u32(&b, W_MAX_BODY + 1);
	EXPECT_ERR(&b, EMSGSIZE, "body_length", KVMMIG_REC_PAGE_DATA, off);
	w_le32(b.p + off + 4, 0xffffffff);
	EXPECT_ERR(&b, EMSGSIZE, "body_length", KVMMIG_REC_PAGE_DATA, off);
	/* Optional records are bounded too. */
	w_le32(b.p + off, W_OPTIONAL | 3);
	EXPECT_ERR(&b, EMSGSIZE, "body_length", W_OPTIONAL | 3, off);
	wb_free(&b);

	/* A STATE blob above MAX_STATE. */
	w_prefix_stopped(&b);
	off = w_state(&b, W_DEVICE, 0, W_MORE, (1ull << 30) + 1, "", "abcd", 4);
	EXPECT_ERR(&b, EMSGSIZE, "total_size", KVMMIG_REC_STATE, off);
	wb_free(&b);
}

static void test_length_disagrees_with_contents(void)
{
	struct wbuf b = { 0 }, body = { 0 };
	uint64_t e[2] = { 1, 2 };
	size_t off;

	/* PAGE_DATA with two full entries and one page of contents. */
	w_prefix(&b);
	wb_u32(&body, 1);
	wb_u32(&body, 2);
	wb_u64(&body, e[0]);
	wb_u64(&body, e[1]);
	wb_zero(&body, 4096);
	off = w_record(&b, W_PAGE_DATA, body.p, body.len);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);
	/* One byte short of two pages. */
	w_prefix(&b);
	wb_zero(&body, 4095);
	off = w_record(&b, W_PAGE_DATA, body.p, body.len);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);
	wb_free(&body);

	/* A count whose entries do not even fit in the body. */
	w_prefix(&b);
	wb_u32(&body, 1);
	wb_u32(&body, 0x40000000);
	wb_u64(&body, 0);
	off = w_record(&b, W_PAGE_DATA, body.p, body.len);
	EXPECT_ERR(&b, EUCLEAN, "count", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);
	wb_free(&body);

	/* Shorter than the fixed part. */
	w_prefix(&b);
	off = w_record(&b, W_PAGE_DATA, "\1\0\0\0", 4);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* REGIONS count 1 with two entries. */
	{
		struct w_hdr h;

		w_hdr_default(&h);
		w_header(&b, &h);
		wb_regions_hdr(&body, 1);
		wb_region(&body, 1, 4096, 4096, "a");
		wb_region(&body, 2, 4096, 4096, "b");
		off = w_record(&b, W_REGIONS, body.p, body.len);
		EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_REGIONS, off);
		wb_free(&b);
		wb_free(&body);
	}

	/* ROUND of 8 bytes, END and POSTCOPY with a body. */
	w_prefix(&b);
	off = w_record(&b, W_ROUND, "\2\0\0\0\0\0\0\0", 8);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_ROUND, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_record(&b, W_END, "\0\0\0\0", 4);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_END, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_record(&b, W_POSTCOPY, "\0\0\0\0\0\0\0\0", 8);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_POSTCOPY, off);
	wb_free(&b);

	/* STATE chunks that do not add up to total_size, either way. */
	w_prefix_stopped(&b);
	off = w_state(&b, W_VCPU, 0, 0, 8, "", "abcd", 4);
	EXPECT_ERR(&b, EUCLEAN, "total_size", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	w_state(&b, W_VCPU, 0, W_MORE, 6, "", "abcd", 4);
	off = w_state(&b, W_VCPU, 0, 0, 6, "", "efgh", 4);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_state(&b, W_VCPU, 0, W_MORE, 4, "", "abcd", 4);
	EXPECT_ERR(&b, EUCLEAN, "flags", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_state(&b, W_VCPU, 0, W_MORE, 4, "", NULL, 0);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_STATE, off);
	wb_free(&b);

	/* A kvm_nested_state whose size disagrees with total_size. */
	{
		uint8_t nst[128] = { 0, 0, 0, 0, 129, 0, 0, 0 };

		w_prefix_stopped(&b);
		off = w_state(&b, W_NESTED, 0, 0, 128, "", nst, 128);
		EXPECT_ERR(&b, EUCLEAN, "nested.size", KVMMIG_REC_STATE, off);
		wb_free(&b);
		w_prefix_stopped(&b);
		off = w_state(&b, W_NESTED, 0, 0, 64, "", nst, 64);
		EXPECT_ERR(&b, EUCLEAN, "total_size", KVMMIG_REC_STATE, off);
		wb_free(&b);
		nst[4] = 128;
		nst[2] = 2;	/* neither VMX nor SVM */
		w_prefix_stopped(&b);
		off = w_state(&b, W_NESTED, 0, 0, 128, "", nst, 128);
		EXPECT_ERR(&b, EINVAL, "nested.format", KVMMIG_REC_STATE, off);
		wb_free(&b);
	}
}

static void test_page_index_out_of_range(void)
{
	struct wbuf b = { 0 };
	uint64_t e[3] = { 0, 15, 16 };
	size_t off;

	w_prefix(&b);
	off = w_pages(&b, 1, e, 3, 4096, 0);
	EXPECT_ERR(&b, ERANGE, "entry[2].index", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* The largest index the field can hold. */
	e[0] = (1ull << 52) - 1;
	w_prefix(&b);
	off = w_pages(&b, 7, e, 1, 4096, 0);
	EXPECT_ERR(&b, ERANGE, "entry[0].index", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* DISCARD, and PAGE_REQUEST in a return stream. */
	e[0] = 4;
	w_prefix_stopped(&b);
	off = w_index_list(&b, W_DISCARD, 7, e, 1);
	EXPECT_ERR(&b, ERANGE, "entry[0].index", KVMMIG_REC_DISCARD, off);
	wb_free(&b);
	{
		struct w_hdr h;

		w_hdr_default(&h);
		h.flags = W_F_RETURN;
		w_header(&b, &h);
		w_regions2(&b);
		off = w_index_list(&b, W_PAGE_REQUEST, 7, e, 1);
		EXPECT_ERR(&b, ERANGE, "entry[0].index", KVMMIG_REC_PAGE_REQUEST, off);
		wb_free(&b);
	}

	/* A region id nobody declared. */
	w_prefix(&b);
	off = w_pages(&b, 3, e, 1, 4096, 0);
	EXPECT_ERR(&b, ENOENT, "region_id", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* Entries must increase: a repeat inside one record is not allowed. */
	e[0] = 5;
	e[1] = 5;
	w_prefix(&b);
	off = w_pages(&b, 1, e, 2, 4096, 0);
	EXPECT_ERR(&b, EINVAL, "entry[1].index", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);
}

static void regions_stream(struct wbuf *b, size_t *off, uint32_t id2, const char *name2)
{
	struct wbuf body = { 0 };
	struct w_hdr h;

	w_hdr_default(&h);
	w_header(b, &h);
	wb_regions_hdr(&body, 3);
	wb_region(&body, 1, 4096, 4096, "ram0");
	wb_region(&body, 2, 4096, 4096, "ram1");
	wb_region(&body, id2, 8192, 4096, name2);
	*off = w_record(b, W_REGIONS, body.p, body.len);
	wb_free(&body);
	w_round(b, 1, W_STOPPED);
	w_end(b);
}

static void test_duplicate_region(void)
{
	struct wbuf b = { 0 };
	size_t off;

	regions_stream(&b, &off, 3, "ram2");
	EXPECT_OK(&b);
	wb_free(&b);
	regions_stream(&b, &off, 1, "ram2");
	EXPECT_ERR(&b, EEXIST, "regions[2].id", KVMMIG_REC_REGIONS, off);
	wb_free(&b);
	regions_stream(&b, &off, 3, "ram1");
	EXPECT_ERR(&b, EEXIST, "regions[2].name", KVMMIG_REC_REGIONS, off);
	wb_free(&b);

	/* A second REGIONS record is an order error, not a duplicate. */
	w_prefix(&b);
	off = w_regions2(&b);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_REGIONS, off);
	wb_free(&b);
}

static void test_region_fields(void)
{
	static const char *const bad_names[] = { "", "has space", "tab\there", "\x80" };
	struct wbuf b = { 0 }, body = { 0 };
	struct w_hdr h;
	size_t off;

	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		regions_stream(&b, &off, 3, bad_names[i]);
		EXPECT_ERR(&b, EINVAL, "regions[2].name", KVMMIG_REC_REGIONS, off);
		wb_free(&b);
	}
	/* 40 bytes without a NUL, and junk after the NUL. */
	regions_stream(&b, &off, 3, "0123456789012345678901234567890123456789");
	EXPECT_ERR(&b, EINVAL, "regions[2].name", KVMMIG_REC_REGIONS, off);
	b.p[off + 8 + 128 + 24 + 5] = 0;
	w_fix_crc(&b, off);
	EXPECT_ERR(&b, EINVAL, "regions[2].name", KVMMIG_REC_REGIONS, off);
	wb_free(&b);

	/* Size, page size, flags, count. */
	w_hdr_default(&h);
	w_header(&b, &h);
	wb_regions_hdr(&body, 1);
	wb_region(&body, 1, 4096 + 512, 4096, "a");
	off = w_record(&b, W_REGIONS, body.p, body.len);
	EXPECT_ERR(&b, EINVAL, "regions[0].size", KVMMIG_REC_REGIONS, off);
	w_le32(b.p + off + 8 + 8 + 8, 0);
	w_le32(b.p + off + 8 + 8 + 12, 0);
	w_fix_crc(&b, off);
	EXPECT_ERR(&b, EINVAL, "regions[0].size", KVMMIG_REC_REGIONS, off);
	w_le32(b.p + off + 8 + 8 + 8, 8192);
	w_le32(b.p + off + 8 + 8 + 16, 8192);
	w_fix_crc(&b, off);
	EXPECT_ERR(&b, EINVAL, "regions[0].page_size", KVMMIG_REC_REGIONS, off);
	w_le32(b.p + off + 8 + 8 + 16, 4096);
	w_le32(b.p + off + 8 + 8 + 4, 1);
	w_fix_crc(&b, off);
	EXPECT_ERR(&b, EOPNOTSUPP, "regions[0].flags", KVMMIG_REC_REGIONS, off);
	wb_free(&b);
	wb_free(&body);

	w_header(&b, &h);
	off = w_record(&b, W_REGIONS, "\0\0\0\0\0\0\0\0", 8);
	EXPECT_ERR(&b, EINVAL, "count", KVMMIG_REC_REGIONS, off);
	wb_free(&b);

	/* More than MAX_REGIONS, with a body that matches the count. */
	w_header(&b, &h);
	wb_regions_hdr(&body, 1025);
	for (int i = 0; i < 1025; i++) {
		char name[16];

		snprintf(name, sizeof(name), "r%d", i);
		wb_region(&body, i, 4096, 4096, name);
	}
	off = w_record(&b, W_REGIONS, body.p, body.len);
	EXPECT_ERR(&b, E2BIG, "count", KVMMIG_REC_REGIONS, off);
	wb_free(&b);
	wb_free(&body);
}

static void test_header_fields(void)
{
	static const uint32_t bad_sizes[] = { 0, 2048, 3000, 4097, 131072 };
	struct wbuf b = { 0 };
	struct w_hdr h;

	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		w_hdr_default(&h);
		h.page_size = bad_sizes[i];
		w_header(&b, &h);
		EXPECT_ERR(&b, EINVAL, "page_size", 0, 0);
		wb_free(&b);
	}
	w_hdr_default(&h);
	memset(h.id, 0, sizeof(h.id));
	w_header(&b, &h);
	EXPECT_ERR(&b, EINVAL, "migration_id", 0, 0);
	wb_free(&b);

	/* Unknown incompatible flag: fail; unknown compatible flag: ignore. */
	w_hdr_default(&h);
	h.flags = 1u << 1;
	w_header(&b, &h);
	EXPECT_ERR(&b, EOPNOTSUPP, "flags", 0, 0);
	wb_free(&b);
	w_hdr_default(&h);
	h.flags = 1u << 16;
	h.page_size = 65536;
	w_header(&b, &h);
	{
		struct wbuf body = { 0 };

		wb_regions_hdr(&body, 1);
		wb_region(&body, 1, 65536, 65536, "big-pages");
		w_record(&b, W_REGIONS, body.p, body.len);
		wb_free(&body);
	}
	w_round(&b, 1, W_STOPPED);
	w_end(&b);
	EXPECT_OK(&b);
	wb_free(&b);
}

static void test_record_out_of_order(void)
{
	struct wbuf b = { 0 };
	struct w_hdr h;
	uint64_t e = 1;
	size_t off;

	/* PAGE_DATA before REGIONS. */
	w_hdr_default(&h);
	w_header(&b, &h);
	off = w_pages(&b, 1, &e, 1, 4096, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* PAGE_DATA before ROUND 1. */
	w_header(&b, &h);
	w_regions2(&b);
	off = w_pages(&b, 1, &e, 1, 4096, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);

	/* ROUND numbers must count up from 1. */
	w_header(&b, &h);
	w_regions2(&b);
	off = w_round(&b, 2, 0);
	EXPECT_ERR(&b, EPROTO, "round", KVMMIG_REC_ROUND, off);
	wb_free(&b);
	w_prefix(&b);
	off = w_round(&b, 3, 0);
	EXPECT_ERR(&b, EPROTO, "round", KVMMIG_REC_ROUND, off);
	wb_free(&b);

	/* ROUND after the STOPPED round. */
	w_prefix_stopped(&b);
	off = w_round(&b, 2, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_ROUND, off);
	wb_free(&b);

	/* STATE, DISCARD and POSTCOPY while the VM still runs. */
	w_prefix(&b);
	off = w_state(&b, W_VCPU, 0, 0, 1, "", "a", 1);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix(&b);
	off = w_index_list(&b, W_DISCARD, 1, &e, 1);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_DISCARD, off);
	wb_free(&b);
	w_prefix(&b);
	off = w_record(&b, W_POSTCOPY, NULL, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_POSTCOPY, off);
	wb_free(&b);

	/* STATE after POSTCOPY, and a second POSTCOPY. */
	w_prefix_stopped(&b);
	w_record(&b, W_POSTCOPY, NULL, 0);
	off = w_state(&b, W_VCPU, 0, 0, 1, "", "a", 1);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	w_record(&b, W_POSTCOPY, NULL, 0);
	off = w_record(&b, W_POSTCOPY, NULL, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_POSTCOPY, off);
	wb_free(&b);

	/* END before the STOPPED round, mid-blob, and after DISCARD alone. */
	w_prefix(&b);
	off = w_end(&b);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_END, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	w_state(&b, W_VCPU, 0, W_MORE, 8, "", "abcd", 4);
	off = w_end(&b);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_END, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	w_index_list(&b, W_DISCARD, 1, &e, 1);
	off = w_end(&b);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_END, off);
	wb_free(&b);

	/* A STATE chunk that does not continue the pending blob. */
	w_prefix_stopped(&b);
	w_state(&b, W_VCPU, 0, W_MORE, 8, "", "abcd", 4);
	off = w_state(&b, W_VCPU, 1, 0, 8, "", "efgh", 4);
	EXPECT_ERR(&b, EPROTO, "instance", KVMMIG_REC_STATE, off);
	wb_free(&b);

	/* Records of the other direction. */
	w_prefix(&b);
	off = w_index_list(&b, W_PAGE_REQUEST, 1, &e, 1);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_PAGE_REQUEST, off);
	wb_free(&b);
	h.flags = W_F_RETURN;
	w_header(&b, &h);
	w_regions2(&b);
	off = w_round(&b, 1, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_ROUND, off);
	wb_free(&b);
}

static void test_other_fields(void)
{
	struct wbuf b = { 0 }, body = { 0 };
	size_t off;

	w_prefix(&b);
	wb_round(&body, 2, 2, 0);
	off = w_record(&b, W_ROUND, body.p, body.len);
	EXPECT_ERR(&b, EOPNOTSUPP, "flags", KVMMIG_REC_ROUND, off);
	wb_free(&b);
	wb_free(&body);

	w_prefix_stopped(&b);
	off = w_state(&b, 4, 0, 0, 1, "", "a", 1);
	EXPECT_ERR(&b, EINVAL, "kind", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_state(&b, W_DEVICE, 0, 2, 1, "", "a", 1);
	EXPECT_ERR(&b, EOPNOTSUPP, "flags", KVMMIG_REC_STATE, off);
	wb_free(&b);
	w_prefix_stopped(&b);
	off = w_state(&b, W_DEVICE, 0, 0, 1, "bad name", "a", 1);
	EXPECT_ERR(&b, EINVAL, "name", KVMMIG_REC_STATE, off);
	wb_free(&b);

	w_prefix(&b);
	off = w_record(&b, W_PAGE_DATA, "\1\0\0\0\0\0\0\0", 8);
	EXPECT_ERR(&b, EINVAL, "count", KVMMIG_REC_PAGE_DATA, off);
	wb_free(&b);
}

static void test_crc_mismatch(void)
{
	struct wbuf b = { 0 };
	uint64_t e = 2;
	size_t off;

	w_prefix(&b);
	off = w_pages(&b, 1, &e, 1, 4096, 0);
	w_round(&b, 2, W_STOPPED);
	w_end(&b);
	EXPECT_OK(&b);
	b.p[off + 8 + 16 + 1000] ^= 0x10;	/* one bit of page contents */
	EXPECT_ERR(&b, EBADMSG, "crc", KVMMIG_REC_PAGE_DATA, off);
	b.p[off + 8 + 16 + 1000] ^= 0x10;
	b.p[off + 8 + 16 + 4096] ^= 1;		/* the CRC itself */
	EXPECT_ERR(&b, EBADMSG, "crc", KVMMIG_REC_PAGE_DATA, off);
	b.p[off + 8 + 16 + 4096] ^= 1;
	b.p[off] = W_ROUND;			/* the type: CRC first, then type */
	EXPECT_ERR(&b, EBADMSG, "crc", KVMMIG_REC_ROUND, off);
	b.p[off] = W_PAGE_DATA;
	b.p[30] ^= 1;				/* the header */
	EXPECT_ERR(&b, EBADMSG, "header_crc", 0, 0);
	wb_free(&b);
}

static void test_missing_end(void)
{
	struct wbuf b = { 0 };

	w_prefix_stopped(&b);
	EXPECT_ERR(&b, ENODATA, "", 0, b.len);
	wb_free(&b);
}

static void test_repeated_end(void)
{
	struct wbuf b = { 0 };
	size_t off;

	w_prefix_stopped(&b);
	w_end(&b);
	off = w_end(&b);
	EXPECT_ERR(&b, EALREADY, "type", 0, off);
	wb_free(&b);
}

static void test_data_after_end(void)
{
	static const size_t tails[] = { 1, 3, 4, 16 };

	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		struct wbuf b = { 0 };
		size_t off;

		w_prefix_stopped(&b);
		off = w_end(&b) + 16;
		wb_zero(&b, tails[i]);
		EXPECT_ERR(&b, ENOTEMPTY, "", 0, off);
		wb_free(&b);
	}
	/* Even a valid optional record. */
	{
		struct wbuf b = { 0 };
		size_t off;

		w_prefix_stopped(&b);
		w_end(&b);
		off = w_record(&b, W_OPTIONAL | 5, NULL, 0);
		EXPECT_ERR(&b, ENOTEMPTY, "", 0, off);
		wb_free(&b);
	}
}

static void test_postcopy_rules(void)
{
	struct wbuf b = { 0 };
	uint64_t all[16], four[4] = { 0 | W_ZERO, 1 | W_ZERO, 2 | W_ZERO, 3 | W_ZERO };
	uint64_t e;
	size_t off;

	for (int i = 0; i < 16; i++)
		all[i] = i | W_ZERO;

	/* Resending a page that was never discarded. */
	w_prefix(&b);
	w_pages(&b, 1, all, 16, 4096, 0);
	w_round(&b, 2, W_STOPPED);
	w_record(&b, W_POSTCOPY, NULL, 0);
	e = 6;
	off = w_pages(&b, 1, &e, 1, 4096, 0);
	EXPECT_ERR(&b, EEXIST, "entry[0].index", KVMMIG_REC_PAGE_DATA, off);
	/* Without page tracking the reader cannot tell. */
	EXPECT_ERR_NOTRACK(&b, ENODATA, "", 0, -1);
	wb_free(&b);

	/* END with pages never delivered after POSTCOPY. */
	w_prefix(&b);
	w_pages(&b, 1, all, 16, 4096, 0);
	w_round(&b, 2, W_STOPPED);
	e = 9;
	w_index_list(&b, W_DISCARD, 1, &e, 1);
	w_record(&b, W_POSTCOPY, NULL, 0);
	w_pages(&b, 7, four, 4, 4096, 0);
	off = w_end(&b);
	EXPECT_ERR(&b, EPROTO, "regions[0]", KVMMIG_REC_END, off);
	wb_free(&b);
	/* ... and the same stream once page 9 has come. */
	w_prefix(&b);
	w_pages(&b, 1, all, 16, 4096, 0);
	w_round(&b, 2, W_STOPPED);
	w_index_list(&b, W_DISCARD, 1, &e, 1);
	w_record(&b, W_POSTCOPY, NULL, 0);
	w_pages(&b, 7, four, 4, 4096, 0);
	w_pages(&b, 1, &e, 1, 4096, 0);
	w_end(&b);
	EXPECT_OK(&b);
	wb_free(&b);
}

/* The message names the record, its offset and the field. */
static void test_error_message(void)
{
	struct wbuf b = { 0 };
	uint64_t e[2] = { 1, 16 };
	char want[200];
	struct parsed p;
	size_t off;

	w_prefix(&b);
	off = w_pages(&b, 1, e, 2, 4096, 0);
	parse(&b, &p);
	snprintf(want, sizeof(want),
		 "PAGE_DATA record at offset %zu: entry[1].index: page 16 outside region 1 (16 pages)",
		 off);
	CHECK_EQ(off, PREFIX_LEN);
	if (strcmp(p.err.msg, want))
		check_fail(__LINE__, "message \"%s\", wanted \"%s\"", p.err.msg, want);
	wb_free(&b);
}

/* ---------------------------------------------------------------------- */
/* Writer */

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

/* ---------------------------------------------------------------------- */
/* migd verify */

static char *verify_buf(const void *data, size_t len, int *status, char **errtext)
{
	char *out = NULL, *err = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *fo = open_memstream(&out, &outlen);
	FILE *fe = open_memstream(&err, &errlen);
	int fd = memfd_create("stream", 0);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET))
		abort();
	*status = migd_verify_fd(fd, "test.kvmmig", fo, fe);
	close(fd);
	fclose(fo);
	fclose(fe);
	*errtext = err;
	return out;
}

static void test_verify(void)
{
	struct kvmmig_stream_membuf mb;
	char *out, *err;
	int status;

	representative(&mb);
	out = verify_buf(mb.data, mb.len, &status, &err);
	CHECK_EQ(status, 0);
	CHECK(strstr(out, "test.kvmmig: forward stream, format v1, page size 4096"));
	CHECK(strstr(out, "region 7 \"ram1\": 16384 bytes, 4 pages"));
	CHECK(strstr(out, "rounds: 3 (last one stopped)"));
	CHECK(strstr(out, "pages: 5 full, 19 zero in 6 PAGE_DATA records"));
	CHECK(strstr(out, "state: 1 vcpu, 0 nested, 1 device blobs, 9100 bytes"));
	CHECK(strstr(out, "postcopy: 1 pages discarded, 5 pages sent after the switch"));
	CHECK(strstr(out, "optional records skipped: 2"));
	CHECK(strstr(out, ": OK"));
	CHECK_EQ(strlen(err), 0);
	if (verbose)
		printf("%s", out);
	free(out);
	free(err);

	mb.data[mb.len - 24] ^= 1;	/* CRC of the last optional record */
	out = verify_buf(mb.data, mb.len, &status, &err);
	CHECK_EQ(status, 1);
	CHECK(strstr(err, "migd verify: test.kvmmig: optional(0x80000002) record at offset"));
	CHECK(strstr(err, "crc: CRC32C mismatch"));
	free(out);
	free(err);
	kvmmig_stream_membuf_free(&mb);
}

/* The command line: exit codes, "-" for stdin, usage errors. */
static int run_migd(const char *args, const char *stdin_path)
{
	const char *migd = getenv("MIGD");
	char cmd[1024];
	int status;

	snprintf(cmd, sizeof(cmd), "%s %s <%s >/dev/null 2>&1", migd, args,
		 stdin_path ? stdin_path : "/dev/null");
	status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_verify_cli(void)
{
	char good[] = "/tmp/stream_test_XXXXXX", bad[] = "/tmp/stream_test_XXXXXX";
	struct kvmmig_stream_membuf mb;
	char args[256];
	int fd;

	const char *migd = getenv("MIGD");

	/* make check sets it: a migd that is not there fails, never skips. */
	if (!migd || access(migd, X_OK)) {
		check_fail(__LINE__, "test_verify_cli: no migd to run (MIGD=%s)",
			   migd ? migd : "unset");
		return;
	}
	representative(&mb);
	fd = mkstemp(good);
	CHECK(fd >= 0 && write(fd, mb.data, mb.len) == (ssize_t)mb.len);
	close(fd);
	mb.data[100] ^= 1;
	fd = mkstemp(bad);
	CHECK(fd >= 0 && write(fd, mb.data, mb.len) == (ssize_t)mb.len);
	close(fd);
	kvmmig_stream_membuf_free(&mb);

	snprintf(args, sizeof(args), "verify %s", good);
	CHECK_EQ(run_migd(args, NULL), 0);
	snprintf(args, sizeof(args), "verify -q %s", good);
	CHECK_EQ(run_migd(args, NULL), 0);
	CHECK_EQ(run_migd("verify -", good), 0);
	snprintf(args, sizeof(args), "verify %s", bad);
	CHECK_EQ(run_migd(args, NULL), 1);
	CHECK_EQ(run_migd("verify -", bad), 1);
	CHECK_EQ(run_migd("verify /nonexistent/stream", NULL), 2);
	CHECK_EQ(run_migd("verify", NULL), 2);
	CHECK_EQ(run_migd("verify a b", NULL), 2);
	CHECK_EQ(run_migd("verify --help", NULL), 0);
	CHECK_EQ(run_migd("--help", NULL), 0);
	CHECK_EQ(run_migd("--version", NULL), 0);
	/* Usage errors exit 2, like "migd verify" and failures 1. */
	CHECK_EQ(run_migd("", NULL), 2);
	unlink(good);
	unlink(bad);
}

/* ---------------------------------------------------------------------- */

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_crc32c),
	T(test_roundtrip_regions_round_end),
	T(test_roundtrip_pages),
	T(test_roundtrip_pages_split),
	T(test_roundtrip_state),
	T(test_roundtrip_postcopy),
	T(test_roundtrip_return_stream),
	T(test_roundtrip_optional),
	T(test_max_body),
	T(test_truncation_every_offset),
	T(test_streaming_source),
	T(test_bad_magic),
	T(test_unknown_version),
	T(test_header_reserved),
	T(test_record_reserved),
	T(test_unknown_mandatory_record),
	T(test_unknown_optional_record_skipped),
	T(test_oversized_length),
	T(test_length_disagrees_with_contents),
	T(test_page_index_out_of_range),
	T(test_duplicate_region),
	T(test_region_fields),
	T(test_header_fields),
	T(test_record_out_of_order),
	T(test_other_fields),
	T(test_crc_mismatch),
	T(test_missing_end),
	T(test_repeated_end),
	T(test_data_after_end),
	T(test_postcopy_rules),
	T(test_error_message),
	T(test_writer_rules),
	T(test_new_id),
	T(test_verify),
	T(test_verify_cli),
#undef T
};

int main(int argc, char **argv)
{
	harness_init(argc, argv);
	return harness_run(tests, sizeof(tests) / sizeof(tests[0]));
}
