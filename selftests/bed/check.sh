#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh [--shell] [--debug]
#
# Environment: KERNELS (series to run, default "6.12 6.1"), TESTS (selftest
# binaries to run, default all), HOST_CHECKS=0 (skip lint and the host
# tests while iterating on one VM test), BED_QEMU (1: give every VM the
# QEMU archive; 0: none to the shell; default: the VMs that run a test of
# TEST_QEMU_PROGS, and the shell), VM_NODE_MB, VM_TIMEOUT and
# VM_TEST_TIMEOUT (see run-vm.sh).
#
# The whole of "make check": provision the machine, run the tests that need
# no kernel, then for each kernel series in $KERNELS build kvmmig.ko against
# that kernel's headers, boot it in QEMU and run the selftests there.  Ends
# with "N passed, N failed" and a non-zero exit on any failure.
#
# --debug is "make check-debug": instead of Debian's kernels, build (or
# reuse) the debug kernel of debug-kernel.sh and run the same VM tests on it
# with longer time limits (VM_TIMEOUT 7200 s, VM_TEST_TIMEOUT 2400 s unless
# set), the tests' own waits and limits 10 times longer (KVMMIG_TIME_SCALE)
# and the ABI fuzzer for 10 minutes (KVMMIG_FUZZ_SECONDS), failing also on
# its reports (KASAN, lockdep, DEBUG_VM, debugobjects,
# kmemleak).  Lint and the host tests, which no kernel changes, are left to
# "make check".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-6.12 6.1}
shell= debug=
for arg in "$@"; do
	case "$arg" in
	--shell) shell=--shell ;;
	--debug) debug=1 ;;
	*) die "usage: check.sh [--shell] [--debug]" ;;
	esac
done
if [ -n "$debug" ]; then
	HOST_CHECKS=0
	export KERNELS_DIR=$CACHE/debug-kernel
	export VM_TIMEOUT=${VM_TIMEOUT:-7200} VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-2400}
	export KVMMIG_FUZZ_SECONDS=${KVMMIG_FUZZ_SECONDS:-600}
	export KVMMIG_TIME_SCALE=${KVMMIG_TIME_SCALE:-10}
fi

bed_prepare

# Console lines that fail a run whatever the tests said.  The second line
# is what only the debug kernel prints: DEBUG_VM's VM_BUG_ON and page dumps,
# debugobjects, kmemleak (init prints its findings, and says when rmmod
# failed); KASAN, lockdep and DEBUG_ATOMIC_SLEEP start with BUG: or WARNING:.
splat_re='WARNING:|BUG:|Oops|general protection fault|Call Trace|INFO: (possible|inconsistent) .*lock|lockdep|kvmmig: leaked'
splat_re="$splat_re|kernel BUG at|page dumped because|ODEBUG:|unreferenced object|suspected memory leak|kmemleak: .*(disabled|error)|kvmmig-bed: FAIL"
# Boot banners of a debug kernel that match the above and report nothing.
splat_banner_re='rcu:[[:space:]]+RCU lockdep checking is enabled'

total_pass=0 total_fail=0 total_skip=0
summary=()
# Every problem again at the end, after the console tails, where a CI
# log's last lines show it.
failures=()

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
if [ -z "$shell" ] && [ "${HOST_CHECKS:-1}" != 0 ]; then
	log "lint (checkpatch, SPDX, versions)"
	lint_log=$CACHE/lint.log
	rc=0
	bash "$BED_DIR/lint.sh" > "$lint_log" 2>&1 || rc=$?
	read -r p f < <(awk '/^[0-9]+ passed, [0-9]+ failed/ { print $1, $3 }' "$lint_log")
	if [ $rc -ne 0 ]; then
		cat "$lint_log" >&2
		[ "${f:-0}" -gt 0 ] || f=1
		failures+=("lint:" "$(grep -iE 'fail|error' "$lint_log" | head -n 20)")
	fi
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
	if [ "$f" -gt 0 ]; then
		host_fails=$(grep -E 'FAIL|fail|error' "$host_log" | head -n 20)
		printf '%s\n' "$host_fails" >&2
		failures+=("host:" "$host_fails")
	fi
	add_counts host "$p" "$f" "$s"
fi

if [ -n "$debug" ]; then
	mapfile -t kvers < <(bash "$BED_DIR/debug-kernel.sh")
	[ ${#kvers[@]} -eq 1 ] || die "no debug kernel"
else
	mapfile -t kvers < <(bash "$BED_DIR/kernels.sh" $KERNELS)
fi

qemu_progs=" $(make -s -C "$TOP_DIR/selftests" print-qemu-progs | tr '\n' ' ') "

# Keep the tests of a list that $TESTS names (all of them without $TESTS,
# but for the QEMU guest tests: they run when $TESTS names them, or with
# QEMU_TESTS=1, "make check-qemu").  The bed's QEMU guest dies too often
# for them to gate every run (Documentation/testing.rst).
selected() {
	local t
	for t in $(make -s -C "$TOP_DIR/selftests" "$1"); do
		if [ -n "${TESTS:-}" ]; then
			if [[ " $TESTS " == *" $t "* ]]; then
				echo "$t"
			fi
		elif [[ "$qemu_progs" != *" $t "* ]] || [ "${QEMU_TESTS:-}" = 1 ]; then
			echo "$t"
		fi
	done | tr '\n' ' '
}
single_tests=$(selected print-progs)
pair_tests=$(selected print-pair-progs)
if [ -z "${TESTS:-}" ] && [ "${QEMU_TESTS:-}" != 1 ]; then
	log "not running the QEMU guest tests ($(echo $qemu_progs)): make check-qemu runs them"
fi

# wants_qemu TEST...: does any of them run QEMU inside the test VM?  Only
# then does the VM get the QEMU archive (qemu-cpio.sh) appended to its
# initramfs: it costs boot time that the other tests need not pay.
# BED_QEMU=1 gives it to every VM (to measure that cost), BED_QEMU=0 keeps
# it out of "make vm-shell".
wants_qemu() {
	local t
	[ "${BED_QEMU:-}" = 1 ] && return 0
	for t in "$@"; do
		[[ "$qemu_progs" == *" $t "* ]] && return 0
	done
	return 1
}

# verify_run LABEL LOGDIR VM_RC EXPECTED: count one VM's results and check
# its console; sets p f s.
verify_run() {
	local label=$1 logdir=$2 vm_rc=$3 expected=$4 parsed problems splats
	mapfile -t parsed < <(awk -v expected="$expected" \
		-f "$BED_DIR/parse-results.awk" "$logdir/results.log" 2>/dev/null)
	read -r p f s <<< "${parsed[-1]}"
	problems=("${parsed[@]:0:${#parsed[@]}-1}")
	grep -aE '^(ok|not ok) ' "$logdir/results.log" 2>/dev/null | sed "s|^|  $label: |" >&2 || true

	splats=$(grep -aE "$splat_re" "$logdir/console.log" |
		grep -avE "$splat_banner_re" || true)
	if [ -n "$splats" ]; then
		problems+=("  kernel console reports:" "$(echo "$splats" | head -n 10 | sed 's/^/    /')")
		f=$((f + 1))
	fi
	if [ "$vm_rc" -ne 0 ]; then
		problems+=("  the VM exited with status $vm_rc")
		f=$((f + 1))
	fi
	if [ "$f" -gt 0 ]; then
		printf '%s\n' "${problems[@]}" >&2
		log "$label: tail of the console log ($logdir/console.log):"
		tail -n 40 "$logdir/console.log" >&2 || true
		failures+=("$label:" "${problems[@]}")
	fi
}

for kver in "${kvers[@]}"; do
	build=$CACHE/build/$kver
	logdir=$CACHE/logs/$kver
	kp=0 kf=0 ks=0

	log "$kver: building kvmmig.ko"
	if ! bed_build "$kver"; then
		add_counts "$kver" 0 1 0
		failures+=("$kver: building kvmmig.ko or the initramfs failed")
		continue
	fi
	# The shell gets QEMU unless BED_QEMU=0: poking at it is what it is for.
	initrd=$build/initrd.cpio initrd_qemu=$build/initrd.cpio
	if [ -n "$shell" ]; then
		want_qemu=${BED_QEMU:-1}
	else
		want_qemu=0
		wants_qemu $single_tests $pair_tests && want_qemu=1
	fi
	if [ "$want_qemu" = 1 ]; then
		log "$kver: adding QEMU and its guest to the initramfs"
		if ! bed_qemu_initrd "$kver"; then
			add_counts "$kver" 0 1 0
			failures+=("$kver: building the QEMU archive failed")
			continue
		fi
		initrd_qemu=$build/initrd-qemu.cpio
	fi
	if [ -n "$shell" ]; then
		exec bash "$BED_DIR/run-vm.sh" --shell "$kver" "$initrd_qemu" "$logdir"
	fi

	# One VM: every test that needs a single host.
	if [ -n "${single_tests// }" ]; then
		log "$kver: booting the test VM (console: $logdir/console.log)"
		vm_rc=0
		start=$SECONDS
		vm_initrd=$initrd
		wants_qemu $single_tests && vm_initrd=$initrd_qemu
		VM_TESTS=$(echo $single_tests | tr ' ' ',') \
			bash "$BED_DIR/run-vm.sh" "$kver" "$vm_initrd" "$logdir" || vm_rc=$?
		log "$kver: the VM ran for $((SECONDS - start))s"
		verify_run "$kver" "$logdir" "$vm_rc" "$single_tests"
		kp=$((kp + p)) kf=$((kf + f)) ks=$((ks + s))
	fi

	# Two VMs on one link: the tests that need two hosts run on both.
	if [ -n "${pair_tests// }" ]; then
		log "$kver: booting test hosts a and b (consoles: $logdir/{a,b}/console.log)"
		start=$SECONDS
		vm_initrd=$initrd
		wants_qemu $pair_tests && vm_initrd=$initrd_qemu
		VM_TESTS=$(echo $pair_tests | tr ' ' ',') \
			bed_boot_pair "$kver" "$vm_initrd" "$logdir"
		log "$kver: the test hosts ran for $((SECONDS - start))s"
		for h in a b; do
			rc=$rc_a
			[ $h = b ] && rc=$rc_b
			verify_run "$kver/$h" "$logdir/$h" "$rc" "$pair_tests"
			kp=$((kp + p)) kf=$((kf + f)) ks=$((ks + s))
		done
	fi
	add_counts "$kver" "$kp" "$kf" "$ks"
done

if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '%s\n' "${failures[@]}"
fi
for line in "${summary[@]}"; do
	echo "$line"
done
counts_line "$total_pass" "$total_fail" "$total_skip"
[ "$total_fail" -eq 0 ]
