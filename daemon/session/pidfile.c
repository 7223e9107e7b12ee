// SPDX-License-Identifier: GPL-2.0
/*
 * Session pidfiles (see pidfile.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

static const char *run_dir(void)
{
	const char *d = getenv("MIGD_RUN_DIR");

	return d && *d ? d : MIGD_RUN_DIR;
}

int migd_pidfile_path(char *path, size_t len, const char *name)
{
	/* Session names are the module's; only a path separator is a problem. */
	if (!*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	if (snprintf(path, len, "%s/%s.pid", run_dir(), name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

int migd_pidfile_read(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	long pid;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = 0;
	pid = strtol(buf, NULL, 10);
	return pid > 0 && pid < (1L << 30) ? (int)pid : -EINVAL;
}

bool migd_pidfile_is_live(int pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	bool ok = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		/* "pid (comm) S ...": comm may hold spaces and parentheses. */
		char *open_p = strchr(buf, '('), *close_p = strrchr(buf, ')');

		if (open_p && close_p && close_p > open_p) {
			p = close_p + 2;
			ok = !strncmp(open_p + 1, "migd", 4) && *p != 'Z' && *p != 'X';
		}
	}
	fclose(f);
	return ok;
}

int migd_pidfile_create(struct migd_pidfile *pf, const char *name, char *err, size_t errlen)
{
	char buf[32];
	int fd, ret, len;

	pf->path[0] = 0;
	ret = migd_pidfile_path(pf->path, sizeof(pf->path), name);
	if (ret) {
		snprintf(err, errlen, "no pidfile for session name \"%s\"", name);
		pf->path[0] = 0;
		return ret;
	}
	if (mkdir(run_dir(), 0755) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", run_dir(), strerror(-ret));
		pf->path[0] = 0;
		return ret;
	}
	for (int tries = 0; tries < 2; tries++) {
		int pid;

		fd = open(pf->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			break;
		ret = -errno;
		if (ret != -EEXIST)
			break;
		pid = migd_pidfile_read(pf->path);
		if (pid > 0 && migd_pidfile_is_live(pid)) {
			snprintf(err, errlen, "session \"%s\" is being migrated by migd pid %d (%s)",
				 name, pid, pf->path);
			pf->path[0] = 0;
			return -EBUSY;
		}
		/* Left by a migd that was killed: not ours to keep. */
		unlink(pf->path);
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", pf->path, strerror(-ret));
		pf->path[0] = 0;
		return ret;
	}
	len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, len) != len) {
		ret = -errno;
		close(fd);
		unlink(pf->path);
		snprintf(err, errlen, "%s: %s", pf->path, strerror(-ret));
		pf->path[0] = 0;
		return ret;
	}
	close(fd);
	return 0;
}

void migd_pidfile_remove(struct migd_pidfile *pf)
{
	if (pf->path[0])
		unlink(pf->path);
	pf->path[0] = 0;
}

int migd_pidfile_owner(const char *name)
{
	char path[PATH_MAX];
	int pid;

	if (migd_pidfile_path(path, sizeof(path), name))
		return 0;
	pid = migd_pidfile_read(path);
	return pid > 0 && migd_pidfile_is_live(pid) ? pid : 0;
}
