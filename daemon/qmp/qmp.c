// SPDX-License-Identifier: GPL-2.0
/*
 * The QMP client (see qmp.h).  QEMU writes one JSON object per line; a
 * line is parsed once it is whole.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "qmp.h"

/* A reply longer than this is not from a monitor we can talk to. */
#define QMP_MAX_LINE	(1u << 20)

static int qmp_fail(struct migd_qmp *q, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int qmp_fail(struct migd_qmp *q, int err, const char *fmt, ...)
{
	int n = snprintf(q->error, sizeof(q->error), "QMP %s: %s%s", q->path,
			 q->cmd ? q->cmd : "", q->cmd ? ": " : "");
	va_list ap;

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(q->error))
		vsnprintf(q->error + n, sizeof(q->error) - n, fmt, ap);
	va_end(ap);
	return err;
}

static uint64_t deadline_of(int timeout_ms)
{
	return migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;
}

/*
 * Waits until @fd has @events or @deadline passes: 1 ready, 0 timed out,
 * -ECANCELED, or -errno of poll().
 */
static int wait_ready(struct migd_qmp *q, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = q->fd, .events = events };
		uint64_t now = migd_now_ns();
		int ms, r;

		if (migd_cancel_requested(q->cancel))
			return -ECANCELED;
		if (now >= deadline)
			return 0;
		ms = (deadline - now) / MIGD_NSEC_PER_MSEC + 1;
		if (ms > MIGD_POLL_SLICE_MS)
			ms = MIGD_POLL_SLICE_MS;
		r = poll(&p, 1, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			return 1;
	}
}

/*
 * The next message, by @deadline: 1 and *@msg, 0 on timeout (q->error
 * empty), or -errno with q->error set.
 */
static int read_msg(struct migd_qmp *q, uint64_t deadline, json_t **msg)
{
	for (;;) {
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
		json_error_t jerr;
		ssize_t n;
		int r;

		if (nl) {
			size_t line = nl - q->buf;
			bool blank = true;

			for (size_t i = 0; i < line && blank; i++)
				blank = q->buf[i] == ' ' || q->buf[i] == '\r' || q->buf[i] == '\t';
			*msg = blank ? NULL : json_loadb(q->buf, line, 0, &jerr);
			memmove(q->buf, nl + 1, q->len - line - 1);
			q->len -= line + 1;
			if (blank)
				continue;
			if (!*msg || !json_is_object(*msg)) {
				json_decref(*msg);
				*msg = NULL;
				return qmp_fail(q, -EPROTO, "not a QMP monitor: a reply is not a JSON object (%s)",
						jerr.text);
			}
			return 1;
		}
		if (q->len >= QMP_MAX_LINE)
			return qmp_fail(q, -EPROTO, "not a QMP monitor: a line of more than %u bytes",
					QMP_MAX_LINE);
		if (q->cap - q->len < 4096) {
			size_t cap = q->cap ? q->cap * 2 : 8192;
			char *b = realloc(q->buf, cap);

			if (!b)
				return qmp_fail(q, -ENOMEM, "out of memory");
			q->buf = b;
			q->cap = cap;
		}
		r = wait_ready(q, POLLIN, deadline);
		if (r == -ECANCELED)
			return qmp_fail(q, r, "cancelled");
		if (r < 0)
			return qmp_fail(q, r, "%s", strerror(-r));
		if (!r) {
			q->error[0] = 0;
			return 0;
		}
		n = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return qmp_fail(q, -errno, "reading: %s", strerror(errno));
		if (!n)
			return qmp_fail(q, -ECONNRESET, "QEMU closed the monitor (it exited?)");
		q->len += n;
	}
}

static int write_all(struct migd_qmp *q, const char *s, size_t len, uint64_t deadline)
{
	while (len) {
		ssize_t n = send(q->fd, s, len, MSG_NOSIGNAL);
		int r;

		if (n > 0) {
			s += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return qmp_fail(q, errno == EPIPE ? -ECONNRESET : -errno, "sending: %s",
					errno == EPIPE ? "QEMU closed the monitor (it exited?)" :
					strerror(errno));
		r = wait_ready(q, POLLOUT, deadline);
		if (r == -ECANCELED)
			return qmp_fail(q, r, "cancelled");
		if (r <= 0)
			return qmp_fail(q, r ? r : -ETIMEDOUT, "sending: %s",
					r ? strerror(-r) : "timed out");
	}
	return 0;
}

/* Keeps @ev (a reference) for a later wait. */
static void queue_event(struct migd_qmp *q, json_t *ev)
{
	const char *name = json_string_value(json_object_get(ev, "event"));

	pr_debug("QMP %s: event %s", q->path, name ? name : "?");
	if (json_array_size(q->events) >= MIGD_QMP_MAX_EVENTS)
		json_array_remove(q->events, 0);
	json_array_append_new(q->events, ev);
}

int migd_qmp_exec(struct migd_qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	uint64_t deadline = deadline_of(q->timeout_ms);
	unsigned long id = ++q->next_id;
	json_t *req, *msg = NULL, *err;
	char *text;
	int r;

	if (ret)
		*ret = NULL;
	q->cmd = cmd;
	if (q->fd < 0) {
		json_decref(args);
		r = qmp_fail(q, -ENOTCONN, "not connected");
		goto out;
	}
	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (req && args)
		json_object_set_new(req, "arguments", args);
	else
		json_decref(args);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		r = qmp_fail(q, -ENOMEM, "out of memory");
		goto out;
	}
	pr_debug("QMP %s: -> %s", q->path, text);
	r = write_all(q, text, strlen(text), deadline);
	if (!r)
		r = write_all(q, "\n", 1, deadline);
	free(text);
	if (r)
		goto out;
	for (;;) {
		json_t *jid;

		r = read_msg(q, deadline, &msg);
		if (!r) {
			r = qmp_fail(q, -ETIMEDOUT, "no reply in %d ms", q->timeout_ms);
			goto out;
		}
		if (r < 0)
			goto out;
		if (json_object_get(msg, "event")) {
			queue_event(q, msg);
			continue;
		}
		jid = json_object_get(msg, "id");
		if (json_is_integer(jid) && (unsigned long)json_integer_value(jid) == id)
			break;
		/* A late reply to a command that timed out, or a greeting. */
		json_decref(msg);
	}
	r = 0;
	err = json_object_get(msg, "error");
	if (err) {
		const char *cls = json_string_value(json_object_get(err, "class"));
		const char *desc = json_string_value(json_object_get(err, "desc"));

		r = qmp_fail(q, -EIO, "%s: %s", cls ? cls : "error",
			     desc ? desc : "(no description)");
	} else if (ret) {
		*ret = json_object_get(msg, "return");
		json_incref(*ret);
	}
	json_decref(msg);
out:
	q->cmd = NULL;
	return r;
}

int migd_qmp_execf(struct migd_qmp *q, json_t **ret, const char *cmd, const char *fmt, ...)
{
	json_error_t jerr;
	json_t *args;
	va_list ap;
	int r;

	va_start(ap, fmt);
	args = json_vpack_ex(&jerr, 0, fmt, ap);
	va_end(ap);
	if (!args) {
		q->cmd = cmd;
		r = qmp_fail(q, -EINVAL, "bad arguments: %s", jerr.text);
		q->cmd = NULL;
		return r;
	}
	return migd_qmp_exec(q, cmd, args, ret);
}

/* The first queued event @name that @match accepts; drops those it rejects. */
static json_t *take_queued(struct migd_qmp *q, const char *name,
			   bool (*match)(json_t *data, void *arg), void *arg)
{
	size_t i = 0;

	while (i < json_array_size(q->events)) {
		json_t *ev = json_array_get(q->events, i);
		const char *n = json_string_value(json_object_get(ev, "event"));

		if (!n || strcmp(n, name)) {
			i++;
			continue;
		}
		json_incref(ev);
		json_array_remove(q->events, i);
		if (!match || match(json_object_get(ev, "data"), arg))
			return ev;
		json_decref(ev);
	}
	return NULL;
}

int migd_qmp_wait_event(struct migd_qmp *q, const char *name,
			bool (*match)(json_t *data, void *arg), void *arg,
			int timeout_ms, json_t **event)
{
	uint64_t deadline = deadline_of(timeout_ms);
	json_t *ev;
	int r;

	if (event)
		*event = NULL;
	if (q->fd < 0)
		return qmp_fail(q, -ENOTCONN, "waiting for event %s: not connected", name);
	for (;;) {
		ev = take_queued(q, name, match, arg);
		if (ev)
			break;
		r = read_msg(q, deadline, &ev);
		if (!r)
			return -ETIMEDOUT;
		if (r < 0)
			return r;
		if (json_object_get(ev, "event"))
			queue_event(q, ev);
		else
			json_decref(ev);	/* a late reply */
	}
	if (event)
		*event = ev;
	else
		json_decref(ev);
	return 0;
}

static int qmp_connect(struct migd_qmp *q, uint64_t deadline)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t sl = sizeof(sun);
	int r, err;

	if (strlen(q->path) >= sizeof(sun.sun_path))
		return qmp_fail(q, -ENAMETOOLONG, "the socket path is too long");
	memcpy(sun.sun_path, q->path, strlen(q->path) + 1);
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0)
		return qmp_fail(q, -errno, "socket: %s", strerror(errno));
	if (!connect(q->fd, (struct sockaddr *)&sun, sizeof(sun)))
		return 0;
	if (errno != EAGAIN && errno != EINPROGRESS)
		return qmp_fail(q, -errno, "connecting: %s%s", strerror(errno),
				errno == ENOENT || errno == ECONNREFUSED ?
				" (is QEMU running with -qmp unix:PATH,server=on,wait=off?)" : "");
	r = wait_ready(q, POLLOUT, deadline);
	if (r == -ECANCELED)
		return qmp_fail(q, r, "cancelled while connecting");
	if (r <= 0)
		return qmp_fail(q, r ? r : -ETIMEDOUT, "connecting: %s",
				r ? strerror(-r) : "timed out");
	sl = sizeof(err);
	if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &err, &sl) || err)
		return qmp_fail(q, -(err ? err : errno), "connecting: %s",
				strerror(err ? err : errno));
	return 0;
}

int migd_qmp_open(struct migd_qmp *q, const char *path, int timeout_ms,
		  struct migd_cancel *cancel)
{
	uint64_t deadline = deadline_of(timeout_ms);
	json_t *msg = NULL;
	int r;

	*q = (struct migd_qmp){
		.fd = -1,
		.path = path,
		.timeout_ms = timeout_ms,
		.cancel = cancel,
		.events = json_array(),
	};
	if (!q->events)
		return qmp_fail(q, -ENOMEM, "out of memory");
	r = qmp_connect(q, deadline);
	if (r)
		goto err;
	r = read_msg(q, deadline, &msg);
	if (!r)
		r = qmp_fail(q, -ETIMEDOUT, "no QMP greeting in %d ms: not a QEMU monitor?",
			     timeout_ms);
	if (r < 0)
		goto err;
	if (!json_is_object(json_object_get(msg, "QMP"))) {
		r = qmp_fail(q, -EPROTO, "not a QMP monitor: the first message is no greeting");
		goto err;
	}
	json_decref(msg);
	msg = NULL;
	r = migd_qmp_exec(q, "qmp_capabilities", NULL, NULL);
	if (r)
		goto err;
	pr_debug("QMP %s: connected", path);
	return 0;
err:
	json_decref(msg);
	{
		char keep[sizeof(q->error)];

		memcpy(keep, q->error, sizeof(keep));
		migd_qmp_close(q);
		memcpy(q->error, keep, sizeof(keep));
	}
	return r;
}

void migd_qmp_close(struct migd_qmp *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	json_decref(q->events);
	q->events = NULL;
	free(q->buf);
	q->buf = NULL;
	q->len = q->cap = 0;
}
