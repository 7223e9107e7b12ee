/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_DEBUGFS_H
#define _KVMMIG_DEBUGFS_H

void kvmmig_debugfs_init(void);
void kvmmig_debugfs_exit(void);

#endif /* _KVMMIG_DEBUGFS_H */
