// SPDX-License-Identifier: GPL-2.0
/*
 * The command line of the migrating roles (see cmdline.h): options, the
 * REGION arguments and the report at the end.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/kvmmig.h>

#include "backend/file.h"
#include "backend/kvmmig.h"
#include "common/clock.h"
#include "common/log.h"
#include "transport/tcp.h"
#include "cmdline.h"

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
		"       migd [OPTIONS] --peer HOST --qmp SOCKET [--qemu-uri URI] REGION...\n"
		"       migd [OPTIONS] --listen PORT --qmp SOCKET [--qemu-listen URI] REGION...\n"
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
		"QEMU (see migd(8)): migd moves the RAM, QEMU its devices.\n"
		"      --qmp SOCKET         the QEMU whose RAM the REGIONs are (the paths\n"
		"                           of its memory-backend-file mem-path), by its\n"
		"                           QMP unix socket\n"
		"      --qemu-uri URI       source: the destination QEMU's incoming URI\n"
		"                           (tcp:HOST:PORT+1 of --peer)\n"
		"      --qemu-listen URI    destination: where QEMU listens for the devices\n"
		"                           (tcp:ADDR:PORT+1 of --listen)\n"
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
	OPT_QMP,
	OPT_QEMU_URI,
	OPT_QEMU_LISTEN,
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

/* --qmp and what goes with it; @nargs: the REGION arguments. */
static int qemu_args(const struct migd_cmdline *c, int nargs)
{
	if (c->qemu_uri && !c->qmp) {
		fprintf(stderr, "migd: --qemu-uri needs --qmp (the source QEMU)\n");
		return -EINVAL;
	}
	if (c->qemu_listen && !c->qmp) {
		fprintf(stderr, "migd: --qemu-listen needs --qmp (the destination QEMU)\n");
		return -EINVAL;
	}
	if (c->qemu_uri && !c->peer) {
		fprintf(stderr, "migd: --qemu-uri is for the source (--peer); the destination takes --qemu-listen\n");
		return -EINVAL;
	}
	if (c->qemu_listen && !c->listen) {
		fprintf(stderr, "migd: --qemu-listen is for the destination (--listen); the source takes --qemu-uri\n");
		return -EINVAL;
	}
	if ((c->qemu_uri && !*c->qemu_uri) || (c->qemu_listen && !*c->qemu_listen)) {
		fprintf(stderr, "migd: --%s: an empty URI\n", c->qemu_uri ? "qemu-uri" : "qemu-listen");
		return -EINVAL;
	}
	if (!c->qmp)
		return 0;
	if (!*c->qmp) {
		fprintf(stderr, "migd: --qmp: an empty socket path\n");
		return -EINVAL;
	}
	if (c->output) {
		fprintf(stderr, "migd: --qmp works with --peer or --listen, not --output: QEMU's devices need a destination QEMU\n");
		return -EINVAL;
	}
	if (c->hooks.on_pause) {
		fprintf(stderr, "migd: --qmp and --on-pause: QEMU is paused over QMP, give one of them\n");
		return -EINVAL;
	}
	if (!nargs) {
		fprintf(stderr, "migd: --qmp %s needs REGIONs: the paths of QEMU's memory-backend-file mem-path\n",
			c->qmp);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct migd_cmdline *c)
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
		{ "qmp",           required_argument, NULL, OPT_QMP },
		{ "qemu-uri",      required_argument, NULL, OPT_QEMU_URI },
		{ "qemu-listen",   required_argument, NULL, OPT_QEMU_LISTEN },
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
		case OPT_QMP:
			c->qmp = optarg;
			break;
		case OPT_QEMU_URI:
			c->qemu_uri = optarg;
			break;
		case OPT_QEMU_LISTEN:
			c->qemu_listen = optarg;
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
	if (qemu_args(c, argc - optind))
		return 2;
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
	if (c->qmp) {
		for (unsigned int i = 0; i < c->nregions; i++) {
			const char *a = c->region_args[i];

			if (c->session || strstr(a, "fd:") == a || strstr(a, "=fd:")) {
				fprintf(stderr, "migd: --qmp: \"%s\" is not a path: give the mem-path of each of QEMU's memory-backend-file objects\n",
					a);
				return 2;
			}
		}
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

/* The REGION arguments as regions, each named once. */
static int parse_regions(struct migd_cmdline *c)
{
	c->regions = calloc(c->nregions ? c->nregions : 1, sizeof(*c->regions));
	if (!c->regions) {
		pr_err("out of memory");
		return EXIT_FAILURE;
	}
	for (unsigned int i = 0; i < c->nregions; i++) {
		if (region_arg(&c->regions[i], i, c->region_args[i]))
			return 2;
		for (unsigned int j = 0; j < i; j++) {
			if (!strcmp(c->regions[i].name, c->regions[j].name)) {
				fprintf(stderr, "migd: region name \"%s\" given twice\n",
					c->regions[i].name);
				return 2;
			}
		}
	}
	return 0;
}

int migd_cmdline_parse(struct migd_cmdline *c, int argc, char **argv)
{
	int ret;

	*c = (struct migd_cmdline){
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
	ret = parse_args(argc, argv, c);
	if (ret || c->cancel)
		return ret;
	return parse_regions(c);
}

void migd_cmdline_free(struct migd_cmdline *c)
{
	free(c->regions);
	c->regions = NULL;
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

int migd_cmdline_open_region(const struct migd_cmdline *c, struct migd_region *r,
			     bool source, struct migd_vm_ops *vm)
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

int migd_cmdline_qemu_uri(const char *given, const char *hostport, char *buf, size_t len)
{
	char host[MIGD_ADDR_LEN], port[16];
	int ret;

	if (given) {
		snprintf(buf, len, "%s", given);
		return 0;
	}
	ret = migd_parse_hostport(hostport, false, host, sizeof(host), port, sizeof(port));
	if (ret || atoi(port) >= 65535) {
		pr_err("%s: no QEMU URI to derive from it: give one", hostport);
		return -EINVAL;
	}
	snprintf(buf, len, strchr(host, ':') ? "tcp:[%s]:%d" : "tcp:%s:%d", host, atoi(port) + 1);
	return 0;
}

void migd_cmdline_close_regions(struct migd_cmdline *c)
{
	for (unsigned int i = 0; i < c->nregions; i++)
		if (c->regions[i].ops)
			c->regions[i].ops->close(&c->regions[i]);
}

void migd_cmdline_report(const struct migd_cmdline *c, const struct migd_stats *st, int ret)
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
