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
#define KVMMIG_FEATURES_ALL	0ULL

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

#endif /* _UAPI_LINUX_KVMMIG_H */
