/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An unmodified QEMU running a Linux guest inside the test VM (or a test
 * host), with KVM: the bed's QEMU archive (bed/qemu-cpio.sh) puts
 * /usr/bin/qemu-system-x86_64, its firmware and the guest (the test VM's own
 * kernel, /kvmmig/guest/vmlinuz, and an initramfs running abguest,
 * selftests/qemu/abguest.c) in the test VM.
 *
 * The guest's RAM is one memory-backend-file (share=on) at
 * RAM_DIR/NAME.ram: /dev/shm by default, or a kvmmig filesystem's mount.
 * Each guest has a run directory /tmp/qemu-NAME holding QEMU's QMP
 * sockets (qmp.sock for the test, migd.sock for migd), the virtio-serial
 * port kvmmig.0's socket (hb.sock), the guest's console (console.log) and
 * QEMU's own stdout and stderr (qemu.log).
 *
 * abguest sends a heartbeat line on kvmmig.0 every 10 ms; once
 * __qemu_hb_connect() succeeds a reader thread takes every line off the
 * socket as it comes, stamps each heartbeat with this host's clocks and
 * keeps them all (struct qemu_hb), and queues every other line as the
 * answer to a command.
 *
 * QMP here is a line-based exchange good for the tests' few commands
 * (quit, query-status, cont, stop, a migration); migd speaks QMP
 * properly (jansson).
 *
 * __qemu_*() return 0 or -errno: -ETIMEDOUT when time ran out, -ECHILD when
 * QEMU exited, -EIO when QMP or the guest answered with an error.
 */
#ifndef _KVMMIG_SELFTEST_QEMU_H
#define _KVMMIG_SELFTEST_QEMU_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QEMU_DEFAULT_BIN	"/usr/bin/qemu-system-x86_64"
#define QEMU_DEFAULT_GUEST_DIR	"/kvmmig/guest"
#define QEMU_DEFAULT_RAM_DIR	"/dev/shm"
#define QEMU_DEFAULT_MEM_MB	256

struct qemu_opts {
	const char *name;	/* run directory and RAM file name; "guest" */
	const char *ram_dir;	/* NULL: QEMU_DEFAULT_RAM_DIR */
	unsigned int mem_mb;	/* 0: QEMU_DEFAULT_MEM_MB */
	unsigned int pct;	/* abguest's share of MemTotal, 0: its 75 */
	unsigned long rate;	/* abguest's pages per second, 0: flat out */
	unsigned int hb_ms;	/* heartbeat period, 0: abguest's 10 */
	const char *append;	/* more of the guest's kernel command line
				 * ($KVMMIG_GUEST_APPEND is added too) */
	const char *ram_file;	/* instead of RAM_DIR/NAME.ram: a destination on
				 * the same host shares its source's file */
	bool paused;		/* -S: vCPUs stopped until QMP "cont" */
	bool incoming;		/* -incoming defer: a migration destination
				 * (with paused, it waits for "cont" after it;
				 * without, it runs as soon as it is in) */
	bool keep_ram;		/* leave the RAM file behind at the end */
};

/* One heartbeat: what the guest said, and when this host got it. */
struct qemu_hb {
	uint64_t seq;		/* the guest's heartbeat number */
	uint64_t guest_ns;	/* the guest's CLOCK_MONOTONIC */
	uint64_t passes;	/* A-B verify passes completed */
	uint64_t errors;	/* wrong pages the guest found so far */
	uint64_t host_ns;	/* CLOCK_REALTIME here, at arrival */
	uint64_t host_mono_ns;	/* CLOCK_MONOTONIC here, at arrival */
};

#define QEMU_MAX_HBS		(1 << 20)
#define QEMU_MAX_REPLIES	8

struct qemu {
	pid_t pid;		/* 0: not running (reaped) */
	int status;		/* exit status once reaped, 128 + signal */
	char name[32];
	char dir[64];		/* run directory */
	char ram[256];		/* the RAM file */
	bool keep_ram;
	int qmp;		/* -1 until __qemu_qmp_connect() */
	char qmp_buf[8192];
	size_t qmp_len;
	int hb;			/* -1 until __qemu_hb_connect() */

	/* Shared with the reader thread, under lock. */
	pthread_t reader;
	bool reader_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct qemu_hb *hbs;	/* every heartbeat received */
	size_t nr_hbs;
	char replies[QEMU_MAX_REPLIES][128];	/* lines that are not heartbeats */
	unsigned int nr_replies;
	bool hb_eof;		/* the socket closed (QEMU went away) */
	uint64_t bad_lines;	/* lines neither heartbeat nor answer */
};

/* $KVMMIG_QEMU or QEMU_DEFAULT_BIN; $KVMMIG_GUEST_DIR or QEMU_DEFAULT_GUEST_DIR. */
const char *qemu_bin(void);
const char *qemu_guest_dir(void);

/*
 * Start QEMU with KVM on the guest (-machine pc, one vCPU, -cpu host,
 * -nodefaults); returns once it runs, without waiting for anything.
 * QEMU gets SIGKILL if the test process dies.
 */
int __qemu_start(struct qemu *q, const struct qemu_opts *opts);

/* Connect to QMP (retrying while QEMU starts) and leave negotiation. */
int __qemu_qmp_connect(struct qemu *q, int timeout_ms);

/*
 * Send @cmd (a JSON object on one line, no newline) and wait for its
 * "return" (0) or "error" (-EIO), skipping events; the answer's line goes
 * to @reply when non-NULL.
 */
int __qemu_qmp(struct qemu *q, const char *cmd, char *reply, size_t len,
	       int timeout_ms);

/* query-status: "running", "paused", "inmigrate", ... into @status. */
int __qemu_query_status(struct qemu *q, char *status, size_t len,
			int timeout_ms);

/* migrate-set-capabilities: @cap ("x-ignore-shared", "events") on or off. */
int __qemu_migrate_capability(struct qemu *q, const char *cap, bool on,
			      int timeout_ms);

/* migrate-incoming on a destination started with incoming, at @uri. */
int __qemu_migrate_incoming(struct qemu *q, const char *uri, int timeout_ms);

/* migrate to @uri, then wait for query-migrate to say "completed" (0) or
 * "failed"/"cancelled" (-EIO), polling every few ms.
 */
int __qemu_migrate(struct qemu *q, const char *uri, int timeout_ms);

/*
 * Poll query-status until it says @want (0).  A migration source reports
 * "completed" in query-migrate a moment before its run state leaves
 * "finish-migrate" for "postmigrate".
 */
int __qemu_wait_status(struct qemu *q, const char *want, int timeout_ms);

/* Connect to the guest's kvmmig.0 port and start the reader thread. */
int __qemu_hb_connect(struct qemu *q, int timeout_ms);

/* Heartbeats received so far, and a copy of the newest (0: none yet). */
size_t qemu_hb_count(struct qemu *q);
int qemu_hb_last(struct qemu *q, struct qemu_hb *hb);
/* A copy of heartbeat number @i (in arrival order); -ENOENT past the end. */
int qemu_hb_get(struct qemu *q, size_t i, struct qemu_hb *hb);

/*
 * Wait until more than @count heartbeats have arrived and copy the newest
 * to @hb.  -EPIPE when the port closed first.
 */
int __qemu_hb_wait(struct qemu *q, size_t count, struct qemu_hb *hb,
		   int timeout_ms);

/* Wait for a heartbeat whose passes is at least @passes. */
int __qemu_hb_wait_passes(struct qemu *q, uint64_t passes,
			  struct qemu_hb *hb, int timeout_ms);

/*
 * Send a command line to abguest and wait for its answer (any line that
 * is not a heartbeat), copied to @reply.  -EIO when it starts "error".
 */
int __qemu_guest_cmd(struct qemu *q, const char *cmd, char *reply,
		     size_t len, int timeout_ms);

/*
 * Ask the guest to check every page now: 0 when it answered "ok N" (N
 * pages to *@pages when non-NULL), -EBADMSG when "bad PAGE ..." (the whole
 * answer in @reply, when non-NULL), or another -errno.
 */
int __qemu_verify(struct qemu *q, uint64_t *pages, char *reply, size_t len,
		  int timeout_ms);

/* Set abguest's dirty rate, pages per second (0: flat out). */
int __qemu_set_rate(struct qemu *q, unsigned long rate, int timeout_ms);

/* Has QEMU exited?  Reaps it if so. */
bool qemu_exited(struct qemu *q);

/*
 * Stop QEMU: QMP "quit" (when QMP is connected), wait up to @timeout_ms for
 * it to exit, then SIGKILL; reap it, stop the reader, close the sockets
 * and remove the RAM file (unless keep_ram).  Returns its exit status
 * (128 + signal), or -ETIMEDOUT when it had to be killed.  Safe to call
 * again, and on a QEMU that never started.
 */
int qemu_stop(struct qemu *q, int timeout_ms);

/*
 * The first line of the guest's console containing @needle, into @line;
 * false if none.
 */
bool qemu_console_line(struct qemu *q, const char *needle, char *line, size_t len);

/* Print QEMU's log and the tail of the guest's console, "# "-prefixed. */
void qemu_dump_logs(struct qemu *q, size_t console_tail);

#endif /* _KVMMIG_SELFTEST_QEMU_H */
