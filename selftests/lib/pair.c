// SPDX-License-Identifier: GPL-2.0
/*
 * Two-host helpers: see pair.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvmmig_util.h"
#include "pair.h"

char pair_host(void)
{
	const char *host = getenv("KVMMIG_HOST");

	if (!host || (strcmp(host, "a") && strcmp(host, "b")))
		return 0;
	return host[0];
}

static int pair_accept(uint16_t port, int timeout_s)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct timeval tv = { .tv_sec = timeout_s };
	int one = 1, lfd, fd, ret;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -errno;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Bound the wait for a peer that never comes. */
	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 1)) {
		ret = -errno;
		close(lfd);
		return ret;
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ret = fd < 0 ? -errno : fd;
	close(lfd);
	return ret;
}

static int pair_dial(uint16_t port, int timeout_s)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	const char *peer = getenv("KVMMIG_PEER_ADDR");
	time_t deadline = time(NULL) + timeout_s;
	int fd, ret;

	if (!peer || inet_pton(AF_INET, peer, &addr.sin_addr) != 1)
		return -EINVAL;
	for (;;) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)))
			return fd;
		ret = -errno;
		close(fd);
		if (time(NULL) >= deadline)
			return ret;
		usleep(200 * 1000);
	}
}

int __pair_connect(uint16_t port, int timeout_s)
{
	timeout_s *= kvmmig_time_scale();
	switch (pair_host()) {
	case 'a':
		return pair_dial(port, timeout_s);
	case 'b':
		return pair_accept(port, timeout_s);
	default:
		return -ENOTCONN;
	}
}

int __pair_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int __pair_recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = recv(fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		p += n;
		len -= n;
	}
	return 0;
}

int __pair_send_msg(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf) - 1)
		return -EMSGSIZE;
	buf[n++] = '\n';
	return __pair_send_all(fd, buf, n);
}

int __pair_recv_msg(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec start, now;
	size_t got = 0;
	long left;
	ssize_t n;
	int ret;

	timeout_ms *= kvmmig_time_scale();
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (got < len - 1) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = timeout_ms - ((now.tv_sec - start.tv_sec) * 1000L +
				     (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0)
			return -ETIMEDOUT;
		ret = poll(&pfd, 1, left);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		/* A byte at a time: never read past this message. */
		n = recv(fd, buf + got, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return 0;
		}
		got++;
	}
	return -EMSGSIZE;
}
