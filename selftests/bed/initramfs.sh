#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh KVER KVMMIG_KO OUT
#
# Build the test VM's initramfs for kernel KVER: busybox, the kernel's own
# modules listed in modules.conf (with their dependencies), kvmmig.ko, migd
# with its shared libraries, the selftests and the programs they run
# (selftests/Makefile's lists, all in /kvmmig/tests), the selftests'
# settings and the in-VM runner.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 3 ] || die "usage: initramfs.sh KVER KVMMIG_KO OUT"
kver=$1 kvmmig_ko=$2 out=$3
kroot=$KERNELS_DIR/$kver
moddir=$kroot/lib/modules/$kver
[ -f "$moddir/modules.dep" ] || die "no modules.dep for $kver: run kernels.sh"

stage=$(mktemp -d "$CACHE/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,etc/kvmmig,lib/modules,kvmmig/tests}

cp /bin/busybox "$stage/bin/busybox"
file -b /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static: install busybox-static"

# Resolve a module name to its path in modules.dep ('-' and '_' are equal).
mod_path() {
	local name=${1//-/_}
	awk -F: -v n="$name" '{
		f = $1; sub(/.*\//, "", f); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", f)
		gsub(/-/, "_", f)
		if (f == n) { print $1; exit }
	}' "$moddir/modules.dep"
}

# Emit a module's dependencies before the module itself, each once.
declare -A seen=()
load_order=()
visit() {
	local path=$1 dep
	[ -n "${seen[$path]:-}" ] && return
	seen[$path]=1
	for dep in $(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$moddir/modules.dep"); do
		visit "$dep"
	done
	load_order+=("$path")
}

declare -A params=()
while read -r name args; do
	case "$name" in ''|'#'*) continue ;; esac
	path=$(mod_path "$name")
	if [ -z "$path" ]; then
		# Built into this kernel: nothing to load.
		grep -qE "/${name//[-_]/[-_]}\.ko\$" "$moddir/modules.builtin" && continue
		die "module $name is not in $kver"
	fi
	params[$path]=$args
	visit "$path"
done < "$BED_DIR/modules.conf"

: > "$stage/etc/kvmmig/modules"
for path in "${load_order[@]}"; do
	base=$(basename "$path")
	case "$base" in
	*.xz)	xz -dc "$moddir/$path" > "$stage/lib/modules/${base%.xz}" ;;
	*.zst)	zstd -qdc "$moddir/$path" > "$stage/lib/modules/${base%.zst}" ;;
	*)	cp "$moddir/$path" "$stage/lib/modules/" ;;
	esac
	echo "${base%.ko*}.ko ${params[$path]:-}" >> "$stage/etc/kvmmig/modules"
done

cp "$kvmmig_ko" "$stage/kvmmig/kvmmig.ko"
for t in $(make -s -C "$TOP_DIR/selftests" print-progs); do
	cp "$TOP_DIR/selftests/$t" "$stage/kvmmig/tests/"
	echo "$t" >> "$stage/etc/kvmmig/tests"
done
for t in $(make -s -C "$TOP_DIR/selftests" print-pair-progs print-files); do
	cp "$TOP_DIR/selftests/$t" "$stage/kvmmig/tests/"
done
cp "$TOP_DIR/selftests/settings" "$stage/kvmmig/tests/"

# migd at /usr/bin/migd (and /bin/migd: PATH is /bin in the VM).  It is
# linked dynamically (Debian ships no static libmnl), so its shared-library
# closure goes in too, each library at the path ldd names, with the
# dynamic loader at the path in the binary.  /run is a tmpfs in the VM, so
# migd can create /run/migd there.
migd=$TOP_DIR/daemon/migd
[ -x "$migd" ] || die "no $migd: run make -C daemon"
mkdir -p "$stage/usr/bin"
cp "$migd" "$stage/usr/bin/migd"
ln -s /usr/bin/migd "$stage/bin/migd"
libs=$(ldd "$migd" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd found no libraries for $migd"
for lib in $libs; do
	mkdir -p "$stage$(dirname "$lib")"
	cp -L "$lib" "$stage$lib"
done
interp=$(readelf -l "$migd" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -n "$interp" ] && [ -f "$stage$interp" ] || die "$migd: no loader ${interp:-?} in the initramfs"

[ -n "${BENCH_ARGS:-}" ] && echo "$BENCH_ARGS" > "$stage/etc/kvmmig/bench-args"
[ -n "${DEMO_ARGS:-}" ] && echo "$DEMO_ARGS" > "$stage/etc/kvmmig/demo-args"
cp "$BED_DIR/init" "$stage/init"
cp "$BED_DIR/run-tests.sh" "$stage/kvmmig/run-tests"
chmod +x "$stage/init" "$stage/kvmmig/run-tests"

(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
