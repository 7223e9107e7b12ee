/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REGION_FS_H
#define _KVMMIG_REGION_FS_H

#include <linux/fs.h>

struct kvmmig_region;

#define KVMMIG_FS_MAGIC		0x6b766d6d	/* "kvmm" */

/* What every superblock of region inodes does: evict frees the region. */
extern const struct super_operations kvmmig_region_sops;

int kvmmig_region_fs_init(void);
void kvmmig_region_fs_exit(void);

/*
 * A new file on the module's internal mount with a fresh inode that owns
 * @region from now on: on error @region has been freed too.
 */
struct file *kvmmig_region_fs_file(const char *name,
				   struct kvmmig_region *region);

/* Another file on @base's inode, with its own fops and open flags. */
struct file *kvmmig_region_fs_clone(struct file *base, const char *name,
				    int flags,
				    const struct file_operations *fops,
				    void *private);

/* The mountable filesystem (region_mount.c). */
int kvmmig_region_mount_init(void);
void kvmmig_region_mount_exit(void);

#endif /* _KVMMIG_REGION_FS_H */
