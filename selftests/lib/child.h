/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Programs a test runs beside itself (mig_vmm, migd): their stdout and
 * stderr come back through one pipe, read line by line, echoed into the
 * test log as "# [tag] line" and kept for later searches; their stdin takes
 * commands.  A child gets SIGKILL when the test process dies.
 *
 * __child_*() return 0 or -errno; the waits return -ETIMEDOUT when the time
 * is up and -EPIPE when the child closed its output first.
 */
#ifndef _KVMMIG_SELFTEST_CHILD_H
#define _KVMMIG_SELFTEST_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CHILD_LOG_SIZE	(64 << 10)

struct child {
	pid_t pid;		/* 0: never started */
	int in;			/* its stdin, -1 when closed */
	int out;		/* its stdout + stderr, -1 after EOF */
	char tag[24];
	char prefix[40];	/* put before each echoed line: "# [tag] " */
	bool reaped;
	int status;		/* exit status, or 128 + signal */
	char part[1024];	/* an unfinished line */
	size_t part_len;
	char *log;		/* every line so far, '\n'-separated */
	size_t log_len;
};

/* Start @argv[0] (a path) with @argv; @tag names it in the log. */
int __child_start(struct child *c, const char *tag, char *const argv[]);

/* Flags of __child_start_flags(). */
#define CHILD_KEEP_STDERR	(1U << 0)	/* stderr stays ours, not piped */

int __child_start_flags(struct child *c, const char *tag, char *const argv[],
			unsigned int flags);

/*
 * Read lines until one contains @needle (copied to @line when non-NULL), or
 * one contains "error=" (copied too; returns -EIO), for up to @timeout_ms.
 */
int __child_wait_line(struct child *c, const char *needle, int timeout_ms,
		      char *line, size_t len);

/* Has any line so far contained @needle? */
bool child_saw(const struct child *c, const char *needle);

/* Write one line to the child's stdin ('\n' appended). */
int __child_send(struct child *c, const char *cmd);

/*
 * Wait for the child to exit, reading its output meanwhile; its exit
 * status (128 + signal when killed), or -ETIMEDOUT.
 */
int __child_wait_exit(struct child *c, int timeout_ms);

bool child_running(struct child *c);
void child_signal(struct child *c, int sig);

/* SIGKILL it if still running, reap it, free what it holds. */
void child_reap(struct child *c);

#endif /* _KVMMIG_SELFTEST_CHILD_H */
