// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kvmmig: the misc device VMMs open to create regions and sessions,
 * migd opens to reach a session's regions, and both ask what the running
 * module implements.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/kvmmig.h>

#include "device.h"
#include "region.h"
#include "session.h"

static long kvmmig_get_api(void __user *argp)
{
	struct kvmmig_api api;

	if (copy_from_user(&api, argp, sizeof(api)))
		return -EFAULT;
	if (api.flags || memchr_inv(api.reserved, 0, sizeof(api.reserved)))
		return -EINVAL;

	api.api_version = KVMMIG_API_VERSION;
	api.features = KVMMIG_FEATURES_ALL;

	if (copy_to_user(argp, &api, sizeof(api)))
		return -EFAULT;
	return 0;
}

static long kvmmig_dev_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case KVMMIG_GET_API:
		return kvmmig_get_api(argp);
	case KVMMIG_CREATE_REGION:
		return kvmmig_region_create(argp);
	case KVMMIG_CREATE_SESSION:
		return kvmmig_session_create(argp);
	case KVMMIG_OPEN_SESSION_REGION:
		return kvmmig_session_open_region(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations kvmmig_dev_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= kvmmig_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice kvmmig_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KVMMIG_DEVICE_NAME,
	.fops	= &kvmmig_dev_fops,
	.mode	= 0600,
};

int kvmmig_device_init(void)
{
	return misc_register(&kvmmig_miscdev);
}

void kvmmig_device_exit(void)
{
	misc_deregister(&kvmmig_miscdev);
}
