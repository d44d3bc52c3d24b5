#!/bin/bash
# scripts/bench/trees.sh - the real-world trees of the demo and the benchmarks.
#
#   scripts/bench/trees.sh            build what is missing, print nothing else
#
# Two Debian 12 root trees, as two container images built on one base:
#   base    debootstrap --variant=minbase bookworm
#   python  the same base with python3 installed on top (apt-get inside a
#           copy of the base tree; the chroot's own sources.list only)
# Both are cleaned the way container images are (no .deb files, no apt
# lists), so what the images hold is the installed system.  They live in $SHAREFS_CACHE/demo/trees/ and are built only when missing
# (a tree is complete when its .sharefs-ready stamp exists).  The machine's
# own apt sources are never read or changed.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

DEMO_CACHE=$SHAREFS_CACHE/demo
trees=$DEMO_CACHE/trees
mkdir -p "$trees"

step() { printf '  %-44s' "$1" >&2; }
done_in() { printf 'done (%ss)\n' $(( $(date +%s) - $1 )) >&2; }

# inside a tree: run a command with /proc and a resolver, undone afterwards
in_chroot() {	# root cmd...
	local root=$1 rc=0; shift
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	mount -t proc proc "$root/proc"
	chroot "$root" "$@" || rc=$?
	umount "$root/proc"
	return $rc
}

base_tree() {
	local t=$trees/base start
	[ -f "$t/.sharefs-ready" ] && return 0
	host_install debootstrap debian-archive-keyring
	step "debootstrap minbase bookworm (base)"
	start=$(date +%s)
	rm -rf "$t"
	debootstrap --variant=minbase bookworm "$t" "$DEBIAN_MIRROR" \
		> "$DEMO_CACHE/debootstrap-base.log" 2>&1 ||
		die "debootstrap failed, see $DEMO_CACHE/debootstrap-base.log"
	# the mirror this machine reaches may be a frozen copy
	echo 'Acquire::Check-Valid-Until "false";' \
		> "$t/etc/apt/apt.conf.d/99sharefs"
	clean_tree "$t"
	touch "$t/.sharefs-ready"
	done_in "$start"
}

clean_tree() {	# root
	rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/cache/apt/*.bin \
		"$1"/var/lib/apt/lists/*
	mkdir -p "$1/var/lib/apt/lists/partial"
}

python_tree() {
	local t=$trees/python start
	[ -f "$t/.sharefs-ready" ] && return 0
	step "base + apt-get install python3 (python)"
	start=$(date +%s)
	rm -rf "$t"
	cp -a "$trees/base" "$t"
	rm -f "$t/.sharefs-ready"
	in_chroot "$t" env DEBIAN_FRONTEND=noninteractive sh -c \
		'apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 && apt-get clean' \
		> "$DEMO_CACHE/python.log" 2>&1 ||
		die "installing python3 failed, see $DEMO_CACHE/python.log"
	clean_tree "$t"
	touch "$t/.sharefs-ready"
	done_in "$start"
}

base_tree
python_tree
