// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input the reader rejects before looking at what a record means:
 * the header (magic, version, its fields and reserved words), the framing
 * of records (types it does not know, body lengths up to MAX_BODY and
 * past it, reserved words and padding), the end of the stream (missing,
 * repeated, data after it), and the message an error gives.  Each case
 * is a stream from the encoder in wire.c and the error class, field,
 * record type and offset of the specification's error table.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"
#include "wire.h"

/* Offset of the first record after w_prefix(): header, REGIONS, ROUND 1. */
#define PREFIX_LEN	(64 + 16 + 8 + 2 * 64 + 16 + 16)

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

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_bad_magic),
	T(test_unknown_version),
	T(test_header_reserved),
	T(test_header_fields),
	T(test_record_reserved),
	T(test_unknown_mandatory_record),
	T(test_unknown_optional_record_skipped),
	T(test_oversized_length),
	T(test_max_body),
	T(test_missing_end),
	T(test_repeated_end),
	T(test_data_after_end),
	T(test_error_message),
#undef T
};

HARNESS_MAIN(tests, NULL)
