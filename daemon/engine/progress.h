/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a person sees: the counters of one migration, a live progress line
 * on a terminal, and the summary (text or JSON) at the end.
 */
#ifndef MIGD_PROGRESS_H
#define MIGD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "policy.h"

#define MIGD_MAX_ROUND_STATS	1024

struct migd_round_stat {
	uint32_t round;
	bool stopped;
	uint64_t pages;		/* zero pages included */
	uint64_t zero_pages;
	uint64_t bytes;		/* stream bytes */
	uint64_t ns;
	uint64_t dirty_rate;	/* pages/s dirtied while it was sent */
};

struct migd_stats {
	bool source;
	const char *peer;
	uint32_t page_size;
	uint64_t mem_pages;

	uint64_t start_ns, end_ns;
	uint64_t pause_ns, downtime_ns;	/* downtime_ns 0 until known */
	uint64_t bytes;			/* stream bytes so far */
	uint64_t pages, zero_pages;
	uint64_t state_blobs, state_bytes;	/* STATE records' blobs */

	/* The round in flight. */
	uint32_t round;
	bool stopped;
	uint64_t round_planned;
	uint64_t round_done;
	uint64_t dirty_rate;

	struct migd_round_stat rounds[MIGD_MAX_ROUND_STATS];
	uint32_t nrounds;		/* finished rounds recorded */

	enum migd_stop_reason stop_reason;
	uint64_t est_downtime_ns;
	uint64_t target_downtime_ns;
	bool ok;
	char error[512];
};

/* When the live line is drawn. */
enum migd_progress_mode {
	MIGD_PROGRESS_OFF,
	MIGD_PROGRESS_AUTO,	/* when stderr is a terminal */
	MIGD_PROGRESS_ALWAYS,	/* also on a serial console or a pipe */
};

void migd_progress_start(struct migd_stats *s, enum migd_progress_mode mode);
/* Redraws at most every 200 ms unless @force. */
void migd_progress_update(struct migd_stats *s, bool force);
/* Clears the line for good. */
void migd_progress_stop(void);

/* Records a finished round (the counters of round_* and the clock). */
void migd_stats_round_done(struct migd_stats *s, uint64_t round_start_ns,
			   uint64_t round_bytes, uint64_t round_zero);

/*
 * Records why the migration failed, unless a reason is recorded already
 * (the first failure is the cause), and returns @err.
 */
int migd_stats_fail(struct migd_stats *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void migd_print_summary(FILE *out, const struct migd_stats *s);
void migd_print_json(FILE *out, const struct migd_stats *s);

#endif /* MIGD_PROGRESS_H */
