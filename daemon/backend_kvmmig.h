/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmmig regions: guest RAM owned by kvmmig.ko, reached through a region
 * fd the VMM passes to migd (inherited, "fd:N" on the command line, until
 * sessions hand them over).  Pages are read and written with pread and
 * pwrite on the fd; dirty pages come from KVMMIG_DIRTY_LOG_HARVEST.
 */
#ifndef MIGD_BACKEND_KVMMIG_H
#define MIGD_BACKEND_KVMMIG_H

#include <stdbool.h>

#include "region.h"

/* True if @fd is a kvmmig region fd. */
bool migd_kvmmig_is_region(int fd);

int migd_kvmmig_open_source(struct migd_region *r, int fd);
int migd_kvmmig_open_dest(struct migd_region *r, int fd);

#endif /* MIGD_BACKEND_KVMMIG_H */
