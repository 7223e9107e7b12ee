/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging to stderr with levels.  The progress line shares stderr, so a
 * log message first clears it (engine/progress.c registers how).
 */
#ifndef MIGD_LOG_H
#define MIGD_LOG_H

enum migd_log_level {
	MIGD_LOG_ERR,
	MIGD_LOG_WARN,
	MIGD_LOG_INFO,
	MIGD_LOG_DEBUG,
};

/* Messages above this level are dropped; -q and -v move it. */
extern int migd_log_level;

/* Called before a message is printed, e.g. to clear a progress line. */
extern void (*migd_log_hook)(void);

void migd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)	migd_log(MIGD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	migd_log(MIGD_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	migd_log(MIGD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	migd_log(MIGD_LOG_DEBUG, __VA_ARGS__)

#endif /* MIGD_LOG_H */
