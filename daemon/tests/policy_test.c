// SPDX-License-Identifier: GPL-2.0
/*
 * The pre-copy policy (engine/policy.c): when the source stops the guest,
 * converged within the downtime, stalled, or at the most rounds, and no
 * division by a bandwidth not measured yet.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#include <string.h>

#include "common/clock.h"
#include "engine/policy.h"
#include "harness.h"

static void test_policy(void)
{
	struct migd_policy p = { .downtime_ns = 300 * MIGD_NSEC_PER_MSEC,
				 .max_rounds = 5, .stall_rounds = 2 };
	struct migd_policy_state st = { 0 };

	/* 100 MB at 1 GB/s is 100 ms: within 300 ms. */
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 100000000, 1000000000), MIGD_STOP_CONVERGED);
	CHECK_EQ(st.est_downtime_ns, 100 * MIGD_NSEC_PER_MSEC);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 1000000000, 1000000000), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 2, 900000000, 1000000000), MIGD_CONTINUE);
	/* Two rounds that do not shrink: not converging. */
	CHECK_EQ(migd_policy_decide(&p, &st, 3, 900000000, 1000000000), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 4, 950000000, 1000000000), MIGD_STOP_STALLED);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(migd_policy_decide(&p, &st, 5, 500000000, 1000000000), MIGD_STOP_MAX_ROUNDS);
	/* No bandwidth measured yet is no reason to divide by zero. */
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 4096, 0), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 0, 0), MIGD_STOP_CONVERGED);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_policy),
#undef T
};

HARNESS_MAIN(tests, NULL)
