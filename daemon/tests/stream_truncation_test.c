// SPDX-License-Identifier: GPL-2.0
/*
 * Input that stops early or comes in pieces: the representative stream
 * cut at every offset (each cut is ENODATA, and ASan sees any read past
 * the end), read through a source that hands out a few bytes at a time,
 * and a read error half way that comes back as itself.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"

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

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_truncation_every_offset),
	T(test_streaming_source),
#undef T
};

HARNESS_MAIN(tests, NULL)
