// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/kvmmig: regions (one line each), pages (folios in all
 * regions) and objects (region, session and blob structures allocated),
 * for inspection and for the selftests' leak checks.
 * Debugfs failures are not fatal: the module works without it.
 */

#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "debugfs.h"
#include "region.h"
#include "session.h"

static struct dentry *kvmmig_debugfs_dir;

static int regions_show(struct seq_file *m, void *unused)
{
	kvmmig_regions_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(regions);

static int pages_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "%ld\n", kvmmig_region_pages());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pages);

static int objects_show(struct seq_file *m, void *unused)
{
	long sessions, blobs;

	kvmmig_session_objects(&sessions, &blobs);
	seq_printf(m, "regions %ld\nsessions %ld\nblobs %ld\n",
		   kvmmig_region_objects(), sessions, blobs);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(objects);

void kvmmig_debugfs_init(void)
{
	kvmmig_debugfs_dir = debugfs_create_dir("kvmmig", NULL);
	debugfs_create_file("regions", 0400, kvmmig_debugfs_dir, NULL,
			    &regions_fops);
	debugfs_create_file("pages", 0400, kvmmig_debugfs_dir, NULL,
			    &pages_fops);
	debugfs_create_file("objects", 0400, kvmmig_debugfs_dir, NULL,
			    &objects_fops);
}

void kvmmig_debugfs_exit(void)
{
	debugfs_remove_recursive(kvmmig_debugfs_dir);
}
