/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One migd per session: while a migd migrates session NAME it holds
 * RUNDIR/NAME.pid (RUNDIR is /run/migd, or $MIGD_RUN_DIR), created with
 * O_EXCL and removed at exit.  "migd --cancel NAME" reads it, sends SIGINT
 * to that pid and waits for the migration to wind down.
 */
#ifndef MIGD_PIDFILE_H
#define MIGD_PIDFILE_H

#include <limits.h>
#include <stddef.h>

#include "common/cancel.h"

#define MIGD_RUN_DIR	"/run/migd"

struct migd_pidfile {
	char path[PATH_MAX];	/* "" when not held */
};

/*
 * Creates the pidfile of session @name.  -EBUSY (and @err says which
 * migd) if a live migd holds it; a stale one is replaced.  Other errors
 * mean no pidfile could be made (a read-only /run): the caller may go on.
 */
int migd_pidfile_create(struct migd_pidfile *pf, const char *name, char *err,
			size_t errlen);
void migd_pidfile_remove(struct migd_pidfile *pf);

/*
 * "migd --cancel NAME": the exit status (0 stopped, 1 not running/timeout);
 * @cancel interrupts the wait for that migd.
 */
int migd_cancel_main(const char *name, int timeout_ms, struct migd_cancel *cancel);

/* The pid of the live migd migrating @name, or 0. */
int migd_pidfile_owner(const char *name);

#endif /* MIGD_PIDFILE_H */
