/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvmmig: live migration support for KVM guests.
 *
 * This header is the whole ABI between kvmmig.ko and user space (VMMs, migd,
 * selftests).  Rules, after Documentation/process/botching-up-ioctls.rst:
 * fixed-width fields, explicit padding, pointers carried as __u64, a flags
 * word first, reserved fields and unknown flags rejected with -EINVAL or
 * -EOPNOTSUPP, unknown commands rejected with -ENOTTY.
 */
#ifndef _UAPI_LINUX_KVMMIG_H
#define _UAPI_LINUX_KVMMIG_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KVMMIG_DEVICE_NAME	"kvmmig"

/* Bumped on any incompatible ABI change; additions are found by features. */
#define KVMMIG_API_VERSION	1

/*
 * Feature bits reported by KVMMIG_GET_API.  A bit is only defined here once
 * the feature it names is implemented; user space must treat clear bits as
 * "not available" and may not assume anything about undefined bits.
 */
#define KVMMIG_FEATURE_REGION		(1ULL << 0)	/* KVMMIG_CREATE_REGION */
#define KVMMIG_FEATURE_DIRTY_LOG	(1ULL << 1)	/* write-protect dirty log */
#define KVMMIG_FEATURES_ALL		(KVMMIG_FEATURE_REGION | \
					 KVMMIG_FEATURE_DIRTY_LOG)

#define KVMMIG_IOCTL_TYPE	0xB9

/**
 * struct kvmmig_api - answer of KVMMIG_GET_API
 * @flags: in, must be zero
 * @api_version: out, KVMMIG_API_VERSION of the running module
 * @features: out, KVMMIG_FEATURE_* bits the running module implements
 * @reserved: in, must be zero; out, zero
 */
struct kvmmig_api {
	__u32 flags;
	__u32 api_version;
	__u64 features;
	__u64 reserved[6];
};

/*
 * KVMMIG_GET_API - query the ABI version and the implemented features.
 * Issued on /dev/kvmmig.  Errors: EFAULT (bad pointer), EINVAL (flags or
 * reserved not zero).
 */
#define KVMMIG_GET_API		_IOWR(KVMMIG_IOCTL_TYPE, 0x00, struct kvmmig_api)

/* Region sizes, offsets and dirty bitmaps count pages of this size. */
#define KVMMIG_PAGE_SHIFT	12
#define KVMMIG_PAGE_SIZE	(1ULL << KVMMIG_PAGE_SHIFT)

#define KVMMIG_REGION_NAME_LEN	32

/* struct kvmmig_create_region.flags */
#define KVMMIG_REGION_F_NODE	(1U << 0)	/* allocate on @node only */
#define KVMMIG_REGION_FLAGS_ALL	KVMMIG_REGION_F_NODE

/**
 * struct kvmmig_create_region - argument of KVMMIG_CREATE_REGION
 * @flags: in, KVMMIG_REGION_F_*
 * @node: in, NUMA node of every page when KVMMIG_REGION_F_NODE is set,
 *	otherwise must be zero
 * @size: in, bytes, a non-zero multiple of KVMMIG_PAGE_SIZE
 * @name: in, NUL-terminated label shown in debugfs; bytes after the NUL
 *	must be zero
 * @reserved: in, must be zero
 */
struct kvmmig_create_region {
	__u32 flags;
	__s32 node;
	__u64 size;
	char name[KVMMIG_REGION_NAME_LEN];
	__u64 reserved[4];
};

/*
 * KVMMIG_CREATE_REGION - create guest RAM owned by kvmmig.
 * Issued on /dev/kvmmig; returns a new region fd (close-on-exec).  The fd
 * is mmap()ed MAP_SHARED (MAP_PRIVATE is EINVAL) and read and written with
 * pread/pwrite; pages are allocated zeroed on first touch.  Errors: EFAULT,
 * EINVAL (size, name, node without the flag, reserved), EOPNOTSUPP (unknown
 * flags), ENODEV (node offline), EFBIG (size above the module's
 * max_region_mb), EMFILE (max_regions_per_process reached), ENOMEM.
 */
#define KVMMIG_CREATE_REGION	_IOW(KVMMIG_IOCTL_TYPE, 0x01, struct kvmmig_create_region)

/* struct kvmmig_dirty_log_enable.mode */
#define KVMMIG_DIRTY_MODE_WRPROT	0	/* write faults, rmap re-arm */
#define KVMMIG_DIRTY_MODE_AD		1	/* hardware dirty bits */

/* struct kvmmig_dirty_log_enable.flags */
#define KVMMIG_DIRTY_LOG_F_INITIALLY_SET	(1U << 0)
#define KVMMIG_DIRTY_LOG_FLAGS_ALL		KVMMIG_DIRTY_LOG_F_INITIALLY_SET

#define KVMMIG_DIRTY_LOG_MAX_BATCH	65536

/**
 * struct kvmmig_dirty_log_enable - argument of KVMMIG_DIRTY_LOG_ENABLE
 * @flags: in, KVMMIG_DIRTY_LOG_F_*; INITIALLY_SET reports every page on
 *	the first harvest instead of write-protecting the region now
 * @mode: in, KVMMIG_DIRTY_MODE_*
 * @batch_pages: in, pages re-armed between two reschedule points;
 *	0 picks the default, at most KVMMIG_DIRTY_LOG_MAX_BATCH
 * @pad: in, must be zero
 * @reserved: in, must be zero
 */
struct kvmmig_dirty_log_enable {
	__u32 flags;
	__u32 mode;
	__u32 batch_pages;
	__u32 pad;
	__u64 reserved[4];
};

/*
 * KVMMIG_DIRTY_LOG_ENABLE - start logging writes to a region.
 * Issued on a region fd.  Errors: EFAULT, EINVAL (pad, reserved, unknown
 * mode, batch_pages too big), EOPNOTSUPP (unknown flags, or A/D mode: see
 * Documentation/dirty-logging.rst), EBUSY (already enabled).
 */
#define KVMMIG_DIRTY_LOG_ENABLE	_IOW(KVMMIG_IOCTL_TYPE, 0x10, struct kvmmig_dirty_log_enable)

/**
 * struct kvmmig_dirty_log_disable - argument of KVMMIG_DIRTY_LOG_DISABLE
 * @flags: in, must be zero
 * @pad: in, must be zero
 * @reserved: in, must be zero
 */
struct kvmmig_dirty_log_disable {
	__u32 flags;
	__u32 pad;
	__u64 reserved[2];
};

/*
 * KVMMIG_DIRTY_LOG_DISABLE - stop logging; the statistics are kept.
 * Errors: EFAULT, EINVAL (pad, reserved), EOPNOTSUPP (flags), ENOENT (not
 * enabled).
 */
#define KVMMIG_DIRTY_LOG_DISABLE _IOW(KVMMIG_IOCTL_TYPE, 0x11, struct kvmmig_dirty_log_disable)

/**
 * struct kvmmig_dirty_log_harvest - argument of KVMMIG_DIRTY_LOG_HARVEST
 * @flags: in, must be zero
 * @pad: in, must be zero
 * @first_page: in, first page of the range, a multiple of 64
 * @num_pages: in, pages in the range, non-zero, a multiple of 64 unless
 *	the range ends at the end of the region
 * @bitmap: in, user address of DIV_ROUND_UP(num_pages, 64) __u64 words;
 *	bit i of word w (LSB first) stands for page first_page + 64 * w + i
 * @nr_dirty: out, number of bits set in @bitmap
 * @reserved: in, must be zero
 */
struct kvmmig_dirty_log_harvest {
	__u32 flags;
	__u32 pad;
	__u64 first_page;
	__u64 num_pages;
	__u64 bitmap;
	__u64 nr_dirty;
	__u64 reserved[3];
};

/*
 * KVMMIG_DIRTY_LOG_HARVEST - report and clear the dirty pages of a range,
 * and re-arm tracking for exactly those pages before returning.  Every
 * write that completes before the call returns is reported by this call or
 * an earlier one; every write that starts after it is reported by a later
 * one.  On EFAULT nothing is lost: the bits are kept for the next harvest.
 * Errors: EFAULT, EINVAL (pad, reserved, range, alignment), EOPNOTSUPP
 * (flags), ENOENT (logging not enabled).
 */
#define KVMMIG_DIRTY_LOG_HARVEST _IOWR(KVMMIG_IOCTL_TYPE, 0x12, struct kvmmig_dirty_log_harvest)

/* struct kvmmig_dirty_log_stats.flags */
#define KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX	(1U << 0)	/* zero the _max fields after reading */
#define KVMMIG_DIRTY_LOG_STATS_FLAGS_ALL	KVMMIG_DIRTY_LOG_STATS_F_RESET_MAX

/* struct kvmmig_dirty_log_stats.state */
#define KVMMIG_DIRTY_LOG_STATE_ENABLED	(1U << 0)

/**
 * struct kvmmig_dirty_log_stats - argument of KVMMIG_DIRTY_LOG_STATS
 * @flags: in, KVMMIG_DIRTY_LOG_STATS_F_*
 * @state: out, KVMMIG_DIRTY_LOG_STATE_*
 * @mode: out, KVMMIG_DIRTY_MODE_* of the current or last log
 * @batch_pages: out, batch size in use
 * @harvests: out, harvests completed
 * @pages_reported: out, bits reported by all harvests
 * @write_faults: out, write faults taken on the region's pages
 * @pinned_reported: out, reports of pages kept dirty because DMA-pinned
 * @batches: out, re-arm batches run
 * @batch_ns_total: out, time spent in re-arm batches
 * @batch_ns_max: out, longest single batch
 * @harvest_ns_total: out, time spent in harvests
 * @harvest_ns_max: out, longest harvest
 * @rearm_ns_max: out, longest single re-arm step (one page's folio lock,
 *	or one range write-protection with its MMU-notifier call): the
 *	longest a fault on the region can wait for a harvest
 * @reserved: out, zero
 */
struct kvmmig_dirty_log_stats {
	__u32 flags;
	__u32 state;
	__u32 mode;
	__u32 batch_pages;
	__u64 harvests;
	__u64 pages_reported;
	__u64 write_faults;
	__u64 pinned_reported;
	__u64 batches;
	__u64 batch_ns_total;
	__u64 batch_ns_max;
	__u64 harvest_ns_total;
	__u64 harvest_ns_max;
	__u64 rearm_ns_max;
	__u64 reserved[3];
};

/*
 * KVMMIG_DIRTY_LOG_STATS - counters of the region's dirty log since the
 * region was created (the _max fields since the last RESET_MAX).
 * Errors: EFAULT, EOPNOTSUPP (unknown flags).
 */
#define KVMMIG_DIRTY_LOG_STATS	_IOWR(KVMMIG_IOCTL_TYPE, 0x13, struct kvmmig_dirty_log_stats)

#endif /* _UAPI_LINUX_KVMMIG_H */
