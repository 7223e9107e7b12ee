#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh [--shell] [--host a|b --net LOCAL.sock REMOTE.sock] KVER INITRD LOGDIR
#
# Boot kernel KVER (Debian's, or the debug kernel: $KERNELS_DIR/KVER) in
# QEMU (TCG) with emulated AMD SVM+NPT, 2 vCPUs and two NUMA nodes, node 1
# without CPUs (the stand-in for CXL memory).  The console goes to
# LOGDIR/console.log, test output to LOGDIR/results.log.  With --shell the
# console is this terminal instead.  VM_TESTS (comma separated) limits the
# selftests run; VM_NODE_MB sizes each NUMA node; VM_TIMEOUT bounds the run
# in seconds; VM_TEST_TIMEOUT, when set, is each selftest's limit in the VM
# (run-tests' KVMMIG_TEST_TIMEOUT; selftests/settings has the default);
# VM_TCG_THREAD (multi, the default, or single) picks QEMU's TCG threading
# (the two test hosts run single: Documentation/testing.rst says why) and
# tells the VM in kvmmig.tcg= (a test that cannot work on one of them
# skips).
# KVMMIG_FUZZ_SECONDS, KVMMIG_FUZZ_SEED and KVMMIG_TIME_SCALE, when set,
# reach the tests in the VM.
#
# --host names one of two test hosts; with --net it gets a virtio NIC whose
# frames travel as datagrams between two unix sockets, so two VMs share a
# link without any host networking.  Host a is 169.254.77.1, b .2.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${VM_MODE:-check}
host=
net=()
while [ $# -gt 0 ]; do
	case "$1" in
	--shell) mode=shell; shift ;;
	--host) host=$2; shift 2 ;;
	--net) net=("$2" "$3"); shift 3 ;;
	*) break ;;
	esac
done
[ $# -eq 3 ] || die "usage: run-vm.sh [--shell] [--host a|b --net LOCAL REMOTE] KVER INITRD LOGDIR"
kver=$1 initrd=$2 logdir=$3
kernel=$KERNELS_DIR/$kver/boot/vmlinuz-$kver
[ -f "$kernel" ] || die "no kernel image $kernel"

node_mb=${VM_NODE_MB:-1024}
timeout_s=${VM_TIMEOUT:-1500}

qemu=(
	qemu-system-x86_64 -nodefaults -no-reboot -display none
	-machine pc -accel tcg,thread=${VM_TCG_THREAD:-multi} -cpu qemu64,+svm,+npt -smp 2
	-m $((2 * node_mb))M
	-object memory-backend-ram,id=m0,size=${node_mb}M
	-object memory-backend-ram,id=m1,size=${node_mb}M
	-numa node,nodeid=0,cpus=0-1,memdev=m0
	-numa node,nodeid=1,memdev=m1
	-kernel "$kernel" -initrd "$initrd"
)
# A soft lockup also prints every other CPU's stack: the one a stuck CPU
# waits for is the one that explains it.
cmdline="console=ttyS0 panic=-1 mitigations=off softlockup_all_cpu_backtrace=1"
cmdline="$cmdline kvmmig.mode=$mode kvmmig.tcg=${VM_TCG_THREAD:-multi}"
[ -n "${VM_TESTS:-}" ] && cmdline="$cmdline kvmmig.tests=$VM_TESTS"
# The kernel hands a parameter with "=" and no "." to init as environment.
[ -n "${VM_TEST_TIMEOUT:-}" ] && cmdline="$cmdline KVMMIG_TEST_TIMEOUT=$VM_TEST_TIMEOUT"
[ -n "${KVMMIG_FUZZ_SECONDS:-}" ] && cmdline="$cmdline KVMMIG_FUZZ_SECONDS=$KVMMIG_FUZZ_SECONDS"
[ -n "${KVMMIG_FUZZ_SEED:-}" ] && cmdline="$cmdline KVMMIG_FUZZ_SEED=$KVMMIG_FUZZ_SEED"
[ -n "${KVMMIG_TIME_SCALE:-}" ] && cmdline="$cmdline KVMMIG_TIME_SCALE=$KVMMIG_TIME_SCALE"
if [ -n "$host" ]; then
	case "$host" in
	a) mac=52:54:00:77:00:01 ;;
	b) mac=52:54:00:77:00:02 ;;
	*) die "--host must be a or b" ;;
	esac
	cmdline="$cmdline kvmmig.host=$host"
fi
if [ ${#net[@]} -eq 2 ]; then
	[ -n "$host" ] || die "--net needs --host"
	rm -f "${net[0]}"
	qemu+=(
		-netdev "dgram,id=link,local.type=unix,local.path=${net[0]},remote.type=unix,remote.path=${net[1]}"
		-device "virtio-net-pci,netdev=link,mac=$mac"
	)
fi

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
