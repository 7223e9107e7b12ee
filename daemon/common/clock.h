/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monotonic clock every part of migd measures time with.
 */
#ifndef MIGD_CLOCK_H
#define MIGD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t migd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define MIGD_NSEC_PER_SEC	1000000000ull
#define MIGD_NSEC_PER_MSEC	1000000ull

#endif /* MIGD_CLOCK_H */
