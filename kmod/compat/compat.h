/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences, turned into feature macros.  This is the only
 * file that may test LINUX_VERSION_CODE; core files test the macros.
 */
#ifndef _KVMMIG_COMPAT_H
#define _KVMMIG_COMPAT_H

#include <linux/version.h>

#endif /* _KVMMIG_COMPAT_H */
