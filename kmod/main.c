// SPDX-License-Identifier: GPL-2.0
/*
 * kvmmig: live migration support for KVM guests.
 *
 * This file only orders initialisation and teardown of the other parts.
 */

#include <linux/build_bug.h>
#include <linux/init.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/kvmmig.h>

#include "debugfs.h"
#include "device.h"
#include "netlink.h"
#include "region.h"

static int __init kvmmig_init(void)
{
	int ret;

	/* The ABI counts pages, offsets and bitmap bits in 4 KiB units. */
	BUILD_BUG_ON(PAGE_SIZE != KVMMIG_PAGE_SIZE);

	ret = kvmmig_region_init();
	if (ret)
		return ret;
	kvmmig_debugfs_init();

	/* The family exists before anything can create a session. */
	ret = kvmmig_netlink_init();
	if (ret)
		goto err_debugfs;

	ret = kvmmig_device_init();
	if (ret)
		goto err_netlink;

	pr_info("version %s loaded\n", KVMMIG_VERSION);
	return 0;

err_netlink:
	kvmmig_netlink_exit();
err_debugfs:
	kvmmig_debugfs_exit();
	kvmmig_region_exit();
	return ret;
}

static void __exit kvmmig_exit(void)
{
	kvmmig_device_exit();
	kvmmig_netlink_exit();
	kvmmig_debugfs_exit();
	kvmmig_region_exit();
}

module_init(kvmmig_init);
module_exit(kvmmig_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Live migration support for KVM guests");
MODULE_AUTHOR("The kvmmig developers");
MODULE_VERSION(KVMMIG_VERSION);
