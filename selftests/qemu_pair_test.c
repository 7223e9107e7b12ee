// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU guests on the two test hosts, the ground a QEMU migration between
 * them stands on (Documentation/testing.rst, "Measuring a QEMU guest's
 * downtime").  The same binary runs on hosts a and b.
 *
 * - the offset between the hosts' clocks, estimated over the pair link
 *   (lib/downtime.h) as a migration test will before it measures the
 *   guest's downtime: both sides get the same answer, twice;
 * - each host runs the QEMU guest: it boots, its passes advance, "verify"
 *   answers ok, QEMU quits with status 0; the boot time is logged.  It
 *   skips on test hosts that run single-threaded TCG (make check's): there
 *   the guest's kernel barely moves (every exit to QEMU waits for TCG's
 *   round-robin) and, pinned to one CPU, dies in its timer interrupt entry
 *   (Documentation/testing.rst, "QEMU on the two test hosts").  Run it
 *   with VM_TCG_THREAD=multi BED_QEMU=1.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "downtime.h"
#include "kvmmig_util.h"
#include "pair.h"
#include "qemu.h"

#define CLOCK_PORT	7703
#define CONNECT_TIMEOUT	120		/* seconds; the peer may still boot */
#define MSG_TIMEOUT	60000
#define PROBES		16
#define BOOT_TIMEOUT	600000		/* single-threaded TCG: slow */
#define STEP_TIMEOUT	120000
#define QMP_TIMEOUT	20000

/* No state: a fixture only for TEST_F_TIMEOUT (the peer may still boot). */
FIXTURE(pair) {
	int unused;
};

FIXTURE_SETUP(pair)
{
}

FIXTURE_TEARDOWN(pair)
{
}

TEST_F_TIMEOUT(pair, clock_offset_between_the_hosts, 300)
{
	struct clock_offset off[2];
	char line[128];
	int fd, i, ret;
	int64_t o;
	uint64_t r;

	if (!pair_host())
		SKIP(return, "not running on a pair of test hosts");
	fd = __pair_connect(CLOCK_PORT, CONNECT_TIMEOUT);
	ASSERT_LE(0, fd) TH_LOG("connecting the hosts: %s", strerror(-fd));

	for (i = 0; i < 2; i++) {
		ret = __clock_offset_estimate(fd, pair_host() == 'a', PROBES, &off[i], MSG_TIMEOUT);
		ASSERT_EQ(0, ret) TH_LOG("estimate %d: %s", i, strerror(-ret));
		EXPECT_EQ(PROBES, off[i].probes);
		EXPECT_EQ((off[i].rtt_ns + 1) / 2, off[i].error_ns);
		TH_LOG("the peer's clock is %+.3f ms from ours, +/- %.3f ms (best round trip %.3f ms)",
		       off[i].offset_ns / 1e6, off[i].error_ns / 1e6, off[i].rtt_ns / 1e6);
	}

	/* Both sides hold the same two answers, each from its own side. */
	ASSERT_EQ(0, __pair_send_msg(fd, "offsets %" PRId64 " %" PRIu64 " %" PRId64 " %" PRIu64,
				     off[0].offset_ns, off[0].rtt_ns, off[1].offset_ns, off[1].rtt_ns));
	ASSERT_EQ(0, __pair_recv_msg(fd, line, sizeof(line), MSG_TIMEOUT));
	for (i = 0; i < 2; i++) {
		char *p = line + strlen("offsets");

		ASSERT_EQ(0, strncmp(line, "offsets ", 8)) TH_LOG("got '%s'", line);
		ASSERT_EQ(2, sscanf(p, i ? "%*s %*s %" SCNd64 " %" SCNu64 : "%" SCNd64 " %" SCNu64,
				    &o, &r));
		EXPECT_EQ(-off[i].offset_ns, o);
		EXPECT_EQ(off[i].rtt_ns, r);
	}
	close(fd);
}

FIXTURE(guest) {
	struct qemu q;
	bool started;
};

/* Does this test host run on single-threaded TCG (run-vm.sh says)? */
static bool single_threaded_tcg(void)
{
	char buf[1024] = "";
	FILE *f = fopen("/proc/cmdline", "re");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	return strstr(buf, "kvmmig.tcg=single");
}

FIXTURE_SETUP(guest)
{
	self->started = false;
	if (!pair_host())
		SKIP(return, "not running on a pair of test hosts");
	/* The emulator's limit, not kvmmig's: Documentation/testing.rst. */
	if (single_threaded_tcg())
		SKIP(return, "the QEMU guest crawls and crashes on single-threaded TCG");
	ASSERT_EQ(0, access("/dev/kvm", R_OK | W_OK)) TH_LOG("no /dev/kvm on a test host");
	ASSERT_EQ(0, access(qemu_bin(), X_OK)) TH_LOG("no %s", qemu_bin());
}

FIXTURE_TEARDOWN(guest)
{
	if (self->started && _metadata->exit_code != KSFT_PASS)
		qemu_dump_logs(&self->q, 3000);
	if (self->started)
		qemu_stop(&self->q, QMP_TIMEOUT);
}

TEST_F_TIMEOUT(guest, runs_on_each_host, 900)
{
	struct qemu_opts opts = { .name = "pair" };
	uint64_t t0 = kvmmig_now_ms(), pages;
	struct qemu_hb first, hb;
	char reply[128];
	int ret;

	ret = __qemu_start(&self->q, &opts);
	ASSERT_EQ(0, ret) TH_LOG("starting QEMU: %s", strerror(-ret));
	self->started = true;
	ASSERT_EQ(0, __qemu_qmp_connect(&self->q, QMP_TIMEOUT));
	ASSERT_EQ(0, __qemu_hb_connect(&self->q, QMP_TIMEOUT));
	ret = __qemu_hb_wait(&self->q, 0, &first, BOOT_TIMEOUT);
	ASSERT_EQ(0, ret) {
		/* The teardown does not run after an ASSERT: dump here. */
		TH_LOG("no heartbeat: %s", strerror(-ret));
		qemu_dump_logs(&self->q, 3000);
	}
	TH_LOG("first heartbeat %" PRIu64 " ms after QEMU started (guest clock %" PRIu64 " ms)",
	       kvmmig_now_ms() - t0, first.guest_ns / 1000000);
	ret = __qemu_hb_wait_passes(&self->q, first.passes + 1, &hb, STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("passes stuck at %" PRIu64 ": %s", first.passes, strerror(-ret));
	EXPECT_EQ(0, hb.errors);
	ret = __qemu_verify(&self->q, &pages, reply, sizeof(reply), STEP_TIMEOUT);
	ASSERT_EQ(0, ret) TH_LOG("verify: %s (%s)", strerror(-ret), reply);
	TH_LOG("%" PRIu64 " passes at %" PRIu64 " ms", hb.passes, kvmmig_now_ms() - t0);

	self->started = false;
	ret = qemu_stop(&self->q, QMP_TIMEOUT);
	EXPECT_EQ(0, ret) TH_LOG("QEMU's exit: %d", ret);
}

KVMMIG_HARNESS_MAIN
