#!/bin/bash
# scripts/tests/compress-vm.sh [TAG] - stock erofs of kernel TAG (default
# 6.12) against the source tree for the mkfs.sharefs -z images of
# build/images (s-z*, from scripts/build-images.sh), in one VM boot that
# also runs diff_test.  For each image, the guest (scripts/vm/zcheck.sh)
# mounts it with stock erofs and compares every path and every regular
# file's SHA-256 with lists made here, with busybox, from the source tree.
# Needs build/TAG/sharefs.ko, build/selftests and build/images.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
tag=${1:-6.12}
lists=$(mktemp -d /var/tmp/sharefs-zcheck.XXXXXX)
trap 'rm -rf "$lists"' EXIT
cp "$top/scripts/vm/zcheck.sh" "$lists/"
for t in "$top"/build/images/s-z*.tree; do
	[ -e "$t" ] || die "no s-z* images in build/images (scripts/build-images.sh)"
	n=$(basename "$t" .tree) src=$(cat "$t")
	busybox sh -c 'cd "$1" && find . | sort' _ "$src" > "$lists/$n.paths"
	busybox sh -c 'cd "$1" && find . -type f | sort |
		while read -r f; do sha256sum "$f"; done' _ "$src" > "$lists/$n.sums"
done
SHAREFS_EXTRA_BIN=$lists "$top/scripts/vm-run.sh" "$tag" \
	--cmd '/tests/diff_test; sh /bin/zcheck.sh' --timeout 2400
