# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the test bed scripts; sourced, not run.

BED_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$BED_DIR/../.." && pwd)
CACHE=${CACHE:-$TOP_DIR/.cache}

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
