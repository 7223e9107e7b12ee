/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small client of QEMU's monitor protocol (QMP) on a unix socket: the
 * greeting and qmp_capabilities, commands with an id, and the events that
 * arrive in between, queued until someone waits for them.  JSON is
 * jansson's; nothing here parses it by hand.
 *
 * Every call returns 0 or -errno; on failure q->error names what failed
 * (the socket, the command, QEMU's error class and description).  Every
 * wait polls in MIGD_POLL_SLICE_MS slices and fails with -ECANCELED once
 * the cancel object asks, -ETIMEDOUT at its deadline, and -ECONNRESET when
 * QEMU closes the monitor (it exited).
 */
#ifndef MIGD_QMP_H
#define MIGD_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "common/cancel.h"

/* Events kept while nobody waits for them; older ones are dropped. */
#define MIGD_QMP_MAX_EVENTS	64

struct migd_qmp {
	int fd;
	const char *path;		/* for messages */
	int timeout_ms;			/* for a command's reply */
	struct migd_cancel *cancel;	/* may be NULL */
	char *buf;			/* bytes read, not yet a whole line */
	size_t len, cap;
	json_t *events;			/* array, oldest first */
	unsigned long next_id;
	const char *cmd;		/* the command running, for messages */
	char error[512];
};

/*
 * Connects to the monitor at @path, reads the greeting and enters command
 * mode, all within @timeout_ms (also the limit of each later command).
 * On failure q is closed again and q->error says why.
 */
int migd_qmp_open(struct migd_qmp *q, const char *path, int timeout_ms,
		  struct migd_cancel *cancel);
void migd_qmp_close(struct migd_qmp *q);

/*
 * Runs @cmd with @args (a JSON object, stolen; NULL for none).  On
 * success *@ret (if not NULL) is the "return" value, a reference the
 * caller drops with json_decref().  QEMU's "error" is -EIO with its class
 * and description in q->error.
 */
int migd_qmp_exec(struct migd_qmp *q, const char *cmd, json_t *args, json_t **ret);

/* migd_qmp_exec() with the arguments built by json_pack(@fmt, ...). */
int migd_qmp_execf(struct migd_qmp *q, json_t **ret, const char *cmd, const char *fmt, ...);

/*
 * Waits up to @timeout_ms for event @name whose "data" @match accepts
 * (@match NULL: any), queued or new.  Queued events named @name that
 * @match rejects are dropped on the way: they are older than the one
 * awaited.  On success *@event (if not NULL) is the whole event, a
 * reference to drop.  -ETIMEDOUT leaves q->error empty: the caller says
 * what it was waiting for.
 */
int migd_qmp_wait_event(struct migd_qmp *q, const char *name,
			bool (*match)(json_t *data, void *arg), void *arg,
			int timeout_ms, json_t **event);

#endif /* MIGD_QMP_H */
