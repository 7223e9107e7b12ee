/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whole reads and writes: a short transfer is continued and EINTR retried,
 * so a caller sees all of @len or an error.
 *
 * Inline, like zero.h, because the stream library (stream/libstream.a)
 * writes its fd sink with migd_pwrite_full() and links nothing of migd:
 * libmigd.a depends on the stream library, never the other way round.
 */
#ifndef MIGD_IO_H
#define MIGD_IO_H

#include <errno.h>
#include <stddef.h>
#include <sys/types.h>
#include <unistd.h>

/* 0, -ENODATA if the file ends first (it shrank under us), or -errno. */
static inline int migd_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -ENODATA;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/*
 * At @off, or at the file position with @off -1 (as pwritev2() takes it),
 * which is how a pipe or a socket is written.  0 or -errno.
 */
static inline int migd_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = off < 0 ? write(fd, p, len) : pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
		if (off >= 0)
			off += n;
	}
	return 0;
}

#endif /* MIGD_IO_H */
