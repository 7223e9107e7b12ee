// SPDX-License-Identifier: GPL-2.0
/*
 * Regions: guest RAM owned by kvmmig.  A region is an inode of the
 * module's filesystem (region_fs.c); its pages are movable page-cache
 * folios in its own address_space, allocated zeroed on first touch.  VMMs map it MAP_SHARED
 * and give the mapping to KVM as a memslot; because the module owns the
 * mapping it sees every write fault (->page_mkwrite) and can write-protect
 * any page through the reverse map.
 */

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/pagemap.h>
#include <linux/pid.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "compat.h"
#include "region.h"
#include "region_fs.h"
#include "region_numa.h"

static unsigned int max_region_mb = 64 << 10;
module_param(max_region_mb, uint, 0444);
MODULE_PARM_DESC(max_region_mb, "Largest region in MiB (EFBIG above)");

static unsigned int max_regions_per_process = 32;
module_param(max_regions_per_process, uint, 0444);
MODULE_PARM_DESC(max_regions_per_process,
		 "Regions one process may own at a time (EMFILE above)");

static LIST_HEAD(kvmmig_regions);
static DEFINE_MUTEX(kvmmig_regions_lock);
static u64 kvmmig_next_region_id = 1;

/* Folios in all regions' page caches; must be zero at unload. */
static atomic_long_t kvmmig_pages = ATOMIC_LONG_INIT(0);
/* Region structures allocated, live or on their way out: for leak checks. */
static atomic_long_t kvmmig_nr_regions = ATOMIC_LONG_INIT(0);

static void kvmmig_region_free_folio(struct folio *folio)
{
	atomic_long_dec(&kvmmig_pages);
}

/*
 * The kernel learned of a write through the page cache rather than a write
 * fault: a PTE dirty bit dropped with its mapping, or a write through
 * get_user_pages() (process_vm_writev(), O_DIRECT) being released.  Only a
 * clean folio can hide such a write, and folios are clean only between A/D
 * harvests (dirty_ad.c), which these writes must reach.  PG_dirty is set
 * before the bit: an A/D harvest clears them in the opposite order.
 */
static bool kvmmig_region_dirty_folio(struct address_space *mapping,
				      struct folio *folio)
{
	struct kvmmig_region *region = mapping->host->i_private;

	if (folio_test_set_dirty(folio))
		return false;
	kvmmig_dirty_log_mark(&region->log, folio->index);
	return true;
}

/*
 * The page cache is the only copy of guest RAM: nothing may discard a
 * folio, and between A/D harvests folios are clean.  Reclaim skips them
 * (the mapping is unevictable), drop_caches never sees them (pseudo-fs
 * inodes are not on their superblock's list) and fadvise(DONTNEED) is a
 * no-op on the noop backing device (dirty_log_ad_test checks the last two).
 */
static const struct address_space_operations kvmmig_region_aops = {
	.dirty_folio	= kvmmig_region_dirty_folio,
	.migrate_folio	= filemap_migrate_folio,
	.free_folio	= kvmmig_region_free_folio,
};

/*
 * A placement asked at creation is strict; otherwise a fault follows its
 * VMA's memory policy (mbind(), QEMU's host-nodes), and pwrite() the copy
 * of it kept in the region.
 */
static struct folio *kvmmig_region_alloc_folio(struct kvmmig_region *region,
					       struct vm_fault *vmf,
					       pgoff_t index)
{
	gfp_t gfp = mapping_gfp_mask(region->mapping) | __GFP_ZERO;

	if (region->nid != NUMA_NO_NODE)
		return __folio_alloc_node(gfp | __GFP_THISNODE, 0, region->nid);
	if (vmf)
		return vma_alloc_folio(gfp, 0, vmf->vma, vmf->address, false);
	return kvmmig_numa_policy_alloc(&region->policy, gfp, index);
}

int kvmmig_region_get_folio(struct kvmmig_region *region, pgoff_t index,
			    struct vm_fault *vmf, struct folio **foliop)
{
	struct address_space *mapping = region->mapping;
	struct folio *folio;
	int ret;

	for (;;) {
		folio = kvmmig_lock_folio(mapping, index);
		if (folio)
			break;

		folio = kvmmig_region_alloc_folio(region, vmf, index);
		if (!folio)
			return -ENOMEM;
		folio_mark_uptodate(folio);
		ret = filemap_add_folio(mapping, folio, index,
					mapping_gfp_mask(mapping));
		if (!ret) {
			/* Born dirty: the first write faults and is logged. */
			folio_set_dirty(folio);
			/*
			 * Out of this CPU's LRU-add batch and its reference,
			 * which the re-arm would take for a writer's.
			 */
			kvmmig_lru_add_drain();
			atomic_long_inc(&kvmmig_pages);
			atomic_long_inc(&region->nr_allocated);
			break;
		}
		folio_put(folio);
		if (ret != -EEXIST)
			return ret;
		/* Lost a race with another first touch: use the winner's. */
	}
	*foliop = folio;
	return 0;
}

static vm_fault_t kvmmig_region_fault(struct vm_fault *vmf)
{
	struct kvmmig_region *region = vmf->vma->vm_file->private_data;
	struct folio *folio;
	int ret;

	if (vmf->pgoff >= kvmmig_region_nr_pages(region))
		return VM_FAULT_SIGBUS;
	ret = kvmmig_region_get_folio(region, vmf->pgoff, vmf, &folio);
	if (ret)
		return vmf_error(ret);
	vmf->page = folio_file_page(folio, vmf->pgoff);
	return VM_FAULT_LOCKED;
}

/*
 * Called for every write fault on a read-only PTE, including the first
 * write to a page that was not mapped yet (do_shared_fault).  The bit is
 * set with the folio locked, and the core mm makes the PTE writable before
 * unlocking it, so a harvest (which takes the folio lock to re-arm) cannot
 * slip in between and lose the write.
 */
static vm_fault_t kvmmig_region_page_mkwrite(struct vm_fault *vmf)
{
	struct kvmmig_region *region = vmf->vma->vm_file->private_data;
	struct folio *folio = page_folio(vmf->page);

	folio_lock(folio);
	if (folio->mapping != region->mapping) {
		folio_unlock(folio);
		return VM_FAULT_NOPAGE;
	}
	kvmmig_dirty_log_mark(&region->log, folio->index);
	atomic64_inc(&region->log.write_faults);
	return VM_FAULT_LOCKED;
}

#ifdef CONFIG_NUMA
/*
 * mbind() on a mapping: the VMA keeps the policy itself (and faults and
 * get_mempolicy() find it there, so there is no ->get_policy); the region
 * keeps a copy for the pages pwrite() allocates.
 */
static int kvmmig_region_set_policy(struct vm_area_struct *vma,
				    struct mempolicy *new)
{
	struct kvmmig_region *region = vma->vm_file->private_data;

	kvmmig_numa_policy_set(&region->policy, new);
	return 0;
}
#endif

static const struct vm_operations_struct kvmmig_region_vm_ops = {
	.fault		= kvmmig_region_fault,
	.page_mkwrite	= kvmmig_region_page_mkwrite,
#ifdef CONFIG_NUMA
	.set_policy	= kvmmig_region_set_policy,
#endif
};

static int kvmmig_region_mmap(struct file *file, struct vm_area_struct *vma)
{
	/* A private COW copy would escape the dirty log. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	vma->vm_ops = &kvmmig_region_vm_ops;
	return 0;
}

static ssize_t kvmmig_region_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct kvmmig_region *region = iocb->ki_filp->private_data;
	loff_t size = (loff_t)kvmmig_region_nr_pages(region) << PAGE_SHIFT;
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;

	if (pos >= size)
		return 0;
	iov_iter_truncate(to, size - pos);

	while (iov_iter_count(to)) {
		size_t offset = offset_in_page(pos);
		size_t bytes = min_t(size_t, PAGE_SIZE - offset,
				     iov_iter_count(to));
		struct folio *folio;
		size_t copied;

		/* A page never touched reads as zeroes and stays unallocated. */
		folio = filemap_get_folio(region->mapping, pos >> PAGE_SHIFT);
		if (!IS_ERR_OR_NULL(folio)) {
			copied = copy_page_to_iter(folio_page(folio, 0), offset,
						   bytes, to);
			folio_put(folio);
		} else {
			copied = iov_iter_zero(bytes, to);
		}
		pos += copied;
		done += copied;
		if (copied < bytes) {
			if (!done)
				return -EFAULT;
			break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	iocb->ki_pos = pos;
	return done;
}

static ssize_t kvmmig_region_write_iter(struct kiocb *iocb,
					struct iov_iter *from)
{
	struct kvmmig_region *region = iocb->ki_filp->private_data;
	loff_t size = (loff_t)kvmmig_region_nr_pages(region) << PAGE_SHIFT;
	loff_t pos = iocb->ki_pos;
	ssize_t done = 0;
	int ret = 0;

	if (!iov_iter_count(from))
		return 0;
	if (pos >= size)
		return -ENOSPC;
	iov_iter_truncate(from, size - pos);

	while (iov_iter_count(from)) {
		size_t offset = offset_in_page(pos);
		size_t bytes = min_t(size_t, PAGE_SIZE - offset,
				     iov_iter_count(from));
		pgoff_t index = pos >> PAGE_SHIFT;
		struct folio *folio;
		size_t copied;

		/* The source may be this very region: fault it in unlocked. */
		if (fault_in_iov_iter_readable(from, bytes) == bytes) {
			ret = -EFAULT;
			break;
		}
		ret = kvmmig_region_get_folio(region, index, NULL, &folio);
		if (ret)
			break;
		pagefault_disable();
		copied = copy_page_from_iter_atomic(folio_page(folio, 0), offset,
						    bytes, from);
		pagefault_enable();
		/* Logged after the copy, under the lock a harvest also takes. */
		if (copied)
			kvmmig_dirty_log_mark(&region->log, index);
		folio_unlock(folio);
		folio_put(folio);

		pos += copied;
		done += copied;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	iocb->ki_pos = pos;
	return done ? done : ret;
}

static long kvmmig_region_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct kvmmig_region *region = file->private_data;

	return kvmmig_dirty_log_ioctl(&region->log, cmd, (void __user *)arg,
				      false);
}

static long kvmmig_region_clone_ioctl(struct file *file, unsigned int cmd,
				      unsigned long arg)
{
	struct kvmmig_region *region = file->private_data;

	return kvmmig_dirty_log_ioctl(&region->log, cmd, (void __user *)arg,
				      true);
}

/* A file in a kvmmig mount: its inode already holds the region. */
static int kvmmig_region_open(struct inode *inode, struct file *file)
{
	file->private_data = inode->i_private;
	return 0;
}

const struct file_operations kvmmig_region_fops = {
	.owner		= THIS_MODULE,
	.open		= kvmmig_region_open,
	.mmap		= kvmmig_region_mmap,
	.read_iter	= kvmmig_region_read_iter,
	.write_iter	= kvmmig_region_write_iter,
	.splice_read	= kvmmig_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= generic_file_llseek,
	.fallocate	= kvmmig_region_fallocate,
	.unlocked_ioctl	= kvmmig_region_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/*
 * The fds migd gets from KVMMIG_OPEN_SESSION_REGION.  No .mmap (mmap fails
 * with ENODEV): migd moves pages with pread/pwrite, and a mapping of its
 * own would let writes reach guest RAM outside the VMM's mappings, so the
 * region's owner would not be the only one that can map it.
 */
static const struct file_operations kvmmig_region_clone_fops = {
	.owner		= THIS_MODULE,
	.read_iter	= kvmmig_region_read_iter,
	.write_iter	= kvmmig_region_write_iter,
	.splice_read	= kvmmig_splice_read,
	.splice_write	= iter_file_splice_write,
	.llseek		= generic_file_llseek,
	.unlocked_ioctl	= kvmmig_region_clone_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

struct kvmmig_region *kvmmig_region_from_file(struct file *file)
{
	return file->f_op == &kvmmig_region_fops ? file->private_data : NULL;
}

int kvmmig_region_open_clone(struct file *region_file, bool rdonly)
{
	struct kvmmig_region *region = kvmmig_region_from_file(region_file);
	struct file *file;
	int fd;

	if (!region)
		return -EINVAL;
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		return fd;

	file = kvmmig_region_fs_clone(region_file, "[kvmmig-session-region]",
				      rdonly ? O_RDONLY : O_RDWR,
				      &kvmmig_region_clone_fops, region);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

static int kvmmig_region_check(const struct kvmmig_create_region *args)
{
	size_t len;
	int i;

	if (args->flags & ~KVMMIG_REGION_FLAGS_ALL)
		return -EOPNOTSUPP;
	if (memchr_inv(args->reserved, 0, sizeof(args->reserved)))
		return -EINVAL;
	if (!args->size || !PAGE_ALIGNED(args->size))
		return -EINVAL;

	len = strnlen(args->name, sizeof(args->name));
	if (len == sizeof(args->name))
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!isprint(args->name[i]))
			return -EINVAL;
	for (i = len; i < sizeof(args->name); i++)
		if (args->name[i])
			return -EINVAL;

	if (args->flags & KVMMIG_REGION_F_NODE) {
		if (args->node < 0 || args->node >= nr_node_ids)
			return -EINVAL;
		if (!node_online(args->node))
			return -ENODEV;
	} else if (args->node) {
		return -EINVAL;
	}

	if (args->size > ((u64)max_region_mb << 20))
		return -EFBIG;
	return 0;
}

/* Add @region to the list unless its owner already has too many. */
static int kvmmig_region_register(struct kvmmig_region *region)
{
	struct kvmmig_region *r;
	unsigned int owned = 0;
	int ret = 0;

	mutex_lock(&kvmmig_regions_lock);
	list_for_each_entry(r, &kvmmig_regions, list)
		if (r->counted && r->owner == region->owner)
			owned++;
	if (region->counted && owned >= max_regions_per_process) {
		ret = -EMFILE;
	} else {
		region->id = kvmmig_next_region_id++;
		list_add_tail(&region->list, &kvmmig_regions);
	}
	mutex_unlock(&kvmmig_regions_lock);
	return ret;
}

static int kvmmig_region_size_ok(loff_t size)
{
	if (size < 0 || !PAGE_ALIGNED(size))
		return -EINVAL;
	if (size > ((loff_t)max_region_mb << 20))
		return -EFBIG;
	return 0;
}

static void kvmmig_region_destroy(struct kvmmig_region *region)
{
	kvmmig_dirty_log_destroy(&region->log);
	put_pid(region->owner);
	kfree(region);
	atomic_long_dec(&kvmmig_nr_regions);
}

struct kvmmig_region *kvmmig_region_new(const char *name, loff_t size,
					int nid, bool counted)
{
	struct kvmmig_region *region;
	int ret;

	ret = kvmmig_region_size_ok(size);
	if (ret)
		return ERR_PTR(ret);
	region = kzalloc(sizeof(*region), GFP_KERNEL_ACCOUNT);
	if (!region)
		return ERR_PTR(-ENOMEM);
	atomic_long_inc(&kvmmig_nr_regions);
	strscpy(region->name, name, sizeof(region->name));
	region->nr_pages = size >> PAGE_SHIFT;
	region->nid = nid;
	kvmmig_numa_policy_init(&region->policy);
	region->owner = get_pid(task_tgid(current));
	region->counted = counted;
	ret = kvmmig_dirty_log_init(&region->log, region->nr_pages);
	if (ret)
		goto err_destroy;
	ret = kvmmig_region_register(region);
	if (ret)
		goto err_destroy;
	return region;

err_destroy:
	kvmmig_region_destroy(region);
	return ERR_PTR(ret);
}

void kvmmig_region_free(struct kvmmig_region *region)
{
	mutex_lock(&kvmmig_regions_lock);
	list_del(&region->list);
	mutex_unlock(&kvmmig_regions_lock);
	kvmmig_region_destroy(region);
}

void kvmmig_region_attach(struct kvmmig_region *region, struct inode *inode)
{
	struct address_space *mapping = inode->i_mapping;

	region->mapping = mapping;
	kvmmig_dirty_log_attach(&region->log, mapping);
	inode->i_private = region;
	mapping->a_ops = &kvmmig_region_aops;
	mapping_set_gfp_mask(mapping, GFP_HIGHUSER_MOVABLE);
	mapping_set_unevictable(mapping);
	i_size_write(inode, (loff_t)region->nr_pages << PAGE_SHIFT);
}

/*
 * The last fd, mapping and name are gone.  The superblock holds the
 * module (region_fs.c), so its a_ops are still there while the folios
 * leave the page cache through kvmmig_region_free_folio().  KVM may still
 * hold page references for a moment; the pages are freed when it drops
 * them.
 */
void kvmmig_region_evict(struct inode *inode)
{
	struct kvmmig_region *region = inode->i_private;

	truncate_inode_pages_final(&inode->i_data);
	inode->i_private = NULL;
	kvmmig_region_free(region);
}

int kvmmig_region_set_size(struct kvmmig_region *region, loff_t size)
{
	struct inode *inode = region->mapping->host;
	int ret;

	if (size == i_size_read(inode))
		return 0;
	if (region->nr_pages)
		return -EBUSY;
	ret = kvmmig_region_size_ok(size);
	if (ret)
		return ret;
	ret = kvmmig_dirty_log_size(&region->log, size >> PAGE_SHIFT);
	if (ret)
		return ret;
	/* The log has its pages before a fault or pwrite can see them. */
	smp_store_release(&region->nr_pages, size >> PAGE_SHIFT);
	i_size_write(inode, size);
	return 0;
}

int kvmmig_region_create(const void __user *argp)
{
	struct kvmmig_create_region args;
	struct kvmmig_region *region;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	ret = kvmmig_region_check(&args);
	if (ret)
		return ret;

	region = kvmmig_region_new(args.name, args.size,
				   (args.flags & KVMMIG_REGION_F_NODE) ?
				   args.node : NUMA_NO_NODE, true);
	if (IS_ERR(region))
		return PTR_ERR(region);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		kvmmig_region_free(region);
		return fd;
	}
	/* From here on the inode owns the region, even on failure. */
	file = kvmmig_region_fs_file("[kvmmig-region]", region);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		return PTR_ERR(file);
	}
	fd_install(fd, file);
	return fd;
}

int kvmmig_region_for_each(u64 *cursor,
			   int (*fn)(struct kvmmig_region *region, void *arg),
			   void *arg)
{
	struct kvmmig_region *r;
	int ret = 0;

	mutex_lock(&kvmmig_regions_lock);
	/* The list is in id order: regions are only ever added at its tail. */
	list_for_each_entry(r, &kvmmig_regions, list) {
		if (r->id < *cursor)
			continue;
		ret = fn(r, arg);
		if (ret)
			break;
		*cursor = r->id + 1;
	}
	mutex_unlock(&kvmmig_regions_lock);
	return ret;
}

void kvmmig_regions_show(struct seq_file *m)
{
	struct kvmmig_region *r;

	seq_puts(m, "id\tname\tpages\tallocated\tnode\towner\tlog\n");
	mutex_lock(&kvmmig_regions_lock);
	list_for_each_entry(r, &kvmmig_regions, list)
		seq_printf(m, "%llu\t%s\t%lu\t%ld\t%d\t%d\t%s\n", r->id,
			   r->name[0] ? r->name : "-", kvmmig_region_nr_pages(r),
			   atomic_long_read(&r->nr_allocated), r->nid,
			   pid_nr(r->owner),
			   READ_ONCE(r->log.enabled) ?
			   (r->log.mode == KVMMIG_DIRTY_MODE_AD ? "ad" : "wrprot") :
			   "off");
	mutex_unlock(&kvmmig_regions_lock);
}

long kvmmig_region_pages(void)
{
	return atomic_long_read(&kvmmig_pages);
}

long kvmmig_region_objects(void)
{
	return atomic_long_read(&kvmmig_nr_regions);
}

int kvmmig_region_init(void)
{
	return kvmmig_region_fs_init();
}

void kvmmig_region_exit(void)
{
	long leaked;

	kvmmig_region_fs_exit();
	leaked = atomic_long_read(&kvmmig_pages);
	if (leaked)
		pr_err("leaked %ld pages\n", leaked);
	leaked = atomic_long_read(&kvmmig_nr_regions);
	if (leaked)
		pr_err("leaked %ld regions\n", leaked);
}
