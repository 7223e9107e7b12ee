#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Take the kselftest harness headers and checkpatch.pl from Debian's
# linux-source-6.12 package into $CACHE/linux-src (reused when present).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$CACHE/linux-src
[ -f "$dest/.ready" ] && exit 0

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
touch "$dest/.ready"
