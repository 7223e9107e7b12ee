/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File-backed regions: guest memory as a plain file (or memfd), for tests
 * and for moving memory images.  On the source the file is only read; a
 * dirty log at PATH.dirty (dirtylog.h), if present, supplies the dirty
 * pages and the VM's pause handshake.  On the destination the pages go to
 * an unnamed temporary file in PATH's directory that becomes PATH only at
 * commit, so a failed migration leaves nothing behind.
 */
#ifndef MIGD_BACKEND_FILE_H
#define MIGD_BACKEND_FILE_H

#include "engine/region.h"

int migd_file_open_source(struct migd_region *r, const char *path,
			  uint32_t page_size, struct migd_vm_ops *vm);
int migd_file_open_dest(struct migd_region *r, const char *path,
			uint32_t page_size);

#endif /* MIGD_BACKEND_FILE_H */
