#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-initramfs.sh KVER OUT
#
# Build the initramfs of the QEMU guest (the L2 guest that QEMU runs with
# KVM inside a test host, booting the same Debian kernel KVER): a static
# busybox, the guest's /init (selftests/qemu/guest-init), abguest (static,
# from selftests/qemu) and the kernel's virtio modules the guest needs that
# KVER does not have built in (6.1 has virtio, virtio_pci and
# virtio_console as modules, 6.12 builds them in), with their
# dependencies.  Uncompressed: the test host's kernel unpacks it from its
# own initramfs, and under TCG copying is cheaper than decompressing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 2 ] || die "usage: guest-initramfs.sh KVER OUT"
kver=$1 out=$2
moddir=$KERNELS_DIR/$kver/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "no modules.dep for $kver: run kernels.sh"
abguest=$TOP_DIR/selftests/qemu/abguest
[ -x "$abguest" ] || die "no $abguest: run make -C selftests"

stage=$(mktemp -d "$CACHE/guest-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,etc,lib/modules}
cp /bin/busybox "$stage/bin/busybox"
cp "$abguest" "$stage/abguest"
cp "$TOP_DIR/selftests/qemu/guest-init" "$stage/init"
chmod +x "$stage/init"

# The modules, each after its dependencies, each once.
declare -A seen=()
: > "$stage/etc/modules"
add_module() {
	local path=$1 dep base
	[ -n "${seen[$path]:-}" ] && return
	seen[$path]=1
	for dep in $(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$moddir/modules.dep"); do
		add_module "$dep"
	done
	base=$(basename "$path")
	case "$base" in
	*.xz)	xz -dc "$moddir/$path" > "$stage/lib/modules/${base%.xz}" ;;
	*.zst)	zstd -qdc "$moddir/$path" > "$stage/lib/modules/${base%.zst}" ;;
	*)	cp "$moddir/$path" "$stage/lib/modules/" ;;
	esac
	echo "${base%.ko*}.ko" >> "$stage/etc/modules"
}
for name in virtio_pci virtio_console; do
	path=$(awk -F: -v n="$name" '{
		f = $1; sub(/.*\//, "", f); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", f)
		gsub(/-/, "_", f)
		if (f == n) { print $1; exit }
	}' "$moddir/modules.dep")
	if [ -z "$path" ]; then
		grep -qE "/$name\.ko\$" "$moddir/modules.builtin" ||
			die "module $name is not in $kver"
		continue
	fi
	add_module "$path"
done

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
