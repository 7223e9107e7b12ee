/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tests that run on two test hosts at once (TEST_PAIR_PROGS): the bed boots
 * hosts a and b on one link and runs the same test binary on both.
 */
#ifndef _KVMMIG_SELFTEST_PAIR_H
#define _KVMMIG_SELFTEST_PAIR_H

#include <stddef.h>
#include <stdint.h>

/* 'a' or 'b' inside a pair run, 0 otherwise. */
char pair_host(void);

/*
 * Connect the two hosts with TCP on @port: b listens and accepts, a
 * connects, retrying while b boots, for up to @timeout_s seconds.  Returns
 * the connected socket or -errno.
 */
int __pair_connect(uint16_t port, int timeout_s);

/* Send or receive exactly @len bytes; 0 or -errno (-EPIPE on early EOF). */
int __pair_send_all(int fd, const void *buf, size_t len);
int __pair_recv_all(int fd, void *buf, size_t len);

/*
 * One-line messages on the control connection: send "@fmt\n"; receive one
 * line (without its newline) within @timeout_ms.  0 or -errno (-ETIMEDOUT,
 * -EPIPE when the peer closed the connection, say because its side of the
 * test failed).
 */
int __pair_send_msg(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int __pair_recv_msg(int fd, char *buf, size_t len, int timeout_ms);

#endif /* _KVMMIG_SELFTEST_PAIR_H */
