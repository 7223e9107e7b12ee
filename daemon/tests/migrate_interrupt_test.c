// SPDX-License-Identifier: GPL-2.0
/*
 * Live migrations that stop half way, between real migd processes ($MIGD)
 * while the guest of guest.c writes: SIGINT (cancel) to either side and
 * SIGKILL of either side during the first pass, a later round and the
 * pause, and a pause the guest never acknowledges.  Each time the guest
 * must run on at the source, untouched, and the destination keep nothing.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "guest.h"
#include "harness.h"
#include "migd_run.h"

enum stage {
	STAGE_FIRST_PASS,	/* round 1 in flight */
	STAGE_LATER_ROUND,	/* round 2 or later in flight */
	STAGE_PAUSE,		/* the source waits for the guest to pause */
};

static const char *const stage_name[] = { "first pass", "later round", "pause" };

enum victim {
	CANCEL_SOURCE,		/* SIGINT to the source */
	CANCEL_DEST,		/* SIGINT to the destination */
	KILL_DEST,		/* the destination dies (SIGKILL) */
	KILL_SOURCE,		/* the source dies (SIGKILL) */
};

/*
 * Interrupts a live migration at @stage; the source must be left running
 * and untouched, the destination with nothing.
 */
static void interrupt_at(enum victim v, enum stage stage)
{
	const uint64_t npages = 4096;
	struct writer w;
	char args[512];
	struct env e;
	pid_t d, s;
	int port, rs, rd;

	env_init(&e);
	make_image(e.src, npages, 5);
	writer_start(&w, e.src, npages, 3000);
	w.hold_pause = stage == STAGE_PAUSE;
	d = start_dest(&e, &port, e.dst);
	CHECK(port > 0);
	/* Slow enough to catch each stage; never converges before the pause. */
	snprintf(args, sizeof(args), "--peer 127.0.0.1:%d -v --timeout 5 %s %s", port,
		 stage == STAGE_PAUSE ? "--max-rounds 2 --bwlimit 50" :
		 "--bwlimit 4 --downtime 1 --max-rounds 1000", e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	switch (stage) {
	case STAGE_FIRST_PASS:
		CHECK(wait_for(e.log_dst, "migration from", 10000));
		sleep_ms(300);
		break;
	case STAGE_LATER_ROUND:
		CHECK(wait_for(e.log_src, "round 2:", 20000));
		sleep_ms(100);
		break;
	case STAGE_PAUSE:
		for (int i = 0; i < 2000 && !w.saw_pause_req; i++)
			sleep_ms(5);
		CHECK(w.saw_pause_req);
		sleep_ms(50);
		break;
	}
	CHECK(!file_has(e.log_src, "(stopped)"));
	kill(v == CANCEL_SOURCE || v == KILL_SOURCE ? s : d,
	     v == CANCEL_SOURCE || v == CANCEL_DEST ? SIGINT : SIGKILL);
	rs = wait_exit(s, TIMEOUT_MS);
	rd = wait_exit(d, TIMEOUT_MS);
	switch (v) {
	case CANCEL_SOURCE:
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "cancelled"));
		CHECK_EQ(rd, 1);
		break;
	case CANCEL_DEST:
		CHECK_EQ(rd, 1);
		CHECK(file_has(e.log_dst, "cancelled"));
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "the destination closed the connection"));
		break;
	case KILL_DEST:
		CHECK_EQ(rd, 128 + SIGKILL);
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "the destination closed the connection"));
		break;
	case KILL_SOURCE:
		CHECK_EQ(rs, 128 + SIGKILL);
		CHECK_EQ(rd, 1);
		CHECK(file_has(e.log_dst, "the source went away"));
		break;
	}
	if (v != KILL_SOURCE) {
		/* Not a paused guest left behind: it runs on at the source. */
		CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
		CHECK(writer_runs(&w, 100));
		if (stage == STAGE_PAUSE)
			CHECK(file_has(e.log_src, "cancelled while pausing") ||
			      v != CANCEL_SOURCE);
	}
	CHECK(!w.saw_handover);
	CHECK(writer_stop(&w));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	if (cur_failed)
		printf("# (victim %d at stage %s)\n", v, stage_name[stage]);
	env_fini(&e);
}

static void test_cancel_source(void)
{
	interrupt_at(CANCEL_SOURCE, STAGE_FIRST_PASS);
	interrupt_at(CANCEL_SOURCE, STAGE_LATER_ROUND);
	interrupt_at(CANCEL_SOURCE, STAGE_PAUSE);
}

static void test_cancel_dest(void)
{
	interrupt_at(CANCEL_DEST, STAGE_FIRST_PASS);
	interrupt_at(CANCEL_DEST, STAGE_LATER_ROUND);
	interrupt_at(CANCEL_DEST, STAGE_PAUSE);
}

static void test_dest_dies(void)
{
	interrupt_at(KILL_DEST, STAGE_FIRST_PASS);
	interrupt_at(KILL_DEST, STAGE_LATER_ROUND);
	interrupt_at(KILL_DEST, STAGE_PAUSE);
}

static void test_source_dies(void)
{
	interrupt_at(KILL_SOURCE, STAGE_FIRST_PASS);
	interrupt_at(KILL_SOURCE, STAGE_LATER_ROUND);
}

/* The guest never acknowledges the pause: give up, let it run. */
static void test_pause_timeout(void)
{
	struct writer w;
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, 256, 6);
	writer_start(&w, e.src, 256, 1000);
	w.hold_pause = true;
	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --pause-timeout 1 %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "pausing the VM: the VMM did not acknowledge"));
	CHECK(w.saw_pause_req);
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	w.hold_pause = false;
	CHECK(writer_runs(&w, 50));
	CHECK(writer_stop(&w));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	env_fini(&e);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_cancel_source),
	T(test_cancel_dest),
	T(test_dest_dies),
	T(test_source_dies),
	T(test_pause_timeout),
#undef T
};

HARNESS_MAIN(tests, migd_run_init)
