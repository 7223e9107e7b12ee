/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_NETLINK_H
#define _KVMMIG_NETLINK_H

#include <linux/types.h>

int kvmmig_netlink_init(void);
void kvmmig_netlink_exit(void);

/*
 * Multicast KVMMIG_CMD_SESSION_EVENT to the "events" group.  @old_state 0
 * (creation) leaves KVMMIG_A_SESSION_OLD_STATE out.  May sleep.
 */
void kvmmig_netlink_session_event(u32 id, const char *name, u32 state,
				  u32 old_state, u32 reason);

#endif /* _KVMMIG_NETLINK_H */
