/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migd as a child process of a test, its stdout and stderr in files under
 * /tmp that the test reads back (lib/child.c pipes them instead; the local
 * migd tests search whole logs after the fact).
 */
#ifndef _KVMMIG_SELFTEST_MIGD_PROC_H
#define _KVMMIG_SELFTEST_MIGD_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct migd_proc {
	pid_t pid;
	char log[64];		/* its stderr */
	char out[64];		/* its stdout */
};

/* /usr/bin/migd, or $MIGD. */
const char *migd_path(void);

/* Run migd with @fmt's words as arguments; @tag names its files. */
void migd_spawn(struct migd_proc *p, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exit status (128 + signal if killed), or -1 (and killed) after @ms. */
int migd_wait(struct migd_proc *p, int ms);

/*
 * Start "migd --listen 127.0.0.1:0 @args" as "dst" and read its port from
 * its log within @ms; -1 if it exits or says nothing first.
 */
int migd_start_dest(struct migd_proc *p, const char *args, int ms);

/* SIGKILL it if it still runs, and reap it. */
void migd_kill(struct migd_proc *p);

/* The first 64 KiB of @path, in a static buffer ("" if unreadable). */
char *slurp(const char *path);
bool file_has(const char *path, const char *needle);

#endif /* _KVMMIG_SELFTEST_MIGD_PROC_H */
