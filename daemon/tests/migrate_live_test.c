// SPDX-License-Identifier: GPL-2.0
/*
 * Migrations that go through, between real migd processes ($MIGD) on
 * 127.0.0.1 with file regions: two regions nothing writes, a live
 * migration while the guest of guest.c writes (the destination ends with
 * the source's memory at the pause), a save to a file and "migd verify"
 * on it (and one cancelled half way, and one to standard output), and the
 * --on-pause, --on-resume and --on-handover commands.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest.h"
#include "harness.h"
#include "migd_run.h"

/* Two regions, nothing writing them: one round, then an empty stopped one. */
static void test_migrate_static(void)
{
	char src2[160], dst2[160], args[512];
	pid_t d, s;
	struct env e;
	int port;

	env_init(&e);
	snprintf(src2, sizeof(src2), "%s/other.img", e.dir);
	snprintf(dst2, sizeof(dst2), "%s/dst2.img", e.dir);
	make_image(e.src, 1000, 1);
	make_image(src2, 77, 2);
	snprintf(args, sizeof(args), "--json vga=%s ram=%s", dst2, e.dst);
	d = start_dest(&e, &port, args);
	CHECK(port > 0);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --json ram=%s vga=%s",
		  port, e.src, src2);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, e.dst));
	CHECK(same_files(src2, dst2));
	CHECK(file_has(e.out_src, "\"result\":\"ok\""));
	CHECK(file_has(e.out_src, "\"zero_pages\":215"));	/* 200 + 15 */
	CHECK(file_has(e.out_src, "\"round\":2,\"stopped\":true,\"pages\":0"));
	CHECK(file_has(e.out_dst, "\"role\":\"destination\""));
	CHECK(file_has(e.out_dst, "\"pages\":1077"));
	unlink(dst2);
	env_fini(&e);
}

/*
 * The main test: a guest keeps writing while pre-copy runs; after the
 * hand-over the destination holds exactly the source's memory at the
 * moment the guest was paused.
 */
static void test_migrate_live(void)
{
	const uint64_t npages = 8192;	/* 32 MiB */
	struct writer w;
	char args[512];
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, npages, 3);
	writer_start(&w, e.src, npages, 4000);
	d = start_dest(&e, &port, e.dst);
	CHECK(port > 0);
	/* 40 MB/s against 16 MB/s of dirtying: converges in a few rounds. */
	snprintf(args, sizeof(args), "--peer 127.0.0.1:%d -v --json --bwlimit 40 --downtime 20 %s",
		 port, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(w.saw_pause_req);
	/* The guest stopped for good at the hand-over, so now is stop time. */
	CHECK(writer_saw_handover(&w, 5000));
	CHECK(writer_stop(&w));
	CHECK(same_files(e.src, e.dst));
	CHECK(file_has(e.out_src, "\"round\":3"));
	CHECK(file_has(e.out_src, "\"stop_reason\":\"converged\""));
	CHECK(file_has(e.log_src, "round 1: 8192 pages"));
	CHECK(!stray_files(&e, (const char *const[]){ "src.img", "src.img.dirty", "dst.img",
			   "src.log", "dst.log", "src.out", "dst.out", NULL }));
	env_fini(&e);
}

/* A save to a file while the guest writes, and the verifier on it. */
static void test_save_verify(void)
{
	char out[160], args[512];
	struct writer w;
	struct env e;
	pid_t s;

	env_init(&e);
	snprintf(out, sizeof(out), "%s/vm.kmig", e.dir);
	make_image(e.src, 2048, 4);
	writer_start(&w, e.src, 2048, 3000);
	snprintf(args, sizeof(args), "--output %s --bwlimit 20 --downtime 5 %s", out, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK(w.saw_handover == false);		/* a save hands nothing over */
	CHECK(writer_stop(&w));
	CHECK(exists(out));
	CHECK_EQ(wait_exit(spawn(e.out_dst, e.log_dst, "verify %s", out), TIMEOUT_MS), 0);
	CHECK(file_has(e.out_dst, "(last one stopped)"));
	CHECK(file_has(e.out_dst, ": OK"));
	unlink(out);

	/* Cancelled half way: no file at all. */
	writer_start(&w, e.src, 2048, 3000);
	snprintf(args, sizeof(args), "--output %s --bwlimit 1 %s", out, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	/* Under load an ASan migd can take longer than the pause to start. */
	CHECK(wait_catches(s, SIGINT, TIMEOUT_MS));
	sleep_ms(500);
	kill(s, SIGINT);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(writer_stop(&w));
	CHECK(!exists(out));
	CHECK(!stray_files(&e, clean_set));

	/* To standard output: the stream alone there, the summary on stderr. */
	unlink(e.log_src);
	writer_start(&w, e.src, 2048, 3000);
	s = spawn(out, e.log_src, "--output - --json %s", e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK(writer_stop(&w));
	CHECK(file_has(e.log_src, "\"result\":\"ok\""));
	CHECK(file_has(e.log_src, "saved to <stdout>"));
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "verify -q %s", out), TIMEOUT_MS), 0);
	unlink(out);
	env_fini(&e);
}

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0700);
}

/* --on-pause and friends: the commands run, and a failing pause aborts. */
static void test_hooks(void)
{
	char pause[160], resume[160], handover[160], body[300], mark[160];
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, 64, 11);
	snprintf(pause, sizeof(pause), "%s/pause.sh", e.dir);
	snprintf(resume, sizeof(resume), "%s/resume.sh", e.dir);
	snprintf(handover, sizeof(handover), "%s/handover.sh", e.dir);
	snprintf(mark, sizeof(mark), "%s/marks", e.dir);
	snprintf(body, sizeof(body), "echo pause >> %s", mark);
	write_script(pause, body);
	snprintf(body, sizeof(body), "echo resume >> %s", mark);
	write_script(resume, body);
	snprintf(body, sizeof(body), "echo handover >> %s", mark);
	write_script(handover, body);

	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --on-pause %s --on-resume %s --on-handover %s %s",
		  port, pause, resume, handover, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, e.dst));
	{
		char *m = slurp(mark);

		CHECK(!strcmp(m, "pause\nhandover\n"));
		free(m);
	}
	unlink(e.dst);
	unlink(mark);
	unlink(e.log_dst);

	/* A pause command that fails: no hand-over, no resume needed. */
	write_script(pause, "exit 3");
	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --on-pause %s --on-resume %s --on-handover %s %s",
		  port, pause, resume, handover, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "failed (status 3)"));
	CHECK(!exists(mark));
	CHECK(!exists(e.dst));
	unlink(pause);
	unlink(resume);
	unlink(handover);
	env_fini(&e);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_migrate_static),
	T(test_migrate_live),
	T(test_save_verify),
	T(test_hooks),
#undef T
};

HARNESS_MAIN(tests, migd_run_init)
