// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the fuzzer's seed corpus with the stream writer: small valid
 * streams that between them use every record type, flag and STATE kind,
 * so that libFuzzer starts deep inside the format instead of at the magic.
 *
 * Usage: mkcorpus DIR
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

struct seed {
	struct kvmmig_stream_membuf mb;
	struct kvmmig_stream_writer *w;
};

static const char *dir;
static int nseeds;

static void check(struct seed *s, int ret, const char *what)
{
	if (!ret)
		return;
	fprintf(stderr, "mkcorpus: seed %d: %s: %s\n", nseeds, what,
		kvmmig_stream_writer_error(s->w)->msg);
	exit(1);
}

static void begin(struct seed *s, uint32_t flags, uint32_t page_size,
		  uint32_t max_body, const struct kvmmig_stream_region *regions,
		  unsigned int nregions)
{
	struct kvmmig_stream_writer_opts opts = {
		.max_body = max_body, .track_pages = 1u << 16,
	};
	struct kvmmig_stream_hdr hdr = {
		.flags = flags, .page_size = page_size, .sender_minor = 1,
	};
	struct kvmmig_stream_sink sink;

	memset(&s->mb, 0, sizeof(s->mb));
	/* A fixed id keeps the corpus reproducible. */
	for (int i = 0; i < 16; i++)
		hdr.migration_id[i] = (uint8_t)(0xa0 + i + nseeds);
	kvmmig_stream_sink_membuf(&sink, &s->mb);
	if (kvmmig_stream_writer_new(&s->w, &sink, &hdr, &opts)) {
		fprintf(stderr, "mkcorpus: writer_new failed\n");
		exit(1);
	}
	check(s, kvmmig_stream_write_regions(s->w, regions, nregions), "regions");
}

static void finish(struct seed *s)
{
	char path[4096];
	int fd;

	check(s, kvmmig_stream_write_end(s->w), "end");
	kvmmig_stream_writer_free(s->w);
	snprintf(path, sizeof(path), "%s/seed-%02d.kvmmig", dir, nseeds++);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, s->mb.data, s->mb.len) != (ssize_t)s->mb.len ||
	    close(fd)) {
		fprintf(stderr, "mkcorpus: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	kvmmig_stream_membuf_free(&s->mb);
}

static uint8_t page_a[65536], page_b[65536];

static void pages(struct seed *s, uint32_t region, const uint64_t *idx, size_t n)
{
	struct kvmmig_stream_page pg[64];

	for (size_t i = 0; i < n; i++) {
		pg[i].index = idx[i];
		/* A mix of contents, NULL (zero) and all-zero contents. */
		pg[i].data = i % 3 == 0 ? page_a : i % 3 == 1 ? NULL : page_b;
	}
	check(s, kvmmig_stream_write_pages(s->w, region, pg, n), "pages");
}

int main(int argc, char **argv)
{
	static const struct kvmmig_stream_region two[] = {
		{ .id = 0, .size = 8 * 4096, .name = "pc.ram" },
		{ .id = 5, .size = 2 * 4096, .name = "node1.ram" },
	};
	static const struct kvmmig_stream_region one64k[] = {
		{ .id = 1, .size = 2 * 65536, .name = "big" },
	};
	static const uint64_t i0[] = { 0, 1, 2, 5, 7 }, i1[] = { 0, 1 }, i2[] = { 3, 6 };
	struct kvmmig_stream_state_desc vcpu = { KVMMIG_STATE_VCPU, 0, 1, "" };
	struct kvmmig_stream_state_desc dev = { KVMMIG_STATE_DEVICE, 1, 7, "serial0" };
	struct kvmmig_stream_state_desc nested = { KVMMIG_STATE_NESTED, 0, 0, "" };
	uint8_t blob[600], nst[160] = { 0 };
	struct seed s;

	if (argc != 2) {
		fprintf(stderr, "usage: mkcorpus DIR\n");
		return 2;
	}
	dir = argv[1];
	for (size_t i = 0; i < sizeof(page_a); i++)
		page_a[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)i;
	nst[2] = 1;		/* SVM */
	nst[4] = sizeof(nst);	/* size */

	/* The smallest valid stream: a paused save of untouched memory. */
	begin(&s, 0, 4096, 0, two, 2);
	check(&s, kvmmig_stream_write_round(s.w, 1, KVMMIG_ROUND_F_STOPPED, 0), "round");
	finish(&s);

	/* Precopy rounds with pages, then state of every kind. */
	begin(&s, 0, 4096, 0, two, 2);
	check(&s, kvmmig_stream_write_round(s.w, 1, 0, 10), "round");
	pages(&s, 0, i0, 5);
	pages(&s, 5, i1, 2);
	check(&s, kvmmig_stream_write_round(s.w, 2, 0, 2), "round");
	pages(&s, 0, i2, 2);
	check(&s, kvmmig_stream_write_round(s.w, 3, KVMMIG_ROUND_F_STOPPED, 1), "round");
	pages(&s, 0, i1, 1);
	check(&s, kvmmig_stream_write_state(s.w, &vcpu, blob, 200), "vcpu");
	check(&s, kvmmig_stream_write_state(s.w, &nested, nst, sizeof(nst)), "nested");
	check(&s, kvmmig_stream_write_state(s.w, &dev, blob, 0), "device");
	finish(&s);

	/* STATE split into chunks, optional records around them. */
	begin(&s, 1u << 16, 4096, 4096 + 16, two, 2);
	check(&s, kvmmig_stream_write_optional(s.w, KVMMIG_REC_OPTIONAL | 1, "hi", 2), "opt");
	check(&s, kvmmig_stream_write_round(s.w, 1, KVMMIG_ROUND_F_STOPPED, 0), "round");
	{
		static uint8_t big[9000];

		memset(big, 0x3c, sizeof(big));
		check(&s, kvmmig_stream_write_state(s.w, &dev, big, sizeof(big)), "chunks");
	}
	check(&s, kvmmig_stream_write_optional(s.w, 0xfffffff0, blob, 13), "opt");
	finish(&s);

	/* Hybrid post-copy: precopy, discard, switch, the rest of the pages. */
	begin(&s, 0, 4096, 0, two, 2);
	{
		static const uint64_t all[] = { 0, 1, 2, 3, 4, 5, 6, 7 }, d[] = { 2, 4 };
		static const uint64_t rest0[] = { 2, 4 }, rest1[] = { 0, 1 };

		check(&s, kvmmig_stream_write_round(s.w, 1, 0, 8), "round");
		pages(&s, 0, all, 8);
		check(&s, kvmmig_stream_write_round(s.w, 2, KVMMIG_ROUND_F_STOPPED, 2), "round");
		check(&s, kvmmig_stream_write_state(s.w, &vcpu, blob, 64), "vcpu");
		check(&s, kvmmig_stream_write_discard(s.w, 0, d, 2), "discard");
		check(&s, kvmmig_stream_write_postcopy(s.w), "postcopy");
		pages(&s, 0, rest0, 2);
		pages(&s, 5, rest1, 2);
	}
	finish(&s);

	/* The return stream of that migration. */
	begin(&s, KVMMIG_STREAM_F_RETURN, 4096, 0, two, 2);
	check(&s, kvmmig_stream_write_page_request(s.w, 0, i2, 2), "request");
	check(&s, kvmmig_stream_write_page_request(s.w, 5, i1, 1), "request");
	finish(&s);

	/* 64 KiB pages, in a stream that asks for COMMITTED. */
	begin(&s, KVMMIG_STREAM_F_COMMITTED, 65536, 0, one64k, 1);
	check(&s, kvmmig_stream_write_round(s.w, 1, KVMMIG_ROUND_F_STOPPED, 2), "round");
	pages(&s, 1, i1, 2);
	finish(&s);

	/* Its return stream: the pages are in before the hand-over. */
	begin(&s, KVMMIG_STREAM_F_RETURN | KVMMIG_STREAM_F_COMMITTED, 65536, 0, one64k, 1);
	check(&s, kvmmig_stream_write_committed(s.w), "committed");
	finish(&s);

	printf("mkcorpus: %d seeds in %s\n", nseeds, dir);
	return 0;
}
