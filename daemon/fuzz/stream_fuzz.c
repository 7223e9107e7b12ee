// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the migration stream reader.
 *
 * Beyond "does not crash", each input is checked for three properties:
 *  - reading it in one piece and in odd-sized pieces gives the same
 *    records and the same error (the streaming logic is transparent);
 *  - a stream the reader accepts can be rewritten by the writer from the
 *    decoded records, the writer accepts every call, and the reader
 *    accepts the result (writer and reader agree on the rules);
 *  - unless STATE chunking differs, the rewrite is byte-identical (the
 *    decoding loses nothing and the encoding is canonical).
 * A violation aborts, which libFuzzer reports as a crash.  A custom
 * mutator keeps most mutants' checksums right (see fix_crcs()).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/crc32c.h"
#include "stream/stream.h"

#define TRACK_PAGES	(1u << 16)
#define MAX_DIGEST	4096

struct digest {
	int ret;
	struct kvmmig_stream_error err;
	unsigned int n;
	struct {
		uint32_t type;
		uint32_t body_len;
		uint64_t offset;
		uint32_t crc;
	} rec[MAX_DIGEST];
};

struct pieces {
	const uint8_t *data;
	size_t len, pos;
	uint32_t rng;
};

/* Reads of 1 to 67 bytes, the sizes varying pseudo-randomly. */
static ssize_t pieces_read(void *opaque, void *buf, size_t len)
{
	struct pieces *p = opaque;
	size_t n = p->len - p->pos;
	size_t want;

	p->rng = p->rng * 1103515245u + 12345u;
	want = 1 + (p->rng >> 16) % 67;
	if (n > want)
		n = want;
	if (n > len)
		n = len;
	memcpy(buf, p->data + p->pos, n);
	p->pos += n;
	return n;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void __attribute__((noreturn)) bug(const char *what)
{
	fprintf(stderr, "stream_fuzz: %s\n", what);
	abort();
}

static void digest_src(const struct kvmmig_stream_source *src, struct digest *d)
{
	struct kvmmig_stream_reader_opts opts = { .track_pages = TRACK_PAGES };
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_rec rec;
	int ret;

	memset(d, 0, sizeof(*d));
	if (kvmmig_stream_reader_new(&r, src, &opts))
		bug("reader_new");
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		if (d->n < MAX_DIGEST) {
			d->rec[d->n].type = rec.type;
			d->rec[d->n].body_len = rec.body_len;
			d->rec[d->n].offset = rec.offset;
			d->rec[d->n].crc = kvmmig_crc32c(0, rec.body, rec.body_len);
		}
		d->n++;
	}
	d->ret = ret;
	d->err = *kvmmig_stream_reader_error(r);
	if (ret && (d->err.err != -ret || !d->err.msg[0]))
		bug("error not recorded");
	kvmmig_stream_reader_free(r);
}

/* Rewrites a stream the reader accepted; returns whether STATE was chunked. */
static bool rewrite(const uint8_t *data, size_t size, struct kvmmig_stream_membuf *out)
{
	struct kvmmig_stream_writer_opts wopts = { .track_pages = TRACK_PAGES };
	struct kvmmig_stream_reader_opts ropts = { .track_pages = TRACK_PAGES };
	struct kvmmig_stream_writer *w = NULL;
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_rec rec;
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_page *pages = NULL;
	uint64_t *index = NULL;
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	bool chunked = false;
	int ret;

	kvmmig_stream_source_mem(&src, &m, data, size);
	if (kvmmig_stream_reader_new(&r, &src, &ropts) ||
	    kvmmig_stream_read_header(r, &hdr))
		bug("header of a valid stream");
	kvmmig_stream_sink_membuf(&sink, out);
	if (kvmmig_stream_writer_new(&w, &sink, &hdr, &wopts))
		bug("writer refuses a header the reader accepted");

	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0) {
		switch (rec.type) {
		case KVMMIG_REC_REGIONS:
			ret = kvmmig_stream_write_regions(w, rec.regions.regions,
							  rec.regions.count);
			break;
		case KVMMIG_REC_ROUND:
			ret = kvmmig_stream_write_round(w, rec.round.round, rec.round.flags,
							rec.round.dirty_pages);
			break;
		case KVMMIG_REC_PAGE_DATA: {
			struct kvmmig_stream_page_iter it;
			size_t n = 0;

			pages = realloc(pages, rec.pages.count * sizeof(*pages));
			if (!pages)
				bug("oom");
			kvmmig_stream_page_iter_init(&it, &rec);
			while (kvmmig_stream_page_iter_next(&it, &pages[n]))
				n++;
			if (n != rec.pages.count)
				bug("page iterator count");
			ret = kvmmig_stream_write_pages(w, rec.pages.region->id, pages, n);
			break;
		}
		case KVMMIG_REC_DISCARD:
		case KVMMIG_REC_PAGE_REQUEST:
			index = realloc(index, rec.pages.count * sizeof(*index));
			if (!index)
				bug("oom");
			for (uint32_t i = 0; i < rec.pages.count; i++)
				index[i] = kvmmig_stream_rec_index(&rec, i);
			if (rec.type == KVMMIG_REC_DISCARD)
				ret = kvmmig_stream_write_discard(w, rec.pages.region->id,
								  index, rec.pages.count);
			else
				ret = kvmmig_stream_write_page_request(w, rec.pages.region->id,
								       index, rec.pages.count);
			break;
		case KVMMIG_REC_STATE:
			if (rec.state.offset != blob_len)
				bug("STATE chunk offset");
			if (rec.state.len) {
				blob = realloc(blob, blob_len + rec.state.len);
				if (!blob)
					bug("oom");
				memcpy(blob + blob_len, rec.state.data, rec.state.len);
				blob_len += rec.state.len;
			}
			if (rec.state.flags & KVMMIG_STATE_F_MORE) {
				chunked = true;
				ret = 0;
				break;
			}
			if (blob_len != rec.state.total_size)
				bug("STATE blob size");
			ret = kvmmig_stream_write_state(w, &rec.state.desc, blob, blob_len);
			blob_len = 0;
			break;
		case KVMMIG_REC_POSTCOPY:
			ret = kvmmig_stream_write_postcopy(w);
			break;
		case KVMMIG_REC_END:
			ret = kvmmig_stream_write_end(w);
			break;
		default:
			ret = kvmmig_stream_write_optional(w, rec.type, rec.body, rec.body_len);
			break;
		}
		if (ret) {
			fprintf(stderr, "writer: %s\n", kvmmig_stream_writer_error(w)->msg);
			bug("writer refuses a record the reader accepted");
		}
	}
	if (ret)
		bug("second read of a valid stream failed");
	free(pages);
	free(index);
	free(blob);
	kvmmig_stream_writer_free(w);
	kvmmig_stream_reader_free(r);
	return chunked;
}

/*
 * Almost any mutation breaks a CRC, which would leave the fuzzer stuck at
 * the checksum check.  So after most mutations walk the framing and make
 * every checksum right again; one time in eight leave it as it is so the
 * CRC paths stay covered.
 */
static void fix_crcs(uint8_t *data, size_t size)
{
	size_t off = KVMMIG_STREAM_HEADER_SIZE;

	if (size < KVMMIG_STREAM_HEADER_SIZE)
		return;
	put32(data + 60, kvmmig_crc32c(0, data, 60));
	while (size - off >= KVMMIG_REC_HDR_SIZE) {
		uint32_t len = get32(data + off + 4);
		uint64_t covered = KVMMIG_REC_HDR_SIZE + (uint64_t)len + ((8 - len % 8) % 8);

		if (covered + KVMMIG_REC_TRAILER_SIZE > size - off)
			break;
		put32(data + off + covered, kvmmig_crc32c(0, data + off, covered));
		off += covered + KVMMIG_REC_TRAILER_SIZE;
	}
}

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size,
			       unsigned int seed)
{
	size = LLVMFuzzerMutate(data, size, max_size);
	if (seed % 8)
		fix_crcs(data, size);
	return size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct digest whole, split;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_memsrc m;
	struct kvmmig_stream_membuf out = { 0 };
	struct pieces p = { .data = data, .len = size, .rng = (uint32_t)size };
	bool chunked;

	kvmmig_stream_source_mem(&src, &m, data, size);
	digest_src(&src, &whole);

	src.read = pieces_read;
	src.opaque = &p;
	digest_src(&src, &split);
	if (whole.ret != split.ret || whole.n != split.n ||
	    whole.err.err != split.err.err || whole.err.offset != split.err.offset ||
	    whole.err.rec_type != split.err.rec_type ||
	    strcmp(whole.err.field, split.err.field) ||
	    strcmp(whole.err.msg, split.err.msg) ||
	    memcmp(whole.rec, split.rec,
		   (whole.n < MAX_DIGEST ? whole.n : MAX_DIGEST) * sizeof(whole.rec[0]))) {
		fprintf(stderr, "whole: %d %s\nsplit: %d %s\n", whole.ret, whole.err.msg,
			split.ret, split.err.msg);
		bug("reading in pieces changes the outcome");
	}
	if (whole.ret)
		return 0;

	chunked = rewrite(data, size, &out);
	kvmmig_stream_source_mem(&src, &m, out.data, out.len);
	digest_src(&src, &split);
	if (split.ret) {
		fprintf(stderr, "rewrite: %s\n", split.err.msg);
		bug("the reader rejects the writer's rewrite");
	}
	if (!chunked && (out.len != size || memcmp(out.data, data, size)))
		bug("rewrite differs from a valid input");
	kvmmig_stream_membuf_free(&out);
	return 0;
}
