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
#define KVMMIG_FEATURE_SESSION		(1ULL << 2)	/* sessions, netlink */
#define KVMMIG_FEATURE_DIRTY_LOG_AD	(1ULL << 3)	/* A/D-bit dirty log */
#define KVMMIG_FEATURES_ALL		(KVMMIG_FEATURE_REGION | \
					 KVMMIG_FEATURE_DIRTY_LOG | \
					 KVMMIG_FEATURE_SESSION | \
					 KVMMIG_FEATURE_DIRTY_LOG_AD)

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
 * pread/pwrite; pages are allocated zeroed on first touch.  A regular file
 * in a mounted kvmmig filesystem ("mount -t kvmmig none DIR") is a region
 * too, sized by its first ftruncate() (Documentation/dirty-logging.rst,
 * "Region files"); everything below works on its fds.  Errors: EFAULT,
 * EINVAL (size, name, node without the flag, reserved), EOPNOTSUPP (unknown
 * flags), ENODEV (node offline), EFBIG (size above the module's
 * max_region_mb), EMFILE (max_regions_per_process reached), ENOMEM.
 */
#define KVMMIG_CREATE_REGION	_IOW(KVMMIG_IOCTL_TYPE, 0x01, struct kvmmig_create_region)

/* struct kvmmig_dirty_log_enable.mode */
#define KVMMIG_DIRTY_MODE_WRPROT	0	/* write faults, rmap re-arm */
#define KVMMIG_DIRTY_MODE_AD		1	/* PTE dirty bits, host writers */

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
 * Issued on a region fd.  A/D mode is for regions only host processes
 * write: where a secondary MMU (KVM) may map the region it is refused with
 * EXDEV, and if one appears later the next harvest reports every page and
 * the log falls back to write-protect mode for good (stats: mode,
 * ad_fallbacks).  Errors: EFAULT, EINVAL (pad, reserved, unknown mode,
 * batch_pages too big), EOPNOTSUPP (unknown flags), EXDEV (A/D mode with a
 * secondary MMU), EBUSY (already enabled, or the region's own fd while a
 * session holds the region).
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
 * KVMMIG_DIRTY_LOG_DISABLE - stop logging; pages stay write-protected
 * until written, whatever the mode was, and the statistics are kept.
 * Errors: EFAULT, EINVAL (pad, reserved), EOPNOTSUPP (flags), ENOENT (not
 * enabled), EBUSY (the region's own fd while a session holds it), ENOMEM.
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
 * and re-arm tracking for exactly those pages before returning.  A write
 * is reported by a harvest that returns after the write landed, at the
 * latest by the first harvest that starts after it landed, whatever wrote
 * it (a mapping, pwrite, get_user_pages(), a DMA pin, KVM): so pages read
 * after each harvest that reports them end up as written.  A page may be
 * reported without a write (a reference passing through it); never the
 * other way round.  On EFAULT nothing is lost: the bits are kept for the
 * next harvest.  While a session holds the region only its session region
 * fds may enable, disable or harvest the log.  Errors: EFAULT, EINVAL (pad,
 * reserved, range, alignment), EOPNOTSUPP (flags), ENOENT (logging not
 * enabled), EBUSY (the region's own fd while a session holds it).
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
 * @pinned_reported: out, reports of pages kept dirty because something
 *	held a reference beyond their mappings (a DMA pin, get_user_pages())
 * @batches: out, re-arm batches run
 * @batch_ns_total: out, time spent in re-arm batches
 * @batch_ns_max: out, longest single batch
 * @harvest_ns_total: out, time spent in harvests
 * @harvest_ns_max: out, longest harvest
 * @rearm_ns_max: out, longest single re-arm step (the write-protection
 *	of one run of pages with its MMU-notifier call): the longest a
 *	fault on the region can wait for a harvest
 * @ad_fallbacks: out, times A/D mode fell back to write-protect mode
 *	because a secondary MMU appeared
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
	__u64 ad_fallbacks;
	__u64 reserved[2];
};

/*
 * KVMMIG_DIRTY_LOG_STATS - counters of the region's dirty log since the
 * region was created (the _max fields since the last RESET_MAX).
 * Errors: EFAULT, EOPNOTSUPP (unknown flags).
 */
#define KVMMIG_DIRTY_LOG_STATS	_IOWR(KVMMIG_IOCTL_TYPE, 0x13, struct kvmmig_dirty_log_stats)

/*
 * Migration sessions (Documentation/sessions.rst).
 *
 * A VMM ties its regions together in a session and gets a session fd.  The
 * fd is poll()able: POLLIN means the state changed since the VMM last read
 * it with KVMMIG_SESSION_GET_INFO.  migd drives the session through the
 * generic netlink family below; the module relays between the two.
 *
 * States and who moves them (VMM: an ioctl on the session fd; migd: a
 * netlink command, which needs CAP_NET_ADMIN):
 *
 *   RUNNING   --migd PAUSE-->      PAUSING    the VMM must stop its vCPUs,
 *                                             PUT_BLOB its state, then ACK
 *   PAUSING   --VMM ACK-->         PAUSED
 *   PAUSING,PAUSED --migd RESUME--> RUNNING   migration failed: run on
 *   PAUSED    --migd HANDOVER-->   DONE       the destination has the VM
 *   WAITING   --migd RECEIVE-->    RECEIVING  migd fills the regions and
 *                                             adds the blobs
 *   RECEIVING --migd ARRIVE-->     ARRIVED    the VMM GET_BLOBs, then ACKs
 *   ARRIVED   --VMM ACK-->         RUNNING    the VM runs here now
 *   WAITING,RECEIVING,ARRIVED --migd ABORT--> ABORTED
 *
 * DONE and ABORTED are final: the VMM should close the fd and exit.  A
 * session created with KVMMIG_SESSION_F_INCOMING starts in WAITING, any
 * other in RUNNING.  When the VMM closes its session fd (or dies) the
 * session ends and an event says so; when the netlink socket of the migd
 * that paused or received a session is closed, the module resumes a paused
 * source (RUNNING) and aborts a receiving destination (ABORTED), so a dead
 * daemon never leaves a VM stopped or half filled.
 */
#define KVMMIG_SESSION_RUNNING		1
#define KVMMIG_SESSION_PAUSING		2
#define KVMMIG_SESSION_PAUSED		3
#define KVMMIG_SESSION_DONE		4
#define KVMMIG_SESSION_WAITING		5
#define KVMMIG_SESSION_RECEIVING	6
#define KVMMIG_SESSION_ARRIVED		7
#define KVMMIG_SESSION_ABORTED		8

#define KVMMIG_SESSION_NAME_LEN		32
#define KVMMIG_SESSION_MAX_REGIONS	16
#define KVMMIG_SESSION_MAX_BLOBS	256
#define KVMMIG_BLOB_MAX_SIZE		32768	/* fits one netlink attribute */
#define KVMMIG_BLOB_NAME_LEN		32

/* Blob kinds; the same numbers as the stream format's STATE kinds. */
#define KVMMIG_BLOB_VCPU		1
#define KVMMIG_BLOB_DEVICE		2
#define KVMMIG_BLOB_NESTED		3

/* struct kvmmig_create_session.flags */
#define KVMMIG_SESSION_F_INCOMING	(1U << 0)	/* a destination: WAITING */
#define KVMMIG_SESSION_FLAGS_ALL	KVMMIG_SESSION_F_INCOMING

/**
 * struct kvmmig_create_session - argument of KVMMIG_CREATE_SESSION
 * @flags: in, KVMMIG_SESSION_F_*
 * @nr_regions: in, 1 to KVMMIG_SESSION_MAX_REGIONS
 * @region_fds: in, user address of @nr_regions __s32 fds, each a region's
 *	own fd (from KVMMIG_CREATE_REGION, a dup of one, or an open region
 *	file that has its size; not an fd from KVMMIG_OPEN_SESSION_REGION),
 *	each region at most once and in no other live session.  Who created a region and its name are not
 *	checked: any process may put any region fd it holds into a session.
 * @name: in, 1 to 31 ASCII letters, digits and '_', and '-' and '.' except
 *	as the first byte; NUL-terminated, zero after the NUL; no other live
 *	session may have it
 * @id: out, the session's id in netlink messages
 * @pad: in, must be zero
 * @reserved: in, must be zero
 */
struct kvmmig_create_session {
	__u32 flags;
	__u32 nr_regions;
	__u64 region_fds;
	char name[KVMMIG_SESSION_NAME_LEN];
	__u32 id;
	__u32 pad;
	__u64 reserved[4];
};

/*
 * KVMMIG_CREATE_SESSION - create a migration session over regions.
 * Issued on /dev/kvmmig (whoever may open it; no capability is checked);
 * returns a new session fd (close-on-exec) and the creating thread group
 * becomes the session's owner.  Checked in this order: EFAULT (the
 * argument), EOPNOTSUPP (unknown flags), EINVAL (pad, reserved,
 * nr_regions, name), EFAULT (the fd array), then fd by fd EBADF (not
 * open), EINVAL (not a region's own fd, a region file without a size, or
 * a region already given), EBUSY (the region is in another live
 * session); then EEXIST (a live session
 * has the name), EFAULT (@id cannot be written back), EMFILE.  ENOMEM may
 * come at any step after the first.
 */
#define KVMMIG_CREATE_SESSION	_IOWR(KVMMIG_IOCTL_TYPE, 0x02, struct kvmmig_create_session)

/* struct kvmmig_open_session_region.flags */
#define KVMMIG_OPEN_REGION_F_RDONLY	(1U << 0)	/* a source: read only */
#define KVMMIG_OPEN_REGION_FLAGS_ALL	KVMMIG_OPEN_REGION_F_RDONLY

/**
 * struct kvmmig_open_session_region - argument of KVMMIG_OPEN_SESSION_REGION
 * @flags: in, KVMMIG_OPEN_REGION_F_*
 * @session_id: in, a live session's id
 * @index: in, which region of the session, below its nr_regions
 * @pad: in, must be zero
 * @size: out, the region's size in bytes
 * @name: out, the region's name
 * @reserved: in, must be zero
 */
struct kvmmig_open_session_region {
	__u32 flags;
	__u32 session_id;
	__u32 index;
	__u32 pad;
	__u64 size;
	char name[KVMMIG_REGION_NAME_LEN];
	__u64 reserved[4];
};

/*
 * KVMMIG_OPEN_SESSION_REGION - how migd reaches a session's pages.
 * Issued on /dev/kvmmig by a process with CAP_NET_ADMIN; returns a new fd
 * (close-on-exec) on the region: pread/pwrite and the dirty log ioctls work
 * on it, mmap does not.  Bulk page data never goes through netlink.
 * Errors: EPERM, EFAULT, EINVAL (pad, reserved), EOPNOTSUPP (unknown
 * flags), ENOENT (no such session), ERANGE (index).
 */
#define KVMMIG_OPEN_SESSION_REGION _IOWR(KVMMIG_IOCTL_TYPE, 0x03, struct kvmmig_open_session_region)

/**
 * struct kvmmig_session_info - argument of KVMMIG_SESSION_GET_INFO
 * @flags: in, must be zero
 * @state: out, KVMMIG_SESSION_*
 * @id: out, the session's id
 * @nr_blobs: out, state blobs held
 * @seq: out, bumped on every state change; poll() reports POLLIN while
 *	it differs from the value the last GET_INFO returned
 * @blob_bytes: out, total size of the blobs held
 * @reserved: out, zero
 */
struct kvmmig_session_info {
	__u32 flags;
	__u32 state;
	__u32 id;
	__u32 nr_blobs;
	__u64 seq;
	__u64 blob_bytes;
	__u64 reserved[4];
};

/*
 * KVMMIG_SESSION_GET_INFO - read the session's state; clears POLLIN.
 * Issued on a session fd.  Errors: EFAULT, EOPNOTSUPP (flags).
 */
#define KVMMIG_SESSION_GET_INFO	_IOWR(KVMMIG_IOCTL_TYPE, 0x20, struct kvmmig_session_info)

/**
 * struct kvmmig_session_ack - argument of KVMMIG_SESSION_ACK
 * @flags: in, must be zero
 * @state: in, the state being acknowledged: PAUSING (the vCPUs are stopped
 *	and the state blobs put) or ARRIVED (the blobs are collected)
 * @reserved: in, must be zero
 */
struct kvmmig_session_ack {
	__u32 flags;
	__u32 state;
	__u64 reserved[2];
};

/*
 * KVMMIG_SESSION_ACK - tell migd the VMM did what the state asked.
 * Errors: EFAULT, EINVAL (state not PAUSING or ARRIVED, reserved),
 * EOPNOTSUPP (flags), ESTALE (the session is no longer in @state: migd
 * moved it on, for example resumed it after a failure).
 */
#define KVMMIG_SESSION_ACK	_IOW(KVMMIG_IOCTL_TYPE, 0x21, struct kvmmig_session_ack)

/**
 * struct kvmmig_session_blob - argument of KVMMIG_SESSION_PUT_BLOB and
 *	KVMMIG_SESSION_GET_BLOB
 * @flags: in, must be zero
 * @kind: PUT in, GET out: KVMMIG_BLOB_*
 * @instance: PUT in, GET out: vCPU index or device instance
 * @index: GET in: which blob, in the order they were put; PUT: must be 0
 * @size: PUT in: bytes at @data, 1 to KVMMIG_BLOB_MAX_SIZE; GET in: room
 *	at @data, out: the blob's size
 * @data: in, user address
 * @name: PUT in, GET out: NUL-terminated, may be empty; bytes after the
 *	NUL must be zero
 * @pad: in, must be zero
 * @reserved: in, must be zero
 */
struct kvmmig_session_blob {
	__u32 flags;
	__u32 kind;
	__u32 instance;
	__u32 index;
	__u32 size;
	__u32 pad;
	__u64 data;
	char name[KVMMIG_BLOB_NAME_LEN];
	__u64 reserved[2];
};

/*
 * KVMMIG_SESSION_PUT_BLOB - deposit one state blob while PAUSING.
 * Errors: EFAULT, EINVAL (kind, size, name, index, pad, reserved),
 * EOPNOTSUPP (flags), EBUSY (not PAUSING), ENOSPC (KVMMIG_SESSION_MAX_BLOBS
 * reached), ENOMEM.
 */
#define KVMMIG_SESSION_PUT_BLOB	_IOW(KVMMIG_IOCTL_TYPE, 0x22, struct kvmmig_session_blob)

/*
 * KVMMIG_SESSION_GET_BLOB - collect one state blob while ARRIVED.
 * Errors: EFAULT, EINVAL (pad, reserved), EOPNOTSUPP (flags), EBUSY (not
 * ARRIVED), ENOENT (index past the last blob), ENOSPC (size too small: the
 * needed size is written back to @size).
 */
#define KVMMIG_SESSION_GET_BLOB	_IOWR(KVMMIG_IOCTL_TYPE, 0x23, struct kvmmig_session_blob)

/*
 * Generic netlink family "kvmmig" (Documentation/netlink/specs/kvmmig.yaml
 * is its specification; this header must agree with it).  Every command
 * (GENL_ADMIN_PERM) and joining the "events" group need CAP_NET_ADMIN,
 * EPERM without: dumps and events describe every VM on the host.
 * Attributes are validated strictly, unknown ones rejected.
 */
#define KVMMIG_GENL_NAME		"kvmmig"
#define KVMMIG_GENL_VERSION		1
#define KVMMIG_GENL_MCGRP_EVENTS	"events"

enum kvmmig_cmd {
	KVMMIG_CMD_UNSPEC,
	KVMMIG_CMD_REGION_GET,		/* admin dump: every region */
	KVMMIG_CMD_SESSION_GET,		/* admin: do (SESSION_ID or NAME), dump */
	KVMMIG_CMD_SESSION_PAUSE,	/* admin: RUNNING -> PAUSING */
	KVMMIG_CMD_SESSION_RESUME,	/* admin: PAUSING/PAUSED -> RUNNING */
	KVMMIG_CMD_SESSION_HANDOVER,	/* admin: PAUSED -> DONE */
	KVMMIG_CMD_SESSION_RECEIVE,	/* admin: WAITING -> RECEIVING */
	KVMMIG_CMD_SESSION_ARRIVE,	/* admin: RECEIVING -> ARRIVED */
	KVMMIG_CMD_SESSION_ABORT,	/* admin: -> ABORTED (destination) */
	KVMMIG_CMD_BLOB_GET,		/* admin dump: blobs of a PAUSED session */
	KVMMIG_CMD_BLOB_ADD,		/* admin: one blob into a RECEIVING one */
	KVMMIG_CMD_SESSION_EVENT,	/* multicast: a session changed state */

	__KVMMIG_CMD_MAX,
	KVMMIG_CMD_MAX = __KVMMIG_CMD_MAX - 1
};

enum kvmmig_attr {
	KVMMIG_A_UNSPEC,
	KVMMIG_A_PAD,
	KVMMIG_A_REGION_ID,		/* u64 */
	KVMMIG_A_REGION_NAME,		/* string */
	KVMMIG_A_REGION_SIZE,		/* u64, bytes */
	KVMMIG_A_REGION_NODE,		/* s32, -1: any */
	KVMMIG_A_REGION_PAGES,		/* u64, pages allocated */
	KVMMIG_A_OWNER_PID,		/* u32, creator's tgid */
	KVMMIG_A_DIRTY_LOG,		/* nest, KVMMIG_A_DIRTY_* */
	KVMMIG_A_SESSION_ID,		/* u32 */
	KVMMIG_A_SESSION_NAME,		/* string */
	KVMMIG_A_SESSION_STATE,		/* u32, KVMMIG_SESSION_* */
	KVMMIG_A_SESSION_OLD_STATE,	/* u32, in events */
	KVMMIG_A_SESSION_REGIONS,	/* nest of KVMMIG_A_REGION_ID */
	KVMMIG_A_SESSION_NR_BLOBS,	/* u32 */
	KVMMIG_A_SESSION_BLOB_BYTES,	/* u64 */
	KVMMIG_A_SESSION_REASON,	/* u32, KVMMIG_REASON_*, in events */
	KVMMIG_A_BLOB_KIND,		/* u32, KVMMIG_BLOB_* */
	KVMMIG_A_BLOB_INSTANCE,		/* u32 */
	KVMMIG_A_BLOB_NAME,		/* string */
	KVMMIG_A_BLOB_DATA,		/* binary, 1..KVMMIG_BLOB_MAX_SIZE */
	KVMMIG_A_BLOB_INDEX,		/* u32, in BLOB_GET dumps */

	__KVMMIG_A_MAX,
	KVMMIG_A_MAX = __KVMMIG_A_MAX - 1
};

enum kvmmig_dirty_attr {
	KVMMIG_A_DIRTY_UNSPEC,
	KVMMIG_A_DIRTY_PAD,
	KVMMIG_A_DIRTY_ENABLED,		/* u8 */
	KVMMIG_A_DIRTY_MODE,		/* u32 */
	KVMMIG_A_DIRTY_HARVESTS,	/* u64 */
	KVMMIG_A_DIRTY_PAGES_REPORTED,	/* u64 */
	KVMMIG_A_DIRTY_WRITE_FAULTS,	/* u64 */
	KVMMIG_A_DIRTY_BATCH_NS_MAX,	/* u64 */
	KVMMIG_A_DIRTY_HARVEST_NS_MAX,	/* u64 */

	__KVMMIG_A_DIRTY_MAX,
	KVMMIG_A_DIRTY_MAX = __KVMMIG_A_DIRTY_MAX - 1
};

/* KVMMIG_A_SESSION_REASON: why a session changed state. */
#define KVMMIG_REASON_REQUEST		1	/* a netlink command or an ack */
#define KVMMIG_REASON_VMM_GONE		2	/* the session fd was closed */
#define KVMMIG_REASON_DAEMON_GONE	3	/* migd's netlink socket closed */
#define KVMMIG_REASON_CREATED		4	/* the session was created */

#endif /* _UAPI_LINUX_KVMMIG_H */
