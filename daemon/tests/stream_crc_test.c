// SPDX-License-Identifier: GPL-2.0
/*
 * Checksums: the library's CRC-32C (the fast one and the portable one)
 * against the specification's bit-at-a-time reference, at every length
 * and misalignment, and the reader's EBADMSG for a flipped bit in a
 * record's body, its CRC, its type or the header.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "stream/crc32c.h"
#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"
#include "wire.h"

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

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_crc32c),
	T(test_crc_mismatch),
#undef T
};

HARNESS_MAIN(tests, NULL)
