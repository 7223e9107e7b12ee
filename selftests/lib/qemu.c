// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU and its guest inside the test VM: see qemu.h.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvmmig_util.h"
#include "qemu.h"

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

const char *qemu_bin(void)
{
	const char *p = getenv("KVMMIG_QEMU");

	return p && *p ? p : QEMU_DEFAULT_BIN;
}

const char *qemu_guest_dir(void)
{
	const char *p = getenv("KVMMIG_GUEST_DIR");

	return p && *p ? p : QEMU_DEFAULT_GUEST_DIR;
}

static void qemu_init(struct qemu *q)
{
	memset(q, 0, sizeof(*q));
	q->qmp = q->hb = -1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
}

int __qemu_start(struct qemu *q, const struct qemu_opts *o)
{
	unsigned int mem_mb = o->mem_mb ? o->mem_mb : QEMU_DEFAULT_MEM_MB;
	char mem[32], backend[512], kernel[256], initrd[256], append[512];
	char serial[128], qmp[128], qmp2[128], chardev[160], log[128];
	const char *name = o->name ? o->name : "guest";
	const char *ram_dir = o->ram_dir ? o->ram_dir : QEMU_DEFAULT_RAM_DIR;
	const char *argv[64];
	int argc = 0, fd, ret;
	pid_t pid;

	qemu_init(q);
	snprintf(q->name, sizeof(q->name), "%s", name);
	snprintf(q->dir, sizeof(q->dir), "/tmp/qemu-%s", name);
	if (o->ram_file)
		snprintf(q->ram, sizeof(q->ram), "%s", o->ram_file);
	else
		snprintf(q->ram, sizeof(q->ram), "%s/%s.ram", ram_dir, name);
	q->keep_ram = o->keep_ram;
	q->hbs = calloc(QEMU_MAX_HBS, sizeof(*q->hbs));
	if (!q->hbs)
		return -ENOMEM;
	if (mkdir(q->dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(log, sizeof(log), "%s/qmp.sock", q->dir);
	unlink(log);
	snprintf(log, sizeof(log), "%s/hb.sock", q->dir);
	unlink(log);
	snprintf(log, sizeof(log), "%s/migd.sock", q->dir);
	unlink(log);
	snprintf(log, sizeof(log), "%s/console.log", q->dir);
	unlink(log);
	if (!o->ram_file)
		unlink(q->ram);		/* a file left by an earlier run */

	snprintf(mem, sizeof(mem), "%uM", mem_mb);
	snprintf(backend, sizeof(backend),
		 "memory-backend-file,id=ram0,size=%uM,mem-path=%s,share=on",
		 mem_mb, q->ram);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", qemu_guest_dir());
	snprintf(initrd, sizeof(initrd), "%s/initrd.cpio", qemu_guest_dir());
	/*
	 * No "quiet": guests booted with it hung in earlier experiments.
	 * pci=noearly skips the early PCI scans (chipset quirks, the AMD GART
	 * aperture check) that the pc machine needs none of: each config
	 * access is an exit to QEMU through the emulated SVM, and they took
	 * 4 of the guest's 15 s of boot.
	 */
	ret = snprintf(append, sizeof(append), "console=ttyS0 panic=-1 pci=noearly");
	if (o->pct)
		ret += snprintf(append + ret, sizeof(append) - ret, " abguest.pct=%u", o->pct);
	if (o->rate)
		ret += snprintf(append + ret, sizeof(append) - ret, " abguest.rate=%lu", o->rate);
	if (o->hb_ms)
		ret += snprintf(append + ret, sizeof(append) - ret, " abguest.hb_ms=%u", o->hb_ms);
	if (o->append)
		ret += snprintf(append + ret, sizeof(append) - ret, " %s", o->append);
	if (getenv("KVMMIG_GUEST_APPEND"))
		snprintf(append + ret, sizeof(append) - ret, " %s", getenv("KVMMIG_GUEST_APPEND"));
	snprintf(serial, sizeof(serial), "file:%s/console.log", q->dir);
	snprintf(qmp, sizeof(qmp), "unix:%s/qmp.sock,server=on,wait=off", q->dir);
	/* A monitor takes one client at a time: migd gets its own. */
	snprintf(qmp2, sizeof(qmp2), "unix:%s/migd.sock,server=on,wait=off", q->dir);
	snprintf(chardev, sizeof(chardev), "socket,id=c0,path=%s/hb.sock,server=on,wait=off",
		 q->dir);

	argv[argc++] = qemu_bin();
	argv[argc++] = "-name";
	argv[argc++] = q->name;
	argv[argc++] = "-nodefaults";
	argv[argc++] = "-no-user-config";
	argv[argc++] = "-display";
	argv[argc++] = "none";
	argv[argc++] = "-no-reboot";
	argv[argc++] = "-accel";
	argv[argc++] = "kvm";
	argv[argc++] = "-cpu";
	argv[argc++] = "qemu64,+x2apic";
	argv[argc++] = "-machine";
	argv[argc++] = "pc,memory-backend=ram0";
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = "-object";
	argv[argc++] = backend;
	argv[argc++] = "-kernel";
	argv[argc++] = kernel;
	argv[argc++] = "-initrd";
	argv[argc++] = initrd;
	argv[argc++] = "-append";
	argv[argc++] = append;
	argv[argc++] = "-serial";
	argv[argc++] = serial;
	argv[argc++] = "-qmp";
	argv[argc++] = qmp;
	argv[argc++] = "-qmp";
	argv[argc++] = qmp2;
	argv[argc++] = "-device";
	argv[argc++] = "virtio-serial-pci,id=vser0";
	argv[argc++] = "-chardev";
	argv[argc++] = chardev;
	argv[argc++] = "-device";
	argv[argc++] = "virtserialport,bus=vser0.0,chardev=c0,name=kvmmig.0";
	if (o->paused)
		argv[argc++] = "-S";
	if (o->incoming) {
		argv[argc++] = "-incoming";
		argv[argc++] = "defer";
	}
	argv[argc] = NULL;

	snprintf(log, sizeof(log), "%s/qemu.log", q->dir);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(126);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	q->pid = pid;
	return 0;
}

bool qemu_exited(struct qemu *q)
{
	int status;

	if (q->pid <= 0)
		return true;
	if (waitpid(q->pid, &status, WNOHANG) != q->pid)
		return false;
	q->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	q->pid = 0;
	return true;
}

/* Connect to the unix socket @file of the run directory, retrying. */
static int connect_unix(struct qemu *q, const char *file, int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s", q->dir, file);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		ret = -errno;
		close(fd);
		if (qemu_exited(q))
			return -ECHILD;
		if (kvmmig_now_ms() >= end)
			return ret == -ENOENT || ret == -ECONNREFUSED ? -ETIMEDOUT : ret;
		kvmmig_sleep_ms(20);
	}
}

/* The next line from QMP into @line (no newline), within @end (ms). */
static int qmp_line(struct qemu *q, char *line, size_t len, uint64_t end)
{
	struct pollfd pfd = { .fd = q->qmp, .events = POLLIN };
	char *nl;
	ssize_t n;
	int ret;

	for (;;) {
		nl = memchr(q->qmp_buf, '\n', q->qmp_len);
		if (nl) {
			size_t l = nl - q->qmp_buf;

			snprintf(line, len, "%.*s", (int)l, q->qmp_buf);
			memmove(q->qmp_buf, nl + 1, q->qmp_len - l - 1);
			q->qmp_len -= l + 1;
			return 0;
		}
		if (q->qmp_len == sizeof(q->qmp_buf))
			q->qmp_len = 0;		/* a monster line: drop it */
		if (kvmmig_now_ms() >= end)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, end - kvmmig_now_ms());
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		n = read(q->qmp, q->qmp_buf + q->qmp_len, sizeof(q->qmp_buf) - q->qmp_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -EPIPE;
		q->qmp_len += n;
	}
}

int __qemu_qmp(struct qemu *q, const char *cmd, char *reply, size_t len,
	       int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	char line[4096], out[512];
	int n, ret;

	if (q->qmp < 0)
		return -ENOTCONN;
	n = snprintf(out, sizeof(out), "%s\n", cmd);
	if (n >= (int)sizeof(out))
		return -EMSGSIZE;
	if (send(q->qmp, out, n, MSG_NOSIGNAL) != n)
		return -errno ?: -EIO;
	for (;;) {
		ret = qmp_line(q, line, sizeof(line), end);
		if (ret)
			return ret;
		if (strstr(line, "\"event\""))
			continue;
		if (reply)
			snprintf(reply, len, "%s", line);
		if (!strncmp(line, "{\"return\"", 9))
			return 0;
		if (!strncmp(line, "{\"error\"", 8))
			return -EIO;
	}
}

int __qemu_qmp_connect(struct qemu *q, int timeout_ms)
{
	uint64_t end;
	char line[4096];
	int ret;

	if (q->qmp >= 0)
		return 0;
	ret = connect_unix(q, "qmp.sock", timeout_ms);
	if (ret < 0)
		return ret;
	q->qmp = ret;
	q->qmp_len = 0;
	end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	ret = qmp_line(q, line, sizeof(line), end);	/* the greeting */
	if (!ret && !strstr(line, "\"QMP\""))
		ret = -EPROTO;
	if (!ret)
		ret = __qemu_qmp(q, "{\"execute\": \"qmp_capabilities\"}", NULL, 0, timeout_ms);
	if (ret) {
		close(q->qmp);
		q->qmp = -1;
	}
	return ret;
}

int __qemu_query_status(struct qemu *q, char *status, size_t len, int timeout_ms)
{
	char reply[1024], *at, *end;
	int ret;

	ret = __qemu_qmp(q, "{\"execute\": \"query-status\"}", reply, sizeof(reply), timeout_ms);
	if (ret)
		return ret;
	at = strstr(reply, "\"status\": \"");
	if (!at)
		return -EPROTO;
	at += strlen("\"status\": \"");
	end = strchr(at, '"');
	if (!end)
		return -EPROTO;
	snprintf(status, len, "%.*s", (int)(end - at), at);
	return 0;
}

int __qemu_wait_status(struct qemu *q, const char *want, int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	char status[64];
	int ret;

	for (;;) {
		ret = __qemu_query_status(q, status, sizeof(status), timeout_ms);
		if (ret)
			return ret;
		if (!strcmp(status, want))
			return 0;
		if (kvmmig_now_ms() >= end)
			return -ETIMEDOUT;
		kvmmig_sleep_ms(10);
	}
}

int __qemu_migrate_capability(struct qemu *q, const char *cap, bool on, int timeout_ms)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"%s\", \"state\": %s}]}}",
		 cap, on ? "true" : "false");
	return __qemu_qmp(q, cmd, NULL, 0, timeout_ms);
}

int __qemu_migrate_incoming(struct qemu *q, const char *uri, int timeout_ms)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"%s\"}}", uri);
	return __qemu_qmp(q, cmd, NULL, 0, timeout_ms);
}

int __qemu_migrate(struct qemu *q, const char *uri, int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	char cmd[256], reply[4096];
	int ret;

	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"%s\"}}", uri);
	ret = __qemu_qmp(q, cmd, NULL, 0, timeout_ms);
	if (ret)
		return ret;
	while (kvmmig_now_ms() < end) {
		ret = __qemu_qmp(q, "{\"execute\": \"query-migrate\"}", reply, sizeof(reply),
				 timeout_ms);
		if (ret)
			return ret;
		if (strstr(reply, "\"status\": \"completed\""))
			return 0;
		if (strstr(reply, "\"status\": \"failed\"") ||
		    strstr(reply, "\"status\": \"cancelled\"")) {
			printf("# migration: %s\n", reply);
			return -EIO;
		}
		kvmmig_sleep_ms(5);
	}
	return -ETIMEDOUT;
}

/* A line from the guest port: a heartbeat, or an answer to a command. */
static void hb_line(struct qemu *q, const char *line)
{
	struct qemu_hb hb = {
		.host_ns = clock_ns(CLOCK_REALTIME),
		.host_mono_ns = clock_ns(CLOCK_MONOTONIC),
	};

	pthread_mutex_lock(&q->lock);
	if (sscanf(line, "hb %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &hb.seq, &hb.guest_ns, &hb.passes, &hb.errors) == 4) {
		if (q->nr_hbs < QEMU_MAX_HBS)
			q->hbs[q->nr_hbs++] = hb;
	} else if (!strncmp(line, "hb ", 3)) {
		q->bad_lines++;
	} else if (q->nr_replies < QEMU_MAX_REPLIES) {
		char *r = q->replies[q->nr_replies++];

		strncpy(r, line, sizeof(q->replies[0]) - 1);
		r[sizeof(q->replies[0]) - 1] = '\0';
	} else {
		q->bad_lines++;
	}
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

/* The reader thread: every line off the port as soon as it comes. */
static void *hb_reader(void *arg)
{
	struct qemu *q = arg;
	char buf[4096];
	size_t len = 0;
	char *nl;
	ssize_t n;

	for (;;) {
		n = read(q->hb, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
		buf[len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			hb_line(q, buf);
			len -= nl + 1 - buf;
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	pthread_mutex_lock(&q->lock);
	q->hb_eof = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int __qemu_hb_connect(struct qemu *q, int timeout_ms)
{
	int ret;

	if (q->hb >= 0)
		return 0;
	ret = connect_unix(q, "hb.sock", timeout_ms);
	if (ret < 0)
		return ret;
	q->hb = ret;
	q->hb_eof = false;
	ret = pthread_create(&q->reader, NULL, hb_reader, q);
	if (ret) {
		close(q->hb);
		q->hb = -1;
		return -ret;
	}
	q->reader_running = true;
	return 0;
}

size_t qemu_hb_count(struct qemu *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->nr_hbs;
	pthread_mutex_unlock(&q->lock);
	return n;
}

int qemu_hb_get(struct qemu *q, size_t i, struct qemu_hb *hb)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&q->lock);
	if (i < q->nr_hbs) {
		*hb = q->hbs[i];
		ret = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

int qemu_hb_last(struct qemu *q, struct qemu_hb *hb)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&q->lock);
	if (q->nr_hbs) {
		*hb = q->hbs[q->nr_hbs - 1];
		ret = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* Wait on the reader under q->lock until @done(q, arg) or @end (ms). */
static int wait_locked(struct qemu *q, bool (*done)(struct qemu *, const void *),
		       const void *arg, uint64_t end)
{
	struct timespec ts;
	uint64_t ns;

	while (!done(q, arg)) {
		if (q->hb_eof)
			return -EPIPE;
		if (kvmmig_now_ms() >= end)
			return -ETIMEDOUT;
		/* Wake up now and then: the condition uses CLOCK_REALTIME. */
		ns = clock_ns(CLOCK_REALTIME) + 50000000ULL;
		ts.tv_sec = ns / 1000000000ULL;
		ts.tv_nsec = ns % 1000000000ULL;
		pthread_cond_timedwait(&q->cond, &q->lock, &ts);
	}
	return 0;
}

static bool more_hbs(struct qemu *q, const void *arg)
{
	return q->nr_hbs > *(const size_t *)arg;
}

int __qemu_hb_wait(struct qemu *q, size_t count, struct qemu_hb *hb, int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	int ret;

	if (q->hb < 0)
		return -ENOTCONN;
	pthread_mutex_lock(&q->lock);
	ret = wait_locked(q, more_hbs, &count, end);
	if (!ret && hb)
		*hb = q->hbs[q->nr_hbs - 1];
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static bool passes_reached(struct qemu *q, const void *arg)
{
	return q->nr_hbs && q->hbs[q->nr_hbs - 1].passes >= *(const uint64_t *)arg;
}

int __qemu_hb_wait_passes(struct qemu *q, uint64_t passes, struct qemu_hb *hb,
			  int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	int ret;

	if (q->hb < 0)
		return -ENOTCONN;
	pthread_mutex_lock(&q->lock);
	ret = wait_locked(q, passes_reached, &passes, end);
	if (!ret && hb)
		*hb = q->hbs[q->nr_hbs - 1];
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static bool has_reply(struct qemu *q, const void *arg)
{
	return q->nr_replies;
}

int __qemu_guest_cmd(struct qemu *q, const char *cmd, char *reply, size_t len,
		     int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	char line[128];
	int n, ret;

	if (q->hb < 0)
		return -ENOTCONN;
	pthread_mutex_lock(&q->lock);
	q->nr_replies = 0;		/* nothing stale answers this one */
	pthread_mutex_unlock(&q->lock);
	n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (n >= (int)sizeof(line))
		return -EMSGSIZE;
	if (send(q->hb, line, n, MSG_NOSIGNAL) != n)
		return -errno ?: -EIO;

	pthread_mutex_lock(&q->lock);
	ret = wait_locked(q, has_reply, NULL, end);
	if (!ret) {
		snprintf(line, sizeof(line), "%s", q->replies[0]);
		memmove(q->replies[0], q->replies[1], sizeof(q->replies[0]) * --q->nr_replies);
	}
	pthread_mutex_unlock(&q->lock);
	if (ret)
		return ret;
	if (reply)
		snprintf(reply, len, "%s", line);
	return strncmp(line, "error", 5) ? 0 : -EIO;
}

int __qemu_verify(struct qemu *q, uint64_t *pages, char *reply, size_t len,
		  int timeout_ms)
{
	char line[128];
	int ret;

	ret = __qemu_guest_cmd(q, "verify", line, sizeof(line), timeout_ms);
	if (reply)
		snprintf(reply, len, "%s", ret ? "" : line);
	if (ret)
		return ret;
	if (!strncmp(line, "ok ", 3)) {
		if (pages)
			*pages = strtoull(line + 3, NULL, 10);
		return 0;
	}
	return strncmp(line, "bad ", 4) ? -EPROTO : -EBADMSG;
}

int __qemu_set_rate(struct qemu *q, unsigned long rate, int timeout_ms)
{
	char cmd[32], line[128];
	int ret;

	snprintf(cmd, sizeof(cmd), "rate %lu", rate);
	ret = __qemu_guest_cmd(q, cmd, line, sizeof(line), timeout_ms);
	if (ret)
		return ret;
	return strncmp(line, "ok rate", 7) ? -EPROTO : 0;
}

int qemu_stop(struct qemu *q, int timeout_ms)
{
	uint64_t end = kvmmig_now_ms() + (uint64_t)timeout_ms * kvmmig_time_scale();
	int ret = 0;

	if (q->pid > 0 && q->qmp >= 0)
		__qemu_qmp(q, "{\"execute\": \"quit\"}", NULL, 0, timeout_ms);
	while (!qemu_exited(q) && kvmmig_now_ms() < end)
		kvmmig_sleep_ms(10);
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		waitpid(q->pid, NULL, 0);
		q->pid = 0;
		ret = -ETIMEDOUT;
	} else {
		ret = q->status;
	}
	if (q->hb >= 0) {
		/* QEMU is gone, so the reader sees EOF; make sure of it. */
		shutdown(q->hb, SHUT_RDWR);
		if (q->reader_running)
			pthread_join(q->reader, NULL);
		q->reader_running = false;
		close(q->hb);
		q->hb = -1;
	}
	if (q->qmp >= 0) {
		close(q->qmp);
		q->qmp = -1;
	}
	if (!q->keep_ram && q->ram[0])
		unlink(q->ram);
	free(q->hbs);
	q->hbs = NULL;
	q->nr_hbs = 0;
	return ret;
}

static void dump_file(const char *what, const char *path, size_t tail)
{
	char buf[16384], *p, *nl;
	ssize_t n;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		printf("# %s: %s: %s\n", what, path, strerror(errno));
		return;
	}
	size = lseek(fd, 0, SEEK_END);
	if (tail && size > (off_t)tail)
		lseek(fd, size - tail, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	printf("# %s (%s%s):\n", what, path, tail && size > (off_t)tail ? ", tail" : "");
	for (p = buf; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			printf("#   %s\n", p);
			break;
		}
		*nl = '\0';
		printf("#   %s\n", p);
	}
	fflush(stdout);
}

bool qemu_console_line(struct qemu *q, const char *needle, char *line, size_t len)
{
	char path[128], buf[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/console.log", q->dir);
	f = fopen(path, "re");
	while (f && !found && fgets(buf, sizeof(buf), f)) {
		if (!strstr(buf, needle))
			continue;
		buf[strcspn(buf, "\r\n")] = '\0';
		snprintf(line, len, "%s", buf);
		found = true;
	}
	if (f)
		fclose(f);
	return found;
}

void qemu_dump_logs(struct qemu *q, size_t console_tail)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/qemu.log", q->dir);
	dump_file("QEMU's output", path, 4000);
	snprintf(path, sizeof(path), "%s/console.log", q->dir);
	dump_file("the guest's console", path, console_tail);
}
