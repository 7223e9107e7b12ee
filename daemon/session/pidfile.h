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
#include <stdbool.h>
#include <stddef.h>

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

/* The pid of the live migd migrating @name, or 0. */
int migd_pidfile_owner(const char *name);

/* For --cancel, which must tell why there is no owner. */

/* The pidfile path of session @name; -EINVAL if @name cannot be one. */
int migd_pidfile_path(char *path, size_t len, const char *name);
/* The pid in the pidfile at @path; -EINVAL if it holds none, else -errno. */
int migd_pidfile_read(const char *path);
/* A live (not zombie) process whose name starts with "migd". */
bool migd_pidfile_is_live(int pid);

#endif /* MIGD_PIDFILE_H */
