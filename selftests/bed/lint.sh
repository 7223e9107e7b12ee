#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks that need no kernel: checkpatch on the module, the uapi
# header and the daemon; every source file carries an SPDX line; dkms.conf
# and VERSION agree; the genetlink spec matches the uapi header; the debug
# kernel has every option of selftests/config.  Prints
# "N passed, N failed".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

bash "$BED_DIR/kselftest.sh"
checkpatch=$CACHE/linux-src/scripts/checkpatch.pl
cd "$TOP_DIR"

pass=0 fail=0
check() {
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		echo "lint: FAIL: $what" >&2
		fail=$((fail + 1))
	fi
}

spdx_missing() {
	local f
	for f in $(git ls-files '*.c' '*.h' '*.sh' 'Kbuild' '*/Kbuild' 'Makefile' '*/Makefile' '*.awk'); do
		head -n 3 "$f" | grep -q 'SPDX-License-Identifier' || echo "$f"
	done
}

check "SPDX line on every source file" test -z "$(spdx_missing)"
check "dkms.conf PACKAGE_VERSION equals VERSION" \
	grep -qx "PACKAGE_VERSION=\"$(cat VERSION)\"" dkms.conf
check "the uapi header is GPL-2.0 WITH Linux-syscall-note" \
	grep -q 'SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note' uapi/linux/kvmmig.h

check "the netlink spec agrees with the uapi header" \
	python3 "$BED_DIR/spec_check.py" Documentation/netlink/specs/kvmmig.yaml \
		Documentation/netlink/genetlink.yaml uapi/linux/kvmmig.h

check "no LINUX_VERSION_CODE outside kmod/compat/" \
	test -z "$(git grep -l LINUX_VERSION_CODE -- kmod ':!kmod/compat')"

# Every option the selftests need is one the debug kernel builds with.
config_missing() {
	local line
	grep -v '^#' selftests/config | while IFS= read -r line; do
		[ -z "$line" ] || grep -qxF "$line" "$BED_DIR/debug-kernel.config" ||
			echo "$line"
	done
}
check "selftests/config is in bed/debug-kernel.config" \
	test -z "$(config_missing)"

# checkpatch_file IGNORES FILE
checkpatch_file() {
	local out
	out=$(perl "$checkpatch" --no-tree --terse --show-types \
		--ignore "FILE_PATH_CHANGES,LINUX_VERSION_CODE$1" -f "$2") || {
		echo "$out" >&2
		return 1
	}
}
for f in $(git ls-files 'kmod/*.[ch]' 'uapi/*.h'); do
	check "checkpatch $f" checkpatch_file "" "$f"
done
# migd is user space: the kernel's own helpers (__printf and the other
# attribute macros, ARRAY_SIZE) do not exist there, and it names its
# commands and functions in messages ("usage", "resolve").
daemon_ignore=,PREFER_DEFINED_ATTRIBUTE_MACRO,ARRAY_SIZE,EMBEDDED_FUNCTION_NAME
daemon_files=$(git ls-files 'daemon/*.[ch]')
[ -n "$daemon_files" ] || echo "lint: no daemon sources found" >&2
check "the daemon has sources to check" test -n "$daemon_files"
for f in $daemon_files; do
	check "checkpatch $f" checkpatch_file "$daemon_ignore" "$f"
done
spdx=$(spdx_missing)
[ -n "$spdx" ] && echo "lint: no SPDX line in: $spdx" >&2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
