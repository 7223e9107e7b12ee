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
 *   clock saw is logged, not asserted); "quit" ends QEMU with status 0;
 * - a guest started with -S sends nothing and is not "running" until QMP
 *   "cont".
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
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
	struct qemu q;
	bool started;
};

FIXTURE_SETUP(qemu)
{
	const char *missing;

	self->started = false;
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	/* QEMU is what this tests: missing, it fails, never skips. */
	missing = missing_program();
	ASSERT_EQ(NULL, missing) TH_LOG("%s is missing: the bed adds QEMU only for TEST_QEMU_PROGS", missing);
}

FIXTURE_TEARDOWN(qemu)
{
	if (self->started && !qemu_exited(&self->q) && _metadata->exit_code != KSFT_PASS)
		qemu_dump_logs(&self->q, 3000);
	if (self->started)
		qemu_stop(&self->q, QUIT_TIMEOUT);
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

TEST_F_TIMEOUT(qemu, guest_runs_verifies_pauses_and_quits, 600)
{
	struct qemu_opts opts = { .name = "runs" };
	struct qemu_hb first, hb, before, after;
	uint64_t t0 = kvmmig_now_ms(), pages = 0;
	char reply[128], line[256];
	size_t n;
	int ret;

	start_guest(&opts);
	assert_status("running");

	ret = __qemu_hb_wait(&self->q, 0, &first, BOOT_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("no heartbeat: %s", strerror(-ret));
	TH_LOG("first heartbeat %" PRIu64 " ms after QEMU started (guest clock %" PRIu64 " ms)",
	       kvmmig_now_ms() - t0, first.guest_ns / 1000000);
	if (qemu_console_line(&self->q, "abguest: ", line, sizeof(line)))
		TH_LOG("%s", line);
	if (qemu_console_line(&self->q, "abguest: port", line, sizeof(line)))
		TH_LOG("%s", line);

	/* The A-B passes advance, and find nothing wrong. */
	ret = __qemu_hb_wait_passes(&self->q, first.passes + 2, &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("passes stuck at %" PRIu64 ": %s", first.passes, strerror(-ret));
	EXPECT_EQ(0, hb.errors);
	EXPECT_LT(first.seq, hb.seq);
	EXPECT_LT(first.guest_ns, hb.guest_ns);
	TH_LOG("%" PRIu64 " passes, %zu heartbeats, %" PRIu64 " ms after QEMU started",
	       hb.passes, qemu_hb_count(&self->q), kvmmig_now_ms() - t0);

	/* The guest checks every page on request, while it writes. */
	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("verify: %s (%s)", strerror(-ret), reply);
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
	ASSERT_EQ(0, ret) TH_LOG("no heartbeat after cont: %s", strerror(-ret));
	TH_LOG("paused for %" PRIu64 " ms on this host's clock, %" PRIu64 " ms on the guest's",
	       (after.host_mono_ns - before.host_mono_ns) / 1000000,
	       (after.guest_ns - before.guest_ns) / 1000000);
	EXPECT_LT(before.seq, after.seq);
	EXPECT_LT(before.guest_ns, after.guest_ns);

	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("verify after cont: %s (%s)", strerror(-ret), reply);
	ASSERT_EQ(0, __qemu_hb_wait_passes(&self->q, after.passes + 1, &hb, STEP_TIMEOUT));
	EXPECT_EQ(0, hb.errors);

	/* quit: QEMU exits by itself, with status 0. */
	self->started = false;
	ret = qemu_stop(&self->q, QUIT_TIMEOUT);
	EXPECT_EQ(0, ret) TH_LOG("QEMU's exit: %d", ret);
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
	ASSERT_EQ(0, ret) TH_LOG("no heartbeat after cont: %s", strerror(-ret));
	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("verify: %s (%s)", strerror(-ret), reply);

	self->started = false;
	EXPECT_EQ(0, qemu_stop(&self->q, QUIT_TIMEOUT));
	TH_LOG("%" PRIu64 " ms in all", kvmmig_now_ms() - t0);
}

KVMMIG_HARNESS_MAIN
