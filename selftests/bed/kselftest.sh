#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Take the kselftest harness headers and checkpatch.pl from Debian's
# linux-source-6.12 package into $CACHE/linux-src (reused when present),
# with one fix to the harness (below).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$CACHE/linux-src
# The stamp names the fixes applied: a new fix makes a new stamp.
stamp=$dest/.ready-volatile-child
[ -f "$stamp" ] && exit 0

apt_refresh
mkdir -p "$CACHE/debs"
(cd "$CACHE/debs" && apt-get download -qq linux-source-6.12 2>/dev/null) ||
	die "apt-get download linux-source-6.12 failed"
deb=$(ls -t "$CACHE"/debs/linux-source-6.12_*.deb | head -n 1)

log "unpacking the kselftest harness and checkpatch from $(basename "$deb")"
rm -rf "$dest"
mkdir -p "$dest"
dpkg-deb --fsys-tarfile "$deb" |
	tar -xO ./usr/src/linux-source-6.12.tar.xz |
	tar -xJ -C "$dest" --strip-components=1 --wildcards \
		'linux-source-6.12/tools/testing/selftests/kselftest*' \
		'linux-source-6.12/scripts/checkpatch.pl' \
		'linux-source-6.12/scripts/spelling.txt' \
		'linux-source-6.12/scripts/const_structs.checkpatch'
rm -f "$deb"

# TEST_F's wrapper reads "child" after longjmp() from a failed ASSERT.  It
# is not volatile, so its value is indeterminate there (C11 7.13.2.1); gcc
# -O2 keeps it in a register the longjmp() restores to 1, and the
# fixture's teardown never runs after a failure, leaving QEMU, migd and
# mounts behind for the next test.
harness=$dest/tools/testing/selftests/kselftest_harness.h
grep -q '^		pid_t child = 1; \\$' "$harness" ||
	die "kselftest_harness.h changed: check its child variable"
sed -i 's/^\t\tpid_t child = 1; \\$/\t\tvolatile pid_t child = 1; \\/' "$harness"
touch "$stamp"
