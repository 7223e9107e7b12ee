// SPDX-License-Identifier: GPL-2.0
/*
 * An unmodified QEMU guest migrated by migd with QEMU moving only its
 * devices (Documentation/qemu.rst), inside the test VM: two QEMUs with
 * KVM, each guest's RAM a region file of a kvmmig mount, migd's source and
 * destination over loopback.  The guest (selftests/qemu/abguest.c) writes
 * and checks its A-B pattern over most of its RAM and sends a heartbeat
 * on virtio-serial every 10 ms throughout.
 *
 * - a migration: both migd succeed, the destination QEMU runs and the
 *   source is postmigrate, the guest's heartbeats go on from where they
 *   were (it did not boot again), it finds every page as it left it, and
 *   its pause is logged as the heartbeats saw it;
 * - migrations back and forth, each to a fresh incoming QEMU;
 * - a cancelled source migd, a killed destination migd and a killed
 *   destination QEMU each leave the guest running on the source, intact.
 *
 * qemu_pair_test does the same between the two test hosts where their
 * emulator can run the guest (Documentation/testing.rst).
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "downtime.h"
#include "kvmmig_util.h"
#include "migd_proc.h"
#include "qemu.h"

#define RAM_DIR		"/run/kvmmig"
#define MEM_MB		256
#define RATE		2000		/* pages/s the guest dirties */
#define QEMU_PORT	7481		/* the destination QEMU's devices */
#define BOOT_TIMEOUT	180000
#define STEP_TIMEOUT	60000
#define MIGRATE_MS	240000
#define QMP_TIMEOUT	10000
#define QUIT_TIMEOUT	20000
#define ROUND_TRIPS	10

FIXTURE(qmig) {
	struct qemu q[2];	/* q[cur] runs the guest */
	bool started[2];
	int cur;
	unsigned int gen;	/* names each new QEMU */
	struct migd_proc src, dst;
};

static const char *missing_program(void)
{
	static char path[256];

	if (access(qemu_bin(), X_OK))
		return qemu_bin();
	if (access(migd_path(), X_OK))
		return migd_path();
	snprintf(path, sizeof(path), "%s/initrd.cpio", qemu_guest_dir());
	if (access(path, R_OK))
		return path;
	return NULL;
}

static void dump_all(FIXTURE_DATA(qmig) *self)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->started[i])
			qemu_dump_logs(&self->q[i], 2000);
	fprintf(stderr, "# migd source:\n%s\n", slurp(self->src.log));
	fprintf(stderr, "# migd destination:\n%s\n", slurp(self->dst.log));
}

/* Start QEMU number @i, the guest's home or an incoming destination. */
static int start_qemu(FIXTURE_DATA(qmig) *self, int i, bool incoming)
{
	char name[32];
	struct qemu_opts o = {
		.name = name, .ram_dir = RAM_DIR, .mem_mb = MEM_MB,
		.rate = RATE, .incoming = incoming, .paused = incoming,
	};
	int ret;

	snprintf(name, sizeof(name), "qmig%u", self->gen++);
	ret = __qemu_start(&self->q[i], &o);
	if (ret)
		return ret;
	self->started[i] = true;
	ret = __qemu_qmp_connect(&self->q[i], QMP_TIMEOUT);
	if (!ret)
		ret = __qemu_hb_connect(&self->q[i], QMP_TIMEOUT);
	return ret;
}

FIXTURE_SETUP(qmig)
{
	const char *missing;
	struct qemu_hb hb;
	int boots, ret;

	memset(self, 0, sizeof(*self));
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	missing = missing_program();
	ASSERT_EQ(NULL, missing) TH_LOG("%s is missing", missing);
	mkdir(RAM_DIR, 0755);
	umount2(RAM_DIR, MNT_DETACH);	/* a run that failed before */
	ASSERT_EQ(0, mount("none", RAM_DIR, "kvmmig", 0, NULL))
		TH_LOG("mount -t kvmmig: %s", strerror(errno));

	/*
	 * The guest's own boot, before any migration, now and then dies in
	 * the emulator's nested SVM (Documentation/testing.rst): QEMU exits
	 * before the first heartbeat.  That is retried, twice at most;
	 * nothing after the first heartbeat ever is.
	 */
	for (boots = 1;; boots++) {
		ret = start_qemu(self, 0, false);
		ASSERT_EQ(0, ret) TH_LOG("starting the guest: %s", strerror(-ret));
		ret = __qemu_hb_wait(&self->q[0], 0, &hb, BOOT_TIMEOUT);
		if (ret != -EPIPE || !qemu_exited(&self->q[0]) || boots == 3)
			break;
		TH_LOG("boot %d: QEMU exited before the guest's first heartbeat (status %d); booting again",
		       boots, self->q[0].status);
		qemu_dump_logs(&self->q[0], 20);
		qemu_stop(&self->q[0], QUIT_TIMEOUT);
		self->started[0] = false;
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("no heartbeat: %s", strerror(-ret));
		dump_all(self);
	}
	ret = __qemu_hb_wait_passes(&self->q[0], hb.passes + 1, &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("no A-B pass: %s", strerror(-ret));
}

FIXTURE_TEARDOWN(qmig)
{
	int i;

	migd_kill(&self->src);
	migd_kill(&self->dst);
	for (i = 0; i < 2; i++)
		if (self->started[i])
			qemu_stop(&self->q[i], QUIT_TIMEOUT);
	umount2(RAM_DIR, MNT_DETACH);
}

/* Start both migd between the guest's QEMU and QEMU @to. */
static int start_migration(FIXTURE_DATA(qmig) *self, int to,
			   const char *src_args)
{
	struct qemu *from = &self->q[self->cur], *dest = &self->q[to];
	char args[512];
	int port;

	snprintf(args, sizeof(args),
		 "--timeout 60 --qmp %s/migd.sock --qemu-listen tcp:127.0.0.1:%d %s",
		 dest->dir, QEMU_PORT, dest->ram);
	port = migd_start_dest(&self->dst, args, STEP_TIMEOUT);
	if (port < 0)
		return -EIO;
	migd_spawn(&self->src, "src",
		   "--peer 127.0.0.1:%d --qmp %s/migd.sock --qemu-uri tcp:127.0.0.1:%d %s %s",
		   port, from->dir, QEMU_PORT, src_args, from->ram);
	return 0;
}

/* The guest runs on QEMU @i, intact, and its passes advance. */
static void assert_guest_runs(struct __test_metadata *_metadata,
			      FIXTURE_DATA(qmig) *self, int i)
{
	struct qemu *q = &self->q[i];
	char reply[128];
	struct qemu_hb hb;
	uint64_t pages;
	int ret;

	ret = __qemu_wait_status(q, "running", QMP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s is not running: %s", q->name, strerror(-ret));
		dump_all(self);
	}
	ret = __qemu_hb_wait(q, qemu_hb_count(q), &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: no heartbeat: %s", q->name, strerror(-ret));
		dump_all(self);
	}
	ret = __qemu_verify(q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: verify: %s (%s)", q->name, strerror(-ret), reply);
		dump_all(self);
	}
	ret = __qemu_hb_wait_passes(q, hb.passes + 1, &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("%s: passes stuck: %s", q->name, strerror(-ret));
		dump_all(self);
	}
	ASSERT_EQ(0, hb.errors);
}

/* Migrate the guest to a fresh incoming QEMU and check it there. */
static void migrate(struct __test_metadata *_metadata,
		    FIXTURE_DATA(qmig) *self)
{
	int from = self->cur, to = !self->cur, src_rc, dst_rc, ret;
	struct qemu_hb last, first;
	uint64_t t0;
	struct hb_gap gap;

	ret = start_qemu(self, to, true);
	ASSERT_EQ(0, ret) TH_LOG("starting the destination: %s", strerror(-ret));
	t0 = kvmmig_now_ms();
	ASSERT_EQ(0, start_migration(self, to, ""));
	src_rc = migd_wait(&self->src, MIGRATE_MS);
	dst_rc = migd_wait(&self->dst, STEP_TIMEOUT);
	ASSERT_TRUE(src_rc == 0 && dst_rc == 0) {
		TH_LOG("migd source %d, destination %d", src_rc, dst_rc);
		dump_all(self);
	}
	ret = __qemu_wait_status(&self->q[from], "postmigrate", QMP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("the source is not postmigrate: %s", strerror(-ret));

	ASSERT_EQ(0, __qemu_hb_wait(&self->q[to], 0, &first, STEP_TIMEOUT));
	ASSERT_EQ(0, qemu_hb_last(&self->q[from], &last));
	ASSERT_EQ(0, qemu_hb_get(&self->q[to], 0, &first));
	ret = hb_gap(&last, &first, NULL, &gap);
	ASSERT_EQ(0, ret)
		TH_LOG("heartbeat %" PRIu64 " on the source, %" PRIu64 " first on the destination: the guest started over",
		       last.seq, first.seq);
	ASSERT_LE(last.passes, first.passes);
	TH_LOG("%s -> %s in %" PRIu64 " ms; paused %.1f ms (heartbeats %" PRIu64 "-%" PRIu64 ", %.1f ms on the guest's clock)",
	       self->q[from].name, self->q[to].name, kvmmig_now_ms() - t0,
	       gap.host_gap_ns / 1e6, last.seq, first.seq,
	       gap.guest_gap_ns / 1e6);
	assert_guest_runs(_metadata, self, to);

	/* The old home is done: its region file goes with it. */
	ret = qemu_stop(&self->q[from], QUIT_TIMEOUT);
	self->started[from] = false;
	EXPECT_EQ(0, ret);
	self->cur = to;
}

TEST_F_TIMEOUT(qmig, migrates_with_migd_moving_the_ram, 600)
{
	migrate(_metadata, self);
	EXPECT_TRUE(file_has(self->src.log, "a kvmmig region file"))
		TH_LOG("the source did not use the region file's dirty log");
	EXPECT_TRUE(file_has(self->dst.log, "a kvmmig region file"));
}

/* A migration under way, slowed to last, its first round going. */
static void start_slow_migration(struct __test_metadata *_metadata,
				 FIXTURE_DATA(qmig) *self)
{
	int ret = start_qemu(self, 1, true);

	ASSERT_EQ(0, ret) TH_LOG("starting the destination: %s", strerror(-ret));
	ASSERT_EQ(0, start_migration(self, 1, "--bwlimit 1"));
	kvmmig_sleep_ms(3000);
	ASSERT_EQ(0, waitpid(self->src.pid, NULL, WNOHANG))
		TH_LOG("the source migd ended early");
}

/* What every failure must leave: the guest on the source, as it was. */
static void assert_failed_cleanly(struct __test_metadata *_metadata,
				  FIXTURE_DATA(qmig) *self)
{
	char st[32];
	int rc;

	rc = migd_wait(&self->src, STEP_TIMEOUT);
	TH_LOG("the source migd ended with %d", rc);
	ASSERT_NE(0, rc) {
		TH_LOG("the source migd succeeded");
		dump_all(self);
	}
	assert_guest_runs(_metadata, self, 0);
	/* The incoming QEMU never ran the guest. */
	if (!qemu_exited(&self->q[1])) {
		ASSERT_EQ(0, __qemu_query_status(&self->q[1], st, sizeof(st),
						 QMP_TIMEOUT));
		ASSERT_STRNE("running", st);
	}
	EXPECT_EQ(0, qemu_hb_count(&self->q[1]));
}

TEST_F_TIMEOUT(qmig, cancel_during_rounds, 600)
{
	start_slow_migration(_metadata, self);
	kill(self->src.pid, SIGINT);
	assert_failed_cleanly(_metadata, self);
	EXPECT_NE(0, migd_wait(&self->dst, STEP_TIMEOUT));
}

TEST_F_TIMEOUT(qmig, destination_migd_killed, 600)
{
	start_slow_migration(_metadata, self);
	migd_kill(&self->dst);
	assert_failed_cleanly(_metadata, self);
}

TEST_F_TIMEOUT(qmig, destination_qemu_killed, 600)
{
	start_slow_migration(_metadata, self);
	kill(self->q[1].pid, SIGKILL);
	assert_failed_cleanly(_metadata, self);
	EXPECT_NE(0, migd_wait(&self->dst, STEP_TIMEOUT));
}

TEST_F_TIMEOUT(qmig, back_and_forth, 2400)
{
	int i;

	for (i = 0; i < ROUND_TRIPS; i++)
		migrate(_metadata, self);
}

KVMMIG_HARNESS_MAIN
