// SPDX-License-Identifier: GPL-2.0
/*
 * VM control by shell commands (see hooks.h).
 */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "hooks.h"

/*
 * Runs "sh -c @cmd"; 0 if it exits 0, -ETIMEDOUT, or what @check (may be
 * NULL) returned, such as -ECANCELED.
 */
static int run_cmd(const char *what, const char *cmd, int timeout_ms,
		   int (*check)(void *arg), void *arg)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
	int status, ret;
	pid_t pid;

	pr_debug("%s: running %s", what, cmd);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (;;) {
		struct timespec ts = { 0, 2 * MIGD_NSEC_PER_MSEC };
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		ret = check ? check(arg) : 0;
		if (!ret && timeout_ms > 0 && migd_now_ns() >= deadline)
			ret = -ETIMEDOUT;
		if (ret) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return ret;
		}
		nanosleep(&ts, NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		pr_err("%s command \"%s\" failed (status %d)", what, cmd,
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

static int hook_pause(void *opaque, int timeout_ms, int (*check)(void *arg), void *arg)
{
	struct migd_hooks *h = opaque;

	return run_cmd("pause", h->on_pause, timeout_ms, check, arg);
}

static void hook_resume(void *opaque)
{
	struct migd_hooks *h = opaque;

	/* Not cancellable: the VM must run again whatever happened. */
	if (h->on_resume && run_cmd("resume", h->on_resume, 0, NULL, NULL))
		pr_err("the VM may still be paused on the source");
}

static void hook_handover(void *opaque)
{
	struct migd_hooks *h = opaque;

	if (h->on_handover)
		run_cmd("hand-over", h->on_handover, 0, NULL, NULL);
}

void migd_hooks_install(struct migd_vm_ops *vm, struct migd_hooks *h)
{
	if (!h->on_pause)
		return;
	vm->pause = hook_pause;
	vm->resume = hook_resume;
	vm->handed_over = hook_handover;
	vm->opaque = h;
}
