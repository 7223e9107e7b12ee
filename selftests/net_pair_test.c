// SPDX-License-Identifier: GPL-2.0
/*
 * The two test hosts reach each other: a streams data to b over one TCP
 * connection and b checks every byte.  The rate it logs is the plain
 * single-stream TCP figure migd's throughput is compared with.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"
#include "pair.h"

#define STREAM_PORT	7701
#define STREAM_BYTES	(64UL << 20)
#define CHUNK		(1UL << 20)
#define CONNECT_TIMEOUT	60

static uint8_t pattern_byte(uint64_t off)
{
	return (off * 31 + (off >> 20) + 7) & 0xff;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(tcp_stream_between_hosts)
{
	uint64_t off, i, got = 0, mismatches = 0;
	uint8_t *buf;
	double start;
	int fd;

	if (!pair_host())
		SKIP(return, "not running on a pair of test hosts");

	buf = malloc(CHUNK);
	ASSERT_NE(NULL, buf);
	fd = __pair_connect(STREAM_PORT, CONNECT_TIMEOUT);
	ASSERT_LE(0, fd) TH_LOG("connecting the hosts: %s", strerror(-fd));

	start = now_s();
	if (pair_host() == 'a') {
		for (off = 0; off < STREAM_BYTES; off += CHUNK) {
			for (i = 0; i < CHUNK; i++)
				buf[i] = pattern_byte(off + i);
			ASSERT_EQ(0, __pair_send_all(fd, buf, CHUNK));
		}
		/* b answers with the number of bytes it verified. */
		ASSERT_EQ(0, __pair_recv_all(fd, &got, sizeof(got)));
		ASSERT_EQ(STREAM_BYTES, got);
		TH_LOG("single-stream TCP a->b: %.1f MB/s",
		       STREAM_BYTES / 1e6 / (now_s() - start));
	} else {
		for (off = 0; off < STREAM_BYTES; off += CHUNK) {
			ASSERT_EQ(0, __pair_recv_all(fd, buf, CHUNK));
			for (i = 0; i < CHUNK; i++)
				mismatches += buf[i] != pattern_byte(off + i);
			got += CHUNK;
		}
		ASSERT_EQ(0, mismatches);
		ASSERT_EQ(0, __pair_send_all(fd, &got, sizeof(got)));
	}
	close(fd);
	free(buf);
}

KVMMIG_HARNESS_MAIN
