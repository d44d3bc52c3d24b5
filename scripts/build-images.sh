#!/bin/bash
# scripts/build-images.sh - build the VM test images into build/images/.
#
# Trees come from scripts/mktree.py (deterministic), images from Debian 12's
# mkfs.erofs (1.5), unstable's mkfs.erofs (1.9.x, run from the chroot) and
# our own mkfs.sharefs, with their layout options; bad images are derived
# from good ones with scripts/imgtool.py.  Everything is rebuilt when a
# script or a tool that makes them changes.
#
# The list of images, one per line "NAME BUILDER ARGS...", is the table at
# the bottom; selftests refer to images by NAME.  build/images/NAME.tree
# records the source tree of each image, for the tests that compare against
# it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/images
trees=$top/build/trees

stamp=$( (cat "$0" "$top/scripts/mktree.py" "$top/scripts/imgtool.py";
	  cat "$top/tools/mkfs.sharefs" 2>/dev/null) | sha256sum | cut -c1-16)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
	log "images up to date"
	exit 0
fi
rm -rf "$out" "$trees"
mkdir -p "$out" "$trees"

tree() {	# profile -> path of the tree, built once
	[ -d "$trees/$1" ] || python3 "$top/scripts/mktree.py" "$1" "$trees/$1"
	echo "$trees/$1"
}

# erofs15 NAME PROFILE [mkfs.erofs options]: Debian 12's mkfs.erofs
erofs15() {
	local name=$1 src; src=$(tree "$2"); shift 2
	mkfs.erofs --quiet -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
		"$@" "$out/$name.img" "$src" > /dev/null
	echo "$src" > "$out/$name.tree"
}

# erofs19 NAME PROFILE [mkfs.erofs options]: unstable's mkfs.erofs
erofs19() {
	local name=$1 src; src=$(tree "$2"); shift 2
	sid_exec mkfs.erofs -d0 -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
		"$@" "$out/$name.img" "$src" > /dev/null
	echo "$src" > "$out/$name.tree"
}

# derive NAME FROM: a copy of image FROM to mutate
derive() { cp "$out/$2.img" "$out/$1.img"; }

# --- good images ------------------------------------------------------------
erofs15 basic basic
echo basic > "$out/direct"	# also attached as its own virtio disk

# --- bad images -------------------------------------------------------------
# not EROFS at all: text and zeros
{ echo "this is not an EROFS image"; head -c 1M /dev/zero; } > "$out/notfs.img"
# the superblock survives, most of the blocks do not
derive truncated basic
truncate -s 8192 "$out/truncated.img"
# one byte of the checksummed superblock block changed, checksum left alone
derive badcsum basic
python3 "$top/scripts/imgtool.py" "$out/badcsum.img" flip $((1024 + 0x7f))
# an incompat feature bit no reader knows, with a valid checksum
derive badincompat basic
python3 "$top/scripts/imgtool.py" "$out/badincompat.img" set feature_incompat 0x40000000

echo "$stamp" > "$out/.stamp"
log "images: $(ls "$out"/*.img | wc -l) in build/images"
