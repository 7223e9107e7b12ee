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

/*
 * A destination written in place: the existing file at @path, which a VMM
 * maps (QEMU's memory-backend-file), keeps its size and receives every
 * page where it is.  Nothing is undone on failure: the VMM must not run
 * what the file holds then (backend/qemu.c quits it).
 */
int migd_file_open_inplace(struct migd_region *r, const char *path,
			   uint32_t page_size);

/*
 * Source: the next harvest reports every page.  For a file that a VMM
 * writes without a dirty log: once the VM has stopped for good, the only
 * final round is all of it.
 */
void migd_file_dirty_all(struct migd_region *r);

#endif /* MIGD_BACKEND_FILE_H */
