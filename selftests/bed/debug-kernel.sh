#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh
#
# Build the debug kernel of "make check-debug" from Debian's newest
# linux-source-6.12 (resolved at run time) with the options of
# debug-kernel.config (KASAN, lockdep, kmemleak, DEBUG_VM, fault
# injection, ...) over "make tinyconfig", and lay it out under
# $CACHE/debug-kernel/KVER the way kernels.sh lays out a Debian kernel under
# $CACHE/kernels/KVER: boot/vmlinuz-KVER, lib/modules/KVER (modules.dep,
# modules.builtin) and usr/src/linux-headers-KVER (the build tree itself,
# with Module.symvers, for "make M=").  The bed runs it with
# KERNELS_DIR=$CACHE/debug-kernel.  Prints KVER on stdout.
#
# The build is reused until the source package's version or
# debug-kernel.config changes.  It runs under "nice -n 19" (DEBUG_KERNEL_NICE
# changes that) with as many jobs as CPUs (DEBUG_KERNEL_JOBS); its log is
# $CACHE/debug-kernel/build.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dk=$CACHE/debug-kernel
src=$dk/src/linux-source-6.12
obj=$dk/obj
fragment=$BED_DIR/debug-kernel.config
nice_n=${DEBUG_KERNEL_NICE:-19}
jobs=${DEBUG_KERNEL_JOBS:-$(nproc)}

kmake() {
	nice -n "$nice_n" make -C "$src" O="$obj" ARCH=x86_64 "$@"
}

bash "$BED_DIR/provision.sh"
apt_refresh
version=$(apt-cache policy linux-source-6.12 | sed -n 's/^ *Candidate: //p')
[ -n "$version" ] && [ "$version" != "(none)" ] ||
	die "the archive has no linux-source-6.12"
want="linux-source-6.12 $version config $(sha256sum < "$fragment" | cut -c1-16)"

if [ -f "$dk/.ready" ] && [ "$(cat "$dk/.ready")" = "$want" ]; then
	cat "$dk/kver"
	exit 0
fi

# The sources, unpacked once per source package version.
if [ ! -f "$dk/src/.ready" ] || [ "$(cat "$dk/src/.ready")" != "$version" ]; then
	mkdir -p "$CACHE/debs"
	deb=$CACHE/debs/linux-source-6.12_${version//:/%3a}_all.deb
	if [ ! -f "$deb" ]; then
		log "fetching linux-source-6.12 $version"
		(cd "$CACHE/debs" && apt-get download -qq "linux-source-6.12=$version" 2>/dev/null) ||
			die "apt-get download linux-source-6.12=$version failed"
	fi
	[ -f "$deb" ] || die "apt-get download left no $deb"
	log "unpacking $(basename "$deb")"
	rm -rf "$dk"
	mkdir -p "$dk/src"
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO ./usr/src/linux-source-6.12.tar.xz |
		tar -xJ -C "$dk/src"
	# Only DRM_VMWGFX selects MAPPING_DIRTY_HELPERS, which kvmmig.ko needs
	# (wp_shared_mapping_range(), clean_record_shared_mapping_range()):
	# give it a prompt rather than build DRM.
	sed -i '/^config MAPPING_DIRTY_HELPERS$/{n;s/^\([[:space:]]*\)bool$/\1bool "Mapping dirty helpers"/}' \
		"$src/mm/Kconfig"
	grep -A1 '^config MAPPING_DIRTY_HELPERS$' "$src/mm/Kconfig" | grep -q 'bool "' ||
		die "cannot give MAPPING_DIRTY_HELPERS a prompt in $src/mm/Kconfig"
	echo "$version" > "$dk/src/.ready"
	rm -f "$deb"
fi

# The configuration: tinyconfig, the fragment, then every line of the
# fragment checked (Kconfig drops what it cannot satisfy without a word).
mkdir -p "$obj"
kmake -s tinyconfig > /dev/null
nice -n "$nice_n" "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" \
	"$obj/.config" "$fragment" > "$dk/config.log" 2>&1 ||
	{ cat "$dk/config.log" >&2; die "merge_config.sh failed"; }
kmake -s olddefconfig > /dev/null
missed=()
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	sym=${line%%=*}
	if [ "${line#*=}" = n ]; then
		grep -q "^$sym=" "$obj/.config" && missed+=("$line")
	else
		grep -qxF "$line" "$obj/.config" || missed+=("$line")
	fi
done < "$fragment"
[ ${#missed[@]} -eq 0 ] || die "the debug kernel's .config lacks: ${missed[*]}"

log "building the debug kernel ($jobs jobs, nice $nice_n; log: $dk/build.log)"
start=$SECONDS
if ! kmake -j"$jobs" bzImage modules > "$dk/build.log" 2>&1; then
	tail -n 40 "$dk/build.log" >&2
	die "the debug kernel did not build"
fi
took=$((SECONDS - start))
# The release (with CONFIG_LOCALVERSION) is known once the build has synced
# the configuration.
kver=$(kmake -s kernelrelease)

root=$dk/$kver
rm -rf "$root"
mkdir -p "$root/boot" "$root/usr/src"
cp "$obj/arch/x86/boot/bzImage" "$root/boot/vmlinuz-$kver"
cp "$obj/.config" "$root/boot/config-$kver"
kmake -s INSTALL_MOD_PATH="$root" modules_install >> "$dk/build.log" 2>&1 ||
	die "modules_install failed (see $dk/build.log)"
ln -s "$obj" "$root/usr/src/linux-headers-$kver"
[ -f "$root/lib/modules/$kver/modules.dep" ] && [ -f "$obj/Module.symvers" ] ||
	die "the debug kernel's tree has no modules.dep or Module.symvers"

log "built $kver in $((took / 60)) min $((took % 60)) s; image $(du -h "$root/boot/vmlinuz-$kver" | cut -f1)"
echo "$took" > "$dk/build-seconds"
echo "$kver" > "$dk/kver"
echo "$want" > "$dk/.ready"
echo "$kver"
