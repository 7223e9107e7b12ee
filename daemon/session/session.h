/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmmig sessions: the VMM's regions and state, reached by session name.
 * migd drives the session's state machine (uapi linux/kvmmig.h) over
 * netlink and moves the pages through the fds KVMMIG_OPEN_SESSION_REGION
 * gives (backend/kvmmig.c).  This file turns that into the engine's
 * interfaces: regions, struct migd_vm_ops on the source (pause = PAUSE and
 * wait for PAUSED, resume = RESUME, hand-over = HANDOVER, state = the
 * BLOB_GET dump) and struct migd_dest_ops on the destination (bind =
 * choose the session and RECEIVE, arrive = BLOB_ADD, ARRIVE and wait for
 * RUNNING, abort = ABORT).
 */
#ifndef MIGD_SESSION_H
#define MIGD_SESSION_H

#include <stdbool.h>

#include "engine/region.h"
#include "netlink.h"
#include "pidfile.h"

struct migd_session {
	struct migd_nl nl;
	int dev;			/* /dev/kvmmig */
	bool source;
	const char *want_name;		/* destination: the name asked for */
	struct migd_nl_session info;	/* id, name, state when opened */
	bool chosen;			/* destination: a session is picked */
	bool paused;			/* source: PAUSE sent, not undone */
	bool received;			/* destination: RECEIVE done */
	bool gone;			/* the session ended under us */
	struct migd_region regions[KVMMIG_SESSION_MAX_REGIONS];
	char region_label[KVMMIG_SESSION_MAX_REGIONS][80];
	unsigned int nregions;
	struct migd_vm_ops vm;
	struct migd_dest_ops dest;
	struct migd_pidfile pidfile;
	char error[512];
};

/*
 * Source: opens session @name (RUNNING), its regions read-only, and fills
 * s->vm.  On failure s->error says why.  Both roles hold the session's
 * pidfile (pidfile.h) from the moment the session is known until close.
 */
int migd_session_open_source(struct migd_session *s, const char *name);
/*
 * Destination: prepares s->dest; the session is @name (checked now: it
 * must be WAITING) or, with @name NULL, the one WAITING session whose
 * regions match the source's, picked when they arrive.
 */
int migd_session_open_dest(struct migd_session *s, const char *name);
void migd_session_close(struct migd_session *s);

/* The messages for opening the netlink family and /dev/kvmmig. */
const char *migd_session_nl_strerror(struct migd_nl *nl, int err);

#endif /* MIGD_SESSION_H */
