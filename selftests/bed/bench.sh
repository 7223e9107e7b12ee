#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: "make bench".  Boot the newest 6.12 test VM with room for a
# 1 GiB region and run dirty_bench there; print its table and write its
# JSON to $CACHE/bench/dirty_bench.json.  Never fails on the figures.
#
# Environment: BENCH_ARGS (dirty_bench options, default the full run),
# KERNELS (default 6.12), VM_NODE_MB (default 3072).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export VM_NODE_MB=${VM_NODE_MB:-3072}
export VM_TIMEOUT=${VM_TIMEOUT:-3600}
export BENCH_ARGS=${BENCH_ARGS:---sizes 64,256,1024 --fractions 1,10,100}
KERNELS=${KERNELS:-6.12}

bed_prepare

out=$CACHE/bench
mkdir -p "$out"
for kver in $(bash "$BED_DIR/kernels.sh" $KERNELS); do
	build=$CACHE/build/$kver
	bed_build "$kver" || die "building kvmmig.ko for $kver"

	log "$kver: dirty_bench $BENCH_ARGS (this takes minutes under TCG)"
	rc=0
	VM_MODE=bench bash "$BED_DIR/run-vm.sh" "$kver" "$build/initrd.cpio" \
		"$out/$kver" || rc=$?
	results=$out/$kver/results.log
	echo "== dirty_bench on $kver (TCG; compare ratios, not absolute times)"
	tr -d '\r' < "$results" | grep -v -e '^json: ' -e '^# KVMMIG-'
	tr -d '\r' < "$results" | sed -n 's/^json: //p' |
		sed "s/^{/{\"kernel\":\"$kver\",/" > "$out/dirty_bench-$kver.json"
	log "$kver: JSON in $out/dirty_bench-$kver.json"
	[ $rc -eq 0 ] || log "$kver: the VM exited with status $rc"
	grep -aE 'WARNING:|BUG:|Oops|Call Trace' "$out/$kver/console.log" >&2 || true
done
