// SPDX-License-Identifier: GPL-2.0
/*
 * migd's command line, run as $MIGD: usage errors (exit 2) and failures
 * (exit 1), the session commands without the module, every long option of
 * --help in migd.8 and back, and --cancel against no pidfile, a stale
 * one, a pid that is not migd and a live migd.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "migd_run.h"

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

static const struct harness_test tests[] = {
#define T(fn) HARNESS_TEST(fn)
	T(test_cli),
	T(test_cancel_pidfile),
#undef T
};

HARNESS_MAIN(tests, migd_run_init)
