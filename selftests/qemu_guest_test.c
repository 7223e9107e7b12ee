// SPDX-License-Identifier: GPL-2.0
/*
 * An unmodified QEMU runs a Linux guest with KVM inside the test VM: the
 * bed's QEMU archive (bed/qemu-cpio.sh) carries QEMU, its firmware and the
 * guest (this kernel's own vmlinuz, an initramfs running abguest); the
 * guest's RAM is a shared memory-backend-file, as it will be on the kvmmig
 * filesystem.  lib/qemu.h starts it and talks to it.
 *
 * - a running guest sends heartbeats on its virtio-serial port, its A-B
 *   passes advance, "verify" finds every page as last written, the port
 *   takes commands both ways, QMP says "running"; QMP "stop" silences it
 *   and "cont" resumes it intact (how much of the pause the guest's own
 *   clock saw is logged, not asserted); it migrates to a second QEMU on
 *   the same host that maps the same RAM file (x-ignore-shared: no RAM
 *   sent) and goes on there with every page intact (the downtime seen
 *   through its heartbeats is logged); "quit" ends each QEMU with status 0;
 * - a guest started with -S sends nothing and is not "running" until QMP
 *   "cont";
 * - the downtime helpers (lib/downtime.h) the two-host QEMU tests use: the
 *   clock offset estimated between two ends on one host is within its
 *   error bound of zero, and the heartbeat gap arithmetic.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "downtime.h"
#include "kvmmig_util.h"
#include "qemu.h"

#define BOOT_TIMEOUT	180000	/* QEMU start to the first heartbeat */
#define STEP_TIMEOUT	60000
#define QMP_TIMEOUT	10000
#define QUIT_TIMEOUT	20000
#define SILENT_MS	2000	/* how long a paused guest must say nothing */

/* The programs under test; NULL, or the one that is missing. */
static const char *missing_program(void)
{
	static char path[256];

	if (access(qemu_bin(), X_OK))
		return qemu_bin();
	snprintf(path, sizeof(path), "%s/vmlinuz", qemu_guest_dir());
	if (access(path, R_OK))
		return path;
	snprintf(path, sizeof(path), "%s/initrd.cpio", qemu_guest_dir());
	if (access(path, R_OK))
		return path;
	return NULL;
}

FIXTURE(qemu) {
	struct qemu q, dst;
	bool started, dst_started;
};

FIXTURE_SETUP(qemu)
{
	const char *missing;

	self->started = self->dst_started = false;
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	/* QEMU is what this tests: missing, it fails, never skips. */
	missing = missing_program();
	ASSERT_EQ(NULL, missing) TH_LOG("%s is missing: the bed adds QEMU only for TEST_QEMU_PROGS", missing);
}

/*
 * Print both QEMUs' logs.  For the ASSERTs that matter: after one fails,
 * this harness's longjmp clobbers its own "child" and the teardown's dump
 * never runs.
 */
static void dump_logs(FIXTURE_DATA(qemu) *self)
{
	if (self->started)
		qemu_dump_logs(&self->q, 3000);
	if (self->dst_started)
		qemu_dump_logs(&self->dst, 3000);
}

FIXTURE_TEARDOWN(qemu)
{
	if (self->started && !qemu_exited(&self->q) && _metadata->exit_code != KSFT_PASS)
		qemu_dump_logs(&self->q, 3000);
	if (self->dst_started && !qemu_exited(&self->dst) && _metadata->exit_code != KSFT_PASS)
		qemu_dump_logs(&self->dst, 3000);
	if (self->started)
		qemu_stop(&self->q, QUIT_TIMEOUT);
	if (self->dst_started)
		qemu_stop(&self->dst, QUIT_TIMEOUT);
}

/* Start the guest and connect QMP and its port; ASSERTs. */
#define start_guest(opts) do {						\
	int __ret = __qemu_start(&self->q, (opts));			\
	ASSERT_EQ(0, __ret) TH_LOG("starting QEMU: %s", strerror(-__ret)); \
	self->started = true;						\
	__ret = __qemu_qmp_connect(&self->q, QMP_TIMEOUT);		\
	ASSERT_EQ(0, __ret) TH_LOG("QMP: %s", strerror(-__ret));	\
	__ret = __qemu_hb_connect(&self->q, QMP_TIMEOUT);		\
	ASSERT_EQ(0, __ret) TH_LOG("the guest's port: %s", strerror(-__ret)); \
} while (0)

#define assert_status(want) do {					\
	char __st[32];							\
	ASSERT_EQ(0, __qemu_query_status(&self->q, __st, sizeof(__st), QMP_TIMEOUT)); \
	ASSERT_STREQ(want, __st);					\
} while (0)

TEST_F_TIMEOUT(qemu, guest_runs_pauses_and_migrates_locally, 600)
{
	struct qemu_opts opts = { .name = "runs" };
	struct qemu_opts dopts = { .name = "runs-dst", .incoming = true };
	struct qemu_hb first, hb, before, after;
	struct hb_gap gap;
	uint64_t t0 = kvmmig_now_ms(), t1, pages = 0;
	char reply[128], line[256], uri[128];
	size_t n;
	int ret;

	start_guest(&opts);
	assert_status("running");

	ret = __qemu_hb_wait(&self->q, 0, &first, BOOT_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("no heartbeat: %s", strerror(-ret));
		dump_logs(self);
	}
	TH_LOG("first heartbeat %" PRIu64 " ms after QEMU started (guest clock %" PRIu64 " ms)",
	       kvmmig_now_ms() - t0, first.guest_ns / 1000000);
	if (qemu_console_line(&self->q, "abguest: ", line, sizeof(line)))
		TH_LOG("%s", line);
	if (qemu_console_line(&self->q, "abguest: port", line, sizeof(line)))
		TH_LOG("%s", line);

	/* The A-B passes advance, and find nothing wrong. */
	ret = __qemu_hb_wait_passes(&self->q, first.passes + 2, &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("passes stuck at %" PRIu64 ": %s", first.passes, strerror(-ret));
		dump_logs(self);
	}
	EXPECT_EQ(0, hb.errors);
	EXPECT_LT(first.seq, hb.seq);
	EXPECT_LT(first.guest_ns, hb.guest_ns);
	TH_LOG("%" PRIu64 " passes, %zu heartbeats, %" PRIu64 " ms after QEMU started",
	       hb.passes, qemu_hb_count(&self->q), kvmmig_now_ms() - t0);

	/* The guest checks every page on request, while it writes. */
	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("verify: %s (%s)", strerror(-ret), reply);
		dump_logs(self);
	}
	EXPECT_LT(1000, pages);

	/* Commands both ways; a bad one is refused. */
	ASSERT_EQ(0, __qemu_set_rate(&self->q, 2000, STEP_TIMEOUT));
	ASSERT_EQ(0, __qemu_set_rate(&self->q, 0, STEP_TIMEOUT));
	ret = __qemu_guest_cmd(&self->q, "frobnicate", reply, sizeof(reply), STEP_TIMEOUT);
	EXPECT_EQ(-EIO, ret) TH_LOG("answer: %s", reply);

	/* Paused, it says nothing; its clock does not see the pause. */
	ASSERT_EQ(0, __qemu_hb_wait(&self->q, qemu_hb_count(&self->q), &before, STEP_TIMEOUT));
	ASSERT_EQ(0, __qemu_qmp(&self->q, "{\"execute\": \"stop\"}", NULL, 0, QMP_TIMEOUT));
	assert_status("paused");
	kvmmig_sleep_ms(200);	/* a heartbeat already on its way may land */
	n = qemu_hb_count(&self->q);
	kvmmig_sleep_ms(SILENT_MS);
	EXPECT_EQ(n, qemu_hb_count(&self->q)) TH_LOG("heartbeats while paused");
	ASSERT_EQ(0, qemu_hb_last(&self->q, &before));

	ASSERT_EQ(0, __qemu_qmp(&self->q, "{\"execute\": \"cont\"}", NULL, 0, QMP_TIMEOUT));
	assert_status("running");
	ret = __qemu_hb_wait(&self->q, qemu_hb_count(&self->q), &after, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("no heartbeat after cont: %s", strerror(-ret));
		dump_logs(self);
	}
	EXPECT_LT(before.seq, after.seq);
	EXPECT_LT(before.guest_ns, after.guest_ns);
	/* Where the guest was silent longest: the pause, seen from here. */
	ASSERT_EQ(0, hb_largest_gap(&self->q, &before, &after, &gap));
	TH_LOG("paused: heartbeats %" PRIu64 " to %" PRIu64 " (%" PRIu64 " lost) %.1f ms apart here, %.1f ms on the guest's clock",
	       before.seq, after.seq, gap.lost, gap.host_gap_ns / 1e6, gap.guest_gap_ns / 1e6);

	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("verify after cont: %s (%s)", strerror(-ret), reply);
		dump_logs(self);
	}
	ASSERT_EQ(0, __qemu_hb_wait_passes(&self->q, after.passes + 1, &hb, STEP_TIMEOUT));
	EXPECT_EQ(0, hb.errors);

	/*
	 * Migrate to a second QEMU on this host that maps the same RAM file:
	 * with x-ignore-shared QEMU sends no RAM at all, only the devices
	 * and vCPUs (what kvmmig's QEMU migrations will do, migd having
	 * moved the RAM).  The guest goes on where it was (its heartbeats
	 * keep their numbering: it did not boot again) with every page.
	 */
	dopts.ram_file = self->q.ram;
	ret = __qemu_start(&self->dst, &dopts);
	ASSERT_EQ(0, ret) TH_LOG("starting the destination: %s", strerror(-ret));
	self->dst_started = true;
	ASSERT_EQ(0, __qemu_qmp_connect(&self->dst, QMP_TIMEOUT));
	ASSERT_EQ(0, __qemu_hb_connect(&self->dst, QMP_TIMEOUT));
	ASSERT_EQ(0, __qemu_query_status(&self->dst, reply, sizeof(reply), QMP_TIMEOUT));
	EXPECT_STREQ("inmigrate", reply);
	ASSERT_EQ(0, __qemu_migrate_capability(&self->q, "x-ignore-shared", true, QMP_TIMEOUT));
	ASSERT_EQ(0, __qemu_migrate_capability(&self->dst, "x-ignore-shared", true, QMP_TIMEOUT));
	snprintf(uri, sizeof(uri), "unix:%s/mig.sock", self->dst.dir);
	ASSERT_EQ(0, __qemu_migrate_incoming(&self->dst, uri, QMP_TIMEOUT));
	t1 = kvmmig_now_ms();
	ret = __qemu_migrate(&self->q, uri, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("migration: %s", strerror(-ret));
		dump_logs(self);
	}
	TH_LOG("migrated in %" PRIu64 " ms", kvmmig_now_ms() - t1);
	ret = __qemu_wait_status(&self->q, "postmigrate", QMP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("the source is not postmigrate: %s", strerror(-ret));
		dump_logs(self);
	}

	ret = __qemu_hb_wait(&self->dst, 0, &after, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("no heartbeat from the destination: %s", strerror(-ret));
		dump_logs(self);
	}
	ASSERT_EQ(0, qemu_hb_last(&self->q, &before));
	ASSERT_EQ(0, qemu_hb_get(&self->dst, 0, &after));
	ret = hb_gap(&before, &after, NULL, &gap);
	ASSERT_EQ(0, ret) TH_LOG("heartbeat %" PRIu64 " on the source, %" PRIu64 " first on the destination: the guest started over",
				 before.seq, after.seq);
	EXPECT_LE(before.passes, after.passes);
	TH_LOG("downtime: heartbeats %" PRIu64 " to %" PRIu64 " (%" PRIu64 " lost) %.1f ms apart here, %.1f ms on the guest's clock",
	       before.seq, after.seq, gap.lost, gap.host_gap_ns / 1e6, gap.guest_gap_ns / 1e6);
	ASSERT_EQ(0, __qemu_query_status(&self->dst, reply, sizeof(reply), QMP_TIMEOUT));
	EXPECT_STREQ("running", reply);
	ret = __qemu_verify(&self->dst, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("verify after the migration: %s (%s)", strerror(-ret), reply);
		dump_logs(self);
	}
	ASSERT_EQ(0, __qemu_hb_wait_passes(&self->dst, after.passes + 1, &hb, STEP_TIMEOUT));
	EXPECT_EQ(0, hb.errors);

	/* quit: each QEMU exits by itself, with status 0. */
	self->dst_started = false;
	ret = qemu_stop(&self->dst, QUIT_TIMEOUT);
	EXPECT_EQ(0, ret) TH_LOG("the destination QEMU's exit: %d", ret);
	self->started = false;
	ret = qemu_stop(&self->q, QUIT_TIMEOUT);
	EXPECT_EQ(0, ret) TH_LOG("the source QEMU's exit: %d", ret);
	TH_LOG("%" PRIu64 " ms in all", kvmmig_now_ms() - t0);
}

TEST_F_TIMEOUT(qemu, paused_guest_is_silent_until_cont, 600)
{
	/* A small guest: this one is about -S, not the workload. */
	struct qemu_opts opts = { .name = "paused", .mem_mb = 128, .pct = 25, .paused = true };
	uint64_t t0 = kvmmig_now_ms(), pages;
	struct qemu_hb hb;
	char reply[128];
	int ret;

	start_guest(&opts);
	assert_status("prelaunch");
	kvmmig_sleep_ms(SILENT_MS);
	EXPECT_EQ(0, qemu_hb_count(&self->q));
	assert_status("prelaunch");

	ASSERT_EQ(0, __qemu_qmp(&self->q, "{\"execute\": \"cont\"}", NULL, 0, QMP_TIMEOUT));
	assert_status("running");
	ret = __qemu_hb_wait(&self->q, 0, &hb, BOOT_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("no heartbeat after cont: %s", strerror(-ret));
		dump_logs(self);
	}
	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) {
		TH_LOG("verify: %s (%s)", strerror(-ret), reply);
		dump_logs(self);
	}

	self->started = false;
	EXPECT_EQ(0, qemu_stop(&self->q, QUIT_TIMEOUT));
	TH_LOG("%" PRIu64 " ms in all", kvmmig_now_ms() - t0);
}

/* Both ends on one clock: the true offset is 0, within the bound. */
TEST(clock_offset_on_one_host_is_zero_within_its_bound)
{
	struct clock_offset off;
	int sv[2], status, ret;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		ret = __clock_offset_estimate(sv[1], false, 16, &off, 10000);
		_exit(ret || off.offset_ns > (int64_t)off.error_ns ||
		      -off.offset_ns > (int64_t)off.error_ns || off.probes != 16);
	}
	close(sv[1]);
	ret = __clock_offset_estimate(sv[0], true, 16, &off, 10000);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(-ret));
	TH_LOG("offset %" PRId64 " ns, round trip %" PRIu64 " ns", off.offset_ns, off.rtt_ns);
	EXPECT_LE(off.offset_ns, (int64_t)off.error_ns);
	EXPECT_LE(-off.offset_ns, (int64_t)off.error_ns);
	EXPECT_EQ(16, off.probes);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) TH_LOG("the server side disagrees");
	close(sv[0]);

	/* A peer that hangs up mid-exchange is an error, not a result. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	close(sv[1]);
	EXPECT_GT(0, __clock_offset_estimate(sv[0], true, 4, &off, 1000));
	close(sv[0]);
}

TEST(heartbeat_gap_arithmetic)
{
	/* The source got #100 at 1000 ms; the destination, whose clock is
	 * 250 ms ahead, got #103 at 1600 ms its time: 350 ms on one clock,
	 * 30 ms of which the guest's own clock saw.
	 */
	struct qemu_hb last = { .seq = 100, .guest_ns = 5000000000ULL, .host_ns = 1000000000ULL };
	struct qemu_hb first = { .seq = 103, .guest_ns = 5030000000ULL, .host_ns = 1600000000ULL };
	struct clock_offset off = { .offset_ns = 250000000, .rtt_ns = 2000000, .error_ns = 1000000 };
	struct hb_gap gap;

	ASSERT_EQ(0, hb_gap(&last, &first, &off, &gap));
	EXPECT_EQ(350000000, gap.host_gap_ns);
	EXPECT_EQ(30000000, gap.guest_gap_ns);
	EXPECT_EQ(320000000, gap.unseen_ns);
	EXPECT_EQ(1000000, gap.error_ns);
	EXPECT_EQ(2, gap.lost);

	/* Same host. */
	ASSERT_EQ(0, hb_gap(&last, &first, NULL, &gap));
	EXPECT_EQ(600000000, gap.host_gap_ns);
	EXPECT_EQ(0, gap.error_ns);

	/* Out of order: refused. */
	EXPECT_EQ(-EINVAL, hb_gap(&first, &last, &off, &gap));
	EXPECT_EQ(-EINVAL, hb_gap(&last, &last, &off, &gap));
}

KVMMIG_HARNESS_MAIN
