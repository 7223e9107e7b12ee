/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Process-wide bits every part of migd shares: the default port, the
 * cancel flag that SIGINT and SIGTERM set, and a monotonic clock.
 */
#ifndef MIGD_MIGD_H
#define MIGD_MIGD_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

/* The TCP port of --listen and --peer when none is given. */
#define MIGD_DEFAULT_PORT	"7471"

/*
 * Set by the signal handler; long waits poll it and fail with -ECANCELED.
 * A lock-free atomic, which C11 allows a signal handler to write.
 */
extern _Atomic int migd_cancelled;

static inline uint64_t migd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define MIGD_NSEC_PER_SEC	1000000000ull
#define MIGD_NSEC_PER_MSEC	1000000ull

#endif /* MIGD_MIGD_H */
