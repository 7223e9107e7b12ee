// SPDX-License-Identifier: GPL-2.0
/*
 * "migd verify": its report on the representative stream and on a damaged
 * one, then the command line ($MIGD): exit codes, "-" for standard
 * input, usage errors.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/verify.h"
#include "stream/stream.h"
#include "harness.h"
#include "stream_util.h"

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

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_verify),
	T(test_verify_cli),
#undef T
};

HARNESS_MAIN(tests, NULL)
