/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measuring a QEMU guest's downtime across a migration between the two
 * test hosts, from the outside (Documentation/testing.rst, "Measuring a
 * QEMU guest's downtime").
 *
 * The guest's own clocks cannot see the pause: QEMU restores kvmclock
 * (and the TSC) on the destination from the values saved when the vCPUs
 * stopped.  So each host stamps every heartbeat it receives with its own
 * CLOCK_REALTIME (lib/qemu.h), the two hosts estimate the offset between
 * their clocks over the pair link, and the downtime is the gap between
 * the last heartbeat the source received and the first the destination
 * received, on one clock.  The guest's own clock across the same two
 * heartbeats says how much of that gap the guest ran through (it was
 * running but unheard, say because no one listened yet).
 */
#ifndef _KVMMIG_SELFTEST_DOWNTIME_H
#define _KVMMIG_SELFTEST_DOWNTIME_H

#include <stdbool.h>
#include <stdint.h>

#include "qemu.h"

struct clock_offset {
	int64_t offset_ns;	/* the peer's CLOCK_REALTIME minus ours */
	uint64_t rtt_ns;	/* round trip of the probe it comes from */
	uint64_t error_ns;	/* |true offset - offset_ns| <= error_ns */
	int probes;		/* probes exchanged */
};

/*
 * NTP-style estimate over a connected stream socket (the pair's control
 * connection, or one end of a socketpair): the @client side sends @probes
 * probes, the other side answers each, stamping when it received it (t1)
 * and when it answered (t2) on its own clock; with t0 and t3 the client's
 * send and receive times, offset = ((t1 - t0) + (t2 - t3)) / 2 is off by
 * at most half the round trip rtt = (t3 - t0) - (t2 - t1), whatever the
 * asymmetry of the link.  The probe with the smallest round trip wins; the
 * client then sends its result, so both sides return it (each from its own
 * side: the server's offset is the client's negated).  Both sides must
 * pass the same @probes.  0 or -errno (-ETIMEDOUT, -EPIPE, -EPROTO).
 */
int __clock_offset_estimate(int fd, bool client, int probes,
			    struct clock_offset *off, int timeout_ms);

/* What two heartbeats either side of a pause say about it. */
struct hb_gap {
	int64_t host_gap_ns;	/* @first's arrival minus @last's, on @last's host's clock */
	int64_t guest_gap_ns;	/* the guest's CLOCK_MONOTONIC from @last to @first */
	int64_t unseen_ns;	/* host_gap_ns - guest_gap_ns: time the guest did not run */
	uint64_t error_ns;	/* bound on the error of host_gap_ns (the offset's) */
	uint64_t lost;		/* heartbeats numbered between the two, never received */
};

/*
 * @last is the last heartbeat received on one host (the source), @first the
 * first received on the other (the destination), whose clock is
 * @off->offset_ns ahead of the source's (@off as the source estimated it;
 * NULL: both heartbeats were received on the same host).  The downtime the
 * guest suffered is about host_gap_ns minus one heartbeat period; the guest
 * itself saw guest_gap_ns of it, which with kvmclock restored on the
 * destination is about one heartbeat period plus the time it ran unheard.
 * -EINVAL when @first does not come after @last in the guest's numbering.
 */
int hb_gap(const struct qemu_hb *last, const struct qemu_hb *first,
	   const struct clock_offset *off, struct hb_gap *gap);

/*
 * The largest gap between consecutive heartbeats of @q's (received on one
 * host, as after a local stop and cont): the two heartbeats into @last and
 * @first and their gap into @gap.  -ENOENT with fewer than two.
 */
int hb_largest_gap(struct qemu *q, struct qemu_hb *last, struct qemu_hb *first,
		   struct hb_gap *gap);

#endif /* _KVMMIG_SELFTEST_DOWNTIME_H */
