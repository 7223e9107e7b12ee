// SPDX-License-Identifier: GPL-2.0
/*
 * make bench keeps working: run dirty_bench on tiny regions.  Every method
 * must report exactly the pages its writer dirtied; the figures themselves
 * are not judged here (they belong to make bench).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "kvmmig_util.h"

TEST(dirty_bench_smoke_run)
{
	int status;
	pid_t pid;

	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "no /dev/kvm");
	/* The program under test: missing is a failure, not a skip. */
	ASSERT_EQ(0, access("./dirty_bench", X_OK))
		TH_LOG("dirty_bench is not next to this test: %s", strerror(errno));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execl("./dirty_bench", "dirty_bench", "--smoke", NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("dirty_bench died: status %#x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
}

KVMMIG_HARNESS_MAIN
