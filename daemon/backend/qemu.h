/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An unmodified QEMU as the VM on either side (Documentation/qemu.rst):
 * QEMU moves the devices with its own migration, migd the RAM, which QEMU
 * keeps in shared memory-backend-file files and skips (x-ignore-shared).
 * Driven over QMP (qmp/qmp.h), this is struct migd_vm_ops on the source
 * (pause = QEMU's migration to the destination QEMU up to
 * "pre-switchover"; switchover, once the destination has every page =
 * migrate-continue up to "completed" and a check that no page was written
 * since the last round; resume = migrate_cancel or cont) and struct migd_dest_ops on the
 * destination (the incoming migration; arrive = wait for "completed" and
 * cont; abort = quit).
 *
 * A REGION is the path of QEMU's mem-path.  migd_qemu_open_region() is
 * the one place that picks its backend: a kvmmig region file (dirty log,
 * in-place writes) or a plain file (no dirty log: the final round is all
 * of it; written in place).
 */
#ifndef MIGD_BACKEND_QEMU_H
#define MIGD_BACKEND_QEMU_H

#include <stdbool.h>
#include <stdint.h>

#include "common/cancel.h"
#include "engine/region.h"
#include "qmp/qmp.h"

struct migd_qemu {
	struct migd_qmp qmp;
	bool source;
	bool was_running;		/* source: the guest ran when migd started */
	char uri[320];			/* the destination QEMU's incoming URI */
	struct migd_region *regions;	/* opened with migd_qemu_open_region() */
	unsigned int nregions;
	bool plain[64];			/* region i is a plain file (no dirty log) */
	bool migrating;			/* source: "migrate" issued, not undone */
	bool completed;			/* source: QEMU handed its devices over */
	bool incoming;			/* destination: migrate-incoming issued */
	bool running;			/* destination: "cont" done */
	struct migd_vm_ops vm;
	struct migd_dest_ops dest;
	char error[640];
};

/*
 * Source: connects to the monitor at @sock (every command and the
 * connection within @timeout_ms), checks that no migration runs, sets the
 * capabilities and parameters, and fills q->vm.  @uri is the destination
 * QEMU's incoming URI; @downtime_ms QEMU's own limit for what it sends.
 * On failure q->error says why and nothing is left open.
 */
int migd_qemu_open_source(struct migd_qemu *q, const char *sock, const char *uri,
			  uint64_t downtime_ms, int timeout_ms, struct migd_cancel *cancel);
/*
 * Destination: connects to the QEMU started with -incoming defer, which
 * must be waiting for a migration, and fills q->dest.
 */
int migd_qemu_open_dest(struct migd_qemu *q, const char *sock, int timeout_ms,
			struct migd_cancel *cancel);
/* Destination: capabilities, then migrate-incoming on @uri. */
int migd_qemu_incoming(struct migd_qemu *q, const char *uri);

/*
 * Opens @r (r->path, r->name set) as a region of this QEMU: a kvmmig
 * region file if the path opens to one, else a plain file of @page_size
 * pages.  Call it for the regions in order; q keeps them for bind().
 */
int migd_qemu_open_region(struct migd_qemu *q, struct migd_region *r,
			  uint32_t page_size);

void migd_qemu_close(struct migd_qemu *q);

#endif /* MIGD_BACKEND_QEMU_H */
