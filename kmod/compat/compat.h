/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, turned into feature macros.  This is the only
 * file that may test LINUX_VERSION_CODE; core files test the macros.
 */
#ifndef _KVMMIG_COMPAT_H
#define _KVMMIG_COMPAT_H

#include <linux/version.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/pagemap.h>
#include <linux/pagevec.h>
#include <linux/splice.h>
#include <net/genetlink.h>

/*
 * __filemap_get_folio() returns ERR_PTR(-ENOENT) for a missing folio since
 * 6.3, NULL before.  kvmmig_lock_folio() always returns NULL for "missing".
 */
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
static inline struct folio *kvmmig_lock_folio(struct address_space *mapping,
					      pgoff_t index)
{
	struct folio *folio = __filemap_get_folio(mapping, index, FGP_LOCK, 0);

	return IS_ERR(folio) ? NULL : folio;
}
#else
static inline struct folio *kvmmig_lock_folio(struct address_space *mapping,
					      pgoff_t index)
{
	return __filemap_get_folio(mapping, index, FGP_LOCK, 0);
}
#endif

/* Splice from a ->read_iter file: copy_splice_read() since 6.5. */
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#define kvmmig_splice_read	copy_splice_read
#else
#define kvmmig_splice_read	generic_file_splice_read
#endif

/*
 * wp_shared_mapping_range() and clean_record_shared_mapping_range() write-
 * protect or clean a range of a file in every mm with one MMU-notifier call
 * and one TLB flush per mapping; built with CONFIG_MAPPING_DIRTY_HELPERS
 * (Debian's 6.1 and 6.12 have it).
 */
#if IS_ENABLED(CONFIG_MAPPING_DIRTY_HELPERS)
#define KVMMIG_HAVE_MAPPING_DIRTY_HELPERS 1
#endif

/*
 * How many PTEs map an order-0 folio: folio_mapcount() is inline on 6.12;
 * on 6.1 it is out of line and not exported, and page_mapcount() is the
 * inline one.
 */
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
#define kvmmig_folio_mapcount(folio)	folio_mapcount(folio)
#else
#define kvmmig_folio_mapcount(folio)	page_mapcount(&(folio)->page)
#endif

/*
 * Drain this CPU's LRU batches, which hold a reference on each folio in
 * them: lru_add_drain() is not exported, but releasing an empty folio
 * batch calls it first.  struct pagevec became struct folio_batch in 6.5.
 */
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
static inline void kvmmig_lru_add_drain(void)
{
	struct folio_batch fbatch;

	folio_batch_init(&fbatch);
	__folio_batch_release(&fbatch);
}
#else
static inline void kvmmig_lru_add_drain(void)
{
	struct pagevec pvec;

	pagevec_init(&pvec);
	__pagevec_release(&pvec);
}
#endif

/*
 * The attributes a genetlink dump request was parsed into: struct
 * genl_dumpit_info carries a struct genl_info since 6.2.
 */
#if KERNEL_VERSION(6, 2, 0) <= LINUX_VERSION_CODE
#define kvmmig_genl_dump_attrs(cb)	(genl_dumpit_info(cb)->info.attrs)
#else
#define kvmmig_genl_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

/*
 * Joining a genetlink multicast group can require CAP_NET_ADMIN since 6.7,
 * and the 6.1 stable series has it backported (Debian 6.1.0-57 has).  No
 * kernel we build for lacks it, and without it any user could listen to
 * the events: refuse to build rather than leak.
 */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KVMMIG_GENL_MCAST_CAP_NET_ADMIN	GENL_MCAST_CAP_NET_ADMIN
#else
#error "kvmmig needs GENL_MCAST_CAP_NET_ADMIN (Linux 6.7, or a 6.1 stable kernel that backports it)"
#endif

/*
 * Inode operations take the mount's idmap since 6.3, its user namespace
 * before: declare the argument as "struct kvmmig_idmap *" and pass it on.
 */
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
#define kvmmig_idmap		mnt_idmap
#define kvmmig_nop_idmap	(&nop_mnt_idmap)
#else
#define kvmmig_idmap		user_namespace
#define kvmmig_nop_idmap	(&init_user_ns)
#endif

/* An inode's times are set through accessors since 6.7. */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
static inline void kvmmig_inode_init_times(struct inode *inode)
{
	simple_inode_init_ts(inode);
}

static inline void kvmmig_inode_touch(struct inode *inode)
{
	inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
}
#else
static inline void kvmmig_inode_init_times(struct inode *inode)
{
	inode->i_atime = inode->i_mtime = inode_set_ctime_current(inode);
}

static inline void kvmmig_inode_touch(struct inode *inode)
{
	inode->i_mtime = inode_set_ctime_current(inode);
}
#endif

#endif /* _KVMMIG_COMPAT_H */
