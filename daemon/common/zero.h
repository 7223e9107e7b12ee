/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Zero pages: the stream sends them without contents, and a destination
 * stores them only where it must.
 */
#ifndef MIGD_ZERO_H
#define MIGD_ZERO_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/*
 * True if the @len (> 0) bytes at @buf are all zero: the first is, and
 * each equals the next.  memcmp() takes any alignment at memory speed.
 */
static inline bool migd_is_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return !p[0] && !memcmp(p, p + 1, len - 1);
}

#endif /* MIGD_ZERO_H */
