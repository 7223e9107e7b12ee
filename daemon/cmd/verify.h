/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The check behind "migd verify": a saved migration stream, walked with
 * the reference reader and summarised.
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

#endif /* MIGD_VERIFY_H */
