// SPDX-License-Identifier: GPL-2.0
/*
 * Child processes of a test: see child.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "kvmmig_util.h"

int __child_start(struct child *c, const char *tag, char *const argv[])
{
	return __child_start_flags(c, tag, argv, 0);
}

int __child_start_flags(struct child *c, const char *tag, char *const argv[],
			unsigned int flags)
{
	int in[2], out[2], ret;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	c->in = c->out = -1;
	snprintf(c->tag, sizeof(c->tag), "%s", tag);
	snprintf(c->prefix, sizeof(c->prefix), "# [%s] ", c->tag);
	c->log = calloc(1, CHILD_LOG_SIZE);
	if (!c->log)
		return -ENOMEM;
	if (pipe2(in, O_CLOEXEC))
		return -errno;
	if (pipe2(out, O_CLOEXEC)) {
		ret = -errno;
		goto err_in;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto err_out;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0 ||
		    (!(flags & CHILD_KEEP_STDERR) &&
		     dup2(out[1], STDERR_FILENO) < 0))
			_exit(126);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->pid = pid;
	c->in = in[1];
	c->out = out[0];
	return 0;

err_out:
	close(out[0]);
	close(out[1]);
err_in:
	close(in[0]);
	close(in[1]);
	return ret;
}

static void keep_line(struct child *c, const char *line)
{
	size_t len = strlen(line);

	printf("%s%s\n", c->prefix, line);
	fflush(stdout);
	if (c->log_len + len + 2 > CHILD_LOG_SIZE)
		return;		/* the log is full; the echo above is all */
	memcpy(c->log + c->log_len, line, len);
	c->log_len += len;
	c->log[c->log_len++] = '\n';
	c->log[c->log_len] = '\0';
}

/*
 * Read what is there (waiting up to @timeout_ms for something) and return
 * the next complete line in @line, or 0 with @line empty if none yet.
 */
static int next_line(struct child *c, int timeout_ms, char *line, size_t len)
{
	struct pollfd pfd = { .fd = c->out, .events = POLLIN };
	char *end;
	ssize_t n;
	size_t l;

	line[0] = '\0';
	for (;;) {
		/* A progress line redraws with \r: each redraw is a line. */
		end = memchr(c->part, '\n', c->part_len);
		if (!end)
			end = memchr(c->part, '\r', c->part_len);
		if (end || c->part_len == sizeof(c->part) - 1) {
			l = end ? (size_t)(end - c->part) : c->part_len;
			c->part[l] = '\0';
			snprintf(line, len, "%s", c->part);
			if (*c->part)
				keep_line(c, c->part);
			l = end ? l + 1 : l;
			memmove(c->part, c->part + l, c->part_len - l);
			c->part_len -= l;
			if (*line)
				return 0;
			continue;
		}
		if (c->out < 0) {
			if (c->part_len) {
				c->part[c->part_len] = '\0';
				snprintf(line, len, "%s", c->part);
				keep_line(c, c->part);
				c->part_len = 0;
				return 0;
			}
			return -EPIPE;
		}
		n = poll(&pfd, 1, timeout_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n <= 0)
			return 0;
		n = read(c->out, c->part + c->part_len,
			 sizeof(c->part) - 1 - c->part_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(c->out);
			c->out = -1;
			continue;
		}
		c->part_len += n;
		timeout_ms = 0;
	}
}

int __child_wait_line(struct child *c, const char *needle, int timeout_ms,
		      char *line, size_t len)
{
	long deadline = (long)kvmmig_now_ms() + (long)timeout_ms * kvmmig_time_scale();
	long left;
	char buf[1024];
	int ret;

	for (;;) {
		left = deadline - (long)kvmmig_now_ms();
		ret = next_line(c, left > 0 ? left : 0, buf, sizeof(buf));
		if (ret)
			return ret;
		if (buf[0] && (strstr(buf, needle) || strstr(buf, "error="))) {
			if (line)
				snprintf(line, len, "%s", buf);
			return strstr(buf, needle) ? 0 : -EIO;
		}
		if (!buf[0] && left <= 0)
			return -ETIMEDOUT;
	}
}

bool child_saw(const struct child *c, const char *needle)
{
	return c->log && strstr(c->log, needle);
}

int __child_send(struct child *c, const char *cmd)
{
	char buf[256];
	int len = snprintf(buf, sizeof(buf), "%s\n", cmd);

	if (c->in < 0)
		return -EPIPE;
	if (write(c->in, buf, len) != len)
		return -errno;
	return 0;
}

static int decode(int status)
{
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int __child_wait_exit(struct child *c, int timeout_ms)
{
	long deadline = (long)kvmmig_now_ms() + (long)timeout_ms * kvmmig_time_scale();
	char buf[1024];
	int status;
	pid_t ret;

	if (c->reaped)
		return c->status;
	for (;;) {
		/* Drain its output so a full pipe never blocks it. */
		while (c->out >= 0 && !next_line(c, 0, buf, sizeof(buf)) && buf[0])
			;
		ret = waitpid(c->pid, &status, WNOHANG);
		if (ret == c->pid) {
			while (!next_line(c, 0, buf, sizeof(buf)) && buf[0])
				;
			c->reaped = true;
			c->status = decode(status);
			return c->status;
		}
		if (ret < 0)
			return -errno;
		if ((long)kvmmig_now_ms() >= deadline)
			return -ETIMEDOUT;
		next_line(c, 20, buf, sizeof(buf));
		if (c->out < 0)
			usleep(20000);
	}
}

bool child_running(struct child *c)
{
	int status;

	if (!c->pid || c->reaped)
		return false;
	if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
		c->reaped = true;
		c->status = decode(status);
		return false;
	}
	return true;
}

void child_signal(struct child *c, int sig)
{
	if (child_running(c))
		kill(c->pid, sig);
}

void child_reap(struct child *c)
{
	char buf[1024];

	if (!c->pid)
		return;
	/* What it said last explains what went wrong: read it all. */
	while (c->out >= 0 && !next_line(c, 0, buf, sizeof(buf)) && buf[0])
		;
	if (child_running(c)) {
		kill(c->pid, SIGKILL);
		__child_wait_exit(c, 10000);
	}
	printf("# [%s] exited with status %d\n", c->tag, c->status);
	if (c->in >= 0)
		close(c->in);
	if (c->out >= 0)
		close(c->out);
	free(c->log);
	memset(c, 0, sizeof(*c));
	c->in = c->out = -1;
}
