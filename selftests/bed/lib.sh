# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the test bed scripts; sourced, not run.

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$BED_DIR/../.." && pwd)
CACHE=${CACHE:-$TOP_DIR/.cache}

log() { printf 'bed: %s\n' "$*" >&2; }
die() { printf 'bed: error: %s\n' "$*" >&2; exit 1; }

# apt-get needs a package list before it can resolve anything; refresh it at
# most once per run, and only when asked to resolve.
apt_refreshed=
apt_refresh() {
	[ -n "$apt_refreshed" ] && return 0
	log "refreshing the package lists"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		die "apt-get update failed"
	apt_refreshed=1
}
