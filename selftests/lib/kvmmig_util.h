/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for talking to /dev/kvmmig and the module from the selftests.
 */
#ifndef _KVMMIG_SELFTEST_UTIL_H
#define _KVMMIG_SELFTEST_UTIL_H

#include <stdbool.h>
#include <linux/kvmmig.h>

#define KVMMIG_DEV_PATH		"/dev/" KVMMIG_DEVICE_NAME

/* Open /dev/kvmmig; -errno on failure. */
int __kvmmig_open(void);

/* KVMMIG_GET_API; -errno on failure. */
int __kvmmig_get_api(int fd, struct kvmmig_api *api);

/* Load kvmmig.ko from $KVMMIG_KO / unload it; -errno on failure. */
int __kvmmig_module_load(void);
int __kvmmig_module_unload(void);
bool kvmmig_module_loaded(void);

/* A field of /proc/meminfo in KiB, or -1. */
long meminfo_kb(const char *field);

#endif /* _KVMMIG_SELFTEST_UTIL_H */
