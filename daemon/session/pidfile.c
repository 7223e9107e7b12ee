// SPDX-License-Identifier: GPL-2.0
/*
 * Session pidfiles and --cancel (see pidfile.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "pidfile.h"

static const char *run_dir(void)
{
	const char *d = getenv("MIGD_RUN_DIR");

	return d && *d ? d : MIGD_RUN_DIR;
}

static int make_path(char *path, size_t len, const char *name)
{
	/* Session names are the module's; only a path separator is a problem. */
	if (!*name || strchr(name, '/') || name[0] == '.')
		return -EINVAL;
	if (snprintf(path, len, "%s/%s.pid", run_dir(), name) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int read_pid(const char *path)
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

/* A live (not zombie) process whose name starts with "migd". */
static bool is_live_migd(int pid)
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
	ret = make_path(pf->path, sizeof(pf->path), name);
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
		pid = read_pid(pf->path);
		if (pid > 0 && is_live_migd(pid)) {
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

	if (make_path(path, sizeof(path), name))
		return 0;
	pid = read_pid(path);
	return pid > 0 && is_live_migd(pid) ? pid : 0;
}

int migd_cancel_main(const char *name, int timeout_ms, struct migd_cancel *cancel)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
	char path[PATH_MAX];
	int pid;

	if (make_path(path, sizeof(path), name)) {
		pr_err("\"%s\" is not a session name", name);
		return 2;
	}
	pid = read_pid(path);
	if (pid == -ENOENT) {
		pr_err("no migd is migrating session \"%s\" (no %s)", name, path);
		return 1;
	}
	if (pid < 0) {
		pr_err("%s: %s", path, pid == -EINVAL ? "not a pidfile" : strerror(-pid));
		return 1;
	}
	if (!is_live_migd(pid)) {
		unlink(path);
		pr_err("no migd is migrating session \"%s\" (removed the stale %s of pid %d)",
		       name, path, pid);
		return 1;
	}
	if (kill(pid, SIGINT)) {
		pr_err("cannot signal migd pid %d: %s", pid, strerror(errno));
		return 1;
	}
	pr_info("asked migd pid %d to stop migrating session \"%s\"", pid, name);
	/* It resumes or aborts the session, then removes its pidfile and exits. */
	while (read_pid(path) == pid && is_live_migd(pid)) {
		struct timespec ts = { 0, 20 * MIGD_NSEC_PER_MSEC };

		if (migd_cancel_requested(cancel)) {
			pr_err("interrupted; migd pid %d is still stopping", pid);
			return 1;
		}
		if (migd_now_ns() >= deadline) {
			pr_err("migd pid %d did not stop in %d s", pid, timeout_ms / 1000);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
	pr_info("migd pid %d has stopped", pid);
	return 0;
}
