// SPDX-License-Identifier: GPL-2.0
/*
 * Files that appear only when complete (see tmpfile.h).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "tmpfile.h"

int migd_tmpfile_open(struct migd_tmpfile *t, const char *path)
{
	char dir[PATH_MAX];

	memset(t, 0, sizeof(*t));
	t->path = path;
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	t->fd = open(dirname(dir), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (t->fd >= 0)
		return 0;
	/* Filesystems without O_TMPFILE: a name nobody else uses. */
	snprintf(t->tmp_path, sizeof(t->tmp_path), "%s.migd-XXXXXX", path);
	t->fd = mkostemp(t->tmp_path, O_CLOEXEC);
	if (t->fd < 0) {
		t->tmp_path[0] = 0;
		return -errno;
	}
	return 0;
}

int migd_tmpfile_commit(struct migd_tmpfile *t)
{
	char proc[64];

	if (fsync(t->fd))
		return -errno;
	if (!t->tmp_path[0]) {
		/* linkat() cannot replace; link under a private name, then rename. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->fd);
		for (int tries = 0;; tries++) {
			uint32_t rnd;

			if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
				rnd = (uint32_t)getpid() * 31 + tries;
			snprintf(t->tmp_path, sizeof(t->tmp_path), "%s.migd-%08x", t->path, rnd);
			if (!linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp_path, AT_SYMLINK_FOLLOW))
				break;
			if (errno != EEXIST || tries > 16) {
				t->tmp_path[0] = 0;
				return -errno;
			}
		}
	}
	if (rename(t->tmp_path, t->path))
		return -errno;
	t->tmp_path[0] = 0;
	return 0;
}

void migd_tmpfile_close(struct migd_tmpfile *t)
{
	if (t->tmp_path[0])
		unlink(t->tmp_path);
	t->tmp_path[0] = 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}
