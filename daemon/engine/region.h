/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The region backend interface: what the migration engine needs from
 * guest memory on either side.  A backend is a file (backend/file.c) or a
 * kvmmig region fd (backend/kvmmig.c), inherited or opened from a session
 * (session/session.c).  Every call returns 0 or -errno.
 *
 * Page indices count pages of the region's page_size from its start.
 */
#ifndef MIGD_REGION_H
#define MIGD_REGION_H

#include <stdbool.h>
#include <stdint.h>

#include "stream/stream.h"
#include "state.h"

struct migd_region;

struct migd_region_ops {
	/* Source: start logging writes; pages written from now on are dirty. */
	int (*track_start)(struct migd_region *r);
	void (*track_stop)(struct migd_region *r);
	/*
	 * Source: OR the pages written since the last harvest in
	 * [first, first + n) into @bitmap (bit i = page first + i, LSB
	 * first in 64-bit words) and re-arm them; *nr_dirty is the number
	 * of bits this call set.  @first is a multiple of 64.
	 */
	int (*harvest)(struct migd_region *r, uint64_t first, uint64_t n,
		       uint64_t *bitmap, uint64_t *nr_dirty);
	/* Source: copy pages [first, first + n) into @buf. */
	int (*read_pages)(struct migd_region *r, uint64_t first, uint64_t n,
			  void *buf);

	/* Destination: set the size; called once, before any page. */
	int (*prepare)(struct migd_region *r, uint64_t npages);
	/* Destination: store pages [first, first + n); @buf NULL means zero. */
	int (*write_pages)(struct migd_region *r, uint64_t first, uint64_t n,
			   const void *buf);
	/* Destination: make everything written durable and visible. */
	int (*commit)(struct migd_region *r);
	/* Destination: throw away everything written; nothing is left. */
	void (*discard)(struct migd_region *r);

	void (*close)(struct migd_region *r);
};

struct migd_region {
	const struct migd_region_ops *ops;
	char name[KVMMIG_STREAM_REGION_NAME_LEN];
	uint32_t id;		/* in the stream */
	uint32_t page_size;
	uint64_t npages;	/* 0 on a destination until prepare() */
	const char *path;	/* for messages */
	void *priv;
};

/*
 * Control of the VM that owns the regions, on the source.  pause() stops
 * the guest so that the final harvest is final; resume() lets it run again
 * on the source after a failed migration.  NULL members are no-ops (a
 * memory image that nothing writes).
 */
struct migd_vm_ops {
	/*
	 * Waits up to @timeout_ms for the VM to stop, calling @check now and
	 * then; a non-zero return from it (-errno: -ECANCELED, a lost peer)
	 * abandons the pause.  A failed pause leaves the VM running.
	 */
	int (*pause)(void *opaque, int timeout_ms, int (*check)(void *arg),
		     void *arg);
	void (*resume)(void *opaque);
	/*
	 * On a connection, after END: the destination has written and
	 * committed every page (its COMMITTED record) and waits for our word
	 * before its VMM takes the VM.  Finish the VMM's own part of the
	 * hand-over now (QEMU sends its device state), in up to @timeout_ms,
	 * calling @check now and then.  0 lets the destination go on; an
	 * error resets the connection (the destination gives up) and
	 * resume() runs.  NULL: nothing to do, and no COMMITTED is needed.
	 */
	int (*switchover)(void *opaque, int timeout_ms, int (*check)(void *arg),
			  void *arg);
	/* The destination has the VM: the source copy is stale now. */
	void (*handed_over)(void *opaque);
	/*
	 * With the VM paused and the last pages sent: add the VMM's state
	 * blobs to @state; they go out as STATE records before END.
	 */
	int (*get_state)(void *opaque, struct migd_state *state);
	/* Between rounds: -errno if the VM has gone away. */
	int (*check)(void *opaque);
	/* Why the last call failed, for the error message; NULL if unknown. */
	const char *(*last_error)(void *opaque);
	void *opaque;
};

/*
 * The VMM waiting for the VM on the destination (a kvmmig session).  The
 * engine calls these around the stream; NULL members are no-ops.
 */
struct migd_dest_ops {
	/*
	 * The source's REGIONS have arrived: pick the memory that receives
	 * them and point *@regions (owned by the backend) and *@nregions at
	 * it.  Called once, before any page.
	 */
	int (*bind)(void *opaque, const struct kvmmig_stream_region *src,
		    unsigned int n, struct migd_region **regions,
		    unsigned int *nregions);
	/* Now and then during the stream: -errno if the VM has gone away. */
	int (*check)(void *opaque);
	/*
	 * The stream has ended cleanly and every region is committed: give
	 * @state to the VMM and wait up to @timeout_ms until it runs the VM,
	 * calling @check now and then (it says -ECANCELED, like pause()'s).
	 * Only after 0 does the destination confirm to the source.
	 */
	int (*arrive)(void *opaque, const struct migd_state *state, int timeout_ms,
		      int (*check)(void *arg), void *arg);
	/* The migration failed after bind(): the VMM must drop what it got. */
	void (*abort)(void *opaque);
	/* Why the last call failed, for the error message; NULL if unknown. */
	const char *(*last_error)(void *opaque);
	/* Limits of the VMM's state, checked as STATE records arrive; 0: none. */
	uint64_t max_state_blob;
	unsigned int max_state_blobs;
	void *opaque;
};

#endif /* MIGD_REGION_H */
