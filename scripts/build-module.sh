#!/bin/bash
# scripts/build-module.sh - build sharefs.ko for one test kernel.
#
#   scripts/build-module.sh TAG [make arguments...]
#
# Builds in build/TAG/src, a copy of Kbuild and fs/ (so the three kernels'
# objects never mix), and leaves build/TAG/sharefs.ko.  For the unstable
# kernel, whose headers need unstable's compiler, the copy lives inside the
# chroot and make runs there.  W=1 is always on: warnings are bugs here.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

tag=${1:?usage: build-module.sh TAG}; shift
kdir=$KERNELS_DIR/$tag
[ -f "$kdir/kdir" ] || "$top/scripts/kernels.sh" "$tag"
headers=$(cat "$kdir/kdir")
out=$top/build/$tag
mkdir -p "$out"

sync_src() {	# destination
	mkdir -p "$1/fs/sharefs"
	# stale sources must not linger; -p keeps the mtimes, so make
	# rebuilds only what changed
	find "$1/fs/sharefs" -maxdepth 1 -name '*.[ch]' -delete
	cp -p "$top/Kbuild" "$1/Kbuild"
	cp -p "$top"/fs/sharefs/*.[ch] "$1/fs/sharefs/"
}

log_file=$out/build.log
case $(cat "$kdir/builder") in
host)
	sync_src "$out/src"
	make -C "$headers" M="$out/src" W=1 -j2 "$@" modules > "$log_file" 2>&1 ||
		{ cat "$log_file" >&2; die "build for $tag failed"; }
	cp "$out/src/sharefs.ko" "$out/sharefs.ko"
	;;
sid)
	# one directory per work tree: clones side by side share the chroot
	sub=build/sharefs-$(printf '%s' "$top" | sha256sum | cut -c1-12)
	sync_src "$SID_ROOT/$sub"
	sid_chroot_run make -C "$headers" M="/$sub" W=1 -j2 "$@" modules \
		> "$log_file" 2>&1 ||
		{ cat "$log_file" >&2; die "build for $tag failed"; }
	cp "$SID_ROOT/$sub/sharefs.ko" "$out/sharefs.ko"
	;;
esac
# warnings are errors in our own code
if grep -E 'warning:' "$log_file" | grep -v 'Skipping BTF' | grep -q .; then
	grep -E 'warning:' "$log_file" >&2
	die "build for $tag has warnings"
fi
log "$tag: build/$tag/sharefs.ko"
