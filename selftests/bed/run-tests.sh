#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests inside the test VM, each under a time limit, with TAP on
# stdout.  Markers let the host tell a test that crashed or hung from one
# that never ran.  Usage: run-tests [TEST...] (default: all).

limit=${KVMMIG_TEST_TIMEOUT:-600}
cd /kvmmig/tests || exit 1
tests=${*:-$(cat /etc/kvmmig/tests)}
for t in $tests; do
	echo "# KVMMIG-BEGIN $t"
	timeout "$limit" "./$t"
	echo "# KVMMIG-END $t rc=$?"
done
