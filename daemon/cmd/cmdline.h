/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line of the roles that migrate: --peer, --listen, --output
 * and --cancel share their options, the REGION arguments ([NAME=]PATH or
 * [NAME=]fd:N) and the report at the end.  "migd list" and "migd verify"
 * parse their own.
 */
#ifndef MIGD_CMDLINE_H
#define MIGD_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/hooks.h"
#include "engine/precopy.h"

struct migd_cmdline {
	const char *peer, *listen, *output, *cancel;
	/* QEMU's monitor, and where its device state goes (backend/qemu.h). */
	const char *qmp, *qemu_uri, *qemu_listen;
	struct migd_policy policy;
	uint64_t rate_limit;
	int timeout_ms, pause_timeout_ms;
	uint32_t page_size;
	struct migd_hooks hooks;
	bool json, quiet;
	enum migd_progress_mode progress;
	const char *session;		/* a session instead of regions */
	char **region_args;
	struct migd_region *regions;	/* named, not opened yet */
	unsigned int nregions;
};

/*
 * Fills @c from the arguments; --help and --version print and exit.
 * Returns 0, or the exit status: 2 for a usage error, 1 for no memory.
 */
int migd_cmdline_parse(struct migd_cmdline *c, int argc, char **argv);
void migd_cmdline_free(struct migd_cmdline *c);

/* Opens REGION @r, a memory file or an inherited kvmmig region fd. */
int migd_cmdline_open_region(const struct migd_cmdline *c, struct migd_region *r,
			     bool source, struct migd_vm_ops *vm);
/*
 * The QEMU migration URI: @given (--qemu-uri, --qemu-listen), else
 * tcp:HOST:PORT+1 of @hostport (--peer, or the address --listen bound).
 */
int migd_cmdline_qemu_uri(const char *given, const char *hostport, char *buf, size_t len);
/* Closes the REGIONs that were opened. */
void migd_cmdline_close_regions(struct migd_cmdline *c);

/* The migration's error, then its summary as --json and -q ask. */
void migd_cmdline_report(const struct migd_cmdline *c, const struct migd_stats *st,
			 int ret);

#endif /* MIGD_CMDLINE_H */
