/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KVMMIG_DEVICE_H
#define _KVMMIG_DEVICE_H

int kvmmig_device_init(void);
void kvmmig_device_exit(void);

#endif /* _KVMMIG_DEVICE_H */
