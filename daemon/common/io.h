/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole reads and writes at an offset: a short transfer is continued and
 * EINTR retried, so a caller sees all of @len or an error.
 */
#ifndef MIGD_IO_H
#define MIGD_IO_H

#include <stddef.h>
#include <sys/types.h>

/* 0, -ENODATA if the file ends first (it shrank under us), or -errno. */
int migd_pread_full(int fd, void *buf, size_t len, off_t off);
/* 0 or -errno. */
int migd_pwrite_full(int fd, const void *buf, size_t len, off_t off);

#endif /* MIGD_IO_H */
