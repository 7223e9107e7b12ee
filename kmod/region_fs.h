/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_REGION_FS_H
#define _KVMMIG_REGION_FS_H

#include <linux/fs.h>

int kvmmig_region_fs_init(void);
void kvmmig_region_fs_exit(void);

/* A new file on the module's pseudo fs, with a fresh inode of its own. */
struct file *kvmmig_region_fs_file(const char *name,
				   const struct file_operations *fops,
				   void *private);

/* Another file on @base's inode, with its own fops and open flags. */
struct file *kvmmig_region_fs_clone(struct file *base, const char *name,
				    int flags,
				    const struct file_operations *fops,
				    void *private);

#endif /* _KVMMIG_REGION_FS_H */
