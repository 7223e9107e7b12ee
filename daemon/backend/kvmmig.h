/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmmig regions: guest RAM owned by kvmmig.ko, reached through a region
 * fd: one the VMM passed to migd ("fd:N" on the command line), or one
 * migd opened with KVMMIG_OPEN_SESSION_REGION (session/session.c).  Pages
 * are read and written with pread and pwrite on the fd; dirty pages come
 * from KVMMIG_DIRTY_LOG_HARVEST.
 */
#ifndef MIGD_BACKEND_KVMMIG_H
#define MIGD_BACKEND_KVMMIG_H

#include <stdbool.h>

#include "engine/region.h"

/* True if @fd is a kvmmig region fd. */
bool migd_kvmmig_is_region(int fd);

/* An inherited region fd ("fd:N"): checked, sized with fstat, not closed. */
int migd_kvmmig_open_source(struct migd_region *r, int fd);
int migd_kvmmig_open_dest(struct migd_region *r, int fd);

/*
 * Makes @r a region of @size bytes on kvmmig region fd @fd, a source (dirty
 * log, pread) or a destination (pwrite); @own_fd: close @fd with @r.
 */
int migd_kvmmig_attach(struct migd_region *r, int fd, uint64_t size, bool source,
		       bool own_fd);

#endif /* MIGD_BACKEND_KVMMIG_H */
