// SPDX-License-Identifier: GPL-2.0
/*
 * The pseudo filesystem region inodes live on.  Each region needs its own
 * inode, hence its own address_space, so anon_inode_getfile()'s shared
 * inode will not do.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "region_fs.h"

#define KVMMIG_FS_MAGIC		0x6b766d6d	/* "kvmm" */

static struct vfsmount *kvmmig_mnt;

static int kvmmig_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, KVMMIG_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type kvmmig_fs_type = {
	.name			= "kvmmig",
	.init_fs_context	= kvmmig_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

struct file *kvmmig_region_fs_file(const char *name,
				   const struct file_operations *fops,
				   void *private)
{
	struct inode *inode;
	struct file *file;

	/* alloc_file_pseudo() takes over a reference; __fput() drops it. */
	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);

	inode = alloc_anon_inode(kvmmig_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		file = ERR_CAST(inode);
		goto err_put_module;
	}

	file = alloc_file_pseudo(inode, kvmmig_mnt, name,
				 O_RDWR | O_LARGEFILE, fops);
	if (IS_ERR(file)) {
		iput(inode);
		goto err_put_module;
	}
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE | FMODE_LSEEK;
	file->private_data = private;
	return file;

err_put_module:
	module_put(fops->owner);
	return file;
}

struct file *kvmmig_region_fs_clone(struct file *base, const char *name,
				    int flags,
				    const struct file_operations *fops,
				    void *private)
{
	struct inode *inode = file_inode(base);
	struct file *file;

	if (!try_module_get(fops->owner))
		return ERR_PTR(-ENOENT);

	/* Same inode, hence same address_space; a dentry of its own. */
	ihold(inode);
	file = alloc_file_pseudo(inode, kvmmig_mnt, name, flags | O_LARGEFILE,
				 fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
		return file;
	}
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE | FMODE_LSEEK;
	file->private_data = private;
	return file;
}

int kvmmig_region_fs_init(void)
{
	kvmmig_mnt = kern_mount(&kvmmig_fs_type);
	return PTR_ERR_OR_ZERO(kvmmig_mnt);
}

void kvmmig_region_fs_exit(void)
{
	kern_unmount(kvmmig_mnt);
}
