/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stream tests share: parsing a whole stream with the library's
 * reader and checking how it ends (EXPECT_OK, EXPECT_ERR), and making
 * streams with the library's writer into memory, among them a
 * representative one with every forward record type.
 */
#ifndef MIGD_TESTS_STREAM_UTIL_H
#define MIGD_TESTS_STREAM_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/stream.h"
#include "wire.h"

/* ---------------------------------------------------------------------- */
/* Parsing */

#define MAX_RECS 512

struct parsed {
	int ret;
	struct kvmmig_stream_error err;
	unsigned int nrec;
	uint32_t types[MAX_RECS];
	uint64_t offsets[MAX_RECS];
	bool tracking;
};

/*
 * Reads every record from @src; @p gets the outcome, the error, the
 * records' types and offsets, and whether the reader tracked pages.
 */
void parse_src(const struct kvmmig_stream_source *src, enum kvmmig_stream_mode mode,
	       uint64_t track, struct parsed *p);
/* The same from memory. */
void parse_mode(const void *data, size_t len, enum kvmmig_stream_mode mode,
		uint64_t track, struct parsed *p);
/* Either kind of stream, pages tracked. */
void parse(const struct wbuf *b, struct parsed *p);

/* Report at @line unless @b is valid, or unless it fails just as told. */
void expect_ok_line(int line, const struct wbuf *b);
void expect_err_line(int line, const struct wbuf *b, uint64_t track,
		     int err, const char *field, uint32_t rec_type,
		     long long offset);

#define EXPECT_OK(b) expect_ok_line(__LINE__, b)
#define EXPECT_ERR(b, err, field, type, off) \
	expect_err_line(__LINE__, b, 1 << 20, err, field, type, off)
#define EXPECT_ERR_NOTRACK(b, err, field, type, off) \
	expect_err_line(__LINE__, b, 0, err, field, type, off)

/* ---------------------------------------------------------------------- */
/* Writing with the library */

/* id 1 "ram0" of 16 pages and id 7 "ram1" of 4, as w_regions2() writes them. */
extern const struct kvmmig_stream_region regions2[2];

/* The header w_hdr_default() writes, with @flags. */
void default_hdr(struct kvmmig_stream_hdr *h, uint32_t flags);
/* A writer of that header into @mb; aborts if it cannot be made. */
struct kvmmig_stream_writer *new_writer(struct kvmmig_stream_membuf *mb,
					uint32_t flags,
					const struct kvmmig_stream_writer_opts *opts);
/* Page contents the same way wire.c fills them. */
void fill_page(uint8_t *p, uint64_t index, uint8_t seed);
/* A valid forward stream of 18 records, every forward record type among them. */
void representative(struct kvmmig_stream_membuf *mb);

#endif /* MIGD_TESTS_STREAM_UTIL_H */
