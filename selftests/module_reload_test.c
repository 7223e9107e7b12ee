// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading kvmmig.ko leaves no trace: the device goes away
 * with the module, and memory counters come back after 32 cycles.
 */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

#define CYCLES		32

/*
 * Slack per counter for unrelated kernel activity while the test runs
 * (seen: up to 16 kB).  A leak of one page per cycle (128 kB over the
 * cycles; the 4 kB slab grows in 32 kB slabs) must still fail.
 */
#define SLACK_KB	40
_Static_assert(SLACK_KB * 2 < CYCLES * 4, "a page per cycle would hide in the slack");

static void drop_caches(void)
{
	FILE *f = fopen("/proc/sys/vm/drop_caches", "w");

	if (f) {
		fputs("3\n", f);
		fclose(f);
	}
}

TEST(load_unload_cycles_leave_no_trace)
{
	long vmalloc0, unrecl0, percpu0;
	struct stat st;
	int i, ret;

	ASSERT_NE(NULL, getenv("KVMMIG_KO"))
		TH_LOG("KVMMIG_KO does not name the module file under test");
	/* Checked before the unload, which it could not undo. */
	ASSERT_EQ(0, access(getenv("KVMMIG_KO"), R_OK))
		TH_LOG("no module file at %s: %s", getenv("KVMMIG_KO"), strerror(errno));

	/* The bed loaded the module; start from a clean unload. */
	if (kvmmig_module_loaded())
		ASSERT_EQ(0, __kvmmig_module_unload());
	ASSERT_NE(0, stat(KVMMIG_DEV_PATH, &st));

	/* Warm up once so first-load allocations do not count as leaks. */
	ASSERT_EQ(0, __kvmmig_module_load());
	ASSERT_EQ(0, __kvmmig_module_unload());
	drop_caches();
	vmalloc0 = meminfo_kb("VmallocUsed");
	unrecl0 = meminfo_kb("SUnreclaim");
	percpu0 = meminfo_kb("Percpu");

	for (i = 0; i < CYCLES; i++) {
		ret = __kvmmig_module_load();
		ASSERT_EQ(0, ret) TH_LOG("load %d: %s", i, strerror(-ret));
		ASSERT_EQ(0, stat(KVMMIG_DEV_PATH, &st));
		ASSERT_TRUE(S_ISCHR(st.st_mode));

		ret = __kvmmig_module_unload();
		ASSERT_EQ(0, ret) TH_LOG("unload %d: %s", i, strerror(-ret));
		ASSERT_NE(0, stat(KVMMIG_DEV_PATH, &st));
		ASSERT_EQ(ENOENT, errno);
		ASSERT_FALSE(kvmmig_module_loaded());
	}

	drop_caches();
	EXPECT_GE(vmalloc0 + SLACK_KB, meminfo_kb("VmallocUsed"));
	EXPECT_GE(unrecl0 + SLACK_KB, meminfo_kb("SUnreclaim"));
	EXPECT_GE(percpu0 + SLACK_KB, meminfo_kb("Percpu"));
	TH_LOG("VmallocUsed %ld -> %ld kB, SUnreclaim %ld -> %ld kB, Percpu %ld -> %ld kB",
	       vmalloc0, meminfo_kb("VmallocUsed"),
	       unrecl0, meminfo_kb("SUnreclaim"),
	       percpu0, meminfo_kb("Percpu"));

	/* Leave the module loaded, as the bed had it. */
	ASSERT_EQ(0, __kvmmig_module_load());
}

TEST(double_load_is_eexist)
{
	ASSERT_NE(NULL, getenv("KVMMIG_KO"))
		TH_LOG("KVMMIG_KO does not name the module file under test");
	if (!kvmmig_module_loaded())
		ASSERT_EQ(0, __kvmmig_module_load());
	ASSERT_EQ(-EEXIST, __kvmmig_module_load());
}

KVMMIG_HARNESS_MAIN
