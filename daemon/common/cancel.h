/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cancelling a migration: SIGINT and SIGTERM set a flag that the command
 * line owns and hands to whatever may wait long (the connection, the
 * engine).  A wait looks at it at least every MIGD_POLL_SLICE_MS and then
 * fails with -ECANCELED.
 */
#ifndef MIGD_CANCEL_H
#define MIGD_CANCEL_H

#include <errno.h>
#include <stdbool.h>

/* The longest a wait sleeps before it looks at the flag again. */
#define MIGD_POLL_SLICE_MS	100

struct migd_cancel {
	/* A lock-free atomic, which C11 allows a signal handler to write. */
	_Atomic int requested;
};

/* True once cancelling was asked for; a NULL @c never is. */
static inline bool migd_cancel_requested(const struct migd_cancel *c)
{
	return c && c->requested;
}

/* A wait's check callback: @arg is a struct migd_cancel (or NULL). */
static inline int migd_cancel_check(void *arg)
{
	return migd_cancel_requested(arg) ? -ECANCELED : 0;
}

#endif /* MIGD_CANCEL_H */
