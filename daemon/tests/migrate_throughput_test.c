// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput on loopback: a migration of 128 MiB between real migd
 * processes ($MIGD), a fifth of it zero pages, to /dev/shm when there is
 * one, against a plain TCP copy of the same size in the same run.  It
 * prints both and fails only if the migration fails, never on a figure.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "guest.h"
#include "harness.h"
#include "migd_run.h"

struct sink_arg {
	int lfd;
	uint64_t got;
};

static void *tcp_sink(void *arg)
{
	struct sink_arg *a = arg;
	int c = accept(a->lfd, NULL, NULL);
	char *buf = malloc(1 << 20);
	ssize_t n;

	while ((n = read(c, buf, 1 << 20)) > 0)
		a->got += n;
	free(buf);
	close(c);
	return NULL;
}

static double plain_tcp_mbps(uint64_t bytes)
{
	struct sink_arg a = { 0 };
	char *buf = calloc(1, 1 << 20);
	uint64_t t0, sent = 0;
	pthread_t th;
	int port, s;

	/* Random-ish contents, as a page stream would have. */
	for (int i = 0; i < (1 << 20); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	a.lfd = listen_any(&port);
	pthread_create(&th, NULL, tcp_sink, &a);
	s = connect_to(port);
	t0 = migd_now_ns();
	while (sent < bytes) {
		ssize_t n = write(s, buf, 1 << 20);

		if (n <= 0)
			break;
		sent += n;
	}
	close(s);
	pthread_join(th, NULL);
	close(a.lfd);
	free(buf);
	return (double)a.got * 1e3 / (migd_now_ns() - t0);
}

static double json_num(const char *path, const char *key)
{
	char *s = slurp(path), *p = strstr(s, key);
	double v = p ? atof(p + strlen(key)) : 0;

	free(s);
	return v;
}

static void test_throughput(void)
{
	const uint64_t npages = 32768;	/* 128 MiB */
	char dst[160];
	double tcp, mig;
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, npages, 10);
	/* tmpfs when there is one, so the disk does not set the pace. */
	snprintf(dst, sizeof(dst), "%s", access("/dev/shm", W_OK) ? e.dst : "/dev/shm/migd_test_dst.img");
	tcp = plain_tcp_mbps(npages * PS);
	d = start_dest(&e, &port, dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --json %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, dst));
	mig = json_num(e.out_src, "\"throughput_mbps\":");
	printf("# loopback: migration %.0f MB/s (128 MiB, 20%% zero pages), plain TCP %.0f MB/s\n",
	       mig, tcp);
	CHECK(mig > 0);
	unlink(dst);
	env_fini(&e);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_throughput),
#undef T
};

HARNESS_MAIN(tests, migd_run_init)
