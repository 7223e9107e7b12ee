// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty log of the file backend (backend/dirtylog.c), two mappings of
 * one log as the VMM and migd have them: pages marked and harvested once,
 * a pause request nobody acknowledges, and a file that is not a log.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/dirtylog.h"
#include "harness.h"

#define PS	4096u

static void test_dirtylog(void)
{
	char path[] = "/tmp/migd_test_log_XXXXXX";
	struct migd_dirtylog a, b;
	uint64_t bm[3] = { 0 };
	int fd = mkstemp(path);

	close(fd);
	CHECK_EQ(migd_dirtylog_create(&a, path, 130, PS), 0);
	CHECK_EQ(migd_dirtylog_open(&b, path), 0);
	CHECK_EQ(b.npages, 130);
	migd_dirtylog_mark(&a, 0);
	migd_dirtylog_mark(&a, 64);
	migd_dirtylog_mark(&a, 129);
	CHECK_EQ(migd_dirtylog_harvest(&b, 64, 66, bm), 2);
	CHECK_EQ(bm[0], 1);
	CHECK_EQ(bm[1], 2);
	/* Taken once: a second harvest finds nothing, the rest is still there. */
	CHECK_EQ(migd_dirtylog_harvest(&b, 64, 66, bm), 0);
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(migd_dirtylog_harvest(&b, 0, 130, bm), 1);
	CHECK_EQ(bm[0], 1);
	/* Nobody acknowledges: the pause request times out and is withdrawn. */
	CHECK_EQ(migd_dirtylog_pause(&b, 20, NULL, NULL), -ETIMEDOUT);
	CHECK_EQ(migd_dirtylog_state(&a), MIGD_VM_RUNNING);
	migd_dirtylog_close(&a);
	migd_dirtylog_close(&b);
	/* Not a log. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "hello", 5) == 5);
	close(fd);
	CHECK_EQ(migd_dirtylog_open(&b, path), -EINVAL);
	unlink(path);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_dirtylog),
#undef T
};

HARNESS_MAIN(tests, NULL)
