// SPDX-License-Identifier: GPL-2.0
/*
 * abguest: the A-B workload of the QEMU guest (the L2 guest the test hosts
 * run under QEMU + KVM).  It runs as the guest's only program, from its
 * /init, linked statically.
 *
 * It takes a buffer of --pct percent of MemTotal (default 75), locks it and
 * walks it forever in passes.  A write pass gives every page the pattern of
 * (seq, page): word 0 is seq << 32 | page, word k (k > 0) that value mixed
 * with k, so any word of any page can be checked; a verify pass then reads
 * every page back and expects the seq it last wrote.  Passes alternate
 * (A: write seq 2n+1, verify; B: write seq 2n+2, verify; ...).  A page that
 * was never written is expected all zero.  The walk is cut into slices of
 * at most SLICE_NS so that the heartbeat keeps its period.
 *
 * The virtio-serial port named kvmmig.0 carries, every --hb-ms
 * milliseconds (default 10), one line
 *
 *	hb SEQ MONO_NS PASSES ERRORS
 *
 * (heartbeat number, the guest's CLOCK_MONOTONIC in ns, verify passes
 * completed, pages found wrong so far), and takes commands, one a line:
 *
 *	verify	check every page now against what it last held (interleaved
 *		with the walk, in slices); answers "ok PAGES" or "bad PAGE
 *		want SEQ got SEQ" (the first wrong page)
 *	rate N	write N pages per second (0: as fast as it can); "ok rate N"
 *
 * Anything else gets "error unknown command".  While no one listens on the
 * host side a heartbeat is dropped (the port is non-blocking); answers wait.
 * Every mismatch found is also printed on the console (the first few).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE_SIZE	4096UL
#define PAGE_WORDS	(PAGE_SIZE / sizeof(uint64_t))
#define SLICE_NS	2000000ULL	/* longest stretch of work between polls */
#define PORT_WAIT_S	30
#define MAX_PRINTED	20

enum phase { WRITING, VERIFYING };

static struct {
	uint64_t *mem;
	uint64_t npages;
	uint32_t seq;		/* the seq the current pass writes or checks */
	enum phase phase;
	uint64_t cursor;	/* next page of the current pass */
	uint64_t passes;	/* verify passes completed */
	uint64_t errors;	/* wrong pages found */
	unsigned long rate;	/* pages per second, 0: flat out */
	uint64_t rate_start_ns;
	uint64_t rate_written;	/* pages written since rate_start_ns */
	bool check;		/* a "verify" command is under way */
	uint64_t check_cursor;
	int64_t check_bad;	/* first bad page of it, or -1 */
	uint32_t check_want, check_got;
	int fd;
	char in[256];
	size_t in_len;
	char reply[128];	/* an answer not yet sent */
	uint64_t hb_seq, hb_dropped;
} g = { .check_bad = -1, .fd = -1 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Pages due at @rate since the rate was set (no overflow for hours). */
static uint64_t pages_due(uint64_t now)
{
	return (unsigned __int128)(now - g.rate_start_ns) * g.rate / 1000000000ULL;
}

static inline uint64_t pattern(uint32_t seq, uint64_t page, uint64_t k)
{
	uint64_t v = (uint64_t)seq << 32 | (uint32_t)page;

	if (!seq)
		return 0;
	return k ? v ^ (k * 0x9e3779b97f4a7c15ULL) : v;
}

static void write_page(uint64_t i, uint32_t seq)
{
	uint64_t *p = g.mem + i * PAGE_WORDS, k;

	for (k = 1; k < PAGE_WORDS; k++)
		p[k] = pattern(seq, i, k);
	/* The header last: a page whose header is new is wholly new. */
	__atomic_store_n(&p[0], pattern(seq, i, 0), __ATOMIC_RELEASE);
}

/* The seq page @i must hold now. */
static uint32_t expected(uint64_t i)
{
	if (g.phase == WRITING && i >= g.cursor)
		return g.seq - 1;
	return g.seq;
}

/* 0 if page @i holds @seq's pattern, else 1 with the seq it seems to hold. */
static int check_page(uint64_t i, uint32_t seq, uint32_t *got)
{
	const uint64_t *p = g.mem + i * PAGE_WORDS;
	uint64_t k;

	for (k = 0; k < PAGE_WORDS; k++) {
		if (p[k] != pattern(seq, i, k)) {
			*got = p[0] >> 32;
			return 1;
		}
	}
	return 0;
}

static void report_bad(const char *what, uint64_t i, uint32_t want, uint32_t got)
{
	g.errors++;
	if (g.errors <= MAX_PRINTED)
		printf("abguest: %s: bad page %" PRIu64 " want seq %u got %u (header %#" PRIx64 ")\n",
		       what, i, want, got, g.mem[i * PAGE_WORDS]);
}

/* One slice of the walk, ending by @deadline. */
static void walk(uint64_t deadline)
{
	uint64_t budget = UINT64_MAX, n = 0;
	uint32_t got;

	if (g.phase == WRITING && g.rate) {
		uint64_t due = pages_due(now_ns());

		budget = due > g.rate_written ? due - g.rate_written : 0;
	}
	while (budget && ((n & 15) || now_ns() < deadline)) {
		if (g.phase == WRITING) {
			write_page(g.cursor, g.seq);
			g.rate_written++;
			budget--;
			if (++g.cursor == g.npages) {
				g.phase = VERIFYING;
				g.cursor = 0;
			}
		} else {
			if (check_page(g.cursor, g.seq, &got))
				report_bad("pass", g.cursor, g.seq, got);
			if (++g.cursor == g.npages) {
				g.passes++;
				g.seq++;
				g.phase = WRITING;
				g.cursor = 0;
				budget = 0;	/* pace the next pass afresh */
			}
		}
		n++;
	}
}

/* One slice of a "verify" command, ending by @deadline. */
static void verify_slice(uint64_t deadline)
{
	uint32_t want, got;
	uint64_t n = 0;

	while (g.check && ((n++ & 15) || now_ns() < deadline)) {
		uint64_t i = g.check_cursor;

		want = expected(i);
		if (check_page(i, want, &got)) {
			report_bad("verify", i, want, got);
			if (g.check_bad < 0) {
				g.check_bad = i;
				g.check_want = want;
				g.check_got = got;
			}
		}
		if (++g.check_cursor == g.npages) {
			if (g.check_bad < 0)
				snprintf(g.reply, sizeof(g.reply), "ok %" PRIu64 "\n", g.npages);
			else
				snprintf(g.reply, sizeof(g.reply), "bad %" PRId64 " want %u got %u\n",
					 g.check_bad, g.check_want, g.check_got);
			g.check = false;
		}
	}
}

/* Write @line whole or not at all: the port is non-blocking. */
static bool port_send(const char *line)
{
	size_t len = strlen(line);

	return write(g.fd, line, len) == (ssize_t)len;
}

static void command(char *cmd)
{
	char *end;

	if (!strcmp(cmd, "verify")) {
		if (!g.check) {
			g.check = true;
			g.check_cursor = 0;
			g.check_bad = -1;
		}
	} else if (!strncmp(cmd, "rate ", 5)) {
		unsigned long r = strtoul(cmd + 5, &end, 0);

		if (*end) {
			snprintf(g.reply, sizeof(g.reply), "error bad rate\n");
			return;
		}
		g.rate = r;
		g.rate_start_ns = now_ns();
		g.rate_written = 0;
		snprintf(g.reply, sizeof(g.reply), "ok rate %lu\n", r);
	} else {
		snprintf(g.reply, sizeof(g.reply), "error unknown command\n");
	}
}

static void read_commands(void)
{
	char *nl;
	ssize_t n;

	n = read(g.fd, g.in + g.in_len, sizeof(g.in) - 1 - g.in_len);
	if (n <= 0)
		return;
	g.in_len += n;
	g.in[g.in_len] = '\0';
	/* One command at a time: the next waits until its answer is out. */
	while (!g.reply[0] && (nl = strchr(g.in, '\n'))) {
		*nl = '\0';
		if (nl > g.in && nl[-1] == '\r')
			nl[-1] = '\0';
		command(g.in);
		g.in_len -= nl + 1 - g.in;
		memmove(g.in, nl + 1, g.in_len + 1);
	}
	if (g.in_len == sizeof(g.in) - 1)
		g.in_len = 0;	/* a line too long: drop it */
}

/* /dev/vportNpM of the port named @name, waiting for it to appear. */
static int open_port(const char *name)
{
	char path[300], buf[64];
	struct dirent *d;
	int i, fd;
	DIR *dir;

	for (i = 0; i < PORT_WAIT_S * 10; i++) {
		dir = opendir("/sys/class/virtio-ports");
		while (dir && (d = readdir(dir))) {
			ssize_t n;

			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", d->d_name);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			buf[n > 0 ? n : 0] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (strcmp(buf, name))
				continue;
			snprintf(path, sizeof(path), "/dev/%s", d->d_name);
			closedir(dir);
			return open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		}
		if (dir)
			closedir(dir);
		usleep(100000);
	}
	errno = ENOENT;
	return -1;
}

static long mem_total_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

/* The kernel's clocksource: whether CLOCK_MONOTONIC stops with the VM. */
static const char *clocksource(void)
{
	static char name[64] = "?";
	int fd = open("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		      O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return name;
	n = read(fd, name, sizeof(name) - 1);
	close(fd);
	name[n > 0 ? n : 0] = '\0';
	name[strcspn(name, "\n")] = '\0';
	return name;
}

static void usage(void)
{
	fprintf(stderr, "usage: abguest [--pct N] [--rate PAGES_PER_S] [--hb-ms N] [--port NAME]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long pct = 75, hb_ms = 10;
	const char *port = "kvmmig.0";
	uint64_t next_hb, start, now;
	long total_kb;
	char hb[128];
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (i + 1 == argc)
			usage();
		if (!strcmp(argv[i], "--pct"))
			pct = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--rate"))
			g.rate = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--hb-ms"))
			hb_ms = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--port"))
			port = argv[++i];
		else
			usage();
	}
	if (!pct || pct > 95 || !hb_ms)
		usage();

	total_kb = mem_total_kb();
	if (total_kb <= 0) {
		perror("abguest: /proc/meminfo");
		return 1;
	}
	g.npages = (uint64_t)total_kb * 1024 / 100 * pct / PAGE_SIZE;
	g.mem = mmap(NULL, g.npages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g.mem == MAP_FAILED) {
		perror("abguest: mmap");
		return 1;
	}
	start = now_ns();
	/* Every page resident from the start (zero: seq 0). */
	if (mlock(g.mem, g.npages * PAGE_SIZE))
		perror("abguest: mlock (going on unlocked)");
	printf("abguest: %" PRIu64 " pages (%" PRIu64 " MiB, %lu%% of MemTotal %ld kB) locked in %" PRIu64 " ms, rate %lu\n",
	       g.npages, g.npages * PAGE_SIZE >> 20, pct, total_kb,
	       (now_ns() - start) / 1000000, g.rate);

	g.fd = open_port(port);
	if (g.fd < 0) {
		printf("abguest: no virtio-serial port %s: %s\n", port, strerror(errno));
		return 1;
	}
	printf("abguest: port %s open, heartbeat every %lu ms, clocksource %s\n",
	       port, hb_ms, clocksource());

	g.seq = 1;
	g.phase = WRITING;
	g.rate_start_ns = now_ns();
	next_hb = now_ns();
	for (;;) {
		struct pollfd pfd = { .fd = g.fd, .events = POLLIN };
		int timeout_ms = 0;
		uint64_t prev_passes = g.passes;

		now = now_ns();
		if (now >= next_hb) {
			snprintf(hb, sizeof(hb), "hb %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				 g.hb_seq, now, g.passes, g.errors);
			if (!port_send(hb))
				g.hb_dropped++;
			g.hb_seq++;
			next_hb += hb_ms * 1000000ULL;
			if (next_hb < now)	/* we were not running: no burst */
				next_hb = now + hb_ms * 1000000ULL;
		}
		if (g.reply[0] && port_send(g.reply))
			g.reply[0] = '\0';

		/* Nothing to do before the next heartbeat: wait in poll. */
		if (!g.check && g.phase == WRITING && g.rate &&
		    pages_due(now) <= g.rate_written) {
			uint64_t wait_ns = next_hb - now;
			uint64_t page_ns = 1000000000ULL / g.rate;

			if (page_ns < wait_ns)
				wait_ns = page_ns;
			timeout_ms = wait_ns / 1000000 + 1;
		}
		if (poll(&pfd, 1, timeout_ms) > 0 && (pfd.revents & POLLIN))
			read_commands();

		now = now_ns();
		if (g.check)
			verify_slice(now + SLICE_NS / 2);
		walk(now_ns() + (g.check ? SLICE_NS / 2 : SLICE_NS));
		if (g.passes != prev_passes && (g.passes <= 3 || !(g.passes % 10)))
			printf("abguest: pass %" PRIu64 " done (%" PRIu64 " errors, %" PRIu64 " heartbeats dropped)\n",
			       g.passes, g.errors, g.hb_dropped);
	}
}
