/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_NETLINK_H
#define _KVMMIG_NETLINK_H

int kvmmig_netlink_init(void);
void kvmmig_netlink_exit(void);

#endif /* _KVMMIG_NETLINK_H */
