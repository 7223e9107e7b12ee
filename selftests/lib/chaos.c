// SPDX-License-Identifier: GPL-2.0
/*
 * The dirty-log tests' chaos thread (chaos.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chaos.h"

#define PAGE		4096UL
#define MOVE_BATCH	64
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define MPOL_MF_MOVE	(1 << 1)

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ	22
#define MADV_POPULATE_WRITE	23
#endif

static const char *const op_names[CHAOS_NR_OPS] = {
	[CHAOS_MPROTECT_RO]	= "mprotect-ro",
	[CHAOS_MPROTECT_NONE]	= "mprotect-none",
	[CHAOS_MADVISE]		= "madvise",
	[CHAOS_MOVE_PAGES]	= "move_pages",
	[CHAOS_COMPACT]		= "compact",
	[CHAOS_FORK]		= "fork",
};

static const int madvices[] = {
	MADV_DONTNEED, MADV_COLD, MADV_PAGEOUT, MADV_WILLNEED,
	MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_RANDOM, MADV_NORMAL,
};

static int fail(struct chaos *c, const char *what)
{
	if (!c->err) {
		c->err = -errno ? -errno : -EIO;
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
			 strerror(errno));
	}
	return -1;
}

/* A random window of 1 to 256 pages of the mapping. */
static void window(struct chaos *c, char **start, size_t *len)
{
	size_t pages = c->len / PAGE;
	size_t n = 1 + rand_r(&c->seed) % (pages < 256 ? pages : 256);
	size_t first = rand_r(&c->seed) % (pages - n + 1);

	*start = c->addr + first * PAGE;
	*len = n * PAGE;
}

static int protect_round_trip(struct chaos *c, int prot)
{
	char *start;
	size_t len;

	window(c, &start, &len);
	c->protecting = true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (mprotect(start, len, prot))
		return fail(c, "mprotect");
	usleep(20);
	if (mprotect(start, len, PROT_READ | PROT_WRITE))
		return fail(c, "mprotect back");
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	c->protecting = false;
	return 0;
}

static int advise(struct chaos *c)
{
	int advice = madvices[c->done[CHAOS_MADVISE] % ARRAY_LEN(madvices)];
	char *start;
	size_t len;

	window(c, &start, &len);
	if (madvise(start, len, advice))
		return fail(c, "madvise");
	return 0;
}

static int move_some(struct chaos *c)
{
	void *pages[MOVE_BATCH];
	int nodes[MOVE_BATCH], status[MOVE_BATCH];
	int node = c->done[CHAOS_MOVE_PAGES] % 2, i;

	for (i = 0; i < MOVE_BATCH; i++) {
		pages[i] = c->addr + (rand_r(&c->seed) % (c->len / PAGE)) * PAGE;
		nodes[i] = node;
		/* move_pages() moves mapped pages: map it (read-only if armed). */
		(void)*(volatile char *)pages[i];
	}
	/* Pages that cannot move now (busy, not present) are no failure. */
	if (syscall(SYS_move_pages, 0, MOVE_BATCH, pages, nodes, status,
		    MPOL_MF_MOVE) < 0 && errno != ENOENT && errno != EBUSY)
		return fail(c, "move_pages");
	for (i = 0; i < MOVE_BATCH; i++)
		c->pages_moved += status[i] == node;
	return 0;
}

static int compact(struct chaos *c)
{
	int fd = open("/proc/sys/vm/compact_memory", O_WRONLY);

	if (fd < 0)
		return fail(c, "/proc/sys/vm/compact_memory");
	if (write(fd, "1", 1) != 1) {
		close(fd);
		return fail(c, "compacting");
	}
	close(fd);
	return 0;
}

/* A child writes through its copy of the shared mapping, then exits. */
static int fork_writer(struct chaos *c)
{
	int status, i;
	pid_t pid = fork();

	if (pid < 0)
		return fail(c, "fork");
	if (!pid) {
		for (i = 0; i < 8; i++) {
			size_t page = rand_r(&c->seed) % (c->len / PAGE);

			c->addr[page * PAGE + 64] = 0x5a + i;
		}
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		errno = ECHILD;
		return fail(c, "the forked writer");
	}
	return 0;
}

static int do_op(struct chaos *c, enum chaos_op op)
{
	switch (op) {
	case CHAOS_MPROTECT_RO:
		return protect_round_trip(c, PROT_READ);
	case CHAOS_MPROTECT_NONE:
		return protect_round_trip(c, PROT_NONE);
	case CHAOS_MADVISE:
		return advise(c);
	case CHAOS_MOVE_PAGES:
		return move_some(c);
	case CHAOS_COMPACT:
		/* The whole machine's memory: now and then only. */
		if (rand_r(&c->seed) % 32)
			return 1;
		return compact(c);
	case CHAOS_FORK:
		return fork_writer(c);
	default:
		return 1;
	}
}

static void *chaos_main(void *arg)
{
	struct chaos *c = arg;
	int op, ret;

	while (!__atomic_load_n(&c->stop, __ATOMIC_SEQ_CST) && !c->err) {
		op = rand_r(&c->seed) % CHAOS_NR_OPS;
		if (!(c->ops & (1U << op)))
			continue;
		ret = do_op(c, op);
		if (!ret)
			c->done[op]++;
		usleep(100);
	}
	return NULL;
}

int chaos_start(struct chaos *c)
{
	if (c->ops & (1U << CHAOS_MOVE_PAGES) && chaos_nr_nodes() < 2)
		c->ops &= ~(1U << CHAOS_MOVE_PAGES);
	c->stop = false;
	return -pthread_create(&c->thread, NULL, chaos_main, c);
}

int chaos_stop(struct chaos *c)
{
	__atomic_store_n(&c->stop, true, __ATOMIC_SEQ_CST);
	pthread_join(c->thread, NULL);
	return c->err;
}

void chaos_describe(const struct chaos *c, char *buf, size_t size)
{
	size_t off = 0;
	int op;

	buf[0] = '\0';
	for (op = 0; op < CHAOS_NR_OPS && off < size; op++) {
		if (!(c->ops & (1U << op)))
			continue;
		off += snprintf(buf + off, size - off, "%s%s %lu",
				off ? ", " : "", op_names[op], c->done[op]);
	}
	if (off < size && c->ops & (1U << CHAOS_MOVE_PAGES))
		snprintf(buf + off, size - off, " (%lu pages moved)",
			 c->pages_moved);
}

static struct chaos *segv_chaos;

static void segv_waiter(int sig, siginfo_t *info, void *uc)
{
	struct timespec ts = { 0, 10000 };
	int i;

	(void)info;
	(void)uc;
	/* Wait for the protection to go; the store is then retried. */
	for (i = 0; i < 500000; i++) {
		if (!__atomic_load_n(&segv_chaos->protecting, __ATOMIC_SEQ_CST))
			return;
		nanosleep(&ts, NULL);
	}
	signal(sig, SIG_DFL);
}

void chaos_install_segv_waiter(struct chaos *c)
{
	struct sigaction sa = { 0 };

	segv_chaos = c;
	sa.sa_sigaction = segv_waiter;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
}

int chaos_nr_nodes(void)
{
	char path[64];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d",
			 n);
		if (access(path, F_OK))
			return n;
		n++;
	}
}

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

#define NUMAB_DIR	"/sys/kernel/debug/sched/numa_balancing/"

static const struct {
	const char *path, *fast;
} numab_knobs[] = {
	{ "/proc/sys/kernel/numa_balancing", "1" },
	{ NUMAB_DIR "scan_delay_ms", "0" },
	{ NUMAB_DIR "scan_period_min_ms", "10" },
	{ NUMAB_DIR "scan_period_max_ms", "50" },
};

static char numab_saved[ARRAY_LEN(numab_knobs)][32];
static bool numab_fast;

int numa_balancing_fast(bool on)
{
	size_t i;
	int ret;

	if (access(numab_knobs[0].path, F_OK))
		return -ENOENT;
	/* Off is idempotent: teardowns call it whatever the test did. */
	if (on == numab_fast)
		return 0;
	numab_fast = on;
	for (i = 0; i < ARRAY_LEN(numab_knobs); i++) {
		if (on) {
			ret = read_file(numab_knobs[i].path, numab_saved[i],
					sizeof(numab_saved[i]));
			if (!ret)
				ret = write_file(numab_knobs[i].path,
						 numab_knobs[i].fast);
		} else {
			ret = write_file(numab_knobs[i].path, numab_saved[i]);
		}
		if (ret)
			return ret;
	}
	return 0;
}

long vmstat(const char *name)
{
	char key[64];
	long val;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2) {
		if (!strcmp(key, name)) {
			fclose(f);
			return val;
		}
	}
	fclose(f);
	return -1;
}

long numa_scan_wait(long pages)
{
	long from = vmstat("numa_pte_updates");
	time_t end = time(NULL) + 30;
	volatile unsigned long x;

	while (time(NULL) < end && vmstat("numa_pte_updates") < from + pages)
		for (x = 0; x < 1000000; x++)
			;
	return vmstat("numa_pte_updates") - from;
}
