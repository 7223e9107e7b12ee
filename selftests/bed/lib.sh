# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the test bed scripts; sourced, not run.

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$BED_DIR/../.." && pwd)
CACHE=${CACHE:-$TOP_DIR/.cache}
# Where the bed finds kernel KVER: KERNELS_DIR/KVER holds boot/vmlinuz-KVER,
# lib/modules/KVER and usr/src/linux-headers-KVER.  Debian's kernels
# (kernels.sh) are in $CACHE/kernels, the debug kernel of "make
# check-debug" (debug-kernel.sh) in $CACHE/debug-kernel.
KERNELS_DIR=${KERNELS_DIR:-$CACHE/kernels}

log() { printf 'bed: %s\n' "$*" >&2; }
die() { printf 'bed: error: %s\n' "$*" >&2; exit 1; }

# apt-get needs a package list before it can resolve anything.  Refresh it
# when asked to resolve, at most once an hour: every script of one run (and a
# run soon after) shares the stamp.
apt_refresh() {
	local stamp=$CACHE/.apt-refreshed

	if [ -n "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	log "refreshing the package lists"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed"
	mkdir -p "$CACHE"
	touch "$stamp"
}

# Steps "make check", "make bench" and "make demo" share.

# Provision the machine (packages, kselftest headers) and build migd and
# the selftests.
bed_prepare() {
	bash "$BED_DIR/provision.sh"
	bash "$BED_DIR/kselftest.sh"
	mkdir -p "$CACHE"
	make -s -C "$TOP_DIR/daemon"
	make -s -C "$TOP_DIR/selftests" KSFT_DIR="$CACHE/linux-src/tools/testing/selftests"
}

# bed_build KVER: build kvmmig.ko against KVER's headers in $CACHE/build/KVER
# (its own directory, so kernels never share objects), warnings as errors
# (KVMMIG_WERROR=1, which kmod/Kbuild leaves off by default), and the initramfs
# $CACHE/build/KVER/initrd.cpio.  On a build failure print the build log
# and return 1.
bed_build() {
	local kver=$1
	local hdrs=$KERNELS_DIR/$kver/usr/src/linux-headers-$kver
	local build=$CACHE/build/$kver

	rm -rf "$build"
	mkdir -p "$build"
	cp -r "$TOP_DIR/Kbuild" "$TOP_DIR/VERSION" "$TOP_DIR/kmod" "$TOP_DIR/uapi" "$build/"
	if ! make -s -C "$hdrs" M="$build" KVMMIG_WERROR=1 modules \
		> "$build/build.log" 2>&1; then
		cat "$build/build.log" >&2
		return 1
	fi
	bash "$BED_DIR/initramfs.sh" "$kver" "$build/kmod/kvmmig.ko" "$build/initrd.cpio"
}

# bed_qemu_initrd KVER: build the QEMU archive (qemu-cpio.sh: QEMU, its
# libraries and firmware, the guest's kernel and initramfs) and
# $CACHE/build/KVER/initrd-qemu.cpio, the test VM's initramfs with it
# appended (the kernel unpacks concatenated newc archives one after the
# other).  Call after bed_build.
bed_qemu_initrd() {
	local kver=$1
	local build=$CACHE/build/$kver

	bash "$BED_DIR/qemu-cpio.sh" "$kver" "$build/qemu.cpio" || return 1
	cat "$build/initrd.cpio" "$build/qemu.cpio" > "$build/initrd-qemu.cpio"
}

# bed_boot_pair KVER INITRD LOGDIR: boot test hosts a and b on one private
# link (logs in LOGDIR/a and LOGDIR/b) and wait for both; sets rc_a and
# rc_b to their run-vm.sh exit statuses.  The hosts run single-threaded
# TCG (Documentation/testing.rst, "The two test hosts").
bed_boot_pair() {
	local kver=$1 initrd=$2 logdir=$3 link pid_b
	local -x VM_TCG_THREAD=${VM_TCG_THREAD:-single}

	link=$(mktemp -d /tmp/kvmmig-link.XXXXXX)
	rc_a=0 rc_b=0
	bash "$BED_DIR/run-vm.sh" --host b --net "$link/b" "$link/a" \
		"$kver" "$initrd" "$logdir/b" &
	pid_b=$!
	bash "$BED_DIR/run-vm.sh" --host a --net "$link/a" "$link/b" \
		"$kver" "$initrd" "$logdir/a" || rc_a=$?
	wait $pid_b || rc_b=$?
	rm -rf "$link"
}
