#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the build machine's tools with apt-get when any is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(
	build-essential bc bison flex kmod xz-utils cpio dwarves
	libelf-dev
	busybox-static qemu-system-x86 qemu-utils
	libmnl-dev libnl-3-dev libnl-genl-3-dev libjansson-dev
	clang libclang-rt-14-dev
	perl python3
	python3-yaml python3-jsonschema
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}) and not root"
apt_refresh
log "installing ${missing[*]}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
