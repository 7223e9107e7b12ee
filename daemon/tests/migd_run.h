/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the migration tests share: real migd processes ($MIGD) on the
 * build machine, with their standard output and error in files of a test
 * directory, over loopback TCP (127.0.0.1 only).  Every wait is bounded;
 * a stuck migd is killed.
 */
#ifndef MIGD_TESTS_MIGD_RUN_H
#define MIGD_TESTS_MIGD_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TIMEOUT_MS	60000

/* The migd binary, $MIGD. */
extern const char *migd_bin;

/*
 * Reads $MIGD (-1 after saying so when it is not set) and ignores SIGPIPE:
 * the set-up of HARNESS_MAIN() for the programs that run migd.
 */
int migd_run_init(void);

uint64_t now_ms(void);
void sleep_ms(int ms);

/* ---------------------------------------------------------------------- */
/* Files */

struct env {
	char dir[64];
	char src[128], dst[128], log_src[128], log_dst[128];
	char out_src[128], out_dst[128];
};

/* A new test directory, and the names of the files in it. */
void env_init(struct env *e);
/* Shows the logs and outputs if the test failed (or -v), removes the directory. */
void env_fini(struct env *e);
/* Files in the test directory other than the named ones: must be none. */
int stray_files(const struct env *e, const char *const *allowed);
/* What a test directory may hold after a failed migration: nothing of the destination. */
extern const char *const clean_set[];

bool exists(const char *path);
/* The whole file (empty if there is none); free() it. */
char *slurp(const char *path);
bool file_has(const char *path, const char *needle);
/* Waits up to @timeout_ms for @needle to appear in @path. */
bool wait_for(const char *path, const char *needle, int timeout_ms);
/* Has @pid installed its handler for @sig yet (/proc/PID/status SigCgt)? */
bool wait_catches(pid_t pid, int sig, int timeout_ms);
/* Whether the two files hold the same bytes. */
bool same_files(const char *a, const char *b);

/* ---------------------------------------------------------------------- */
/* Processes */

/* Runs "$MIGD ARGS" (split at spaces) with stdout and stderr to files. */
pid_t spawn(const char *out, const char *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Exit status, or -1 (and the process killed) after @timeout_ms. */
int wait_exit(pid_t pid, int timeout_ms);
/* Starts "migd --listen 127.0.0.1:0 ARGS" and learns its port. */
pid_t start_dest(struct env *e, int *port, const char *args);

/* ---------------------------------------------------------------------- */
/* Sockets */

/* A socket that listens on a free port of 127.0.0.1, and that port. */
int listen_any(int *port);
/* A connection to 127.0.0.1:@port, or -1. */
int connect_to(int port);

#endif /* MIGD_TESTS_MIGD_RUN_H */
