// SPDX-License-Identifier: GPL-2.0
/*
 * mig_demo: the two-host half of "make demo", run on test hosts a and b.
 *
 *   mig_demo [--mem MB] [--rate PAGES_PER_S] [--tcp-mb MB] [--migd ARGS]
 *            [--verify quick|full]
 *
 * (ARGS: extra migd options, separated by commas, e.g. --migd -d,100,-b,50)
 *
 * 1. a streams --tcp-mb MiB (default: the guest's size) to b over one plain
 *    TCP connection: the link's single-stream rate, the yardstick.
 * 2. a starts mig_vmm with an A-B guest of --mem MiB (default 256), paced
 *    to --rate page increments per second if given; b starts an incoming
 *    mig_vmm and migd --listen.
 * 3. a runs migd --peer with its progress line on the console; b reports
 *    the memory verdicts of its VMM (on arrival, before the guest runs, and
 *    once it has run a whole pass) to a.  The check on arrival is part of
 *    the downtime, so by default it is mig_vmm --quick (each page's A-B
 *    byte and tag); --verify full also checks every other byte and compares
 *    a digest of all of RAM with the source's (mig_vmm --digest), which
 *    adds a few hundred milliseconds to the downtime of a 256 MiB guest
 *    under TCG.
 * 4. a prints migd's summary, b's verdicts, and one "demo: result=..."
 *    line with the numbers.  Exit status 0 when the VM arrived intact and
 *    runs on b.
 *
 * The hosts keep in step over a control TCP connection (lib/pair.h).
 */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "kvmmig_util.h"
#include "pair.h"

#define CTL_PORT	7702
#define TCP_PORT	7703
#define MIG_PORT	7471
#define TIMEOUT_MS	(30 * 60 * 1000)	/* TCG is slow; a hang is not */
#define CHUNK		(1UL << 20)

static char vmm_bin[PATH_MAX];
static const char *migd_bin = "/usr/bin/migd";

static void __attribute__((format(printf, 1, 2))) say(const char *fmt, ...)
{
	va_list ap;

	fputs("demo: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	fputs("demo: error: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	say("result=failed");
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void start(struct child *c, const char *tag, unsigned int flags,
		  const char *fmt, ...)
{
	char line[1024], *argv[64], *save, *tok;
	va_list ap;
	int n = 0, ret;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say("$ %s", line);
	for (tok = strtok_r(line, " ", &save); tok && n < 63;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	ret = __child_start_flags(c, tag, argv, flags);
	if (ret)
		die("starting %s: %s", tag, strerror(-ret));
	snprintf(c->prefix, sizeof(c->prefix), "  %s| ", tag);
}

static void wait_for(struct child *c, const char *needle, char *line, size_t len)
{
	int ret = __child_wait_line(c, needle, TIMEOUT_MS, line, len);

	if (ret)
		die("waiting for '%s' from %s: %s", needle, c->tag, strerror(-ret));
}

static void send_msg(int ctl, const char *msg)
{
	int ret = __pair_send_msg(ctl, "%s", msg);

	if (ret)
		die("telling the other host '%s': %s", msg, strerror(-ret));
}

static void recv_msg(int ctl, char *buf, size_t len)
{
	int ret = __pair_recv_msg(ctl, buf, len, TIMEOUT_MS);

	if (ret)
		die("waiting for the other host: %s", strerror(-ret));
}

static void expect_msg(int ctl, const char *want)
{
	char buf[512];

	recv_msg(ctl, buf, sizeof(buf));
	if (strcmp(buf, want))
		die("the other host said '%s', not '%s'", buf, want);
}

/* Plain single-stream TCP, a to b: the rate in MB/s (on a), 0 on b. */
static double tcp_stream(uint64_t bytes)
{
	uint64_t off, got = 0;
	double start, rate = 0;
	char *buf;
	int fd, ret;

	buf = malloc(CHUNK);
	if (!buf)
		die("no memory");
	for (off = 0; off < CHUNK; off++)
		buf[off] = off * 31 + 7;
	fd = __pair_connect(TCP_PORT, 120);
	if (fd < 0)
		die("connecting the hosts for the TCP stream: %s", strerror(-fd));
	start = now_s();
	if (pair_host() == 'a') {
		for (off = 0; off < bytes; off += CHUNK) {
			ret = __pair_send_all(fd, buf, CHUNK);
			if (ret)
				die("sending: %s", strerror(-ret));
		}
		/* b answers once it has everything: the time covers delivery. */
		ret = __pair_recv_all(fd, &got, sizeof(got));
		if (ret || got != bytes)
			die("b received %llu bytes of %llu", (unsigned long long)got,
			    (unsigned long long)bytes);
		rate = bytes / 1e6 / (now_s() - start);
	} else {
		for (off = 0; off < bytes; off += CHUNK) {
			ret = __pair_recv_all(fd, buf, CHUNK);
			if (ret)
				die("receiving: %s", strerror(-ret));
			got += CHUNK;
		}
		ret = __pair_send_all(fd, &got, sizeof(got));
		if (ret)
			die("answering: %s", strerror(-ret));
	}
	close(fd);
	free(buf);
	return rate;
}

/* "  key   12.3 unit" in migd's summary. */
static double summary_num(const struct child *c, const char *key)
{
	const char *p = c->log ? strstr(c->log, key) : NULL;

	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* The MB/s figure of the summary's "sent ... MiB, X MB/s" line. */
static double summary_rate(const struct child *c)
{
	const char *p = c->log ? strstr(c->log, "  sent ") : NULL;

	p = p ? strstr(p, "MiB, ") : NULL;
	return p ? strtod(p + 5, NULL) : -1;
}

/* mig_vmm's checking options for --verify. */
static const char *vmm_verify = "--quick";

static void host_b(int ctl, unsigned long mem_mb, uint64_t tcp_bytes)
{
	struct child vmm, migd;
	char line[512], msg[600];

	tcp_stream(tcp_bytes);
	start(&vmm, "vmm-b", 0, "%s --incoming --name demo --mem %lu %s",
	      vmm_bin, mem_mb, vmm_verify);
	wait_for(&vmm, "state=waiting", NULL, 0);
	start(&migd, "migd-b", 0, "%s --listen %d demo", migd_bin, MIG_PORT);
	wait_for(&migd, "listening", NULL, 0);
	send_msg(ctl, "ready");

	wait_for(&vmm, "verdict=arrived ", line, sizeof(line));
	snprintf(msg, sizeof(msg), "b %s", strstr(line, "verdict="));
	send_msg(ctl, msg);
	wait_for(&vmm, "verdict=running ", line, sizeof(line));
	snprintf(msg, sizeof(msg), "b %s", strstr(line, "verdict="));
	send_msg(ctl, msg);
	if (__child_wait_exit(&migd, TIMEOUT_MS))
		die("migd on b failed");
	expect_msg(ctl, "quit");
	__child_send(&vmm, "quit");
	__child_wait_exit(&vmm, TIMEOUT_MS);
	child_reap(&migd);
	child_reap(&vmm);
}

static void host_a(int ctl, unsigned long mem_mb, unsigned long rate,
		   uint64_t tcp_bytes, const char *migd_args)
{
	char arrived[512], running[512], line[512], rate_arg[32] = "";
	double tcp, total, downtime, mbps, t0;
	struct child vmm, migd;
	bool ok;
	int ret;

	say("plain TCP: %llu MiB from a to b on one connection ...",
	    (unsigned long long)tcp_bytes >> 20);
	tcp = tcp_stream(tcp_bytes);
	say("plain TCP: %.1f MB/s", tcp);

	if (rate)
		snprintf(rate_arg, sizeof(rate_arg), " --rate %lu", rate);
	start(&vmm, "vmm-a", 0, "%s --name demo --mem %lu %s%s", vmm_bin,
	      mem_mb, vmm_verify, rate_arg);
	wait_for(&vmm, "state=running", NULL, 0);
	/*
	 * The VMM tagged every page, so all of RAM is in use; let the guest
	 * walk a while (a pass, or a second when paced) and check it first.
	 */
	t0 = now_s();
	__child_send(&vmm, "check");
	wait_for(&vmm, "verdict=check ", line, sizeof(line));
	if (!strstr(line, " ab=ok ") || !strstr(line, " running=ok "))
		die("the guest on a is not right: %s", line);
	if (rate)
		say("guest running on a: %lu MiB, A-B workload paced at %lu pages/s",
		    mem_mb, rate);
	else
		say("guest running on a: %lu MiB, A-B workload flat out (a pass in %.1f s)",
		    mem_mb, now_s() - t0);

	expect_msg(ctl, "ready");
	say("migrating a -> b ...");
	start(&migd, "migd-a", CHILD_KEEP_STDERR, "%s --progress %s --peer %s:%d demo",
	      migd_bin, migd_args, getenv("KVMMIG_PEER_ADDR"), MIG_PORT);
	snprintf(migd.prefix, sizeof(migd.prefix), "  ");
	ret = __child_wait_exit(&migd, TIMEOUT_MS);
	if (ret)
		die("migd exited with %d", ret);
	wait_for(&vmm, "state=done", NULL, 0);
	__child_wait_exit(&vmm, TIMEOUT_MS);

	recv_msg(ctl, arrived, sizeof(arrived));
	recv_msg(ctl, running, sizeof(running));
	say("on b, before the guest ran: %s", arrived + 2);
	say("on b, after a pass there:  %s", running + 2);
	send_msg(ctl, "quit");

	total = summary_num(&migd, "  total time ");
	downtime = summary_num(&migd, "  downtime ");
	mbps = summary_rate(&migd);
	ok = strstr(arrived, " ab=ok ") && strstr(running, " ab=ok ") &&
	     strstr(running, " running=ok ") &&
	     (strcmp(vmm_verify, "--digest") || strstr(arrived, " digest=ok "));
	say("migd %.1f MB/s vs plain TCP %.1f MB/s: ratio %.2f", mbps, tcp,
	    tcp > 0 ? mbps / tcp : 0);
	say("result=%s mem_mb=%lu rate=%lu total_s=%.3f downtime_ms=%.1f migd_mbps=%.1f tcp_mbps=%.1f ratio=%.2f",
	    ok ? "ok" : "failed", mem_mb, rate, total, downtime, mbps, tcp,
	    tcp > 0 ? mbps / tcp : 0);
	child_reap(&migd);
	child_reap(&vmm);
	if (!ok)
		exit(1);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "tcp-mb", required_argument, NULL, 't' },
		{ "migd", required_argument, NULL, 'M' },
		{ "verify", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long mem_mb = 256, rate = 0, tcp_mb = 0;
	const char *migd_args = "";
	char self[PATH_MAX];
	ssize_t n;
	int c, ctl;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': mem_mb = kvmmig_parse_num(optarg, "--mem", ULONG_MAX); break;
		case 'r': rate = kvmmig_parse_num(optarg, "--rate", ULONG_MAX); break;
		case 't': tcp_mb = kvmmig_parse_num(optarg, "--tcp-mb", ULONG_MAX); break;
		case 'M':
			/* Commas: the VM's init splits its arguments on blanks. */
			for (char *p = optarg; *p; p++)
				if (*p == ',')
					*p = ' ';
			migd_args = optarg;
			break;
		case 'v':
			if (!strcmp(optarg, "full"))
				vmm_verify = "--digest";
			else if (strcmp(optarg, "quick"))
				die("--verify takes quick or full");
			break;
		default:
			fprintf(stderr, "usage: mig_demo [--mem MB] [--rate PAGES_PER_S] [--tcp-mb MB] [--migd ARGS] [--verify quick|full]\n");
			return 2;
		}
	}
	if (!pair_host())
		die("not on a pair of test hosts (KVMMIG_HOST)");
	if (!mem_mb)
		die("--mem must not be 0");
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink /proc/self/exe: %s", strerror(errno));
	self[n] = '\0';
	snprintf(vmm_bin, sizeof(vmm_bin), "%s/mig_vmm", dirname(self));

	ctl = __pair_connect(CTL_PORT, 120);
	if (ctl < 0)
		die("connecting the hosts: %s", strerror(-ctl));
	if (pair_host() == 'a')
		host_a(ctl, mem_mb, rate, (tcp_mb ? tcp_mb : mem_mb) << 20, migd_args);
	else
		host_b(ctl, mem_mb, (tcp_mb ? tcp_mb : mem_mb) << 20);
	close(ctl);
	return 0;
}
