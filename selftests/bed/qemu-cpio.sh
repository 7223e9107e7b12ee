#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-cpio.sh KVER OUT
#
# Build the QEMU archive of the test VM: a second newc cpio that check.sh
# appends to the test VM's initramfs (the kernel unpacks concatenated
# archives in turn) only when a selected test runs QEMU inside the test VM
# (selftests/Makefile's TEST_QEMU_PROGS), because it more than doubles the
# initramfs (Documentation/testing.rst, "QEMU inside the test VM").  It
# holds:
#
# - this machine's Debian qemu-system-x86_64 at /usr/bin with its
#   shared-library closure (ldd) and the dynamic loader, as initramfs.sh
#   carries migd;
# - the firmware the guest's machine needs (-machine pc, -kernel, KVM's
#   TPR patching): bios-256k.bin, linuxboot_dma.bin and kvmvapic.bin, at
#   the paths Debian's QEMU searches relative to its binary
#   (/usr/share/qemu, /usr/share/seabios; "qemu-system-x86_64 -L help");
# - the guest: KVER's own vmlinuz and the guest initramfs
#   (guest-initramfs.sh), in /kvmmig/guest.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: qemu-cpio.sh KVER OUT"
kver=$1 out=$2
kernel=$KERNELS_DIR/$kver/boot/vmlinuz-$kver
[ -f "$kernel" ] || die "no kernel image $kernel"
qemu=$(command -v qemu-system-x86_64) || die "no qemu-system-x86_64: run provision.sh"
qemu=$(readlink -f "$qemu")

stage=$(mktemp -d "$CACHE/qemu-cpio.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{usr/bin,usr/share/qemu,usr/share/seabios,kvmmig/guest}

cp "$qemu" "$stage/usr/bin/qemu-system-x86_64"
libs=$(ldd "$qemu" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd found no libraries for $qemu"
for lib in $libs; do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
interp=$(readelf -l "$qemu" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] && [ -f "$stage$interp" ] || die "$qemu: no loader ${interp:-?} in the archive"

for fw in qemu/linuxboot_dma.bin qemu/kvmvapic.bin seabios/bios-256k.bin; do
	[ -f "/usr/share/$fw" ] || die "no /usr/share/$fw (qemu-system-data, seabios)"
	cp -L "/usr/share/$fw" "$stage/usr/share/$fw"
done

cp "$kernel" "$stage/kvmmig/guest/vmlinuz"
bash "$BED_DIR/guest-initramfs.sh" "$kver" "$stage/kvmmig/guest/initrd.cpio"

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
