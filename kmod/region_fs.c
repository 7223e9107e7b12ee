// SPDX-License-Identifier: GPL-2.0
/*
 * The internal mount the regions of KVMMIG_CREATE_REGION live on, and the
 * superblock operations every region inode shares.  Each region needs its
 * own inode, hence its own address_space, so anon_inode_getfile()'s
 * shared inode will not do.  A region lives as long as its inode and is
 * freed when the inode is evicted.
 *
 * Lifetime: the filesystem type has an owner, so a superblock holds a
 * module reference from its creation until kill_sb has run.  The module
 * itself keeps no mount: a file is created under a simple_pin_fs() pin,
 * takes its own reference on the mount (alloc_file_pseudo()), and the pin
 * is released again.  The last region file's __fput() then unmounts the
 * superblock (its inode evicted first, the module's a_ops and evict still
 * there) and only that lets the module go.  __fput() drops the reference of the
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

#include "region.h"
#include "region_fs.h"

/* simple_pin_fs(): held only while a file is being created. */
static struct vfsmount *kvmmig_mnt;
static int kvmmig_mnt_count;

static void kvmmig_region_evict_inode(struct inode *inode)
{
	if (S_ISREG(inode->i_mode) && inode->i_private)
		kvmmig_region_evict(inode);
	else
		truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
}

const struct super_operations kvmmig_region_sops = {
	.statfs		= simple_statfs,
	.drop_inode	= generic_delete_inode,
	.evict_inode	= kvmmig_region_evict_inode,
};

static int kvmmig_fs_init_fs_context(struct fs_context *fc)
{
	struct pseudo_fs_context *ctx = init_pseudo(fc, KVMMIG_FS_MAGIC);

	if (!ctx)
		return -ENOMEM;
	ctx->ops = &kvmmig_region_sops;
	return 0;
}

/* Not registered: user space mounts region_mount.c's "kvmmig". */
static struct file_system_type kvmmig_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "kvmmig_internal",
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
				   struct kvmmig_region *region)
{
	struct inode *inode;
	struct file *file;
	int ret;

	ret = simple_pin_fs(&kvmmig_fs_type, &kvmmig_mnt, &kvmmig_mnt_count);
	if (ret) {
		kvmmig_region_free(region);
		return ERR_PTR(ret);
	}

	/* Pinned: kvmmig_mnt stays set until the release below. */
	inode = alloc_anon_inode(kvmmig_mnt->mnt_sb);
	if (IS_ERR(inode)) {
		kvmmig_region_free(region);
		file = ERR_CAST(inode);
	} else {
		inode->i_mode |= S_IFREG;
		kvmmig_region_attach(region, inode);
		file = kvmmig_region_fs_alloc(inode, kvmmig_mnt, name, O_RDWR,
					      &kvmmig_region_fops, region);
	}

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
	return kvmmig_region_mount_init();
}

/* Every region file held a superblock, and with it the module. */
void kvmmig_region_fs_exit(void)
{
	kvmmig_region_mount_exit();
	WARN_ON(kvmmig_mnt);
}
