#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh [--shell] KVER INITRD LOGDIR
#
# Boot Debian kernel KVER in QEMU (TCG) with emulated AMD SVM+NPT, 2 vCPUs
# and two NUMA nodes, node 1 without CPUs (the stand-in for CXL memory).
# The console goes to LOGDIR/console.log, test output to LOGDIR/results.log.
# With --shell the console is this terminal instead.  VM_TESTS (comma
# separated) limits the selftests run; VM_NODE_MB sizes each NUMA node;
# VM_TIMEOUT bounds the run in seconds.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=check
if [ "${1:-}" = --shell ]; then
	mode=shell
	shift
fi
[ $# -eq 3 ] || die "usage: run-vm.sh [--shell] KVER INITRD LOGDIR"
kver=$1 initrd=$2 logdir=$3
kernel=$CACHE/kernels/$kver/boot/vmlinuz-$kver
[ -f "$kernel" ] || die "no kernel image $kernel"

node_mb=${VM_NODE_MB:-1024}
timeout_s=${VM_TIMEOUT:-1500}

qemu=(
	qemu-system-x86_64 -nodefaults -no-reboot -display none
	-machine pc -accel tcg -cpu qemu64,+svm,+npt -smp 2
	-m $((2 * node_mb))M
	-object memory-backend-ram,id=m0,size=${node_mb}M
	-object memory-backend-ram,id=m1,size=${node_mb}M
	-numa node,nodeid=0,cpus=0-1,memdev=m0
	-numa node,nodeid=1,memdev=m1
	-kernel "$kernel" -initrd "$initrd"
)
cmdline="console=ttyS0 panic=-1 mitigations=off kvmmig.mode=$mode"
[ -n "${VM_TESTS:-}" ] && cmdline="$cmdline kvmmig.tests=$VM_TESTS"

mkdir -p "$logdir"
if [ $mode = shell ]; then
	exec "${qemu[@]}" -append "$cmdline" -serial mon:stdio \
		-serial "file:$logdir/results.log"
fi

rm -f "$logdir/console.log" "$logdir/results.log"
rc=0
timeout -k 10 "$timeout_s" "${qemu[@]}" -append "$cmdline" \
	-serial "file:$logdir/console.log" -serial "file:$logdir/results.log" \
	-monitor none </dev/null || rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	log "$kver: the guest did not power off within ${timeout_s}s"
	exit 2
fi
exit $rc
