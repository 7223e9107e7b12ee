// SPDX-License-Identifier: GPL-2.0
/*
 * migd --peer HOST SESSION|REGION... and --output FILE: the source.  It
 * opens the VM (a kvmmig session, or memory files and region fds), the
 * connection or the file, and runs the engine's sending side.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/qemu.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/tmpfile.h"
#include "engine/precopy.h"
#include "session/session.h"
#include "transport/tcp.h"
#include "cmdline.h"
#include "subcommands.h"

static void session_summary(const struct migd_session *s)
{
	uint64_t bytes = 0;

	for (unsigned int i = 0; i < s->nregions; i++)
		bytes += s->regions[i].npages * s->regions[i].page_size;
	pr_info("session \"%s\" (id %" PRIu32 "): %u regions, %" PRIu64 " MiB",
		s->info.name, s->info.id, s->nregions, bytes >> 20);
}

int migd_send_main(struct migd_cmdline *c, struct migd_cancel *cancel)
{
	struct migd_send_opts so = {
		.policy = c->policy,
		.pause_timeout_ms = c->pause_timeout_ms,
		.to_file = !!c->output,
		.progress = c->progress,
		.cancel = cancel,
	};
	/* Off the stack: the stats keep every round, the session its regions. */
	static struct migd_session session;
	static struct migd_stats st;
	static struct migd_qemu qemu;
	struct migd_region *regions = c->regions;
	struct migd_vm_ops vm = { 0 };
	struct migd_tmpfile out = { .fd = -1 };
	char peer[MIGD_ADDR_LEN + 16];
	unsigned int i, nregions = c->nregions;
	struct migd_conn conn;
	bool have_session = false, have_qemu = false;
	char uri[sizeof(qemu.uri)];
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
		session_summary(&session);
	} else if (c->qmp) {
		ret = migd_cmdline_qemu_uri(c->qemu_uri, c->peer, uri, sizeof(uri));
		if (ret)
			goto out;
		ret = migd_qemu_open_source(&qemu, c->qmp, uri,
					    c->policy.downtime_ns / MIGD_NSEC_PER_MSEC,
					    c->timeout_ms, cancel);
		if (ret) {
			pr_err("%s", qemu.error);
			goto out;
		}
		have_qemu = true;
		vm = qemu.vm;
	} else {
		migd_hooks_install(&vm, &c->hooks);
	}
	for (i = 0; !c->session && i < nregions; i++) {
		if (have_qemu) {
			ret = migd_qemu_open_region(&qemu, &regions[i], c->page_size);
			if (ret)
				pr_err("%s", qemu.error);
		} else {
			ret = migd_cmdline_open_region(c, &regions[i], true, &vm);
		}
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
		ret = migd_connect(c->peer, c->timeout_ms, cancel, &fd, peer, sizeof(peer));
		if (ret) {
			if (ret == -ECANCELED)
				pr_err("cancelled");
			goto out;
		}
		pr_info("connected to %s", peer);
	}
	st.peer = peer;
	migd_conn_init(&conn, fd, c->timeout_ms, c->rate_limit, cancel);
	ret = migd_precopy_send(regions, nregions, &vm, &conn, &so, &st);
	if (!ret && out.fd >= 0) {
		ret = migd_tmpfile_commit(&out);
		if (ret)
			snprintf(st.error, sizeof(st.error), "saving %s: %s", c->output,
				 strerror(-ret));
		st.ok = !ret;
	}
	migd_cmdline_report(c, &st, ret);
	if (!ret && c->output)
		pr_info("saved to %s; the VM was not handed over and runs on", peer);
out:
	if (fd >= 0 && fd != STDOUT_FILENO && fd != out.fd)
		close(fd);
	migd_tmpfile_close(&out);
	if (have_session)
		migd_session_close(&session);
	else
		migd_cmdline_close_regions(c);
	if (have_qemu)
		migd_qemu_close(&qemu);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
