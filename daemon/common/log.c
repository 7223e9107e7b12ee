// SPDX-License-Identifier: GPL-2.0
/*
 * Logging to stderr: "migd: LEVEL: message", one line per call.
 */

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int migd_log_level = MIGD_LOG_INFO;
void (*migd_log_hook)(void);

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
	if (migd_log_hook)
		migd_log_hook();
	/* One write per line, so two processes sharing stderr do not mix. */
	fprintf(stderr, "migd: %s: %s\n", level_name[level], buf);
	fflush(stderr);
}
