// SPDX-License-Identifier: GPL-2.0
/*
 * migd as a child process of a test (see migd_proc.h).
 */

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvmmig_util.h"
#include "migd_proc.h"

const char *migd_path(void)
{
	const char *p = getenv("MIGD");

	return p && *p ? p : "/usr/bin/migd";
}

/* Runs migd with @fmt's words as arguments, stdout and stderr to files. */
void migd_spawn(struct migd_proc *p, const char *tag, const char *fmt, ...)
{
	char line[512], *argv[32], *save = NULL, *tok;
	int argc = 0;
	va_list ap;

	snprintf(p->log, sizeof(p->log), "/tmp/migd_local.%s.log", tag);
	snprintf(p->out, sizeof(p->out), "/tmp/migd_local.%s.out", tag);
	unlink(p->log);
	unlink(p->out);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	argv[argc++] = "migd";
	for (tok = strtok_r(line, " ", &save); tok && argc < 31; tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	p->pid = fork();
	if (!p->pid) {
		int o = open(p->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int e = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(o, 1);
		dup2(e, 2);
		execv(migd_path(), argv);
		_exit(127);
	}
}

/* Exit status, or -1 (and the process killed) after @ms. */
int migd_wait(struct migd_proc *p, int ms)
{
	uint64_t end = kvmmig_now_ms() + ms;
	int status;

	if (p->pid <= 0)
		return -2;
	while (kvmmig_now_ms() < end) {
		pid_t r = waitpid(p->pid, &status, WNOHANG);

		if (r == p->pid) {
			p->pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		kvmmig_sleep_ms(5);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &status, 0);
	p->pid = 0;
	return -1;
}

char *slurp(const char *path)
{
	static char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf[0] = 0;
	if (fd < 0)
		return buf;
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	close(fd);
	return buf;
}

bool file_has(const char *path, const char *needle)
{
	return strstr(slurp(path), needle);
}

/* Starts "migd --listen 127.0.0.1:0 ARGS" and reads its port from its log. */
int migd_start_dest(struct migd_proc *p, const char *args, int ms)
{
	const char *needle = "listening on 127.0.0.1:";
	uint64_t end = kvmmig_now_ms() + ms;

	migd_spawn(p, "dst", "--listen 127.0.0.1:0 %s", args);
	while (kvmmig_now_ms() < end) {
		char *log = slurp(p->log), *at = strstr(log, needle);

		if (at)
			return atoi(at + strlen(needle));
		if (waitpid(p->pid, NULL, WNOHANG) == p->pid) {
			p->pid = 0;
			return -1;
		}
		kvmmig_sleep_ms(10);
	}
	return -1;
}

void migd_kill(struct migd_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		p->pid = 0;
	}
}
