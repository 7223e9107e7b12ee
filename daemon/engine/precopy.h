/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pre-copy migration engine: the source sends rounds of dirty pages
 * until the policy says stop, pauses the VM, sends the rest and END; the
 * destination checks everything and installs the pages only when the
 * whole stream has arrived and passed.
 *
 * Connection protocol (Documentation/migd.rst): the source writes its
 * forward stream header and REGIONS; the destination answers with a
 * return stream header and its REGIONS, which the source compares; after
 * the source's END the destination commits the pages, hands the state to
 * its VMM and, once that runs the VM, writes the return stream's END,
 * which is the source's proof of hand-over.  Between commit and hand-over
 * there is a barrier (COMMITTED in Documentation/stream-format.rst): the
 * destination says every page is in, the source runs vm->switchover()
 * and only then half-closes, which lets the destination go on.
 */
#ifndef MIGD_PRECOPY_H
#define MIGD_PRECOPY_H

#include <stdbool.h>

#include "common/cancel.h"
#include "transport/tcp.h"
#include "policy.h"
#include "progress.h"
#include "region.h"

struct migd_send_opts {
	struct migd_policy policy;
	int pause_timeout_ms;
	bool to_file;		/* no return stream: a save */
	enum migd_progress_mode progress;
	struct migd_cancel *cancel;	/* may be NULL */
};

struct migd_recv_opts {
	enum migd_progress_mode progress;
	/* The VMM on this side, or NULL (file regions). */
	const struct migd_dest_ops *dest;
	int ack_timeout_ms;	/* for dest->arrive() */
	struct migd_cancel *cancel;	/* may be NULL */
};

/*
 * Returns 0 when the destination has confirmed (or the file is complete),
 * else -errno with st->error saying what failed.  On failure the VM runs
 * on at the source: resumed if it was paused.
 */
int migd_precopy_send(struct migd_region *regions, unsigned int nregions,
		      struct migd_vm_ops *vm, struct migd_conn *conn,
		      const struct migd_send_opts *opts, struct migd_stats *st);

/*
 * Returns 0 when every region has been committed (and opts->dest has run
 * the VM), else -errno with st->error set; then every region has been
 * discarded and opts->dest aborted.  With opts->dest->bind, @regions may
 * be NULL: bind() supplies them.
 */
int migd_precopy_recv(struct migd_region *regions, unsigned int nregions,
		      struct migd_conn *conn, const struct migd_recv_opts *opts,
		      struct migd_stats *st);

/* The header both directions start with. */
void migd_stream_hdr_init(struct kvmmig_stream_hdr *hdr, uint32_t page_size);

#endif /* MIGD_PRECOPY_H */
