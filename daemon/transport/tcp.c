// SPDX-License-Identifier: GPL-2.0
/*
 * TCP transport (see tcp.h).  Sockets are non-blocking and every wait is
 * a poll() of at most MIGD_POLL_SLICE_MS, so that a cancel, a timeout and
 * the rate cap are all handled in one place.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "tcp.h"

#define IO_CHUNK	(256u << 10)

int migd_parse_hostport(const char *s, bool port_only_ok, char *host,
			size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = s, *p = NULL;
	size_t n;

	if (!*s)
		return -EINVAL;
	colon = strchr(s, ':');
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] && end[1] != ':') || end == s + 1)
			return -EINVAL;
		h = s + 1;
		n = end - h;
		if (end[1] == ':')
			p = end + 2;
	} else if (colon && strchr(colon + 1, ':')) {
		n = strlen(s);			/* bare IPv6 address */
	} else if (colon) {
		n = colon - s;
		p = colon + 1;
	} else if (port_only_ok && strspn(s, "0123456789") == strlen(s)) {
		n = 0;
		p = s;
	} else {
		n = strlen(s);
	}
	if (n >= hlen)
		return -ENAMETOOLONG;
	memcpy(host, h, n);
	host[n] = 0;
	if (!n && !port_only_ok)
		return -EINVAL;
	if (p) {
		if (!*p || strlen(p) >= plen || strspn(p, "0123456789") != strlen(p) ||
		    strtoul(p, NULL, 10) > 65535)
			return -EINVAL;
		snprintf(port, plen, "%s", p);
	} else {
		snprintf(port, plen, "%s", MIGD_DEFAULT_PORT);
	}
	return 0;
}

static void addr_str(const struct sockaddr *sa, socklen_t len, char *buf, size_t blen)
{
	char h[NI_MAXHOST], p[NI_MAXSERV];

	if (getnameinfo(sa, len, h, sizeof(h), p, sizeof(p), NI_NUMERICHOST | NI_NUMERICSERV)) {
		snprintf(buf, blen, "?");
		return;
	}
	snprintf(buf, blen, strchr(h, ':') ? "[%s]:%s" : "%s:%s", h, p);
}

static int resolve(const char *host, const char *port, bool passive, struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG,
	};
	int ret = getaddrinfo(*host ? host : NULL, port, &hints, res);

	if (ret) {
		pr_err("cannot resolve %s: %s", *host ? host : "(any)", gai_strerror(ret));
		return ret == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
	}
	return 0;
}

int migd_listen(const char *spec, int *lfd, char *bound, size_t blen)
{
	char host[MIGD_ADDR_LEN], port[16];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addrinfo *res, *ai;
	int fd = -1, ret, one = 1;

	ret = migd_parse_hostport(spec, true, host, sizeof(host), port, sizeof(port));
	if (ret) {
		pr_err("bad listen address \"%s\": expected [ADDR:]PORT", spec);
		return ret;
	}
	ret = resolve(host, port, true, &res);
	if (ret)
		return ret;
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			ret = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 4))
			break;
		ret = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		pr_err("cannot listen on %s: %s", spec, strerror(-ret));
		return ret;
	}
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	addr_str((struct sockaddr *)&ss, sl, bound, blen);
	*lfd = fd;
	return 0;
}

static void tune_socket(int fd)
{
	int one = 1;

	/* The last small records (END, the return stream) must not wait. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
}

/* Waits for @events on @fd: 0, -ETIMEDOUT after @timeout_ms, -ECANCELED. */
static int wait_fd(int fd, short events, int timeout_ms, struct migd_cancel *cancel)
{
	uint64_t deadline = migd_now_ns() + (uint64_t)timeout_ms * MIGD_NSEC_PER_MSEC;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int slice = MIGD_POLL_SLICE_MS, n;

		if (migd_cancel_requested(cancel))
			return -ECANCELED;
		if (timeout_ms > 0) {
			uint64_t now = migd_now_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			if ((deadline - now) / MIGD_NSEC_PER_MSEC < (uint64_t)slice)
				slice = (deadline - now) / MIGD_NSEC_PER_MSEC + 1;
		}
		n = poll(&pfd, 1, slice);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			return 0;
	}
}

int migd_accept(int lfd, int timeout_ms, struct migd_cancel *cancel, int *fd,
		char *peer, size_t plen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int ret, c;

	for (;;) {
		ret = wait_fd(lfd, POLLIN, timeout_ms, cancel);
		if (ret)
			return ret;
		sl = sizeof(ss);
		c = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (c >= 0)
			break;
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
	tune_socket(c);
	addr_str((struct sockaddr *)&ss, sl, peer, plen);
	*fd = c;
	return 0;
}

int migd_connect(const char *spec, int timeout_ms, struct migd_cancel *cancel,
		 int *fd, char *peer, size_t plen)
{
	char host[MIGD_ADDR_LEN], port[16];
	struct addrinfo *res, *ai;
	int ret, c = -1;

	ret = migd_parse_hostport(spec, false, host, sizeof(host), port, sizeof(port));
	if (ret) {
		pr_err("bad peer address \"%s\": expected HOST[:PORT]", spec);
		return ret;
	}
	ret = resolve(host, port, false, &res);
	if (ret)
		return ret;
	ret = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		int err = 0;
		socklen_t el = sizeof(err);

		c = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			   ai->ai_protocol);
		if (c < 0) {
			ret = -errno;
			continue;
		}
		addr_str(ai->ai_addr, ai->ai_addrlen, peer, plen);
		if (connect(c, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			ret = -errno;
		} else {
			ret = wait_fd(c, POLLOUT, timeout_ms, cancel);
			if (!ret && getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &el))
				err = errno;
			if (!ret)
				ret = -err;
		}
		if (!ret)
			break;
		pr_debug("connect to %s: %s", peer, strerror(-ret));
		close(c);
		c = -1;
		if (ret == -ECANCELED)
			break;
	}
	freeaddrinfo(res);
	if (c < 0) {
		if (ret != -ECANCELED)
			pr_err("cannot connect to %s: %s", spec, strerror(-ret));
		return ret;
	}
	tune_socket(c);
	*fd = c;
	return 0;
}

void migd_conn_init(struct migd_conn *c, int fd, int timeout_ms, uint64_t rate_limit,
		    struct migd_cancel *cancel)
{
	struct stat st;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->is_socket = !fstat(fd, &st) && S_ISSOCK(st.st_mode);
	c->timeout_ms = timeout_ms;
	c->rate_limit = rate_limit;
	c->rl_start_ns = migd_now_ns();
	c->cancel = cancel;
}

/* Sleeps as long as the cap says the bytes sent so far need. */
static int pace(struct migd_conn *c)
{
	for (;;) {
		uint64_t due = c->rl_start_ns +
			(uint64_t)((double)c->rl_bytes * MIGD_NSEC_PER_SEC / c->rate_limit);
		uint64_t now = migd_now_ns();
		struct timespec ts = { 0, 0 };

		if (migd_cancel_requested(c->cancel))
			return -ECANCELED;
		if (now >= due) {
			/* Idle time is not credit: no bursts after a pause. */
			if (now - due > MIGD_NSEC_PER_SEC / 10) {
				c->rl_start_ns = now;
				c->rl_bytes = 0;
			}
			return 0;
		}
		due -= now;
		if (due > MIGD_POLL_SLICE_MS * MIGD_NSEC_PER_MSEC)
			due = MIGD_POLL_SLICE_MS * MIGD_NSEC_PER_MSEC;
		ts.tv_nsec = due;
		nanosleep(&ts, NULL);
	}
}

static int conn_write(void *opaque, const void *buf, size_t len)
{
	struct migd_conn *c = opaque;
	const char *p = buf;
	int ret;

	while (len) {
		size_t chunk = len > IO_CHUNK ? IO_CHUNK : len;
		ssize_t n;

		if (c->rate_limit) {
			ret = pace(c);
			if (ret)
				return ret;
		}
		if (migd_cancel_requested(c->cancel))
			return -ECANCELED;
		if (c->is_socket)
			n = send(c->fd, p, chunk, MSG_NOSIGNAL | MSG_DONTWAIT);
		else
			n = write(c->fd, p, chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			ret = wait_fd(c->fd, POLLOUT, c->timeout_ms, c->cancel);
			if (ret)
				return ret;
			continue;
		}
		p += n;
		len -= n;
		c->bytes_out += n;
		c->rl_bytes += n;
	}
	return 0;
}

static ssize_t conn_read(void *opaque, void *buf, size_t len)
{
	struct migd_conn *c = opaque;

	for (;;) {
		ssize_t n;
		int ret;

		if (migd_cancel_requested(c->cancel))
			return -ECANCELED;
		n = c->is_socket ? recv(c->fd, buf, len, MSG_DONTWAIT) : read(c->fd, buf, len);
		if (n >= 0) {
			c->bytes_in += n;
			return n;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = wait_fd(c->fd, POLLIN, c->timeout_ms, c->cancel);
		if (ret)
			return ret;
	}
}

void migd_conn_sink(struct migd_conn *c, struct kvmmig_stream_sink *sink)
{
	sink->write = conn_write;
	sink->opaque = c;
}

void migd_conn_source(struct migd_conn *c, struct kvmmig_stream_source *src)
{
	src->read = conn_read;
	src->opaque = c;
}

int migd_conn_check_alive(struct migd_conn *c)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN | POLLRDHUP };

	if (!c->is_socket || poll(&pfd, 1, 0) <= 0)
		return 0;
	return pfd.revents & (POLLHUP | POLLRDHUP | POLLERR) ? -ECONNRESET : 0;
}

int migd_conn_shutdown_write(struct migd_conn *c)
{
	if (c->is_socket && shutdown(c->fd, SHUT_WR))
		return -errno;
	return 0;
}

void migd_conn_abort(struct migd_conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int nul;

	if (!c->is_socket)
		return;
	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		pr_warn("resetting the connection: SO_LINGER: %s", strerror(errno));
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	/*
	 * dup2() closes the socket, which with linger 0 sends a reset.  If it
	 * cannot, the owner's close() will (never shutdown(): that is a FIN).
	 */
	if (nul < 0 || dup2(nul, c->fd) < 0)
		pr_warn("resetting the connection now: %s", strerror(errno));
	if (nul >= 0)
		close(nul);
	c->is_socket = false;
}
