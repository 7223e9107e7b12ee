// SPDX-License-Identifier: GPL-2.0
/*
 * Convergence policy (see policy.h).  The downtime estimate is the time
 * the dirty set takes at the bandwidth measured so far.  The bandwidth is
 * the whole migration's average, not the last round's: a small round fits
 * in socket buffers and would look infinitely fast.
 */

#include "common/clock.h"
#include "policy.h"

const char *migd_stop_reason_name(enum migd_stop_reason r)
{
	switch (r) {
	case MIGD_CONTINUE:
		return "continue";
	case MIGD_STOP_CONVERGED:
		return "converged";
	case MIGD_STOP_MAX_ROUNDS:
		return "round limit";
	case MIGD_STOP_STALLED:
		return "not converging";
	}
	return "?";
}

enum migd_stop_reason migd_policy_decide(const struct migd_policy *p,
					 struct migd_policy_state *st,
					 uint32_t rounds_done,
					 uint64_t dirty_bytes,
					 uint64_t bandwidth)
{
	uint64_t est;

	if (!bandwidth)
		bandwidth = 1;
	est = (uint64_t)((double)dirty_bytes * MIGD_NSEC_PER_SEC / bandwidth);
	st->est_downtime_ns = est;

	if (rounds_done > 1 && dirty_bytes >= st->prev_dirty)
		st->grew++;
	else
		st->grew = 0;
	st->prev_dirty = dirty_bytes;

	if (est <= p->downtime_ns)
		return MIGD_STOP_CONVERGED;
	if (rounds_done >= p->max_rounds)
		return MIGD_STOP_MAX_ROUNDS;
	if (p->stall_rounds && st->grew >= p->stall_rounds)
		return MIGD_STOP_STALLED;
	return MIGD_CONTINUE;
}
