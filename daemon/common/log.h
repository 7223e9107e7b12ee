/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging to stderr with levels, and the one status line (the progress
 * line) that may stand below the messages: a message first clears it, so
 * the line is only ever drawn where the next message will go.
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

void migd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Draws the status line in place of the one drawn before, if any. */
void migd_log_status(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/* Erases the status line, if one is drawn. */
void migd_log_status_clear(void);

#define pr_err(...)	migd_log(MIGD_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	migd_log(MIGD_LOG_WARN, __VA_ARGS__)
#define pr_info(...)	migd_log(MIGD_LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	migd_log(MIGD_LOG_DEBUG, __VA_ARGS__)

#endif /* MIGD_LOG_H */
