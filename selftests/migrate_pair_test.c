// SPDX-License-Identifier: GPL-2.0
/*
 * Live migration between the two test hosts, end to end: mig_vmm (the
 * reference VMM, running the A-B guest) and migd on each host, kvmmig.ko
 * in each kernel.  The same binary runs on hosts a and b; a control TCP
 * connection (lib/pair.h) keeps the two sides in step, and each side
 * asserts what it can see.
 *
 * - a guest migrates a -> b while running; b checks the memory before the
 *   guest runs again, then that it keeps incrementing (several shapes of
 *   VM: regions, vCPUs, a paced guest);
 * - ten back-to-back migrations a -> b -> a ..., each checked;
 * - cancelling the migration (migd --cancel, SIGINT to migd) and killing
 *   the destination's migd or VMM, during the first pass, a later round or
 *   the stopped round: the source VM runs on intact and the destination is
 *   left clean (no session, no VMM, every kvmmig page freed);
 * - a stream saved with migd --output passes migd verify.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "child.h"
#include "kvmmig_util.h"
#include "pair.h"

#define CTL_PORT	7702
#define MIG_PORT	7471
#define CTL_TIMEOUT	180000		/* the peer's side of one step */
#define CONNECT_TIMEOUT	60		/* seconds; the peer may be mid-teardown */
#define PEER_GONE	"/tmp/migrate_pair_test.peer-gone"
#define STEP_TIMEOUT	180000		/* one migration or check */
#define PING_PONGS	10
#define PING_PONG_VM	"--mem 8 --digest"

static char vmm_bin[PATH_MAX];
static const char *migd_bin;

/* The programs under test; NULL, or the one that is missing. */
static const char *find_programs(void)
{
	char self[PATH_MAX];
	ssize_t n;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return "/proc/self/exe";
	self[n] = '\0';
	snprintf(vmm_bin, sizeof(vmm_bin), "%s/mig_vmm", dirname(self));
	migd_bin = getenv("KVMMIG_MIGD") ?: "/usr/bin/migd";
	if (access(vmm_bin, X_OK))
		return vmm_bin;
	if (access(migd_bin, X_OK))
		return migd_bin;
	return NULL;
}

/* Does this kvmmig.ko have sessions? */
static bool sessions_supported(void)
{
	struct kvmmig_create_session args;
	int dev, fd, sfd;
	__s32 fds[1];

	dev = __kvmmig_open();
	if (dev < 0)
		return false;
	fd = kvmmig_region(dev, 4096, "pair-probe", -1);
	if (fd < 0) {
		close(dev);
		return false;
	}
	fds[0] = fd;
	memset(&args, 0, sizeof(args));
	args.nr_regions = 1;
	args.region_fds = (uintptr_t)fds;
	snprintf(args.name, sizeof(args.name), "pair-probe-%d", (int)getpid());
	sfd = ioctl(dev, KVMMIG_CREATE_SESSION, &args);
	if (sfd >= 0)
		close(sfd);
	close(fd);
	close(dev);
	return sfd >= 0;
}

/* Start a command line (split on spaces) as a child. */
static int __attribute__((format(printf, 3, 4)))
start_cmd(struct child *c, const char *tag, const char *fmt, ...)
{
	char line[1024], *argv[64], *save, *tok;
	va_list ap;
	int n = 0;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printf("# [%s] $ %s\n", tag, line);
	for (tok = strtok_r(line, " ", &save); tok && n < 63;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return __child_start(c, tag, argv);
}

/*
 * Run a command line to its end: its exit status, or -errno.  *@saw says
 * whether any line of its output contained @needle.
 */
static int __attribute__((format(printf, 3, 4)))
run_cmd(const char *needle, bool *saw, const char *fmt, ...)
{
	char line[1024];
	struct child c;
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ret = start_cmd(&c, "run", "%s", line);
	if (ret)
		return ret;
	ret = __child_wait_exit(&c, STEP_TIMEOUT);
	if (saw)
		*saw = needle && child_saw(&c, needle);
	child_reap(&c);
	return ret;
}

/* Is a session named @name on this host, as migd lists them? */
static int session_listed(const char *name, bool *listed)
{
	char word[64];
	int ret;

	snprintf(word, sizeof(word), "%s", name);
	ret = run_cmd(word, listed, "%s list", migd_bin);
	return ret < 0 ? ret : (ret ? -EIO : 0);
}

/* Wait for the module's page count to come back to @pages0. */
static long wait_pages(long pages0)
{
	long pages = kvmmig_debugfs_pages();
	int i;

	for (i = 0; i < 200 && pages != pages0; i++) {
		usleep(50000);
		pages = kvmmig_debugfs_pages();
	}
	return pages;
}

/* What both fixtures hold. */
#define SIDE_FIELDS			\
	int ctl;			\
	char host;			\
	struct timespec t0;		\
	const char *peer;		\
	long pages0;			\
	struct child vmm;		\
	struct child migd

struct side {
	SIDE_FIELDS;
};

static void side_setup(struct __test_metadata *_metadata, struct side *s)
{
	const char *missing;

	memset(s, 0, sizeof(*s));
	s->ctl = -1;
	s->pages0 = -1;
	s->vmm.in = s->vmm.out = s->migd.in = s->migd.out = -1;
	clock_gettime(CLOCK_MONOTONIC, &s->t0);
	s->host = pair_host();
	if (!s->host)
		SKIP(return, "not running on a pair of test hosts");
	/* What this test runs must be there: missing fails, never skips. */
	missing = find_programs();
	ASSERT_EQ(NULL, missing) TH_LOG("%s is not there to run", missing);
	ASSERT_TRUE(sessions_supported()) TH_LOG("kvmmig.ko cannot create a session");
	s->peer = getenv("KVMMIG_PEER_ADDR");
	ASSERT_NE(NULL, s->peer);
	/* Once the peer was gone, every later test fails at once. */
	ASSERT_NE(0, access(PEER_GONE, F_OK))
		TH_LOG("host %c was unreachable in an earlier test",
		       s->host == 'a' ? 'b' : 'a');
	s->ctl = __pair_connect(CTL_PORT, CONNECT_TIMEOUT);
	if (s->ctl < 0)
		close(open(PEER_GONE, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
	ASSERT_LE(0, s->ctl) TH_LOG("connecting the hosts: %s", strerror(-s->ctl));
	s->pages0 = kvmmig_debugfs_pages();
}

static void side_teardown(struct side *s)
{
	struct timespec t1;

	child_reap(&s->migd);
	child_reap(&s->vmm);
	/* After a failure, let what was killed go before the next test. */
	if (s->pages0 >= 0)
		wait_pages(s->pages0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# took %.1f s\n", t1.tv_sec - s->t0.tv_sec +
	       (t1.tv_nsec - s->t0.tv_nsec) / 1e9);
	if (s->ctl >= 0)
		close(s->ctl);
}

static void send_msg(struct __test_metadata *_metadata, struct side *s,
		     const char *msg)
{
	ASSERT_EQ(0, __pair_send_msg(s->ctl, "%s", msg));
}

static void expect_msg(struct __test_metadata *_metadata, struct side *s,
		       const char *want)
{
	char buf[256];
	int ret;

	ret = __pair_recv_msg(s->ctl, buf, sizeof(buf), CTL_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("waiting for '%s' from host %c: %s", want,
				 s->host == 'a' ? 'b' : 'a', strerror(-ret));
	ASSERT_STREQ(want, buf);
}

static void wait_line(struct __test_metadata *_metadata, struct child *c,
		      const char *needle, char *line, size_t len)
{
	int ret = __child_wait_line(c, needle, STEP_TIMEOUT, line, len);

	ASSERT_EQ(0, ret) TH_LOG("waiting for '%s' from %s: %s", needle, c->tag,
				 strerror(-ret));
}

/* The line that starts with "mig_vmm: verdict=@label" must say all is well. */
static void expect_verdict(struct __test_metadata *_metadata, struct child *vmm,
			   const char *label, bool running)
{
	char needle[64], line[512];

	snprintf(needle, sizeof(needle), "verdict=%s ", label);
	wait_line(_metadata, vmm, needle, line, sizeof(line));
	EXPECT_NE(NULL, strstr(line, " ab=ok ")) TH_LOG("%s", line);
	/* Every VM of these tests is started with --digest. */
	if (!strcmp(label, "arrived"))
		EXPECT_NE(NULL, strstr(line, " digest=ok ")) TH_LOG("%s", line);
	if (running)
		EXPECT_NE(NULL, strstr(line, " running=ok ")) TH_LOG("%s", line);
}

/* A fresh VM running here. */
static void start_source(struct __test_metadata *_metadata, struct side *s,
			 const char *name, const char *vmm_args)
{
	ASSERT_EQ(0, start_cmd(&s->vmm, "vmm", "%s --name %s %s", vmm_bin,
			       name, vmm_args));
	wait_line(_metadata, &s->vmm, "state=running", NULL, 0);
	ASSERT_EQ(0, __child_send(&s->vmm, "check"));
	expect_verdict(_metadata, &s->vmm, "check", true);
}

/* The VM here keeps running and holds the pattern. */
static void check_running(struct __test_metadata *_metadata, struct side *s)
{
	ASSERT_TRUE(child_running(&s->vmm));
	ASSERT_EQ(0, __child_send(&s->vmm, "check"));
	expect_verdict(_metadata, &s->vmm, "check", true);
}

/* Ask the VMM here to quit; its regions are freed. */
static void quit_vmm(struct __test_metadata *_metadata, struct side *s)
{
	ASSERT_EQ(0, __child_send(&s->vmm, "quit"));
	ASSERT_EQ(0, __child_wait_exit(&s->vmm, STEP_TIMEOUT));
	child_reap(&s->vmm);
}

/* Destination: an incoming VMM and migd --listen, then "ready" to the peer. */
static void dest_prepare(struct __test_metadata *_metadata, struct side *s,
			 const char *name, const char *vmm_args)
{
	ASSERT_EQ(0, start_cmd(&s->vmm, "vmm", "%s --incoming --name %s %s",
			       vmm_bin, name, vmm_args));
	wait_line(_metadata, &s->vmm, "state=waiting", NULL, 0);
	ASSERT_EQ(0, start_cmd(&s->migd, "migd", "%s --listen %d %s", migd_bin,
			       MIG_PORT, name));
	wait_line(_metadata, &s->migd, "listening", NULL, 0);
	send_msg(_metadata, s, "ready");
}

/* Destination: the VM arrived intact and runs here now. */
static void dest_finish(struct __test_metadata *_metadata, struct side *s)
{
	expect_verdict(_metadata, &s->vmm, "arrived", false);
	wait_line(_metadata, &s->vmm, "state=running", NULL, 0);
	expect_verdict(_metadata, &s->vmm, "running", true);
	ASSERT_EQ(0, __child_wait_exit(&s->migd, STEP_TIMEOUT));
	child_reap(&s->migd);
}

/* Source: migrate the VM running here to the peer, once it is ready. */
static void source_migrate(struct __test_metadata *_metadata, struct side *s,
			   const char *name, const char *migd_args)
{
	expect_msg(_metadata, s, "ready");
	ASSERT_EQ(0, start_cmd(&s->migd, "migd", "%s %s --peer %s:%d %s",
			       migd_bin, migd_args, s->peer, MIG_PORT, name));
	ASSERT_EQ(0, __child_wait_exit(&s->migd, STEP_TIMEOUT));
	child_reap(&s->migd);
	wait_line(_metadata, &s->vmm, "state=done", NULL, 0);
	ASSERT_EQ(0, __child_wait_exit(&s->vmm, STEP_TIMEOUT));
	child_reap(&s->vmm);
}

/* Nothing of session @name is left here. */
static void expect_clean(struct __test_metadata *_metadata, struct side *s,
			 const char *name)
{
	bool listed = true;

	ASSERT_FALSE(child_running(&s->vmm));
	ASSERT_FALSE(child_running(&s->migd));
	ASSERT_EQ(0, session_listed(name, &listed));
	EXPECT_FALSE(listed) TH_LOG("session %s is still listed", name);
	if (s->pages0 >= 0)
		EXPECT_EQ(s->pages0, wait_pages(s->pages0));
}

FIXTURE(live) {
	SIDE_FIELDS;
};

FIXTURE_VARIANT(live) {
	const char *vmm_args;
};

FIXTURE_VARIANT_ADD(live, plain) {
	.vmm_args = "--mem 32 --digest",
};

FIXTURE_VARIANT_ADD(live, two_regions_two_vcpus) {
	.vmm_args = "--mem 32 --regions 2 --vcpus 2 --digest",
};

FIXTURE_VARIANT_ADD(live, paced) {
	.vmm_args = "--mem 16 --rate 1000 --digest",
};

/* Dirtying all of RAM every second: more than the link carries. */
FIXTURE_VARIANT_ADD(live, paced_fast) {
	.vmm_args = "--mem 16 --rate 4000 --digest",
};

FIXTURE_SETUP(live)
{
	side_setup(_metadata, (struct side *)self);
}

FIXTURE_TEARDOWN(live)
{
	side_teardown((struct side *)self);
}

FIXTURE(pair) {
	SIDE_FIELDS;
};

FIXTURE_SETUP(pair)
{
	side_setup(_metadata, (struct side *)self);
}

FIXTURE_TEARDOWN(pair)
{
	side_teardown((struct side *)self);
}

/* a -> b while the guest runs; b checks before and after it runs there. */
TEST_F_TIMEOUT(live, a_to_b, 600)
{
	struct side *s = (struct side *)self;
	bool listed = false;

	if (s->host == 'a') {
		start_source(_metadata, s, "live", variant->vmm_args);
		source_migrate(_metadata, s, "live", "");
		expect_msg(_metadata, s, "running");
		expect_clean(_metadata, s, "live");
	} else {
		dest_prepare(_metadata, s, "live", variant->vmm_args);
		dest_finish(_metadata, s);
		check_running(_metadata, s);
		/* Here while it runs: the clean checks below can tell. */
		ASSERT_EQ(0, session_listed("live", &listed));
		EXPECT_TRUE(listed);
		send_msg(_metadata, s, "running");
		quit_vmm(_metadata, s);
		expect_clean(_metadata, s, "live");
	}
}

/* a -> b -> a ...: ten migrations, each checked on arrival. */
TEST_F_TIMEOUT(pair, ping_pong, 900)
{
	struct side *s = (struct side *)self;
	char msg[32];
	int round;

	if (s->host == 'a')
		start_source(_metadata, s, "pingpong", PING_PONG_VM);
	for (round = 0; round < PING_PONGS; round++) {
		bool source = (round % 2 == 0) == (s->host == 'a');

		printf("# round %d: %s\n", round + 1, source ? "sending" : "receiving");
		snprintf(msg, sizeof(msg), "arrived %d", round + 1);
		if (source) {
			source_migrate(_metadata, s, "pingpong", "");
			expect_msg(_metadata, s, msg);
		} else {
			dest_prepare(_metadata, s, "pingpong", PING_PONG_VM);
			dest_finish(_metadata, s);
			send_msg(_metadata, s, msg);
		}
	}
	/* An even number of trips: the VM is back on a. */
	if (s->host == 'a') {
		check_running(_metadata, s);
		quit_vmm(_metadata, s);
	}
	expect_clean(_metadata, s, "pingpong");
}

/* Where the migration is when it is stopped, and how it is stopped. */
enum stage { FIRST_PASS, LATER_ROUND, STOPPED_ROUND };
enum action { SRC_CANCEL, SRC_SIGINT, DST_KILL_MIGD, DST_KILL_VMM };

FIXTURE(cancel) {
	SIDE_FIELDS;
};

FIXTURE_VARIANT(cancel) {
	enum stage stage;
	enum action action;
};

#define CANCEL_VARIANT(name, st, ac)					\
	FIXTURE_VARIANT_ADD(cancel, name) {				\
		.stage = st, .action = ac,				\
	}
CANCEL_VARIANT(first_pass_cancel, FIRST_PASS, SRC_CANCEL);
CANCEL_VARIANT(first_pass_sigint, FIRST_PASS, SRC_SIGINT);
CANCEL_VARIANT(first_pass_kill_dst_migd, FIRST_PASS, DST_KILL_MIGD);
CANCEL_VARIANT(first_pass_kill_dst_vmm, FIRST_PASS, DST_KILL_VMM);
CANCEL_VARIANT(later_round_cancel, LATER_ROUND, SRC_CANCEL);
CANCEL_VARIANT(later_round_sigint, LATER_ROUND, SRC_SIGINT);
CANCEL_VARIANT(later_round_kill_dst_migd, LATER_ROUND, DST_KILL_MIGD);
CANCEL_VARIANT(later_round_kill_dst_vmm, LATER_ROUND, DST_KILL_VMM);
CANCEL_VARIANT(stopped_round_cancel, STOPPED_ROUND, SRC_CANCEL);
CANCEL_VARIANT(stopped_round_sigint, STOPPED_ROUND, SRC_SIGINT);
CANCEL_VARIANT(stopped_round_kill_dst_migd, STOPPED_ROUND, DST_KILL_MIGD);
CANCEL_VARIANT(stopped_round_kill_dst_vmm, STOPPED_ROUND, DST_KILL_VMM);

FIXTURE_SETUP(cancel)
{
	side_setup(_metadata, (struct side *)self);
}

FIXTURE_TEARDOWN(cancel)
{
	side_teardown((struct side *)self);
}

/*
 * The guest dirties all of its 16 MiB faster than an 8 MB/s cap sends it, so
 * every round takes seconds: the first pass, the later rounds (the 1 ms
 * downtime target is never met) and, with --max-rounds 1, the stopped
 * round, which then resends everything.  Each stage is recognised by what
 * the programs print, not by time.
 */
#define CANCEL_VM	"--mem 16 --digest"
#define CANCEL_MIGD	"-b 8 -d 1"

static void act(struct __test_metadata *_metadata, struct side *s,
		enum action action)
{
	switch (action) {
	case SRC_CANCEL:
		ASSERT_EQ(0, run_cmd(NULL, NULL, "%s --cancel cancel", migd_bin));
		break;
	case SRC_SIGINT:
		child_signal(&s->migd, SIGINT);
		break;
	case DST_KILL_MIGD:
		child_signal(&s->migd, SIGKILL);
		break;
	case DST_KILL_VMM:
		child_signal(&s->vmm, SIGKILL);
		break;
	}
}

TEST_F_TIMEOUT(cancel, source_survives, 300)
{
	struct side *s = (struct side *)self;
	bool src_acts = variant->action <= SRC_SIGINT;
	bool listed = false;
	int ret;

	if (s->host == 'a') {
		start_source(_metadata, s, "cancel", CANCEL_VM);
		expect_msg(_metadata, s, "ready");
		ASSERT_EQ(0, start_cmd(&s->migd, "migd", "%s %s %s --peer %s:%d cancel",
				       migd_bin, CANCEL_MIGD,
				       variant->stage == STOPPED_ROUND ? "-r 1" : "",
				       s->peer, MIG_PORT));
		switch (variant->stage) {
		case FIRST_PASS:
			expect_msg(_metadata, s, "receiving");
			break;
		case LATER_ROUND:
			/* Each side sees its own migd; only the actor waits. */
			if (src_acts)
				wait_line(_metadata, &s->migd, "round 1:", NULL, 0);
			break;
		case STOPPED_ROUND:
			wait_line(_metadata, &s->vmm, "state=paused", NULL, 0);
			send_msg(_metadata, s, "paused");
			break;
		}
		if (src_acts) {
			ASSERT_FALSE(child_saw(&s->migd, "completed"));
			act(_metadata, s, variant->action);
		}
		ret = __child_wait_exit(&s->migd, STEP_TIMEOUT);
		EXPECT_EQ(1, ret) TH_LOG("the source migd should fail, not %d", ret);
		child_reap(&s->migd);
		if (variant->stage == STOPPED_ROUND)
			wait_line(_metadata, &s->vmm, "resumed=1", NULL, 0);
		EXPECT_FALSE(child_saw(&s->vmm, "state=done"));
		check_running(_metadata, s);
		ASSERT_EQ(0, session_listed("cancel", &listed));
		EXPECT_TRUE(listed);
		expect_msg(_metadata, s, "clean");
		quit_vmm(_metadata, s);
		expect_clean(_metadata, s, "cancel");
	} else {
		dest_prepare(_metadata, s, "cancel", CANCEL_VM);
		switch (variant->stage) {
		case FIRST_PASS:
			wait_line(_metadata, &s->vmm, "state=receiving", NULL, 0);
			usleep(300000);	/* into the pass; it lasts seconds */
			send_msg(_metadata, s, "receiving");
			break;
		case LATER_ROUND:
			if (!src_acts)
				wait_line(_metadata, &s->migd, "round 1:", NULL, 0);
			break;
		case STOPPED_ROUND:
			expect_msg(_metadata, s, "paused");
			break;
		}
		if (!src_acts) {
			ASSERT_FALSE(child_saw(&s->vmm, "verdict=arrived"));
			act(_metadata, s, variant->action);
		}
		ret = __child_wait_exit(&s->migd, STEP_TIMEOUT);
		EXPECT_EQ(variant->action == DST_KILL_MIGD ? 128 + SIGKILL : 1, ret)
			TH_LOG("the destination migd exited with %d", ret);
		ret = __child_wait_exit(&s->vmm, STEP_TIMEOUT);
		/* A VMM that was not killed saw its session aborted. */
		EXPECT_EQ(variant->action == DST_KILL_VMM ? 128 + SIGKILL : 3, ret)
			TH_LOG("the destination VMM exited with %d", ret);
		EXPECT_FALSE(child_saw(&s->vmm, "verdict=arrived"));
		expect_clean(_metadata, s, "cancel");
		send_msg(_metadata, s, "clean");
	}
}

/* A VM saved to a file: the stream passes migd verify, the VM runs on. */
TEST_F_TIMEOUT(pair, save_and_verify, 300)
{
	struct side *s = (struct side *)self;
	char path[64], cut[80];
	struct stat st;
	int ret;

	/* Each host on its own; the names keep the logs apart. */
	snprintf(path, sizeof(path), "/tmp/save-%c.kvmmig", s->host);
	start_source(_metadata, s, s->host == 'a' ? "save-a" : "save-b",
		     "--mem 16 --regions 2");
	ASSERT_EQ(0, run_cmd(NULL, NULL, "%s --output %s %s", migd_bin, path,
			     s->host == 'a' ? "save-a" : "save-b"));
	check_running(_metadata, s);
	ASSERT_EQ(0, run_cmd(NULL, NULL, "%s verify %s", migd_bin, path));

	/* The verifier can tell: the same stream cut short fails. */
	ASSERT_EQ(0, stat(path, &st));
	snprintf(cut, sizeof(cut), "%s.cut", path);
	ASSERT_EQ(0, run_cmd(NULL, NULL, "/bin/cp %s %s", path, cut));
	ASSERT_EQ(0, truncate(cut, st.st_size - 64));
	ret = run_cmd(NULL, NULL, "%s verify %s", migd_bin, cut);
	EXPECT_NE(0, ret);
	unlink(cut);
	unlink(path);
	quit_vmm(_metadata, s);
	expect_clean(_metadata, s, s->host == 'a' ? "save-a" : "save-b");
	/* Stay in step with the peer for the next test. */
	send_msg(_metadata, s, "saved");
	expect_msg(_metadata, s, "saved");
}

KVMMIG_HARNESS_MAIN
