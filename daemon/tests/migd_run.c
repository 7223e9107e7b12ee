// SPDX-License-Identifier: GPL-2.0
/*
 * What the migration tests share (see migd_run.h).
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "harness.h"
#include "migd_run.h"

const char *migd_bin;

int migd_run_init(void)
{
	migd_bin = getenv("MIGD");
	if (!migd_bin) {
		fprintf(stderr, "%s: set MIGD to the migd binary\n",
			program_invocation_short_name);
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

uint64_t now_ms(void)
{
	return migd_now_ns() / MIGD_NSEC_PER_MSEC;
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------- */
/* Files */

void env_init(struct env *e)
{
	snprintf(e->dir, sizeof(e->dir), "/tmp/migd_test_XXXXXX");
	if (!mkdtemp(e->dir)) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(e->src, sizeof(e->src), "%s/src.img", e->dir);
	snprintf(e->dst, sizeof(e->dst), "%s/dst.img", e->dir);
	snprintf(e->log_src, sizeof(e->log_src), "%s/src.log", e->dir);
	snprintf(e->log_dst, sizeof(e->log_dst), "%s/dst.log", e->dir);
	snprintf(e->out_src, sizeof(e->out_src), "%s/src.out", e->dir);
	snprintf(e->out_dst, sizeof(e->out_dst), "%s/dst.out", e->dir);
}

static void dump_file(const char *path)
{
	char buf[4096];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	printf("# --- %s\n", path);
	while (fgets(buf, sizeof(buf), f))
		printf("# | %s", buf);
	fclose(f);
}

void env_fini(struct env *e)
{
	DIR *d = opendir(e->dir);
	struct dirent *de;
	char p[512];

	if (cur_failed || verbose) {
		dump_file(e->log_src);
		dump_file(e->out_src);
		dump_file(e->log_dst);
		dump_file(e->out_dst);
	}
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", e->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(e->dir);
}

int stray_files(const struct env *e, const char *const *allowed)
{
	DIR *d = opendir(e->dir);
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		bool ok = de->d_name[0] == '.';

		for (const char *const *a = allowed; !ok && *a; a++)
			ok = !strcmp(de->d_name, *a);
		if (!ok) {
			printf("# stray file %s\n", de->d_name);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n;
}

const char *const clean_set[] = {
	"src.img", "src.img.dirty", "src.log", "dst.log", "src.out", "dst.out",
	"other.img", "other.img.dirty", NULL,
};

bool exists(const char *path)
{
	return !access(path, F_OK);
}

char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n)
		buf[0] = 0;
	fclose(f);
	return buf;
}

bool file_has(const char *path, const char *needle)
{
	char *s = slurp(path);
	bool ret = s && strstr(s, needle);

	free(s);
	return ret;
}

bool wait_for(const char *path, const char *needle, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if (file_has(path, needle))
			return true;
		sleep_ms(5);
	}
	return false;
}

bool wait_catches(pid_t pid, int sig, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	unsigned long long caught;
	char path[64], line[128];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	while (!found && now_ms() < end) {
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "SigCgt: %llx", &caught) == 1 &&
			    (caught & (1ULL << (sig - 1))))
				found = true;
		if (f)
			fclose(f);
		if (!found)
			sleep_ms(5);
	}
	return found;
}

bool same_files(const char *a, const char *b)
{
	char *pa = NULL, *pb = NULL;
	FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
	bool same = fa && fb;
	size_t na, nb;

	pa = malloc(1 << 20);
	pb = malloc(1 << 20);
	while (same) {
		na = fread(pa, 1, 1 << 20, fa);
		nb = fread(pb, 1, 1 << 20, fb);
		if (na != nb || memcmp(pa, pb, na))
			same = false;
		if (!na)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	free(pa);
	free(pb);
	return same;
}

/* ---------------------------------------------------------------------- */
/* Processes */

#define MAX_ARGS 40

pid_t spawn(const char *out, const char *err, const char *fmt, ...)
{
	char line[1024], *argv[MAX_ARGS], *save = NULL, *tok;
	int argc = 0;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	argv[argc++] = (char *)migd_bin;
	for (tok = strtok_r(line, " ", &save); tok && argc < MAX_ARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (verbose) {
		printf("# $ migd");
		for (int i = 1; i < argc; i++)
			printf(" %s", argv[i]);
		printf("\n");
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int o = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
		int e = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(o, 1);
		dup2(e, 2);
		execv(migd_bin, argv);
		_exit(127);
	}
	return pid;
}

int wait_exit(pid_t pid, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	int status;

	if (pid <= 0)
		return -2;
	while (now_ms() < end) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
			       128 + WTERMSIG(status);
		sleep_ms(5);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	printf("# pid %d did not exit in %d ms, killed\n", (int)pid, timeout_ms);
	return -1;
}

pid_t start_dest(struct env *e, int *port, const char *args)
{
	const char *needle = "listening on 127.0.0.1:";
	pid_t pid = spawn(e->out_dst, e->log_dst, "--listen 127.0.0.1:0 %s", args);
	char *log, *p;

	*port = 0;
	if (!wait_for(e->log_dst, needle, 5000))
		return pid;
	log = slurp(e->log_dst);
	p = strstr(log, needle);
	if (p)
		*port = atoi(p + strlen(needle));
	free(log);
	return pid;
}

/* ---------------------------------------------------------------------- */
/* Sockets */

int listen_any(int *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) || listen(s, 1))
		return -1;
	getsockname(s, (struct sockaddr *)&sin, &sl);
	*port = ntohs(sin.sin_port);
	return s;
}

int connect_to(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin))) {
		close(s);
		return -1;
	}
	return s;
}
