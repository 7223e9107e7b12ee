// SPDX-License-Identifier: GPL-2.0
/*
 * migd --listen [ADDR:]PORT [SESSION|REGION...]: the destination.  It
 * opens what receives the VM (a WAITING kvmmig session, or memory files
 * and region fds), takes one connection and runs the engine's receiving
 * side.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/qemu.h"
#include "common/log.h"
#include "engine/precopy.h"
#include "session/session.h"
#include "transport/tcp.h"
#include "cmdline.h"
#include "subcommands.h"

int migd_receive_main(struct migd_cmdline *c, struct migd_cancel *cancel)
{
	struct migd_recv_opts ro = {
		.progress = c->progress,
		.ack_timeout_ms = c->pause_timeout_ms,
		.cancel = cancel,
	};
	/* Off the stack: the stats keep every round, the session its regions. */
	static struct migd_session session;
	static struct migd_stats st;
	static struct migd_qemu qemu;
	struct migd_region *regions = c->regions;
	char bound[MIGD_ADDR_LEN + 16], peer[MIGD_ADDR_LEN + 16];
	unsigned int i, nregions = c->nregions;
	struct migd_conn conn;
	bool have_session = false, have_qemu = false;
	char uri[sizeof(qemu.uri)];
	int lfd = -1, fd = -1, ret;

	if (c->qmp) {
		ret = migd_qemu_open_dest(&qemu, c->qmp, c->timeout_ms, cancel);
		if (ret) {
			pr_err("%s", qemu.error);
			goto out;
		}
		have_qemu = true;
		ro.dest = &qemu.dest;
	} else if (c->session || !nregions) {
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
		if (have_qemu) {
			ret = migd_qemu_open_region(&qemu, &regions[i], c->page_size);
			if (ret)
				pr_err("%s", qemu.error);
		} else {
			ret = migd_cmdline_open_region(c, &regions[i], false, NULL);
		}
		if (ret) {
			if (have_qemu)
				ro.dest->abort(ro.dest->opaque);
			goto out;
		}
	}
	ret = migd_listen(c->listen, &lfd, bound, sizeof(bound));
	if (ret)
		goto out;
	/* QEMU listens before the source can connect: its migrate comes at the pause. */
	if (have_qemu) {
		ret = migd_cmdline_qemu_uri(c->qemu_listen, bound, uri, sizeof(uri));
		if (!ret) {
			ret = migd_qemu_incoming(&qemu, uri);
			if (ret)
				pr_err("%s", qemu.error);
		}
		if (ret) {
			ro.dest->abort(ro.dest->opaque);
			goto out;
		}
	}
	if (c->session)
		pr_info("listening on %s for session \"%s\"", bound, c->session);
	else if (have_session)
		pr_info("listening on %s for the WAITING session that matches", bound);
	else
		pr_info("listening on %s", bound);
	ret = migd_accept(lfd, 0, cancel, &fd, peer, sizeof(peer));
	if (ret) {
		pr_err("%s", ret == -ECANCELED ? "cancelled" : strerror(-ret));
		if (have_qemu)
			ro.dest->abort(ro.dest->opaque);
		goto out;
	}
	/* One migration per run: the regions given are filled once. */
	close(lfd);
	lfd = -1;
	pr_info("migration from %s", peer);
	st.peer = peer;
	migd_conn_init(&conn, fd, c->timeout_ms, 0, cancel);
	ret = migd_precopy_recv(regions, nregions, &conn, &ro, &st);
	migd_cmdline_report(c, &st, ret);
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	if (have_session)
		migd_session_close(&session);
	else
		migd_cmdline_close_regions(c);
	if (have_qemu)
		migd_qemu_close(&qemu);
	return ret ? EXIT_FAILURE : EXIT_SUCCESS;
}
