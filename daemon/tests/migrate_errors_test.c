// SPDX-License-Identifier: GPL-2.0
/*
 * Migration tests on the build machine: real migd processes ($MIGD) over
 * loopback TCP (127.0.0.1 only), file regions, and a writer thread in this
 * process that plays the guest: it keeps dirtying pages of the source file
 * at a steady rate through the shared dirty log and honours pause
 * requests.  Every wait is bounded; a stuck migd is killed.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "backend/dirtylog.h"
#include "common/clock.h"
#include "engine/policy.h"
#include "stream/stream.h"
#include "harness.h"

#define PS		4096u
#define TIMEOUT_MS	60000

/* ---------------------------------------------------------------------- */
/* Harness */

static const char *migd_bin;

static uint64_t now_ms(void)
{
	return migd_now_ns() / MIGD_NSEC_PER_MSEC;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------- */
/* Files */

struct env {
	char dir[64];
	char src[128], dst[128], log_src[128], log_dst[128];
	char out_src[128], out_dst[128];
};

static void env_init(struct env *e)
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

static void env_fini(struct env *e)
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

/* Files in the test directory other than the named ones: must be none. */
static int stray_files(const struct env *e, const char *const *allowed)
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

static const char *const clean_set[] = {
	"src.img", "src.img.dirty", "src.log", "dst.log", "src.out", "dst.out",
	"other.img", "other.img.dirty", NULL,
};

static bool exists(const char *path)
{
	return !access(path, F_OK);
}

static char *slurp(const char *path)
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

static bool file_has(const char *path, const char *needle)
{
	char *s = slurp(path);
	bool ret = s && strstr(s, needle);

	free(s);
	return ret;
}

static bool wait_for(const char *path, const char *needle, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	while (now_ms() < end) {
		if (file_has(path, needle))
			return true;
		sleep_ms(5);
	}
	return false;
}

/* Has @pid installed its handler for @sig yet (/proc/PID/status SigCgt)? */
static bool wait_catches(pid_t pid, int sig, int timeout_ms)
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

static bool same_files(const char *a, const char *b)
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

/*
 * A memory image: every page starts with its index and a generation
 * counter (the writer bumps it), then bytes from a seed; every 5th page is
 * zero, to exercise zero pages.
 */
static void make_image(const char *path, uint64_t npages, unsigned int seed)
{
	uint8_t *page = malloc(PS);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || ftruncate(fd, npages * PS)) {
		perror(path);
		exit(2);
	}
	for (uint64_t i = 0; i < npages; i++) {
		if (i % 5 == 3)
			continue;
		for (unsigned int k = 0; k < PS; k++)
			page[k] = (uint8_t)(seed + i * 7 + k * 13);
		memcpy(page, &i, 8);
		memset(page + 8, 0, 8);
		if (pwrite(fd, page, PS, i * PS) != PS) {
			perror(path);
			exit(2);
		}
	}
	close(fd);
	free(page);
}

/* ---------------------------------------------------------------------- */
/* The guest: a writer thread */

struct writer {
	pthread_t thread;
	char path[128];
	uint64_t npages;
	unsigned int rate;		/* pages per second */
	/* Shared with the test's thread. */
	_Atomic bool stop;
	_Atomic bool hold_pause;	/* see a pause request but do not ack it */
	_Atomic bool saw_pause_req;
	_Atomic bool saw_handover;
	_Atomic uint64_t writes;
	uint64_t *shadow;		/* generation of each page, as written */
	uint8_t *mem;
	struct migd_dirtylog log;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t start = migd_now_ns(), done = 0, rnd = 88172645463325252ull;

	while (!w->stop) {
		enum migd_vm_state s = migd_dirtylog_state(&w->log);
		uint64_t due;

		if (s == MIGD_VM_HANDED_OVER) {
			w->saw_handover = true;
			break;
		}
		if (s == MIGD_VM_PAUSE_REQ) {
			w->saw_pause_req = true;
			if (!w->hold_pause)
				migd_dirtylog_set_state(&w->log, MIGD_VM_PAUSED);
			sleep_ms(1);
			continue;
		}
		if (s == MIGD_VM_PAUSED) {
			sleep_ms(1);
			continue;
		}
		/* Steady rate: catch up to rate * elapsed, a few pages at a time. */
		due = (migd_now_ns() - start) * w->rate / MIGD_NSEC_PER_SEC;
		if (done >= due) {
			sleep_ms(1);
			continue;
		}
		for (int k = 0; k < 16 && done < due; k++, done++) {
			uint64_t p;

			rnd ^= rnd << 13;
			rnd ^= rnd >> 7;
			rnd ^= rnd << 17;
			/* Half the writes hit a hot tenth of memory, like a guest. */
			p = (rnd >> 1) % (rnd & 1 ? w->npages : w->npages / 10 + 1);
			w->shadow[p]++;
			memcpy(w->mem + p * PS + 8, &w->shadow[p], 8);
			memcpy(w->mem + p * PS + 16, &rnd, 8);
			migd_dirtylog_mark(&w->log, p);
			w->writes++;
		}
	}
	return NULL;
}

static void writer_start(struct writer *w, const char *path, uint64_t npages,
			 unsigned int rate)
{
	char lp[160];
	int fd;

	memset(w, 0, sizeof(*w));
	snprintf(w->path, sizeof(w->path), "%s", path);
	w->npages = npages;
	w->rate = rate;
	w->shadow = calloc(npages, 8);
	fd = open(path, O_RDWR);
	w->mem = mmap(NULL, npages * PS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	/* Pick up where an earlier writer on the same file left off. */
	for (uint64_t p = 0; w->mem != MAP_FAILED && p < npages; p++)
		memcpy(&w->shadow[p], w->mem + p * PS + 8, 8);
	snprintf(lp, sizeof(lp), "%s.dirty", path);
	if (w->mem == MAP_FAILED || migd_dirtylog_create(&w->log, lp, npages, PS)) {
		perror("writer");
		exit(2);
	}
	pthread_create(&w->thread, NULL, writer_main, w);
}

/* Stops the thread; checks that the file holds what it wrote. */
static bool writer_stop(struct writer *w)
{
	bool intact = true;

	w->stop = true;
	pthread_join(w->thread, NULL);
	for (uint64_t p = 0; p < w->npages; p++) {
		uint64_t idx, gen;

		if (p % 5 == 3 && !w->shadow[p])
			continue;
		memcpy(&idx, w->mem + p * PS, 8);
		memcpy(&gen, w->mem + p * PS + 8, 8);
		if ((p % 5 != 3 && idx != p) || gen != w->shadow[p]) {
			if (intact)
				printf("# source page %" PRIu64 " changed behind the writer\n", p);
			intact = false;
		}
	}
	munmap(w->mem, w->npages * PS);
	migd_dirtylog_close(&w->log);
	free(w->shadow);
	return intact;
}

/* Waits until the writer has done @n more writes: it runs on. */
static bool writer_runs(struct writer *w, uint64_t n)
{
	uint64_t start = w->writes, end = now_ms() + 5000;

	while (now_ms() < end) {
		if (w->writes >= start + n)
			return true;
		sleep_ms(2);
	}
	return false;
}

/* ---------------------------------------------------------------------- */
/* Processes */

#define MAX_ARGS 40

static pid_t spawn(const char *out, const char *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs "$MIGD ARGS" (split at spaces) with stdout and stderr to files. */
static pid_t spawn(const char *out, const char *err, const char *fmt, ...)
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

/* Exit status, or -1 (and the process killed) after @timeout_ms. */
static int wait_exit(pid_t pid, int timeout_ms)
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

/* Starts "migd --listen 127.0.0.1:0 ARGS" and learns its port. */
static pid_t start_dest(struct env *e, int *port, const char *args)
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
/* Tests */

static void test_policy(void)
{
	struct migd_policy p = { .downtime_ns = 300 * MIGD_NSEC_PER_MSEC,
				 .max_rounds = 5, .stall_rounds = 2 };
	struct migd_policy_state st = { 0 };

	/* 100 MB at 1 GB/s is 100 ms: within 300 ms. */
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 100000000, 1000000000), MIGD_STOP_CONVERGED);
	CHECK_EQ(st.est_downtime_ns, 100 * MIGD_NSEC_PER_MSEC);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 1000000000, 1000000000), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 2, 900000000, 1000000000), MIGD_CONTINUE);
	/* Two rounds that do not shrink: not converging. */
	CHECK_EQ(migd_policy_decide(&p, &st, 3, 900000000, 1000000000), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 4, 950000000, 1000000000), MIGD_STOP_STALLED);
	memset(&st, 0, sizeof(st));
	CHECK_EQ(migd_policy_decide(&p, &st, 5, 500000000, 1000000000), MIGD_STOP_MAX_ROUNDS);
	/* No bandwidth measured yet is no reason to divide by zero. */
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 4096, 0), MIGD_CONTINUE);
	CHECK_EQ(migd_policy_decide(&p, &st, 1, 0, 0), MIGD_STOP_CONVERGED);
}

static void test_dirtylog(void)
{
	char path[] = "/tmp/migd_test_log_XXXXXX";
	struct migd_dirtylog a, b;
	uint64_t bm[3] = { 0 };
	int fd = mkstemp(path);

	close(fd);
	CHECK_EQ(migd_dirtylog_create(&a, path, 130, PS), 0);
	CHECK_EQ(migd_dirtylog_open(&b, path), 0);
	CHECK_EQ(b.npages, 130);
	migd_dirtylog_mark(&a, 0);
	migd_dirtylog_mark(&a, 64);
	migd_dirtylog_mark(&a, 129);
	CHECK_EQ(migd_dirtylog_harvest(&b, 64, 66, bm), 2);
	CHECK_EQ(bm[0], 1);
	CHECK_EQ(bm[1], 2);
	/* Taken once: a second harvest finds nothing, the rest is still there. */
	CHECK_EQ(migd_dirtylog_harvest(&b, 64, 66, bm), 0);
	memset(bm, 0, sizeof(bm));
	CHECK_EQ(migd_dirtylog_harvest(&b, 0, 130, bm), 1);
	CHECK_EQ(bm[0], 1);
	/* Nobody acknowledges: the pause request times out and is withdrawn. */
	CHECK_EQ(migd_dirtylog_pause(&b, 20, NULL, NULL), -ETIMEDOUT);
	CHECK_EQ(migd_dirtylog_state(&a), MIGD_VM_RUNNING);
	migd_dirtylog_close(&a);
	migd_dirtylog_close(&b);
	/* Not a log. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(write(fd, "hello", 5) == 5);
	close(fd);
	CHECK_EQ(migd_dirtylog_open(&b, path), -EINVAL);
	unlink(path);
}

static void test_cli(void)
{
	char *help, *man, path[256], *p;
	struct env e;
	pid_t pid;

	env_init(&e);
	CHECK_EQ(wait_exit(spawn(e.out_src, e.log_src, "--help"), TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--version"), TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "%s", ""), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x --listen 1 a"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x --downtime 0 a"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x --page-size 5000 a"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x a=1 a=2"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--bogus"), TIMEOUT_MS), 2);
	/* One SESSION or REGIONs, never two sessions or a mix. */
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x vm0 vm1"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x vm0 ram=/a"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--output /x"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x --on-pause true vm0"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--peer x 0123456789012345678901234567890123"),
			   TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--cancel vm0 --peer x"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--cancel vm0 vm1"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--cancel"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "list extra"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "list --bogus"), TIMEOUT_MS), 2);
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "list --help"), TIMEOUT_MS), 0);
	/* Without the module, the session commands say so. */
	if (access("/sys/module/kvmmig", F_OK)) {
		pid = spawn(NULL, e.log_src, "list");
		CHECK_EQ(wait_exit(pid, TIMEOUT_MS), 1);
		CHECK(file_has(e.log_src, "no generic netlink family \"kvmmig\": is kvmmig.ko loaded?"));
		pid = spawn(NULL, e.log_dst, "--listen 127.0.0.1:0");
		CHECK_EQ(wait_exit(pid, TIMEOUT_MS), 1);
		CHECK(file_has(e.log_dst, "is kvmmig.ko loaded?"));
		unlink(e.log_src);
		unlink(e.log_dst);
	}
	/* A missing file is a failure with its name, not a usage error. */
	pid = spawn(NULL, e.log_dst, "--peer 127.0.0.1:1 %s/none.img", e.dir);
	CHECK_EQ(wait_exit(pid, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_dst, "none.img: No such file"));

	/* Every long option in --help is in the man page, and back. */
	help = slurp(e.out_src);
	snprintf(path, sizeof(path), "%s", migd_bin);
	p = strrchr(path, '/');
	snprintf(p ? p + 1 : path, sizeof(path) - (p ? p + 1 - path : 0), "migd.8");
	man = slurp(path);
	CHECK(man && *man);
	for (p = help; (p = strstr(p, "--")); p += 2) {
		char opt[32], manopt[40];
		int n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");

		if (n < 2 || n > 20)
			continue;
		snprintf(opt, sizeof(opt), "%.*s", n, p + 2);
		/* In roff source a dash is "\-". */
		snprintf(manopt, sizeof(manopt), "\\-\\-");
		for (int i = 0, k = 4; opt[i] && k < (int)sizeof(manopt) - 3; i++) {
			if (opt[i] == '-')
				manopt[k++] = '\\';
			manopt[k++] = opt[i];
			manopt[k] = 0;
		}
		if (!strstr(man, manopt))
			check_fail(__LINE__, "--%s is not in migd.8", opt);
	}
	free(help);
	free(man);
	env_fini(&e);
}

static void write_pidfile(const char *dir, const char *name, int pid)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pid", dir, name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", pid);
		fclose(f);
	}
}

/* --cancel: no migd, a stale pidfile, a pid that is not migd, a live migd. */
static void test_cancel_pidfile(void)
{
	char run[128], pidpath[160];
	struct env e;
	pid_t d, dead;
	int port;

	env_init(&e);
	snprintf(run, sizeof(run), "%s/run", e.dir);
	snprintf(pidpath, sizeof(pidpath), "%s/vm0.pid", run);
	mkdir(run, 0755);
	setenv("MIGD_RUN_DIR", run, 1);

	CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "--cancel vm0"), TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "no migd is migrating session \"vm0\""));

	dead = fork();
	if (!dead)
		_exit(0);
	waitpid(dead, NULL, 0);
	write_pidfile(run, "vm0", dead);
	CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "--cancel vm0"), TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "removed the stale"));
	CHECK(!exists(pidpath));

	/* Alive, but not a migd (a recycled pid): never signalled. */
	write_pidfile(run, "vm0", getpid());
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "--cancel vm0"), TIMEOUT_MS), 1);
	CHECK(!exists(pidpath));

	/* A live migd: SIGINT, and --cancel returns once it has stopped. */
	d = start_dest(&e, &port, e.dst);
	CHECK(port > 0);
	write_pidfile(run, "vm0", d);
	CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "--cancel vm0"), TIMEOUT_MS), 0);
	CHECK(file_has(e.log_src, "has stopped"));
	CHECK_EQ(wait_exit(d, 100), 1);
	CHECK(file_has(e.log_dst, "cancelled"));
	unsetenv("MIGD_RUN_DIR");
	unlink(pidpath);
	rmdir(run);
	env_fini(&e);
}

static void test_connect_refused(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);
	struct env e;
	int s, port;

	env_init(&e);
	make_image(e.src, 16, 1);
	/* A port that was free a moment ago. */
	s = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&sin, sizeof(sin));
	getsockname(s, (struct sockaddr *)&sin, &sl);
	port = ntohs(sin.sin_port);
	close(s);
	CHECK_EQ(wait_exit(spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d %s", port, e.src),
			   TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "cannot connect to 127.0.0.1"));
	CHECK(file_has(e.log_src, "Connection refused"));
	env_fini(&e);
}

/* Two regions, nothing writing them: one round, then an empty stopped one. */
static void test_migrate_static(void)
{
	char src2[160], dst2[160], args[512];
	pid_t d, s;
	struct env e;
	int port;

	env_init(&e);
	snprintf(src2, sizeof(src2), "%s/other.img", e.dir);
	snprintf(dst2, sizeof(dst2), "%s/dst2.img", e.dir);
	make_image(e.src, 1000, 1);
	make_image(src2, 77, 2);
	snprintf(args, sizeof(args), "--json vga=%s ram=%s", dst2, e.dst);
	d = start_dest(&e, &port, args);
	CHECK(port > 0);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --json ram=%s vga=%s",
		  port, e.src, src2);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, e.dst));
	CHECK(same_files(src2, dst2));
	CHECK(file_has(e.out_src, "\"result\":\"ok\""));
	CHECK(file_has(e.out_src, "\"zero_pages\":215"));	/* 200 + 15 */
	CHECK(file_has(e.out_src, "\"round\":2,\"stopped\":true,\"pages\":0"));
	CHECK(file_has(e.out_dst, "\"role\":\"destination\""));
	CHECK(file_has(e.out_dst, "\"pages\":1077"));
	unlink(dst2);
	env_fini(&e);
}

/*
 * The main test: a guest keeps writing while pre-copy runs; after the
 * hand-over the destination holds exactly the source's memory at the
 * moment the guest was paused.
 */
static void test_migrate_live(void)
{
	const uint64_t npages = 8192;	/* 32 MiB */
	struct writer w;
	char args[512];
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, npages, 3);
	writer_start(&w, e.src, npages, 4000);
	d = start_dest(&e, &port, e.dst);
	CHECK(port > 0);
	/* 40 MB/s against 16 MB/s of dirtying: converges in a few rounds. */
	snprintf(args, sizeof(args), "--peer 127.0.0.1:%d -v --json --bwlimit 40 --downtime 20 %s",
		 port, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(w.saw_pause_req);
	/* The guest stopped for good at the hand-over, so now is stop time. */
	CHECK(w.saw_handover);
	CHECK(writer_stop(&w));
	CHECK(same_files(e.src, e.dst));
	CHECK(file_has(e.out_src, "\"round\":3"));
	CHECK(file_has(e.out_src, "\"stop_reason\":\"converged\""));
	CHECK(file_has(e.log_src, "round 1: 8192 pages"));
	CHECK(!stray_files(&e, (const char *const[]){ "src.img", "src.img.dirty", "dst.img",
			   "src.log", "dst.log", "src.out", "dst.out", NULL }));
	env_fini(&e);
}

/* A save to a file while the guest writes, and the verifier on it. */
static void test_save_verify(void)
{
	char out[160], args[512];
	struct writer w;
	struct env e;
	pid_t s;

	env_init(&e);
	snprintf(out, sizeof(out), "%s/vm.kmig", e.dir);
	make_image(e.src, 2048, 4);
	writer_start(&w, e.src, 2048, 3000);
	snprintf(args, sizeof(args), "--output %s --bwlimit 20 --downtime 5 %s", out, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK(w.saw_handover == false);		/* a save hands nothing over */
	CHECK(writer_stop(&w));
	CHECK(exists(out));
	CHECK_EQ(wait_exit(spawn(e.out_dst, e.log_dst, "verify %s", out), TIMEOUT_MS), 0);
	CHECK(file_has(e.out_dst, "(last one stopped)"));
	CHECK(file_has(e.out_dst, ": OK"));
	unlink(out);

	/* Cancelled half way: no file at all. */
	writer_start(&w, e.src, 2048, 3000);
	snprintf(args, sizeof(args), "--output %s --bwlimit 1 %s", out, e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	/* Under load an ASan migd can take longer than the pause to start. */
	CHECK(wait_catches(s, SIGINT, TIMEOUT_MS));
	sleep_ms(500);
	kill(s, SIGINT);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(writer_stop(&w));
	CHECK(!exists(out));
	CHECK(!stray_files(&e, clean_set));

	/* To standard output: the stream alone there, the summary on stderr. */
	unlink(e.log_src);
	writer_start(&w, e.src, 2048, 3000);
	s = spawn(out, e.log_src, "--output - --json %s", e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK(writer_stop(&w));
	CHECK(file_has(e.log_src, "\"result\":\"ok\""));
	CHECK(file_has(e.log_src, "saved to <stdout>"));
	CHECK_EQ(wait_exit(spawn(NULL, NULL, "verify -q %s", out), TIMEOUT_MS), 0);
	unlink(out);
	env_fini(&e);
}

enum stage {
	STAGE_FIRST_PASS,	/* round 1 in flight */
	STAGE_LATER_ROUND,	/* round 2 or later in flight */
	STAGE_PAUSE,		/* the source waits for the guest to pause */
};

static const char *const stage_name[] = { "first pass", "later round", "pause" };

enum victim {
	CANCEL_SOURCE,		/* SIGINT to the source */
	CANCEL_DEST,		/* SIGINT to the destination */
	KILL_DEST,		/* the destination dies (SIGKILL) */
	KILL_SOURCE,		/* the source dies (SIGKILL) */
};

/*
 * Interrupts a live migration at @stage; the source must be left running
 * and untouched, the destination with nothing.
 */
static void interrupt_at(enum victim v, enum stage stage)
{
	const uint64_t npages = 4096;
	struct writer w;
	char args[512];
	struct env e;
	pid_t d, s;
	int port, rs, rd;

	env_init(&e);
	make_image(e.src, npages, 5);
	writer_start(&w, e.src, npages, 3000);
	w.hold_pause = stage == STAGE_PAUSE;
	d = start_dest(&e, &port, e.dst);
	CHECK(port > 0);
	/* Slow enough to catch each stage; never converges before the pause. */
	snprintf(args, sizeof(args), "--peer 127.0.0.1:%d -v --timeout 5 %s %s", port,
		 stage == STAGE_PAUSE ? "--max-rounds 2 --bwlimit 50" :
		 "--bwlimit 4 --downtime 1 --max-rounds 1000", e.src);
	s = spawn(e.out_src, e.log_src, "%s", args);
	switch (stage) {
	case STAGE_FIRST_PASS:
		CHECK(wait_for(e.log_dst, "migration from", 10000));
		sleep_ms(300);
		break;
	case STAGE_LATER_ROUND:
		CHECK(wait_for(e.log_src, "round 2:", 20000));
		sleep_ms(100);
		break;
	case STAGE_PAUSE:
		for (int i = 0; i < 2000 && !w.saw_pause_req; i++)
			sleep_ms(5);
		CHECK(w.saw_pause_req);
		sleep_ms(50);
		break;
	}
	CHECK(!file_has(e.log_src, "(stopped)"));
	kill(v == CANCEL_SOURCE || v == KILL_SOURCE ? s : d,
	     v == CANCEL_SOURCE || v == CANCEL_DEST ? SIGINT : SIGKILL);
	rs = wait_exit(s, TIMEOUT_MS);
	rd = wait_exit(d, TIMEOUT_MS);
	switch (v) {
	case CANCEL_SOURCE:
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "cancelled"));
		CHECK_EQ(rd, 1);
		break;
	case CANCEL_DEST:
		CHECK_EQ(rd, 1);
		CHECK(file_has(e.log_dst, "cancelled"));
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "the destination closed the connection"));
		break;
	case KILL_DEST:
		CHECK_EQ(rd, 128 + SIGKILL);
		CHECK_EQ(rs, 1);
		CHECK(file_has(e.log_src, "the destination closed the connection"));
		break;
	case KILL_SOURCE:
		CHECK_EQ(rs, 128 + SIGKILL);
		CHECK_EQ(rd, 1);
		CHECK(file_has(e.log_dst, "the source went away"));
		break;
	}
	if (v != KILL_SOURCE) {
		/* Not a paused guest left behind: it runs on at the source. */
		CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
		CHECK(writer_runs(&w, 100));
		if (stage == STAGE_PAUSE)
			CHECK(file_has(e.log_src, "cancelled while pausing") ||
			      v != CANCEL_SOURCE);
	}
	CHECK(!w.saw_handover);
	CHECK(writer_stop(&w));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	if (cur_failed)
		printf("# (victim %d at stage %s)\n", v, stage_name[stage]);
	env_fini(&e);
}

static void test_cancel_source(void)
{
	interrupt_at(CANCEL_SOURCE, STAGE_FIRST_PASS);
	interrupt_at(CANCEL_SOURCE, STAGE_LATER_ROUND);
	interrupt_at(CANCEL_SOURCE, STAGE_PAUSE);
}

static void test_cancel_dest(void)
{
	interrupt_at(CANCEL_DEST, STAGE_FIRST_PASS);
	interrupt_at(CANCEL_DEST, STAGE_LATER_ROUND);
	interrupt_at(CANCEL_DEST, STAGE_PAUSE);
}

static void test_dest_dies(void)
{
	interrupt_at(KILL_DEST, STAGE_FIRST_PASS);
	interrupt_at(KILL_DEST, STAGE_LATER_ROUND);
	interrupt_at(KILL_DEST, STAGE_PAUSE);
}

static void test_source_dies(void)
{
	interrupt_at(KILL_SOURCE, STAGE_FIRST_PASS);
	interrupt_at(KILL_SOURCE, STAGE_LATER_ROUND);
}

/* The guest never acknowledges the pause: give up, let it run. */
static void test_pause_timeout(void)
{
	struct writer w;
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, 256, 6);
	writer_start(&w, e.src, 256, 1000);
	w.hold_pause = true;
	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --pause-timeout 1 %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "pausing the VM: the VMM did not acknowledge"));
	CHECK(w.saw_pause_req);
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	w.hold_pause = false;
	CHECK(writer_runs(&w, 50));
	CHECK(writer_stop(&w));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	env_fini(&e);
}

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0700);
}

/* --on-pause and friends: the commands run, and a failing pause aborts. */
static void test_hooks(void)
{
	char pause[160], resume[160], handover[160], body[300], mark[160];
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, 64, 11);
	snprintf(pause, sizeof(pause), "%s/pause.sh", e.dir);
	snprintf(resume, sizeof(resume), "%s/resume.sh", e.dir);
	snprintf(handover, sizeof(handover), "%s/handover.sh", e.dir);
	snprintf(mark, sizeof(mark), "%s/marks", e.dir);
	snprintf(body, sizeof(body), "echo pause >> %s", mark);
	write_script(pause, body);
	snprintf(body, sizeof(body), "echo resume >> %s", mark);
	write_script(resume, body);
	snprintf(body, sizeof(body), "echo handover >> %s", mark);
	write_script(handover, body);

	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --on-pause %s --on-resume %s --on-handover %s %s",
		  port, pause, resume, handover, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, e.dst));
	{
		char *m = slurp(mark);

		CHECK(!strcmp(m, "pause\nhandover\n"));
		free(m);
	}
	unlink(e.dst);
	unlink(mark);
	unlink(e.log_dst);

	/* A pause command that fails: no hand-over, no resume needed. */
	write_script(pause, "exit 3");
	d = start_dest(&e, &port, e.dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --on-pause %s --on-resume %s --on-handover %s %s",
		  port, pause, resume, handover, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "failed (status 3)"));
	CHECK(!exists(mark));
	CHECK(!exists(e.dst));
	unlink(pause);
	unlink(resume);
	unlink(handover);
	env_fini(&e);
}

/* ---------------------------------------------------------------------- */
/* Hand-made peers */

static int listen_any(int *port)
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

static int connect_to(int port)
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

/* A stream from a hand-made source: header, one region, a round, pages. */
static void build_stream(struct kvmmig_stream_membuf *mb, const char *name,
			 uint64_t npages)
{
	struct kvmmig_stream_hdr hdr = { .page_size = PS };
	struct kvmmig_stream_region reg = { .id = 0, .size = npages * PS, .page_size = PS };
	struct kvmmig_stream_page pg[2];
	struct kvmmig_stream_writer *w;
	struct kvmmig_stream_sink sink;
	static uint8_t data[PS];

	memset(mb, 0, sizeof(*mb));
	memset(data, 0x5a, sizeof(data));
	snprintf(reg.name, sizeof(reg.name), "%s", name);
	kvmmig_stream_new_id(hdr.migration_id);
	kvmmig_stream_sink_membuf(&sink, mb);
	kvmmig_stream_writer_new(&w, &sink, &hdr, NULL);
	kvmmig_stream_write_regions(w, &reg, 1);
	kvmmig_stream_write_round(w, 1, KVMMIG_ROUND_F_STOPPED, 2);
	pg[0] = (struct kvmmig_stream_page){ .index = 0, .data = data };
	pg[1] = (struct kvmmig_stream_page){ .index = 1, .data = data };
	kvmmig_stream_write_pages(w, 0, pg, 2);
	kvmmig_stream_write_end(w);
	kvmmig_stream_writer_free(w);
}

/* Sends @mb (with byte @flip flipped unless negative) to a destination. */
static void send_raw(int port, struct kvmmig_stream_membuf *mb, long flip)
{
	int s = connect_to(port);
	char buf[4096];

	if (flip >= 0)
		mb->data[flip] ^= 0x01;
	CHECK(s >= 0 && write(s, mb->data, mb->len) == (ssize_t)mb->len);
	shutdown(s, SHUT_WR);
	/* Drain the answer until the destination closes. */
	while (s >= 0 && read(s, buf, sizeof(buf)) > 0)
		;
	close(s);
}

/* The destination rejects a damaged or foreign stream and keeps nothing. */
static void test_rejected_stream(void)
{
	struct kvmmig_stream_membuf mb;
	struct env e;
	int port;
	pid_t d;

	env_init(&e);
	build_stream(&mb, "ram0", 4);
	/* Sanity: as built, it migrates. */
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, -1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(exists(e.dst));
	unlink(e.dst);
	unlink(e.log_dst);

	/* A flipped bit in the second page's contents: checksum. */
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, mb.len - 16 - 100);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_dst, "rejected the stream: PAGE_DATA record at offset"));
	CHECK(file_has(e.log_dst, "CRC"));
	CHECK(!exists(e.dst));
	kvmmig_stream_membuf_free(&mb);
	unlink(e.log_dst);

	/* A region this side does not have. */
	build_stream(&mb, "vga", 4);
	d = start_dest(&e, &port, e.dst);
	send_raw(port, &mb, -1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_dst, "region \"vga\" has no destination here"));
	CHECK(!exists(e.dst));
	kvmmig_stream_membuf_free(&mb);
	unlink(e.log_dst);

	/* Not a stream at all. */
	d = start_dest(&e, &port, e.dst);
	{
		int s = connect_to(port);

		CHECK(s >= 0 && write(s, "GET / HTTP/1.0\r\n\r\n", 18) == 18);
		shutdown(s, SHUT_WR);
		CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
		close(s);
	}
	CHECK(file_has(e.log_dst, "rejected the stream: header"));
	CHECK(!exists(e.dst));
	CHECK(!stray_files(&e, clean_set));
	env_fini(&e);
}

/* The source refuses a destination that answers with other regions. */
static void test_region_mismatch(void)
{
	struct env e;
	pid_t d, s;
	int port;
	char args[256];

	env_init(&e);
	make_image(e.src, 64, 7);
	snprintf(args, sizeof(args), "other=%s", e.dst);
	d = start_dest(&e, &port, args);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "before accepting the regions"));
	CHECK(file_has(e.log_dst, "the source's region \"ram0\" has no destination"));
	CHECK(!exists(e.dst));
	env_fini(&e);
}

/*
 * A destination that takes everything and then neither confirms nor
 * closes (a hung host): the source times out and the guest runs on.
 */
static void test_silent_peer(void)
{
	struct writer w;
	struct env e;
	int lfd, port, c;
	pid_t s;

	env_init(&e);
	make_image(e.src, 256, 8);
	writer_start(&w, e.src, 256, 500);
	lfd = listen_any(&port);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --timeout 1 %s", port, e.src);
	c = accept(lfd, NULL, NULL);
	CHECK(c >= 0);
	/* Read nothing: the source stalls in the regions handshake. */
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "reading the destination's answer") ||
	      file_has(e.log_src, "no progress"));
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	CHECK(writer_stop(&w));
	close(c);
	close(lfd);
	env_fini(&e);
}

/* A destination that accepts the regions, swallows everything, never confirms. */
static void test_no_confirmation(void)
{
	struct kvmmig_stream_reader_opts ro = { .mode = KVMMIG_STREAM_FORWARD };
	struct kvmmig_stream_reader *r;
	struct kvmmig_stream_writer *wr;
	struct kvmmig_stream_source src;
	struct kvmmig_stream_sink sink;
	struct kvmmig_stream_hdr hdr;
	struct kvmmig_stream_rec rec;
	struct writer w;
	struct env e;
	int lfd, port, c, ret;
	pid_t s;

	env_init(&e);
	make_image(e.src, 256, 9);
	writer_start(&w, e.src, 256, 500);
	lfd = listen_any(&port);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --timeout 1 %s", port, e.src);
	c = accept(lfd, NULL, NULL);
	kvmmig_stream_source_fd(&src, c);
	kvmmig_stream_sink_fd(&sink, c);
	CHECK_EQ(kvmmig_stream_reader_new(&r, &src, &ro), 0);
	CHECK_EQ(kvmmig_stream_read_header(r, &hdr), 0);
	CHECK_EQ(kvmmig_stream_read_next(r, &rec), 1);
	hdr.flags = KVMMIG_STREAM_F_RETURN;
	CHECK_EQ(kvmmig_stream_writer_new(&wr, &sink, &hdr, NULL), 0);
	{
		struct kvmmig_stream_region reg = rec.regions.regions[0];

		CHECK_EQ(kvmmig_stream_write_regions(wr, &reg, 1), 0);
	}
	CHECK_EQ(kvmmig_stream_writer_flush(wr), 0);
	while ((ret = kvmmig_stream_read_next(r, &rec)) > 0)
		;
	CHECK_EQ(ret, 0);	/* a whole, valid stream */
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 1);
	CHECK(file_has(e.log_src, "no confirmation from the destination"));
	CHECK(file_has(e.log_src, "VM resumed on the source"));
	CHECK_EQ(migd_dirtylog_state(&w.log), MIGD_VM_RUNNING);
	CHECK(writer_runs(&w, 50));
	CHECK(writer_stop(&w));
	kvmmig_stream_reader_free(r);
	kvmmig_stream_writer_free(wr);
	close(c);
	close(lfd);
	env_fini(&e);
}

/* ---------------------------------------------------------------------- */
/* Throughput: a migration against a plain TCP copy, same run, same host */

struct sink_arg {
	int lfd;
	uint64_t got;
};

static void *tcp_sink(void *arg)
{
	struct sink_arg *a = arg;
	int c = accept(a->lfd, NULL, NULL);
	char *buf = malloc(1 << 20);
	ssize_t n;

	while ((n = read(c, buf, 1 << 20)) > 0)
		a->got += n;
	free(buf);
	close(c);
	return NULL;
}

static double plain_tcp_mbps(uint64_t bytes)
{
	struct sink_arg a = { 0 };
	char *buf = calloc(1, 1 << 20);
	uint64_t t0, sent = 0;
	pthread_t th;
	int port, s;

	/* Random-ish contents, as a page stream would have. */
	for (int i = 0; i < (1 << 20); i++)
		buf[i] = (char)(i * 2654435761u >> 13);
	a.lfd = listen_any(&port);
	pthread_create(&th, NULL, tcp_sink, &a);
	s = connect_to(port);
	t0 = migd_now_ns();
	while (sent < bytes) {
		ssize_t n = write(s, buf, 1 << 20);

		if (n <= 0)
			break;
		sent += n;
	}
	close(s);
	pthread_join(th, NULL);
	close(a.lfd);
	free(buf);
	return (double)a.got * 1e3 / (migd_now_ns() - t0);
}

static double json_num(const char *path, const char *key)
{
	char *s = slurp(path), *p = strstr(s, key);
	double v = p ? atof(p + strlen(key)) : 0;

	free(s);
	return v;
}

static void test_throughput(void)
{
	const uint64_t npages = 32768;	/* 128 MiB */
	char dst[160];
	double tcp, mig;
	struct env e;
	pid_t d, s;
	int port;

	env_init(&e);
	make_image(e.src, npages, 10);
	/* tmpfs when there is one, so the disk does not set the pace. */
	snprintf(dst, sizeof(dst), "%s", access("/dev/shm", W_OK) ? e.dst : "/dev/shm/migd_test_dst.img");
	tcp = plain_tcp_mbps(npages * PS);
	d = start_dest(&e, &port, dst);
	s = spawn(e.out_src, e.log_src, "--peer 127.0.0.1:%d --json %s", port, e.src);
	CHECK_EQ(wait_exit(s, TIMEOUT_MS), 0);
	CHECK_EQ(wait_exit(d, TIMEOUT_MS), 0);
	CHECK(same_files(e.src, dst));
	mig = json_num(e.out_src, "\"throughput_mbps\":");
	printf("# loopback: migration %.0f MB/s (128 MiB, 20%% zero pages), plain TCP %.0f MB/s\n",
	       mig, tcp);
	CHECK(mig > 0);
	unlink(dst);
	env_fini(&e);
}

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_policy),
	T(test_dirtylog),
	T(test_cli),
	T(test_cancel_pidfile),
	T(test_connect_refused),
	T(test_migrate_static),
	T(test_migrate_live),
	T(test_save_verify),
	T(test_cancel_source),
	T(test_cancel_dest),
	T(test_dest_dies),
	T(test_source_dies),
	T(test_pause_timeout),
	T(test_hooks),
	T(test_rejected_stream),
	T(test_region_mismatch),
	T(test_silent_peer),
	T(test_no_confirmation),
	T(test_throughput),
#undef T
};

int main(int argc, char **argv)
{
	harness_init(argc, argv);
	migd_bin = getenv("MIGD");
	if (!migd_bin) {
		fprintf(stderr, "migrate_test: set MIGD to the migd binary\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	return harness_run(tests, sizeof(tests) / sizeof(tests[0]));
}
