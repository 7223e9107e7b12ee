/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Convergence policy of pre-copy: after each round's harvest, decide
 * whether another live round is worth it or the VM should stop now.
 */
#ifndef MIGD_POLICY_H
#define MIGD_POLICY_H

#include <stdint.h>

struct migd_policy {
	uint64_t downtime_ns;	/* target for the stop-and-copy pass */
	uint32_t max_rounds;	/* live rounds at most, the first included */
	uint32_t stall_rounds;	/* stop after this many rounds that grew */
};

#define MIGD_POLICY_DEFAULT_DOWNTIME_MS	300
#define MIGD_POLICY_DEFAULT_MAX_ROUNDS	30
#define MIGD_POLICY_DEFAULT_STALL	4

enum migd_stop_reason {
	MIGD_CONTINUE,
	MIGD_STOP_CONVERGED,	/* estimated downtime within the target */
	MIGD_STOP_MAX_ROUNDS,
	MIGD_STOP_STALLED,	/* the dirty set stopped shrinking */
};

struct migd_policy_state {
	uint64_t prev_dirty;
	uint32_t grew;
	uint64_t est_downtime_ns;	/* of the last decision */
};

const char *migd_stop_reason_name(enum migd_stop_reason r);

/*
 * @rounds_done live rounds are sent, the harvest found @dirty_bytes to
 * send, and the link has moved @bandwidth bytes per second on average.
 */
enum migd_stop_reason migd_policy_decide(const struct migd_policy *p,
					 struct migd_policy_state *st,
					 uint32_t rounds_done,
					 uint64_t dirty_bytes,
					 uint64_t bandwidth);

#endif /* MIGD_POLICY_H */
