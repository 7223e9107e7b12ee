// SPDX-License-Identifier: GPL-2.0
/*
 * migd --cancel SESSION: stops the migd that migrates SESSION, found by
 * its pidfile (session/pidfile.h), and waits until it has resumed or
 * aborted the session and exited.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "session/pidfile.h"
#include "subcommands.h"

int migd_cancel_main(const char *name, int timeout_ms, struct migd_cancel *cancel)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
	char path[PATH_MAX];
	int pid;

	if (migd_pidfile_path(path, sizeof(path), name)) {
		pr_err("\"%s\" is not a session name", name);
		return 2;
	}
	pid = migd_pidfile_read(path);
	if (pid == -ENOENT) {
		pr_err("no migd is migrating session \"%s\" (no %s)", name, path);
		return 1;
	}
	if (pid < 0) {
		pr_err("%s: %s", path, pid == -EINVAL ? "not a pidfile" : strerror(-pid));
		return 1;
	}
	if (!migd_pidfile_is_live(pid)) {
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
	while (migd_pidfile_read(path) == pid && migd_pidfile_is_live(pid)) {
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
