// SPDX-License-Identifier: GPL-2.0
/*
 * migd: moves a VM between hosts.  This file is the command line: it
 * parses options, opens the session (or the regions) and runs one role.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/file.h"
#include "backend/hooks.h"
#include "backend/kvmmig.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "engine/precopy.h"
#include "session/pidfile.h"
#include "session/session.h"
#include "transport/tcp.h"
#include "list.h"
#include "verify.h"

/* SIGINT and SIGTERM ask the migration to stop; whatever waits is handed it. */
static struct migd_cancel cancel;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: migd [OPTIONS] --peer HOST[:PORT] SESSION\n"
		"       migd [OPTIONS] --listen [ADDR:]PORT [SESSION]\n"
		"       migd [OPTIONS] --output FILE|- SESSION\n"
		"       migd --cancel SESSION\n"
		"       migd list [--json]\n"
		"       migd verify [-q] FILE|-\n"
		"       migd [OPTIONS] --peer|--listen|--output ... REGION...\n"
		"\n"
		"Live-migrate a VM: --peer sends kvmmig session SESSION to the migd\n"
		"listening on HOST (port " MIGD_DEFAULT_PORT " by default), --listen receives one\n"
		"migration into a WAITING session (SESSION, or the one whose regions\n"
		"match the source's), --output saves it as a stream file that\n"
		"\"migd verify\" checks.\n"
		"\n"
		"Instead of a SESSION, memory can be given as REGIONs: [NAME=]PATH, a\n"
		"memory file, or [NAME=]fd:N, a kvmmig region fd inherited from the VMM.\n"
		"Regions are matched by NAME (default ram0, ram1, ... in order).  A\n"
		"source file PATH may have a dirty log PATH.dirty written by the VMM;\n"
		"without one it is taken as unchanging.  A destination PATH appears\n"
		"only when the migration has completed.  An argument without '=', '/'\n"
		"or \"fd:\" is a SESSION.\n"
		"\n"
		"Pre-copy policy (source):\n"
		"  -d, --downtime MS        stop the VM when the rest fits in MS (300)\n"
		"  -r, --max-rounds N       live rounds at most, then stop anyway (30)\n"
		"  -b, --bwlimit MBPS       cap the sending rate, megabytes/s (none)\n"
		"      --pause-timeout SEC  wait this long for the VMM to acknowledge the\n"
		"                           pause (source) or the arrival (destination) (10)\n"
		"      --on-pause CMD       shell command that pauses the VM (exit 0: paused)\n"
		"      --on-resume CMD      shell command that resumes it after a failure\n"
		"      --on-handover CMD    shell command run once the destination has it\n"
		"                           (these three for REGIONs; a session pauses\n"
		"                           through kvmmig)\n"
		"\n"
		"Options:\n"
		"  -p, --peer HOST[:PORT]   migrate to the destination on HOST\n"
		"  -l, --listen [ADDR:]PORT receive one migration on PORT\n"
		"  -o, --output FILE|-      save the stream to FILE (- for stdout)\n"
		"      --cancel SESSION     stop the migd migrating SESSION and wait for it\n"
		"  -t, --timeout SEC        give up after SEC without progress (30)\n"
		"      --page-size BYTES    page size of file regions (4096)\n"
		"  -j, --json               print the summary as JSON\n"
		"      --progress           draw the progress line even when stderr is\n"
		"                           not a terminal (a serial console)\n"
		"      --no-progress        no live progress line on a terminal\n"
		"  -q, --quiet              errors only, and no summary\n"
		"  -v, --verbose            more log messages (repeat for more)\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show the version and exit\n"
		"\n"
		"Commands:\n"
		"  list [--json]            the kvmmig sessions and regions of this host\n"
		"  verify FILE|-            check a migration stream and summarise it\n"
		"\n"
		"Exit status: 0 migrated, 1 failed (the message says what), 2 usage.\n"
		"See migd(8).\n");
}

enum {
	OPT_PAUSE_TIMEOUT = 256,
	OPT_PAGE_SIZE,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_CANCEL,
	OPT_ON_PAUSE,
	OPT_ON_RESUME,
	OPT_ON_HANDOVER,
};

struct cmdline {
	const char *peer, *listen, *output, *cancel;
	struct migd_policy policy;
	uint64_t rate_limit;
	int timeout_ms, pause_timeout_ms;
	uint32_t page_size;
	struct migd_hooks hooks;
	bool json, quiet;
	enum migd_progress_mode progress;
	const char *session;		/* a session instead of regions */
	char **region_args;
	unsigned int nregions;
};

static int parse_uint(const char *opt, const char *s, uint64_t min, uint64_t max,
		      uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *v < min || *v > max) {
		fprintf(stderr, "migd: %s: \"%s\" is not a number from %" PRIu64 " to %" PRIu64 "\n",
			opt, s, min, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct cmdline *c)
{
	static const struct option longopts[] = {
		{ "peer",          required_argument, NULL, 'p' },
		{ "listen",        required_argument, NULL, 'l' },
		{ "output",        required_argument, NULL, 'o' },
		{ "downtime",      required_argument, NULL, 'd' },
		{ "max-rounds",    required_argument, NULL, 'r' },
		{ "bwlimit",       required_argument, NULL, 'b' },
		{ "timeout",       required_argument, NULL, 't' },
		{ "pause-timeout", required_argument, NULL, OPT_PAUSE_TIMEOUT },
		{ "page-size",     required_argument, NULL, OPT_PAGE_SIZE },
		{ "on-pause",      required_argument, NULL, OPT_ON_PAUSE },
		{ "on-resume",     required_argument, NULL, OPT_ON_RESUME },
		{ "on-handover",   required_argument, NULL, OPT_ON_HANDOVER },
		{ "cancel",        required_argument, NULL, OPT_CANCEL },
		{ "json",          no_argument,       NULL, 'j' },
		{ "progress",      no_argument,       NULL, OPT_PROGRESS },
		{ "no-progress",   no_argument,       NULL, OPT_NO_PROGRESS },
		{ "quiet",         no_argument,       NULL, 'q' },
		{ "verbose",       no_argument,       NULL, 'v' },
		{ "help",          no_argument,       NULL, 'h' },
		{ "version",       no_argument,       NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int opt;

	while ((opt = getopt_long(argc, argv, "p:l:o:d:r:b:t:jqvhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			c->peer = optarg;
			break;
		case 'l':
			c->listen = optarg;
			break;
		case 'o':
			c->output = optarg;
			break;
		case OPT_CANCEL:
			c->cancel = optarg;
			break;
		case 'd':
			if (parse_uint("--downtime", optarg, 1, 3600000, &v))
				return 2;
			c->policy.downtime_ns = v * MIGD_NSEC_PER_MSEC;
			break;
		case 'r':
			if (parse_uint("--max-rounds", optarg, 1, 1000, &v))
				return 2;
			c->policy.max_rounds = v;
			break;
		case 'b':
			if (parse_uint("--bwlimit", optarg, 1, 1000000, &v))
				return 2;
			c->rate_limit = v * 1000000;
			break;
		case 't':
			if (parse_uint("--timeout", optarg, 1, 86400, &v))
				return 2;
			c->timeout_ms = v * 1000;
			break;
		case OPT_PAUSE_TIMEOUT:
			if (parse_uint("--pause-timeout", optarg, 1, 3600, &v))
				return 2;
			c->pause_timeout_ms = v * 1000;
			break;
		case OPT_PAGE_SIZE:
			if (parse_uint("--page-size", optarg, KVMMIG_STREAM_PAGE_SIZE_MIN,
				       KVMMIG_STREAM_PAGE_SIZE_MAX, &v))
				return 2;
			if (v & (v - 1)) {
				fprintf(stderr, "migd: --page-size: %" PRIu64
					" is not a power of two\n", v);
				return 2;
			}
			c->page_size = v;
			break;
		case OPT_ON_PAUSE:
			c->hooks.on_pause = optarg;
			break;
		case OPT_ON_RESUME:
			c->hooks.on_resume = optarg;
			break;
		case OPT_ON_HANDOVER:
			c->hooks.on_handover = optarg;
			break;
		case 'j':
			c->json = true;
			break;
		case OPT_PROGRESS:
			c->progress = MIGD_PROGRESS_ALWAYS;
			break;
		case OPT_NO_PROGRESS:
			c->progress = MIGD_PROGRESS_OFF;
			break;
		case 'q':
			c->quiet = true;
			c->progress = MIGD_PROGRESS_OFF;
			migd_log_level = MIGD_LOG_ERR;
			break;
		case 'v':
			migd_log_level++;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("migd %s\n", MIGD_VERSION);
			exit(EXIT_SUCCESS);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (c->cancel) {
		if (c->peer || c->listen || c->output || optind != argc) {
			fprintf(stderr, "migd: --cancel SESSION takes no other role or argument\n");
			return 2;
		}
		return 0;
	}
	if (!!c->peer + !!c->listen + !!c->output != 1) {
		fprintf(stderr, "migd: give exactly one of --peer, --listen, --output and --cancel\nTry \"migd --help\".\n");
		return 2;
	}
	if ((c->hooks.on_resume || c->hooks.on_handover) && !c->hooks.on_pause) {
		fprintf(stderr, "migd: --on-resume and --on-handover need --on-pause\n");
		return 2;
	}
	c->region_args = argv + optind;
	c->nregions = argc - optind;
	for (unsigned int i = 0; i < c->nregions; i++) {
		const char *a = c->region_args[i];

		if (strchr(a, '=') || strchr(a, '/') || !strncmp(a, "fd:", 3))
			continue;
		if (c->nregions > 1) {
			fprintf(stderr, "migd: \"%s\" is a session name (no '=', '/' or \"fd:\"): give one SESSION, or REGIONs only\n",
				a);
			return 2;
		}
		c->session = a;
	}
	if (c->session) {
		c->nregions = 0;
		if (c->hooks.on_pause) {
			fprintf(stderr, "migd: --on-pause is for REGIONs; session \"%s\" is paused through kvmmig\n",
				c->session);
			return 2;
		}
		if (strlen(c->session) >= KVMMIG_SESSION_NAME_LEN) {
			fprintf(stderr, "migd: session name \"%s\": at most %d characters\n",
				c->session, KVMMIG_SESSION_NAME_LEN - 1);
			return 2;
		}
		return 0;
	}
	/* --listen alone receives into the matching WAITING session. */
	if (!c->nregions && !c->listen) {
		fprintf(stderr, "migd: no SESSION (or REGION) given: the VM to %s\n",
			c->peer ? "migrate" : "save");
		return 2;
	}
	if (c->nregions > KVMMIG_STREAM_MAX_REGIONS) {
		fprintf(stderr, "migd: at most %d regions\n", KVMMIG_STREAM_MAX_REGIONS);
		return 2;
	}
	return 0;
}

/* "[NAME=]PATH" into the region's name and path. */
static int region_arg(struct migd_region *r, unsigned int i, char *arg)
{
	char *eq = strchr(arg, '='), *slash = strchr(arg, '/');
	const char *name;

	/* An '=' inside the path ("dir=x/ram") is not a name. */
	if (eq && (!slash || eq < slash)) {
		*eq = 0;
		name = arg;
		r->path = eq + 1;
	} else {
		name = NULL;
		r->path = arg;
	}
	if (name) {
		size_t n = strlen(name);

		if (!n || n >= sizeof(r->name)) {
			fprintf(stderr, "migd: region name \"%s\": 1 to %zu characters\n",
				name, sizeof(r->name) - 1);
			return -EINVAL;
		}
		for (const char *p = name; *p; p++) {
			if (*p < 0x21 || *p > 0x7e) {
				fprintf(stderr, "migd: region name \"%s\": printable ASCII without spaces only\n",
					name);
				return -EINVAL;
			}
		}
		snprintf(r->name, sizeof(r->name), "%s", name);
	} else {
		snprintf(r->name, sizeof(r->name), "ram%u", i);
	}
	r->id = i;
	return 0;
}

/* "fd:N": a kvmmig region fd inherited from the VMM; -1 for a path. */
static int region_fd(const char *path)
{
	char *end;
	long fd;

	if (strncmp(path, "fd:", 3))
		return -1;
	fd = strtol(path + 3, &end, 10);
	return *end || end == path + 3 || fd < 0 || fd > 1 << 20 ? -2 : (int)fd;
}

static int open_region(struct cmdline *c, struct migd_region *r, bool source,
		       struct migd_vm_ops *vm)
{
	int fd = region_fd(r->path), ret;

	if (fd == -1)
		return source ? migd_file_open_source(r, r->path, c->page_size, vm) :
				migd_file_open_dest(r, r->path, c->page_size);
	if (fd < 0) {
		pr_err("%s: expected fd:N with N a file descriptor number", r->path);
		return -EINVAL;
	}
	ret = source ? migd_kvmmig_open_source(r, fd) : migd_kvmmig_open_dest(r, fd);
	if (ret)
		pr_err("%s: %s", r->path, ret == -ENOTTY || ret == -EBADF ?
		       "not an open kvmmig region fd" : strerror(-ret));
	else if (source && !vm->pause)
		pr_warn("%s: nothing pauses the VM (no --on-pause), so the last round cannot be final",
			r->path);
	return ret;
}

static void on_signal(int sig)
{
	(void)sig;
	cancel.requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocked call returns EINTR and sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void report(const struct cmdline *c, const struct migd_stats *st, int ret)
{
	/* With --output -, standard output is the stream: nothing may follow END. */
	FILE *out = c->output && !strcmp(c->output, "-") ? stderr : stdout;

	if (ret)
		pr_err("migration %s %s failed: %s", st->source ? "to" : "from",
		       st->peer ? st->peer : "?", st->error);
	if (c->json)
		migd_print_json(out, st);
	else if (!c->quiet)
		migd_print_summary(out, st);
	fflush(out);
}

/* Session mode: the session's regions and VM control instead of files. */
static struct migd_session session;
static bool have_session;

static void session_summary(void)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < session.nregions; i++)
		bytes += session.regions[i].npages * session.regions[i].page_size;
	pr_info("session \"%s\" (id %" PRIu32 "): %u regions, %" PRIu64 " MiB",
		session.info.name, session.info.id, session.nregions, bytes >> 20);
}

static int run_source(struct cmdline *c, struct migd_region *regions)
{
	struct migd_send_opts so = {
		.policy = c->policy,
		.pause_timeout_ms = c->pause_timeout_ms,
		.to_file = !!c->output,
		.progress = c->progress,
		.cancel = &cancel,
	};
	static struct migd_stats st;
	struct migd_vm_ops vm = { 0 };
	struct migd_tmpfile out = { .fd = -1 };
	char peer[MIGD_ADDR_LEN + 16];
	unsigned int i, nregions = c->nregions;
	struct migd_conn conn;
	int fd = -1, ret;

	if (c->session) {
		have_session = true;
		ret = migd_session_open_source(&session, c->session);
		if (ret) {
			pr_err("%s", session.error);
			goto out;
		}
		regions = session.regions;
		nregions = session.nregions;
		vm = session.vm;
		session_summary();
	} else {
		migd_hooks_install(&vm, &c->hooks);
	}
	for (i = 0; !c->session && i < nregions; i++) {
		ret = open_region(c, &regions[i], true, &vm);
		if (ret)
			goto out;
		if (regions[i].page_size != regions[0].page_size) {
			pr_err("%s: page size %" PRIu32 ", %s has %" PRIu32, regions[i].path,
			       regions[i].page_size, regions[0].path, regions[0].page_size);
			ret = -EINVAL;
			goto out;
		}
	}
	if (c->output) {
		if (!strcmp(c->output, "-")) {
			if (isatty(STDOUT_FILENO)) {
				pr_err("not writing a binary stream to a terminal");
				ret = -EINVAL;
				goto out;
			}
			fd = STDOUT_FILENO;
			snprintf(peer, sizeof(peer), "<stdout>");
		} else {
			ret = migd_tmpfile_open(&out, c->output);
			if (ret) {
				pr_err("%s: %s", c->output, strerror(-ret));
				goto out;
			}
			fd = out.fd;
			snprintf(peer, sizeof(peer), "%s", c->output);
		}
	} else {
		ret = migd_connect(c->peer, c->timeout_ms, &cancel, &fd, peer, sizeof(peer));
		if (ret) {
			if (ret == -ECANCELED)
				pr_err("cancelled");
			goto out;
		}
		pr_info("connected to %s", peer);
	}
	st.peer = peer;
	migd_conn_init(&conn, fd, c->timeout_ms, c->rate_limit, &cancel);
	ret = migd_precopy_send(regions, nregions, &vm, &conn, &so, &st);
	if (!ret && out.fd >= 0) {
		ret = migd_tmpfile_commit(&out);
		if (ret)
			snprintf(st.error, sizeof(st.error), "saving %s: %s", c->output,
				 strerror(-ret));
		st.ok = !ret;
	}
	report(c, &st, ret);
	if (!ret && c->output)
		pr_info("saved to %s; the VM was not handed over and runs on", peer);
out:
	if (fd >= 0 && fd != STDOUT_FILENO && fd != out.fd)
		close(fd);
	migd_tmpfile_close(&out);
	if (have_session) {
		migd_session_close(&session);
	} else {
		for (i = 0; i < nregions; i++)
			if (regions[i].ops)
				regions[i].ops->close(&regions[i]);
	}
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int run_dest(struct cmdline *c, struct migd_region *regions)
{
	struct migd_recv_opts ro = {
		.progress = c->progress,
		.ack_timeout_ms = c->pause_timeout_ms,
		.cancel = &cancel,
	};
	static struct migd_stats st;
	char bound[MIGD_ADDR_LEN + 16], peer[MIGD_ADDR_LEN + 16];
	unsigned int i, nregions = c->nregions;
	struct migd_conn conn;
	int lfd = -1, fd = -1, ret;

	if (c->session || !nregions) {
		have_session = true;
		ret = migd_session_open_dest(&session, c->session);
		if (ret) {
			pr_err("%s", session.error);
			goto out;
		}
		ro.dest = &session.dest;
		regions = NULL;
	}
	for (i = 0; !have_session && i < nregions; i++) {
		ret = open_region(c, &regions[i], false, NULL);
		if (ret)
			goto out;
	}
	ret = migd_listen(c->listen, &lfd, bound, sizeof(bound));
	if (ret)
		goto out;
	if (c->session)
		pr_info("listening on %s for session \"%s\"", bound, c->session);
	else if (have_session)
		pr_info("listening on %s for the WAITING session that matches", bound);
	else
		pr_info("listening on %s", bound);
	ret = migd_accept(lfd, 0, &cancel, &fd, peer, sizeof(peer));
	if (ret) {
		pr_err("%s", ret == -ECANCELED ? "cancelled" : strerror(-ret));
		goto out;
	}
	/* One migration per run: the regions given are filled once. */
	close(lfd);
	lfd = -1;
	pr_info("migration from %s", peer);
	st.peer = peer;
	migd_conn_init(&conn, fd, c->timeout_ms, 0, &cancel);
	ret = migd_precopy_recv(regions, nregions, &conn, &ro, &st);
	report(c, &st, ret);
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (have_session) {
		migd_session_close(&session);
	} else {
		for (i = 0; i < nregions; i++)
			if (regions[i].ops)
				regions[i].ops->close(&regions[i]);
	}
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct cmdline c = {
		.policy = {
			.downtime_ns = MIGD_POLICY_DEFAULT_DOWNTIME_MS * MIGD_NSEC_PER_MSEC,
			.max_rounds = MIGD_POLICY_DEFAULT_MAX_ROUNDS,
			.stall_rounds = MIGD_POLICY_DEFAULT_STALL,
		},
		.timeout_ms = 30000,
		.pause_timeout_ms = 10000,
		.page_size = 4096,
		.progress = MIGD_PROGRESS_AUTO,
	};
	struct migd_region *regions;
	unsigned int i;
	int ret;

	/* Subcommands parse their own options. */
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return migd_verify_main(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "list"))
		return migd_list_main(argc - 1, argv + 1);

	ret = parse_args(argc, argv, &c);
	if (ret)
		return ret;
	if (c.cancel) {
		install_signals();
		return migd_cancel_main(c.cancel, c.timeout_ms, &cancel);
	}
	regions = calloc(c.nregions ? c.nregions : 1, sizeof(*regions));
	if (!regions) {
		pr_err("out of memory");
		return EXIT_FAILURE;
	}
	for (i = 0; i < c.nregions; i++) {
		if (region_arg(&regions[i], i, c.region_args[i])) {
			free(regions);
			return 2;
		}
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(regions[i].name, regions[j].name)) {
				fprintf(stderr, "migd: region name \"%s\" given twice\n",
					regions[i].name);
				free(regions);
				return 2;
			}
		}
	}
	install_signals();
	ret = c.listen ? run_dest(&c, regions) : run_source(&c, regions);
	free(regions);
	return ret;
}
