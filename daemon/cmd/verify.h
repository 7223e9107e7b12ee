/* SPDX-License-Identifier: GPL-2.0 */
/*
 * migd verify: check a saved migration stream and summarise it.
 */
#ifndef MIGD_VERIFY_H
#define MIGD_VERIFY_H

#include <stdio.h>

/*
 * Verifies the stream on @fd; @name is used in messages.  Prints the
 * summary to @out (unless NULL) and the first problem to @err.  Returns 0
 * for a valid stream, 1 for an invalid one.
 */
int migd_verify_fd(int fd, const char *name, FILE *out, FILE *err);

/* "migd verify ARGS": argv[0] is "verify".  Returns the exit status. */
int migd_verify_main(int argc, char **argv);

#endif /* MIGD_VERIFY_H */
