// SPDX-License-Identifier: GPL-2.0
/*
 * Logging to stderr: "migd: LEVEL: message", one line per call, and the
 * status line, redrawn in place with "\r" and "erase line".
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "log.h"

#define ERASE_LINE	"\r\033[K"

int migd_log_level = MIGD_LOG_INFO;
static bool status_drawn;

static const char *const level_name[] = {
	[MIGD_LOG_ERR] = "error",
	[MIGD_LOG_WARN] = "warning",
	[MIGD_LOG_INFO] = "info",
	[MIGD_LOG_DEBUG] = "debug",
};

void migd_log(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (level > migd_log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	migd_log_status_clear();
	/* One write per line, so two processes sharing stderr do not mix. */
	fprintf(stderr, "migd: %s: %s\n", level_name[level], buf);
	fflush(stderr);
}

void migd_log_status(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, ERASE_LINE "%s", buf);
	fflush(stderr);
	status_drawn = true;
}

void migd_log_status_clear(void)
{
	if (!status_drawn)
		return;
	fputs(ERASE_LINE, stderr);
	fflush(stderr);
	status_drawn = false;
}
