#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the selftests inside the test VM, each under a time limit, with TAP on
# stdout.  Markers let the host tell a test that crashed or hung from one
# that never ran.  Usage: run-tests [TEST...] (default: all).  The limit is
# selftests/settings' timeout unless KVMMIG_TEST_TIMEOUT is set.

cd /kvmmig/tests || exit 1
limit=${KVMMIG_TEST_TIMEOUT:-$(sed -n 's/^timeout=//p' settings)}
limit=${limit:-600}
tests=${*:-$(cat /etc/kvmmig/tests)}
for t in $tests; do
	echo "# KVMMIG-BEGIN $t"
	timeout "$limit" "./$t"
	echo "# KVMMIG-END $t rc=$?"
done
