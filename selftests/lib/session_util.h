/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Session ioctls for the selftests: __foo() returns 0, an fd or -errno.
 */
#ifndef _KVMMIG_SESSION_UTIL_H
#define _KVMMIG_SESSION_UTIL_H

#include <stdbool.h>
#include <linux/kvmmig.h>

int __kvmmig_create_session(int devfd, struct kvmmig_create_session *args);
/* A session @name over @nr region fds; the session fd or -errno; *@id out. */
int kvmmig_session(int devfd, const char *name, __u32 flags, const int *fds,
		   unsigned int nr, __u32 *id);

int __kvmmig_session_info(int fd, struct kvmmig_session_info *info);
/* The session's state, or -errno. */
int kvmmig_session_state(int fd);
int __kvmmig_session_ack(int fd, struct kvmmig_session_ack *ack);
int kvmmig_session_ack(int fd, __u32 state);

int __kvmmig_put_blob(int fd, struct kvmmig_session_blob *blob);
int kvmmig_put_blob(int fd, __u32 kind, __u32 instance, const char *name,
		    const void *data, __u32 size);
int __kvmmig_get_blob(int fd, struct kvmmig_session_blob *blob);
/* Blob @index into @data (room @size); its size or -errno. */
int kvmmig_get_blob(int fd, __u32 index, void *data, __u32 size,
		    struct kvmmig_session_blob *out);

int __kvmmig_open_session_region(int devfd,
				 struct kvmmig_open_session_region *args);
int kvmmig_open_session_region(int devfd, __u32 id, __u32 index, __u32 flags);

/* Does poll() report POLLIN on @fd within @timeout_ms? */
bool kvmmig_pollin(int fd, int timeout_ms);

/* Drop CAP_NET_ADMIN from this process for good; 0 or -errno. */
int drop_cap_net_admin(void);

/*
 * Run @fn in a child without CAP_NET_ADMIN; returns what it returned (an
 * exit status below 256), or -1 if the child died otherwise.
 */
int run_without_net_admin(int (*fn)(void *arg), void *arg);

#endif /* _KVMMIG_SESSION_UTIL_H */
