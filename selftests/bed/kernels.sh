#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh SERIES...  (SERIES is 6.12 or 6.1)
#
# Resolve the newest Debian kernel of each series the archive carries, fetch
# its image and headers packages into $CACHE/debs and unpack them under
# $CACHE/kernels/KVER.  Prints one KVER per series on stdout.  Versions move
# with security updates, so nothing here names one.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

newest_image() {
	local series=$1 re
	case "$series" in
	6.12)	re='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' ;;
	6.1)	re='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	*)	die "unsupported kernel series '$series' (want 6.12 or 6.1)" ;;
	esac
	apt-cache pkgnames linux-image- | grep -E "$re" | sort -V | tail -n 1
}

# Names of the packages that make a headers tree usable: the flavour
# package, the common sources it includes, and kbuild's scripts.
header_packages() {
	local kver=$1
	echo "linux-headers-$kver"
	apt-cache depends "linux-headers-$kver" |
		sed -n 's/^ *Depends: \(linux-headers-[^ ]*-common\)$/\1/p; s/^ *Depends: \(linux-kbuild-[^ ]*\)$/\1/p'
}

fetch_kernel() {
	local series=$1 image kver root debs pkgs p
	apt_refresh
	image=$(newest_image "$series")
	[ -n "$image" ] || die "no linux-image for series $series in the archive"
	kver=${image#linux-image-}
	root=$CACHE/kernels/$kver
	if [ -f "$root/.ready" ]; then
		echo "$kver"
		return
	fi

	debs=$CACHE/debs
	mkdir -p "$debs"
	mapfile -t pkgs < <(echo "$image"; header_packages "$kver")
	[ ${#pkgs[@]} -ge 3 ] || die "cannot resolve the headers of $kver"
	log "fetching ${pkgs[*]}"
	(cd "$debs" && apt-get download -qq "${pkgs[@]}" 2>/dev/null) ||
		die "apt-get download ${pkgs[*]} failed"

	rm -rf "$root"
	mkdir -p "$root"
	for p in "${pkgs[@]}"; do
		dpkg -x "$(ls -t "$debs/${p}"_*.deb | head -n 1)" "$root"
	done
	# The flavour Makefile includes the common tree by absolute path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" \
		"$root/usr/src/linux-headers-$kver/Makefile"
	depmod -b "$root" "$kver"
	for p in "${pkgs[@]}"; do rm -f "$debs/${p}"_*.deb; done
	touch "$root/.ready"
	echo "$kver"
}

[ $# -gt 0 ] || die "usage: kernels.sh SERIES..."
for s in "$@"; do
	fetch_kernel "$s"
done
