// SPDX-License-Identifier: GPL-2.0
/*
 * Progress line and summaries (see progress.h).  The line is the log's
 * status line (common/log.h), drawn by default only on a terminal;
 * elsewhere the per-round log lines are all there is, so logs stay
 * greppable, unless --progress asks for the line anyway (a serial
 * console is a terminal that isatty() does not see).
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "progress.h"

static struct {
	bool on;
	uint64_t last_ns;
	/* Rate over a sliding sample, not since the start. */
	uint64_t sample_ns;
	uint64_t sample_bytes;
	double mbps;
} pl;

void migd_progress_start(struct migd_stats *s, enum migd_progress_mode mode)
{
	memset(&pl, 0, sizeof(pl));
	pl.on = mode == MIGD_PROGRESS_ALWAYS ||
		(mode == MIGD_PROGRESS_AUTO && isatty(STDERR_FILENO));
	pl.sample_ns = migd_now_ns();
	pl.sample_bytes = s->bytes;
}

void migd_progress_stop(void)
{
	migd_log_status_clear();
	pl.on = false;
}

static void fmt_eta(char *buf, size_t len, double sec)
{
	if (sec < 0 || sec > 99 * 3600)
		snprintf(buf, len, "--:--");
	else if (sec >= 3600)
		snprintf(buf, len, "%d:%02d:%02d", (int)sec / 3600, (int)sec / 60 % 60,
			 (int)sec % 60);
	else
		snprintf(buf, len, "%d:%02d", (int)sec / 60, (int)sec % 60);
}

void migd_progress_update(struct migd_stats *s, bool force)
{
	uint64_t now = migd_now_ns();
	uint64_t left;
	char eta[16];
	double pct;

	if (!pl.on || (!force && now - pl.last_ns < 200 * MIGD_NSEC_PER_MSEC))
		return;
	pl.last_ns = now;
	/* A short first window, so the rate shows early; then half seconds. */
	if (now - pl.sample_ns >= (pl.mbps > 0 ? 500 : 150) * MIGD_NSEC_PER_MSEC) {
		pl.mbps = (double)(s->bytes - pl.sample_bytes) * 1e3 / (now - pl.sample_ns);
		pl.sample_ns = now;
		pl.sample_bytes = s->bytes;
	}
	pct = s->round_planned ? 100.0 * s->round_done / s->round_planned : 100.0;
	left = s->round_planned > s->round_done ? s->round_planned - s->round_done : 0;
	fmt_eta(eta, sizeof(eta),
		pl.mbps > 0 ? (double)left * s->page_size / (pl.mbps * 1e6) : -1);
	migd_log_status("%s round %" PRIu32 "%s %5.1f%%  %7.1f MB/s  dirty %" PRIu64 " pages/s  %" PRIu64 " MiB  ETA %s",
			s->source ? "sending" : "receiving", s->round,
			s->stopped ? " (stopped)" : "", pct, pl.mbps, s->dirty_rate,
			s->bytes >> 20, eta);
}

void migd_stats_round_done(struct migd_stats *s, uint64_t round_start_ns,
			   uint64_t round_bytes, uint64_t round_zero)
{
	struct migd_round_stat *r;

	if (s->nrounds >= MIGD_MAX_ROUND_STATS)
		return;
	r = &s->rounds[s->nrounds++];
	r->round = s->round;
	r->stopped = s->stopped;
	r->pages = s->round_done;
	r->zero_pages = round_zero;
	r->bytes = round_bytes;
	r->ns = migd_now_ns() - round_start_ns;
	r->dirty_rate = s->dirty_rate;
}

int migd_stats_fail(struct migd_stats *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (!s->error[0]) {
		va_start(ap, fmt);
		vsnprintf(s->error, sizeof(s->error), fmt, ap);
		va_end(ap);
	}
	return err;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double throughput(const struct migd_stats *s)
{
	uint64_t t = s->end_ns - s->start_ns;

	return t ? (double)s->bytes * 1e3 / t : 0;
}

void migd_print_summary(FILE *out, const struct migd_stats *s)
{
	const char *dir = s->source ? "to" : "from";

	fprintf(out, "migration %s %s: %s\n", dir, s->peer ? s->peer : "?",
		s->ok ? "completed" : "FAILED");
	if (!s->ok)
		fprintf(out, "  error        %s\n", s->error);
	fprintf(out, "  total time   %.3f s\n", ms(s->end_ns - s->start_ns) / 1e3);
	if (s->source && s->ok)
		fprintf(out, "  downtime     %.1f ms (estimated %.1f ms, target %.0f ms)\n",
			ms(s->downtime_ns), ms(s->est_downtime_ns), ms(s->target_downtime_ns));
	fprintf(out, "  memory       %" PRIu64 " MiB (%" PRIu64 " pages of %" PRIu32 " bytes)\n",
		(s->mem_pages * s->page_size) >> 20, s->mem_pages, s->page_size);
	fprintf(out, "  %-12s %.1f MiB, %.1f MB/s\n", s->source ? "sent" : "received",
		(double)s->bytes / (1 << 20), throughput(s));
	fprintf(out, "  pages        %" PRIu64 " (%" PRIu64 " zero)\n", s->pages, s->zero_pages);
	if (s->state_blobs)
		fprintf(out, "  state        %" PRIu64 " blobs, %" PRIu64 " bytes\n",
			s->state_blobs, s->state_bytes);
	fprintf(out, "  rounds      ");
	for (uint32_t i = 0; i < s->nrounds; i++)
		fprintf(out, " %s%" PRIu32 ":%" PRIu64, s->rounds[i].stopped ? "stop" : "",
			s->rounds[i].round, s->rounds[i].pages);
	fprintf(out, "\n");
	if (s->source && s->stop_reason != MIGD_CONTINUE)
		fprintf(out, "  stopped      %s\n", migd_stop_reason_name(s->stop_reason));
}

static void json_str(FILE *out, const char *str)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

void migd_print_json(FILE *out, const struct migd_stats *s)
{
	fprintf(out, "{\"role\":\"%s\",\"peer\":", s->source ? "source" : "destination");
	json_str(out, s->peer ? s->peer : "");
	fprintf(out, ",\"result\":\"%s\"", s->ok ? "ok" : "error");
	if (!s->ok) {
		fprintf(out, ",\"error\":");
		json_str(out, s->error);
	}
	fprintf(out, ",\"total_ms\":%.3f", ms(s->end_ns - s->start_ns));
	if (s->source && s->ok)
		fprintf(out, ",\"downtime_ms\":%.3f,\"estimated_downtime_ms\":%.3f,\"target_downtime_ms\":%.3f",
			ms(s->downtime_ns),
			ms(s->est_downtime_ns), ms(s->target_downtime_ns));
	fprintf(out, ",\"memory_bytes\":%" PRIu64 ",\"page_size\":%" PRIu32
		",\"bytes\":%" PRIu64 ",\"throughput_mbps\":%.3f,\"pages\":%" PRIu64
		",\"zero_pages\":%" PRIu64 ",\"state_blobs\":%" PRIu64
		",\"state_bytes\":%" PRIu64, s->mem_pages * s->page_size, s->page_size,
		s->bytes, throughput(s), s->pages, s->zero_pages, s->state_blobs,
		s->state_bytes);
	if (s->source)
		fprintf(out, ",\"stop_reason\":\"%s\"", migd_stop_reason_name(s->stop_reason));
	fprintf(out, ",\"rounds\":[");
	for (uint32_t i = 0; i < s->nrounds; i++) {
		const struct migd_round_stat *r = &s->rounds[i];

		fprintf(out, "%s{\"round\":%" PRIu32 ",\"stopped\":%s,\"pages\":%" PRIu64
			",\"zero_pages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"ms\":%.3f,\"dirty_pages_per_s\":%" PRIu64 "}",
			i ? "," : "", r->round,
			r->stopped ? "true" : "false", r->pages, r->zero_pages, r->bytes,
			ms(r->ns), r->dirty_rate);
	}
	fprintf(out, "]}\n");
}
