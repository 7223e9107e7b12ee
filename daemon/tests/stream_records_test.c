// SPDX-License-Identifier: GPL-2.0
/*
 * Records that are well framed but wrong in what they say or where they
 * stand, which the reader rejects: lengths that disagree with contents,
 * page indexes outside their region and unknown region ids, the fields
 * of REGIONS and of other records, records out of order, and the rules
 * of post-copy.  Each case is a stream from the encoder in wire.c and
 * the error class, field, record type and offset of the specification's
 * error table.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"
#include "wire.h"

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

/* Header (RETURN and @flags) and REGIONS of a return stream. */
static void return_prefix(struct wbuf *b, uint32_t flags)
{
	struct w_hdr h;

	w_hdr_default(&h);
	h.flags = W_F_RETURN | flags;
	w_header(b, &h);
	w_regions2(b);
}

static void test_committed_rules(void)
{
	struct wbuf b = { 0 };
	uint64_t e = 3;
	size_t off;

	/* The valid forms: promised and sent, after page requests. */
	return_prefix(&b, W_F_COMMITTED);
	w_index_list(&b, W_PAGE_REQUEST, 1, &e, 1);
	w_record(&b, W_COMMITTED, NULL, 0);
	w_end(&b);
	EXPECT_OK(&b);
	wb_free(&b);
	/* A forward stream may ask for it; that changes nothing in it. */
	{
		struct w_hdr h;

		w_hdr_default(&h);
		h.flags = W_F_COMMITTED;
		w_header(&b, &h);
		w_regions2(&b);
		w_round(&b, 1, W_STOPPED);
		w_end(&b);
		EXPECT_OK(&b);
		wb_free(&b);
	}

	/* In a forward stream, even one that asked for it. */
	w_prefix_stopped(&b);
	off = w_record(&b, W_COMMITTED, NULL, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_COMMITTED, off);
	wb_free(&b);

	/* In a return stream that did not promise it. */
	return_prefix(&b, 0);
	off = w_record(&b, W_COMMITTED, NULL, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_COMMITTED, off);
	wb_free(&b);

	/* Before REGIONS. */
	{
		struct w_hdr h;

		w_hdr_default(&h);
		h.flags = W_F_RETURN | W_F_COMMITTED;
		w_header(&b, &h);
		off = w_record(&b, W_COMMITTED, NULL, 0);
		EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_COMMITTED, off);
		wb_free(&b);
	}

	/* Twice. */
	return_prefix(&b, W_F_COMMITTED);
	w_record(&b, W_COMMITTED, NULL, 0);
	off = w_record(&b, W_COMMITTED, NULL, 0);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_COMMITTED, off);
	wb_free(&b);

	/* With a body. */
	return_prefix(&b, W_F_COMMITTED);
	off = w_record(&b, W_COMMITTED, "\0\0\0\0\0\0\0\0", 8);
	EXPECT_ERR(&b, EUCLEAN, "body_length", KVMMIG_REC_COMMITTED, off);
	wb_free(&b);

	/* After END: nothing may follow END. */
	return_prefix(&b, W_F_COMMITTED);
	w_record(&b, W_COMMITTED, NULL, 0);
	w_end(&b);
	off = w_record(&b, W_COMMITTED, NULL, 0);
	EXPECT_ERR(&b, ENOTEMPTY, "", 0, off);
	wb_free(&b);

	/* Promised but never sent. */
	return_prefix(&b, W_F_COMMITTED);
	off = w_end(&b);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_END, off);
	wb_free(&b);

	/* A page request after it: every page is in place already. */
	return_prefix(&b, W_F_COMMITTED);
	w_record(&b, W_COMMITTED, NULL, 0);
	off = w_index_list(&b, W_PAGE_REQUEST, 1, &e, 1);
	EXPECT_ERR(&b, EPROTO, "type", KVMMIG_REC_PAGE_REQUEST, off);
	wb_free(&b);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_length_disagrees_with_contents),
	T(test_page_index_out_of_range),
	T(test_duplicate_region),
	T(test_region_fields),
	T(test_record_out_of_order),
	T(test_other_fields),
	T(test_postcopy_rules),
	T(test_committed_rules),
#undef T
};

HARNESS_MAIN(tests, NULL)
