#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: "make demo".  Provision and build as "make check" does, boot
# test hosts a and b (the newest Debian 6.12 kernel, real KVM inside, a
# private link between them), start an A-B guest on a, migrate it live to
# b with migd's progress line on this terminal, and print migd's summary,
# b's memory verdicts and the plain single-stream TCP rate of the same
# link for comparison.  See Documentation/demo.rst.
#
# Environment: DEMO_MEM (guest MiB, default 256), DEMO_RATE (page increments
# per second the guest makes, default 500, a steady 2 MB/s of dirtying the
# link outpaces; 0: flat out, as fast as its write faults go, which outruns
# migd on these emulated hosts and ends in a long stop-and-copy),
# DEMO_MIGD_ARGS (extra migd options, e.g. "-d 100 -b 50"), DEMO_VERIFY
# (quick, the default: each page's A-B byte and tag; full: every byte, and
# a digest of RAM compared with the source's), DEMO_TCP_MB
# (the plain TCP stream's size, default the guest's), KERNELS
# (default 6.12), VM_NODE_MB (each host's two NUMA nodes, default 1024).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mem=${DEMO_MEM:-256}
rate=${DEMO_RATE:-500}
KERNELS=${KERNELS:-6.12}
export VM_NODE_MB=${VM_NODE_MB:-1024}
export VM_TIMEOUT=${VM_TIMEOUT:-3600}

# The guest, migd's buffers and the kernel must fit in node 0 of a host.
if [ "$mem" -gt $((VM_NODE_MB / 2)) ]; then
	die "DEMO_MEM=$mem MiB does not fit hosts with ${VM_NODE_MB} MiB nodes: raise VM_NODE_MB"
fi

demo_args="--mem $mem"
[ "$rate" != 0 ] && demo_args="$demo_args --rate $rate"
[ -n "${DEMO_TCP_MB:-}" ] && demo_args="$demo_args --tcp-mb $DEMO_TCP_MB"
[ -n "${DEMO_VERIFY:-}" ] && demo_args="$demo_args --verify $DEMO_VERIFY"
[ -n "${DEMO_MIGD_ARGS:-}" ] && demo_args="$demo_args --migd $(echo "$DEMO_MIGD_ARGS" | tr ' ' ',')"
export DEMO_ARGS=$demo_args

start=$SECONDS
log "provisioning and building (as make check does)"
bed_prepare
mapfile -t kvers < <(bash "$BED_DIR/kernels.sh" $KERNELS)
kver=${kvers[0]}
bed_build "$kver" || die "building kvmmig.ko for $kver"
build=$CACHE/build/$kver
logdir=$CACHE/demo/$kver
mkdir -p "$logdir/a" "$logdir/b"
rm -f "$logdir"/{a,b}/results.log

log "booting test hosts a and b on $kver ($((2 * VM_NODE_MB)) MiB each; logs in $logdir)"
VM_MODE=demo bed_boot_pair "$kver" "$build/initrd.cpio" "$logdir" &
boot=$!

# Host a narrates; show its output as it comes (migd redraws its progress
# line with carriage returns, which the terminal shows in place).
until [ -e "$logdir/a/results.log" ] || ! kill -0 $boot 2>/dev/null; do
	sleep 0.2
done
tail -n +1 -f --pid=$boot "$logdir/a/results.log" 2>/dev/null | grep --line-buffered -av "^# KVMMIG-" || true
wait $boot || true

results=$(tr -d '\r' < "$logdir/a/results.log" 2>/dev/null | grep -a '^demo: result=' || true)
for h in a b; do
	if grep -aqE 'WARNING:|BUG:|Oops|general protection fault|Call Trace' "$logdir/$h/console.log"; then
		log "host $h's kernel reported a problem (see $logdir/$h/console.log):"
		grep -aE 'WARNING:|BUG:|Oops|general protection fault' "$logdir/$h/console.log" | head -n 5 >&2
		results=
	fi
done
[ -n "$results" ] || die "the demo did not complete; logs in $logdir"

echo
guest="flat out"
[ "$rate" != 0 ] && guest="$rate pages/s"
echo "== make demo: $mem MiB A-B guest ($guest) migrated live from host a to host b ($kver, TCG)"
echo "$results" | sed 's/^demo: //' | tr ' ' '\n' | awk -F= '
	{ v[$1] = $2 }
	END {
		printf "  result          %s\n", v["result"]
		printf "  total time      %s s\n", v["total_s"]
		printf "  downtime        %s ms\n", v["downtime_ms"]
		printf "  migd            %s MB/s\n", v["migd_mbps"]
		printf "  plain TCP       %s MB/s (one stream, same link)\n", v["tcp_mbps"]
		printf "  ratio           %s\n", v["ratio"]
	}'
tr -d '\r' < "$logdir/a/results.log" | grep -a '^demo: on b' | sed 's/^demo: /  /'
echo "  wall time       $((SECONDS - start)) s (provisioning, builds and boots included)"
[[ "$results" == *result=ok* ]]
