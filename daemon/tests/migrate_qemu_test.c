// SPDX-License-Identifier: GPL-2.0
/*
 * migd with real QEMU on both sides (tests/qemu_vm.c: TCG, RAM in shared
 * files on /dev/shm, a guest that keeps writing): QEMU moves the devices,
 * migd the RAM (Documentation/qemu.rst).  A migration completes with the
 * destination guest running on from the source's memory; a cancel during
 * the rounds and at pre-switchover, a killed destination QEMU and a
 * killed destination migd each leave the source guest running and the
 * destination QEMU not; bad options and a monitor that is not QEMU fail
 * with messages that say so.
 *
 * Prints "N passed, N failed" last and exits non-zero on any failure.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "migd_run.h"
#include "qemu_vm.h"

/* Random bytes at this offset of the source's RAM, before the migration. */
#define PATTERN_OFF	(16u << 20)

struct pair {
	struct env e;
	struct qemu_vm src, dst;
	int port, qport;	/* migd's, the destination QEMU's */
	pid_t d, s;
};

static void write_pattern(const char *path, size_t len)
{
	char *buf = malloc(len);
	int fd = open(path, O_WRONLY);

	srandom(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = random();
	CHECK(fd >= 0 && pwrite(fd, buf, len, PATTERN_OFF) == (ssize_t)len);
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* Both QEMUs up, @pattern bytes written, the destination migd listening. */
static int pair_start(struct pair *p, size_t pattern)
{
	int s;

	memset(p, 0, sizeof(*p));
	env_init(&p->e);
	if (qemu_start(&p->src, p->e.dir, "src", false) ||
	    qemu_start(&p->dst, p->e.dir, "dst", true)) {
		check_fail(__LINE__, "QEMU did not start");
		return -1;
	}
	if (pattern)
		write_pattern(p->src.ram, pattern);
	s = listen_any(&p->qport);
	close(s);
	{
		char args[512];

		snprintf(args, sizeof(args), "-v --qmp %s --qemu-listen tcp:127.0.0.1:%d %s",
			 p->dst.sock, p->qport, p->dst.ram);
		p->d = start_dest(&p->e, &p->port, args);
	}
	CHECK(p->port > 0);
	return p->port > 0 ? 0 : -1;
}

static void pair_source(struct pair *p, const char *extra)
{
	p->s = spawn(p->e.out_src, p->e.log_src,
		     "--peer 127.0.0.1:%d -v --qmp %s --qemu-uri tcp:127.0.0.1:%d %s %s",
		     p->port, p->src.sock, p->qport, extra, p->src.ram);
}

static void pair_end(struct pair *p)
{
	if (p->s > 0)
		wait_exit(p->s, 1000);
	if (p->d > 0)
		wait_exit(p->d, 1000);
	qemu_stop(&p->src, cur_failed || verbose);
	qemu_stop(&p->dst, cur_failed || verbose);
	env_fini(&p->e);
}

/* The destination QEMU must not run: gone (quit), or still waiting. */
static void check_dest_not_running(struct pair *p)
{
	for (int i = 0; i < 100 && !qemu_exited(&p->dst); i++)
		sleep_ms(20);
	if (!qemu_exited(&p->dst))
		CHECK(strcmp(qemu_state(&p->dst), "running"));
}

static void check_source_runs(struct pair *p)
{
	const char *st = qemu_state(&p->src);

	if (strcmp(st, "running"))
		check_fail(__LINE__, "the source guest is %s, not running", st);
	CHECK(qemu_guest_runs(&p->src, 5000));
}

static char *read_ram(const char *path)
{
	char *buf = malloc(QEMU_RAM_SIZE);
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, QEMU_RAM_SIZE, 0) != QEMU_RAM_SIZE) {
		free(buf);
		buf = NULL;
	}
	if (fd >= 0)
		close(fd);
	return buf;
}

static void migration_completes(void)
{
	struct pair p;
	char *a = NULL, *b = NULL;
	uint32_t c0;
	size_t diff = 0, behind = 0;

	if (pair_start(&p, 1 << 20))
		goto out;
	pair_source(&p, "");
	/*
	 * The order that matters: when the destination QEMU has loaded the
	 * device state (its migration "completed"), migd must have written
	 * every page of the stopped round, so its counters are the source's
	 * final ones (or later, if the guest already runs there).  With the
	 * device state loaded first they would be a round behind.
	 */
	CHECK(qemu_wait_mig_event(&p.dst, "completed", 30000));
	for (unsigned int i = 0; i < QEMU_GUEST_PAGES; i++)
		behind += qemu_counter(&p.dst, i) < qemu_counter(&p.src, i);
	CHECK_EQ(behind, 0);
	CHECK_EQ(wait_exit(p.s, 30000), 0);
	CHECK_EQ(wait_exit(p.d, 30000), 0);
	p.s = p.d = 0;
	CHECK_STR(qemu_state(&p.src), "postmigrate");
	CHECK_STR(qemu_state(&p.dst), "running");
	CHECK_STR(qemu_mig_status(&p.src), "completed");
	CHECK(file_has(p.e.log_src, "QEMU's downtime"));
	/* The source guest stopped for good; its RAM is what moved. */
	c0 = qemu_counter(&p.src, 0);
	sleep_ms(100);
	CHECK_EQ(qemu_counter(&p.src, 0), c0);
	CHECK(qemu_guest_runs(&p.dst, 5000));
	behind = 0;
	/*
	 * The destination's RAM equals the source's at the pause but for
	 * the counters, which its guest has taken on from there.
	 */
	CHECK(qemu_cmd(&p.dst, "stop", NULL) == 0);
	a = read_ram(p.src.ram);
	b = read_ram(p.dst.ram);
	CHECK(a && b);
	for (size_t off = 0; a && b && off < QEMU_RAM_SIZE; off += 4) {
		uint32_t x = *(uint32_t *)(a + off), y = *(uint32_t *)(b + off);
		bool counter = off >= QEMU_GUEST_FIRST && !(off % 4096) &&
			       off < QEMU_GUEST_FIRST + QEMU_GUEST_PAGES * 4096ul;

		if (counter && y < x)
			behind++;
		else if (!counter && x != y)
			diff++;
	}
	CHECK_EQ(diff, 0);
	CHECK_EQ(behind, 0);
	if (verbose)
		printf("# counter 0: %u at the source, %u at the destination\n",
		       c0, b ? *(uint32_t *)(b + QEMU_GUEST_FIRST) : 0);
out:
	free(a);
	free(b);
	pair_end(&p);
}

/* Slow rounds: 4 MiB of data at 2 MB/s. */
#define SLOW_PATTERN	(4u << 20)
#define SLOW_ARGS	"--bwlimit 2 --timeout 5"

static void after_failure(struct pair *p, int want_src, int want_dst)
{
	CHECK_EQ(wait_exit(p->s, 30000), want_src);
	CHECK_EQ(wait_exit(p->d, 30000), want_dst);
	p->s = p->d = 0;
	check_source_runs(p);
	check_dest_not_running(p);
}

static void cancel_during_rounds(void)
{
	struct pair p;

	if (pair_start(&p, SLOW_PATTERN))
		goto out;
	pair_source(&p, SLOW_ARGS);
	CHECK(wait_for(p.e.log_dst, "migration from", 10000));
	CHECK(wait_catches(p.s, SIGINT, 5000));
	sleep_ms(300);
	kill(p.s, SIGINT);
	after_failure(&p, 1, 1);
	CHECK_STR(qemu_mig_status(&p.src), "none");
	CHECK(file_has(p.e.log_src, "cancelled"));
out:
	pair_end(&p);
}

static void cancel_at_pre_switchover(void)
{
	struct pair p;

	if (pair_start(&p, 0))
		goto out;
	pair_source(&p, "--pause-timeout 30");
	/* After migd set its parameters: slow QEMU down to catch it. */
	CHECK(wait_for(p.e.log_src, "connected to", 10000));
	CHECK(qemu_cmd(&p.src, "migrate-set-parameters", "{s:I}", "max-bandwidth",
		       (json_int_t)20000) == 0);
	CHECK(qemu_wait_mig(&p.src, "active", 10000));
	kill(p.s, SIGSTOP);
	CHECK(qemu_cmd(&p.src, "migrate-set-parameters", "{s:I}", "max-bandwidth",
		       (json_int_t)1 << 30) == 0);
	CHECK(qemu_wait_mig(&p.src, "pre-switchover", 10000));
	CHECK_STR(qemu_state(&p.src), "finish-migrate");
	kill(p.s, SIGINT);
	kill(p.s, SIGCONT);
	after_failure(&p, 1, 1);
	CHECK_STR(qemu_mig_status(&p.src), "cancelled");
out:
	pair_end(&p);
}

/*
 * The destination migd is held (SIGSTOP) before it has the last round,
 * so the source waits for COMMITTED with the guest stopped at
 * pre-switchover; a cancel then resets the connection and the source
 * guest runs on.  The destination, let go, fails (its QEMU's incoming
 * migration was cancelled, or the connection was reset) and must not run
 * its guest.
 */
static void cancel_waiting_for_commit(void)
{
	struct pair p;

	if (pair_start(&p, 0))
		goto out;
	pair_source(&p, "--pause-timeout 30");
	CHECK(wait_for(p.e.log_src, "connected to", 10000));
	CHECK(qemu_cmd(&p.src, "migrate-set-parameters", "{s:I}", "max-bandwidth",
		       (json_int_t)20000) == 0);
	CHECK(qemu_wait_mig(&p.src, "active", 10000));
	kill(p.d, SIGSTOP);
	CHECK(qemu_cmd(&p.src, "migrate-set-parameters", "{s:I}", "max-bandwidth",
		       (json_int_t)1 << 30) == 0);
	CHECK(qemu_wait_mig(&p.src, "pre-switchover", 10000));
	CHECK(wait_for(p.e.log_src, "(stopped)", 10000));
	sleep_ms(200);
	/* Nothing has gone on: QEMU still waits for the word to continue. */
	CHECK_STR(qemu_mig_status(&p.src), "pre-switchover");
	kill(p.s, SIGINT);
	CHECK_EQ(wait_exit(p.s, 30000), 1);
	check_source_runs(&p);
	kill(p.d, SIGCONT);
	CHECK_EQ(wait_exit(p.d, 30000), 1);
	p.s = p.d = 0;
	check_dest_not_running(&p);
	CHECK_STR(qemu_mig_status(&p.src), "cancelled");
	CHECK(file_has(p.e.log_src, "cancelled while waiting for the destination"));
out:
	if (p.d > 0)
		kill(p.d, SIGCONT);
	pair_end(&p);
}

static void dest_qemu_killed(void)
{
	struct pair p;

	if (pair_start(&p, SLOW_PATTERN))
		goto out;
	pair_source(&p, SLOW_ARGS);
	CHECK(wait_for(p.e.log_dst, "migration from", 10000));
	sleep_ms(300);
	kill(p.dst.pid, SIGKILL);
	after_failure(&p, 1, 1);
	CHECK(file_has(p.e.log_dst, p.dst.sock));
out:
	pair_end(&p);
}

static void dest_migd_killed(void)
{
	struct pair p;

	if (pair_start(&p, SLOW_PATTERN))
		goto out;
	pair_source(&p, SLOW_ARGS);
	CHECK(wait_for(p.e.log_dst, "migration from", 10000));
	sleep_ms(300);
	kill(p.d, SIGKILL);
	after_failure(&p, 1, 128 + SIGKILL);
	CHECK_STR(qemu_state(&p.dst), "inmigrate");
out:
	pair_end(&p);
}

static void bad_options(void)
{
	static const struct {
		const char *args, *msg;
	} cases[] = {
		{ "--peer 127.0.0.1:1 --qemu-uri tcp:x:1 /dev/shm/x", "--qemu-uri needs --qmp" },
		{ "--listen 127.0.0.1:0 --qemu-listen tcp:x:1 /dev/shm/x", "--qemu-listen needs --qmp" },
		{ "--listen 127.0.0.1:0 --qmp /x.sock --qemu-uri tcp:x:1 /dev/shm/x", "--qemu-uri is for the source" },
		{ "--peer 127.0.0.1:1 --qmp /x.sock --qemu-listen tcp:x:1 /dev/shm/x", "--qemu-listen is for the destination" },
		{ "--peer 127.0.0.1:1 --qmp /x.sock", "--qmp /x.sock needs REGIONs" },
		{ "--output /tmp/x --qmp /x.sock /dev/shm/x", "--qmp works with --peer or --listen" },
		{ "--peer 127.0.0.1:1 --qmp /x.sock --on-pause true /dev/shm/x", "--qmp and --on-pause" },
		{ "--peer 127.0.0.1:1 --qmp /x.sock fd:3", "--qmp: \"fd:3\" is not a path" },
		{ "--peer 127.0.0.1:1 --qmp /x.sock mysession", "--qmp: \"mysession\" is not a path" },
	};
	struct env e;

	env_init(&e);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *err;

		unlink(e.log_src);
		CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "%s", cases[i].args), 5000), 2);
		err = slurp(e.log_src);
		CHECK_STR(err, cases[i].msg);
		free(err);
	}
	env_fini(&e);
}

/* A unix socket whose server sends @reply (NULL: nothing) and holds on. */
struct fake {
	char path[100];		/* fits sun_path */
	const char *reply;
	int lfd;
	pthread_t thread;
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->lfd, NULL, NULL);

	struct pollfd pfd = { .fd = c, .events = POLLIN };
	char buf[256];

	if (c >= 0 && f->reply && write(c, f->reply, strlen(f->reply)) < 0)
		perror("write");
	/* Hold on until migd gives up and closes (at most 4 s). */
	while (c >= 0 && poll(&pfd, 1, 4000) == 1 && read(c, buf, sizeof(buf)) > 0)
		;
	if (c >= 0)
		close(c);
	return NULL;
}

static void fake_start(struct fake *f, const struct env *e, const char *reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "%s/fake.sock", e->dir);
	memcpy(sun.sun_path, f->path, sizeof(f->path));
	f->reply = reply;
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(!bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)) && !listen(f->lfd, 1));
	pthread_create(&f->thread, NULL, fake_serve, f);
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->lfd);
	unlink(f->path);
}

static void not_qemu(const char *role, const char *reply, const char *msg)
{
	struct fake f;
	struct env e;
	uint64_t t0;
	char *err;

	env_init(&e);
	fake_start(&f, &e, reply);
	t0 = now_ms();
	CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "%s --qmp %s --timeout 1 /dev/shm/none", role,
				 f.path), 10000), 1);
	CHECK(now_ms() - t0 < 3000);
	err = slurp(e.log_src);
	CHECK_STR(err, f.path);
	CHECK_STR(err, msg);
	if (verbose)
		printf("# %s", err);
	free(err);
	fake_stop(&f);
	env_fini(&e);
}

static void not_qemu_silent(void)
{
	not_qemu("--peer 127.0.0.1:1", NULL, "no QMP greeting in 1000 ms");
	not_qemu("--listen 127.0.0.1:0", NULL, "no QMP greeting in 1000 ms");
}

static void not_qemu_garbage(void)
{
	not_qemu("--peer 127.0.0.1:1", "220 smtp.example.com ESMTP\r\n", "not a QMP monitor");
	not_qemu("--listen 127.0.0.1:0", "{\"hello\": 1}\r\n", "not a QMP monitor");
}

static void no_qmp_socket(void)
{
	struct env e;
	char *err;

	env_init(&e);
	CHECK_EQ(wait_exit(spawn(NULL, e.log_src, "--peer 127.0.0.1:1 --qmp %s/none.sock /dev/shm/x",
				 e.dir), 10000), 1);
	err = slurp(e.log_src);
	CHECK_STR(err, "none.sock: connecting");
	free(err);
	env_fini(&e);
}

static const struct harness_test tests[] = {
	HARNESS_TEST(bad_options),
	HARNESS_TEST(no_qmp_socket),
	HARNESS_TEST(not_qemu_silent),
	HARNESS_TEST(not_qemu_garbage),
	HARNESS_TEST(migration_completes),
	HARNESS_TEST(cancel_during_rounds),
	HARNESS_TEST(cancel_at_pre_switchover),
	HARNESS_TEST(cancel_waiting_for_commit),
	HARNESS_TEST(dest_qemu_killed),
	HARNESS_TEST(dest_migd_killed),
};

HARNESS_MAIN(tests, qemu_vm_init)
