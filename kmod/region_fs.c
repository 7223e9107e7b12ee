// SPDX-License-Identifier: GPL-2.0
/*
 * The pseudo filesystem region inodes live on.  Each region needs its own
 * inode, hence its own address_space, so anon_inode_getfile()'s shared
 * inode will not do.
 *
 * Lifetime: the filesystem type has an owner, so a superblock holds a
 * module reference from its creation until kill_sb has run.  The module
 * itself keeps no mount: a file is created under a simple_pin_fs() pin,
 * takes its own reference on the mount (alloc_file_pseudo()), and the pin
 * is released again.  The last region file's __fput() then unmounts the
 * superblock (its inode evicted first, the module's a_ops still there)
 * and only that lets the module go.  __fput() drops the reference of the
 * file's fops before it evicts the inode and puts the mount; without the
 * superblock's reference rmmod could free the module's memory in between.
 * A region created while no other exists gets a superblock of its own.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/pseudo_fs.h>

#include "region_fs.h"

#define KVMMIG_FS_MAGIC		0x6b766d6d	/* "kvmm" */

/* simple_pin_fs(): held only while a file is being created. */
static struct vfsmount *kvmmig_mnt;
static int kvmmig_mnt_count;

static int kvmmig_fs_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, KVMMIG_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type kvmmig_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "kvmmig",
	.init_fs_context	= kvmmig_fs_init_fs_context,
	.kill_sb		= kill_anon_super,
};

/* A file on @mnt with @inode's reference, or an ERR_PTR (@inode put). */
static struct file *kvmmig_region_fs_alloc(struct inode *inode,
					   struct vfsmount *mnt,
					   const char *name, int flags,
					   const struct file_operations *fops,
					   void *private)
{
	struct file *file;

	/* alloc_file_pseudo() takes over a reference; __fput() drops it. */
	if (!try_module_get(fops->owner)) {
		iput(inode);
		return ERR_PTR(-ENOENT);
	}
	file = alloc_file_pseudo(inode, mnt, name, flags | O_LARGEFILE, fops);
	if (IS_ERR(file)) {
		iput(inode);
		module_put(fops->owner);
		return file;
	}
	file->f_mode |= FMODE_PREAD | FMODE_PWRITE | FMODE_LSEEK;
	file->private_data = private;
	return file;
}

struct file *kvmmig_region_fs_file(const char *name,
				   const struct file_operations *fops,
				   void *private)
{
	struct inode *inode;
	struct file *file;
	int ret;

	ret = simple_pin_fs(&kvmmig_fs_type, &kvmmig_mnt, &kvmmig_mnt_count);
	if (ret)
		return ERR_PTR(ret);

	/* Pinned: kvmmig_mnt stays set until the release below. */
	inode = alloc_anon_inode(kvmmig_mnt->mnt_sb);
	if (IS_ERR(inode))
		file = ERR_CAST(inode);
	else
		file = kvmmig_region_fs_alloc(inode, kvmmig_mnt, name, O_RDWR,
					      fops, private);

	/* The file holds the mount now; without one this unmounts it. */
	simple_release_fs(&kvmmig_mnt, &kvmmig_mnt_count);
	return file;
}

struct file *kvmmig_region_fs_clone(struct file *base, const char *name,
				    int flags,
				    const struct file_operations *fops,
				    void *private)
{
	struct inode *inode = file_inode(base);

	/* Same inode, hence same address_space and mount; its own dentry. */
	ihold(inode);
	return kvmmig_region_fs_alloc(inode, base->f_path.mnt, name, flags,
				      fops, private);
}

int kvmmig_region_fs_init(void)
{
	return 0;
}

/* Every region file held a superblock, and with it the module. */
void kvmmig_region_fs_exit(void)
{
	WARN_ON(kvmmig_mnt);
}
