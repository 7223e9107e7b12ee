#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [--shell]
#
# Environment: KERNELS (series to run, default "6.12 6.1"), TESTS (selftest
# binaries to run, default all), VM_NODE_MB and VM_TIMEOUT (see run-vm.sh).
#
# The whole of "make check": provision the machine, run the tests that need
# no kernel, then for each kernel series in $KERNELS build kvmmig.ko against
# that kernel's headers, boot it in QEMU and run the selftests there.  Ends
# with "N passed, N failed" and a non-zero exit on any failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-6.12 6.1}
shell=
[ "${1:-}" = --shell ] && shell=--shell

bash "$BED_DIR/provision.sh"
bash "$BED_DIR/kselftest.sh"
mkdir -p "$CACHE"
make -s -C "$TOP_DIR/daemon"
make -s -C "$TOP_DIR/selftests" KSFT_DIR="$CACHE/linux-src/tools/testing/selftests"

# Console lines that fail a run whatever the tests said.
splat_re='WARNING:|BUG:|Oops|general protection fault|Call Trace|INFO: (possible|inconsistent) .*lock|lockdep|kvmmig: leaked'

total_pass=0 total_fail=0 total_skip=0
summary=()

add_counts() {
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	total_skip=$((total_skip + $4))
	summary+=("$1: $(counts_line "$2" "$3" "$4")")
}

counts_line() {
	local line="$1 passed, $2 failed"
	[ "$3" -gt 0 ] && line="$line, $3 skipped"
	echo "$line"
}

# Checks that run on this machine: lint, and the stream format library.
if [ -z "$shell" ]; then
	log "lint (checkpatch, SPDX, versions)"
	lint_log=$CACHE/lint.log
	rc=0
	bash "$BED_DIR/lint.sh" > "$lint_log" 2>&1 || rc=$?
	read -r p f < <(awk '/^[0-9]+ passed, [0-9]+ failed/ { print $1, $3 }' "$lint_log")
	[ $rc -ne 0 ] && { cat "$lint_log" >&2; [ "${f:-0}" -gt 0 ] || f=1; }
	add_counts lint "${p:-0}" "${f:-0}" 0

	log "host tests (make -C daemon check)"
	host_log=$CACHE/host-check.log
	rc=0
	make -s -C "$TOP_DIR/daemon" check > "$host_log" 2>&1 || rc=$?
	read -r p f s < <(awk '
		/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3; if ($5 != "") s += $5 }
		END { print p + 0, f + 0, s + 0 }' "$host_log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		log "make -C daemon check failed without a failed test:"
		tail -n 20 "$host_log" >&2
	fi
	[ "$f" -gt 0 ] && grep -E 'FAIL|fail|error' "$host_log" | head -n 20 >&2
	add_counts host "$p" "$f" "$s"
fi

mapfile -t kvers < <(bash "$BED_DIR/kernels.sh" $KERNELS)
expected=${TESTS:-$(make -s -C "$TOP_DIR/selftests" print-progs | tr '\n' ' ')}
# The VM runs what we expect, passed on its kernel command line.
export VM_TESTS=$(echo $expected | tr ' ' ',')

for kver in "${kvers[@]}"; do
	hdrs=$CACHE/kernels/$kver/usr/src/linux-headers-$kver
	build=$CACHE/build/$kver
	logdir=$CACHE/logs/$kver

	log "$kver: building kvmmig.ko"
	rm -rf "$build"
	mkdir -p "$build"
	cp -r "$TOP_DIR/Kbuild" "$TOP_DIR/VERSION" "$TOP_DIR/kmod" "$TOP_DIR/uapi" "$build/"
	if ! make -s -C "$hdrs" M="$build" modules > "$build/build.log" 2>&1; then
		cat "$build/build.log" >&2
		add_counts "$kver" 0 1 0
		continue
	fi

	bash "$BED_DIR/initramfs.sh" "$kver" "$build/kmod/kvmmig.ko" "$build/initrd.cpio"
	if [ -n "$shell" ]; then
		exec bash "$BED_DIR/run-vm.sh" --shell "$kver" "$build/initrd.cpio" "$logdir"
	fi

	log "$kver: booting the test VM (console: $logdir/console.log)"
	vm_rc=0
	start=$SECONDS
	bash "$BED_DIR/run-vm.sh" "$kver" "$build/initrd.cpio" "$logdir" || vm_rc=$?
	log "$kver: the VM ran for $((SECONDS - start))s"

	mapfile -t parsed < <(awk -v expected="$expected" -f "$BED_DIR/parse-results.awk" \
		"$logdir/results.log" 2>/dev/null)
	read -r p f s <<< "${parsed[-1]}"
	problems=("${parsed[@]:0:${#parsed[@]}-1}")
	cat "$logdir/results.log" 2>/dev/null | grep -E '^(ok|not ok) ' | sed "s/^/  /" >&2 || true

	splats=$(grep -aE "$splat_re" "$logdir/console.log" || true)
	if [ -n "$splats" ]; then
		problems+=("  kernel console reports:" "$(echo "$splats" | head -n 10 | sed 's/^/    /')")
		f=$((f + 1))
	fi
	if [ $vm_rc -ne 0 ]; then
		problems+=("  the VM exited with status $vm_rc")
		f=$((f + 1))
	fi
	if [ "$f" -gt 0 ]; then
		printf '%s\n' "${problems[@]}" >&2
		log "$kver: tail of the console log ($logdir/console.log):"
		tail -n 40 "$logdir/console.log" >&2 || true
	fi
	add_counts "$kver" "$p" "$f" "$s"
done

for line in "${summary[@]}"; do
	echo "$line"
done
counts_line "$total_pass" "$total_fail" "$total_skip"
[ "$total_fail" -eq 0 ]
