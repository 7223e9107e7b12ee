// SPDX-License-Identifier: GPL-2.0
/*
 * Downtime of a QEMU guest seen from the outside: see downtime.h.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "downtime.h"
#include "pair.h"

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int offset_client(int fd, int probes, struct clock_offset *off, int timeout_ms)
{
	int64_t t0, t1, t2, t3, e0, rtt, best_rtt = INT64_MAX, best = 0;
	char line[128];
	int i, ret;

	for (i = 0; i < probes; i++) {
		t0 = realtime_ns();
		ret = __pair_send_msg(fd, "probe %" PRId64, t0);
		if (ret)
			return ret;
		ret = __pair_recv_msg(fd, line, sizeof(line), timeout_ms);
		t3 = realtime_ns();
		if (ret)
			return ret;
		if (sscanf(line, "stamp %" SCNd64 " %" SCNd64 " %" SCNd64, &e0, &t1, &t2) != 3 ||
		    e0 != t0)
			return -EPROTO;
		rtt = (t3 - t0) - (t2 - t1);
		if (rtt < 0)
			rtt = 0;	/* a clock stepped under us: take it as exact */
		if (rtt < best_rtt) {
			best_rtt = rtt;
			best = ((t1 - t0) + (t2 - t3)) / 2;
		}
	}
	off->offset_ns = best;
	off->rtt_ns = best_rtt;
	off->error_ns = (best_rtt + 1) / 2;
	off->probes = probes;
	return __pair_send_msg(fd, "offset %" PRId64 " %" PRId64, best, best_rtt);
}

static int offset_server(int fd, int probes, struct clock_offset *off, int timeout_ms)
{
	int64_t t0, t1, o, rtt;
	char line[128];
	int i, ret;

	for (i = 0; i < probes; i++) {
		ret = __pair_recv_msg(fd, line, sizeof(line), timeout_ms);
		t1 = realtime_ns();
		if (ret)
			return ret;
		if (sscanf(line, "probe %" SCNd64, &t0) != 1)
			return -EPROTO;
		ret = __pair_send_msg(fd, "stamp %" PRId64 " %" PRId64 " %" PRId64,
				      t0, t1, realtime_ns());
		if (ret)
			return ret;
	}
	ret = __pair_recv_msg(fd, line, sizeof(line), timeout_ms);
	if (ret)
		return ret;
	if (sscanf(line, "offset %" SCNd64 " %" SCNd64, &o, &rtt) != 2 || rtt < 0)
		return -EPROTO;
	off->offset_ns = -o;
	off->rtt_ns = rtt;
	off->error_ns = (rtt + 1) / 2;
	off->probes = probes;
	return 0;
}

int __clock_offset_estimate(int fd, bool client, int probes,
			    struct clock_offset *off, int timeout_ms)
{
	if (probes < 1)
		return -EINVAL;
	memset(off, 0, sizeof(*off));
	return client ? offset_client(fd, probes, off, timeout_ms) :
			offset_server(fd, probes, off, timeout_ms);
}

int hb_gap(const struct qemu_hb *last, const struct qemu_hb *first,
	   const struct clock_offset *off, struct hb_gap *gap)
{
	int64_t offset = off ? off->offset_ns : 0;

	memset(gap, 0, sizeof(*gap));
	if (first->seq <= last->seq)
		return -EINVAL;
	/* @first's stamp is on the destination's clock: bring it to ours. */
	gap->host_gap_ns = (int64_t)(first->host_ns - last->host_ns) - offset;
	gap->guest_gap_ns = (int64_t)(first->guest_ns - last->guest_ns);
	gap->unseen_ns = gap->host_gap_ns - gap->guest_gap_ns;
	gap->error_ns = off ? off->error_ns : 0;
	gap->lost = first->seq - last->seq - 1;
	return 0;
}

int hb_largest_gap(struct qemu *q, struct qemu_hb *last, struct qemu_hb *first,
		   struct hb_gap *gap)
{
	struct qemu_hb a, b;
	uint64_t best = 0;
	size_t i;
	int found = -ENOENT;

	for (i = 1; !qemu_hb_get(q, i, &b); i++) {
		if (qemu_hb_get(q, i - 1, &a))
			break;
		if (b.host_ns - a.host_ns < best || b.seq <= a.seq)
			continue;
		best = b.host_ns - a.host_ns;
		*last = a;
		*first = b;
		found = 0;
	}
	if (found)
		return found;
	return hb_gap(last, first, NULL, gap);
}
