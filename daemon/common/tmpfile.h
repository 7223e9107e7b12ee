/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A file that appears at its path only when complete: written unnamed
 * (O_TMPFILE, or a hidden name where that is missing) in the target's
 * directory, then linked and renamed over the target by commit.  If migd
 * dies before, an unnamed file vanishes with it.
 */
#ifndef MIGD_TMPFILE_H
#define MIGD_TMPFILE_H

#include <limits.h>

struct migd_tmpfile {
	int fd;
	const char *path;
	char tmp_path[PATH_MAX];	/* "" while unnamed */
};

int migd_tmpfile_open(struct migd_tmpfile *t, const char *path);
/* fsync, then move into place; the fd stays open. */
int migd_tmpfile_commit(struct migd_tmpfile *t);
/* Closes and removes whatever is not committed. */
void migd_tmpfile_close(struct migd_tmpfile *t);

#endif /* MIGD_TMPFILE_H */
