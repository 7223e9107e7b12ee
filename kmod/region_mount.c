// SPDX-License-Identifier: GPL-2.0
/*
 * The kvmmig filesystem: "mount -t kvmmig none DIR" gives a directory
 * tree, kept in memory like ramfs's, whose regular files are regions.  It
 * is for VMMs that take guest RAM from a path (QEMU's memory-backend-file
 * mem-path=, libvirt's memory_backing_dir): open(O_CREAT) makes a region
 * of size 0, the first ftruncate() gives it its size for good, and
 * unlink() removes only the name: the region lives while a name, an fd or
 * a mapping holds its inode.  Directories are there for libvirt, which
 * makes one per domain.  Who may create regions is up to the directory's
 * permissions, so these regions do not count against
 * max_regions_per_process.
 */

#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/string.h>

#include "compat.h"
#include "region.h"
#include "region_fs.h"

static const struct inode_operations kvmmig_dir_iops;

/* A region's name in debugfs and netlink: the file's, made printable. */
static void kvmmig_region_file_name(const struct dentry *dentry, char *name)
{
	int i;

	strscpy(name, dentry->d_name.name, KVMMIG_REGION_NAME_LEN);
	for (i = 0; name[i]; i++)
		if (!isprint(name[i]))
			name[i] = '?';
}

static int kvmmig_file_setattr(struct kvmmig_idmap *idmap,
			       struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	int ret;

	ret = setattr_prepare(idmap, dentry, attr);
	if (ret)
		return ret;
	if (attr->ia_valid & ATTR_SIZE) {
		ret = kvmmig_region_set_size(inode->i_private, attr->ia_size);
		if (ret)
			return ret;
	}
	setattr_copy(idmap, inode, attr);
	return 0;
}

static const struct inode_operations kvmmig_file_iops = {
	.setattr	= kvmmig_file_setattr,
	.getattr	= simple_getattr,
};

static struct inode *kvmmig_new_inode(struct kvmmig_idmap *idmap,
				      struct super_block *sb,
				      const struct inode *dir, umode_t mode)
{
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = get_next_ino();
	inode_init_owner(idmap, inode, dir, mode);
	kvmmig_inode_init_times(inode);
	if (S_ISDIR(mode)) {
		inode->i_op = &kvmmig_dir_iops;
		inode->i_fop = &simple_dir_operations;
		inc_nlink(inode);	/* "." */
	}
	return inode;
}

/* Link @inode at @dentry; the dcache keeps the reference, like ramfs. */
static void kvmmig_instantiate(struct inode *dir, struct dentry *dentry,
			       struct inode *inode)
{
	d_instantiate(dentry, inode);
	dget(dentry);
	kvmmig_inode_touch(dir);
}

static int kvmmig_create(struct kvmmig_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode, bool excl)
{
	char name[KVMMIG_REGION_NAME_LEN];
	struct kvmmig_region *region;
	struct inode *inode;

	kvmmig_region_file_name(dentry, name);
	region = kvmmig_region_new(name, 0, NUMA_NO_NODE, false);
	if (IS_ERR(region))
		return PTR_ERR(region);

	inode = kvmmig_new_inode(idmap, dir->i_sb, dir, S_IFREG | mode);
	if (!inode) {
		kvmmig_region_free(region);
		return -ENOSPC;
	}
	inode->i_op = &kvmmig_file_iops;
	inode->i_fop = &kvmmig_region_fops;
	kvmmig_region_attach(region, inode);
	kvmmig_instantiate(dir, dentry, inode);
	return 0;
}

static int kvmmig_mkdir(struct kvmmig_idmap *idmap, struct inode *dir,
			struct dentry *dentry, umode_t mode)
{
	struct inode *inode;

	inode = kvmmig_new_inode(idmap, dir->i_sb, dir, S_IFDIR | mode);
	if (!inode)
		return -ENOSPC;
	inc_nlink(dir);		/* ".." */
	kvmmig_instantiate(dir, dentry, inode);
	return 0;
}

static const struct inode_operations kvmmig_dir_iops = {
	.create		= kvmmig_create,
	.lookup		= simple_lookup,
	.link		= simple_link,
	.unlink		= simple_unlink,
	.mkdir		= kvmmig_mkdir,
	.rmdir		= simple_rmdir,
	.rename		= simple_rename,
	.getattr	= simple_getattr,
};

static int kvmmig_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = KVMMIG_FS_MAGIC;
	sb->s_op = &kvmmig_region_sops;
	sb->s_time_gran = 1;

	root = kvmmig_new_inode(kvmmig_nop_idmap, sb, NULL, S_IFDIR | 0755);
	if (!root)
		return -ENOMEM;
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int kvmmig_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, kvmmig_fill_super);
}

static const struct fs_context_operations kvmmig_context_ops = {
	.get_tree	= kvmmig_get_tree,
};

static int kvmmig_init_fs_context(struct fs_context *fc)
{
	fc->ops = &kvmmig_context_ops;
	return 0;
}

/* Unmounting drops every name; regions still open or mapped live on. */
static struct file_system_type kvmmig_mount_type = {
	.owner			= THIS_MODULE,
	.name			= "kvmmig",
	.init_fs_context	= kvmmig_init_fs_context,
	.kill_sb		= kill_litter_super,
};
MODULE_ALIAS_FS("kvmmig");

int kvmmig_region_mount_init(void)
{
	return register_filesystem(&kvmmig_mount_type);
}

void kvmmig_region_mount_exit(void)
{
	unregister_filesystem(&kvmmig_mount_type);
}
