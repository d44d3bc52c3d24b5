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

# the stamp covers mkfs.sharefs, which writes images below: without it the
# stamp's pipeline failed and the script exited with no word
[ -x "$top/tools/mkfs.sharefs" ] || die "tools/mkfs.sharefs missing: run make tools"
stamp=$( (cat "$0" "$top/scripts/mktree.py" "$top/scripts/imgtool.py" \
	   "$top/scripts/mklayers.py" \
	   "$top/scripts/manifest.py" "$top/scripts/fuzz/mutate.py";
	  cat "$top/tools/mkfs.sharefs") | sha256sum | cut -c1-16)
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
	mkfs_erofs15 --quiet -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
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

# sharefs NAME PROFILE [mkfs.sharefs options]: our own mkfs
sharefs() {
	local name=$1 src; src=$(tree "$2"); shift 2
	"$top/tools/mkfs.sharefs" -q -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
		"$@" "$out/$name.img" "$src" > /dev/null
	echo "$src" > "$out/$name.tree"
}

# The differential test (selftests/sharefs/diff_test.c) mounts every image of
# diff.list with stock erofs and with sharefs and compares their manifests,
# and compares sharefs's with NAME.manifest, the host manifest of the source
# tree for the fields that builder preserves.
#
# diffimg NAME FIELDS [FLAGS...]: list an image built just before.  FLAGS:
#   needs=X.Y         stock erofs mounts it only from Linux X.Y on; on older
#                     kernels the test compares with NAME.fsck.manifest, the
#                     manifest of the image as fsck.erofs 1.9 extracts it
#   fp=XATTR          every non-empty regular file carries XATTR =
#                     "sha256:" + the raw SHA-256 of its content
#   ignore=XATTR      an xattr the builder adds (not in the source tree);
#                     fp= and ignore= may be given several times
# FIELDS: the manifest fields the builder preserves (scripts/manifest.py).
# Neither mkfs.erofs run here keeps mtimes (-T applies to all files) or
# directory sizes; mkfs.sharefs keeps mtimes.
erofs_fields=type,mode,uid,gid,nlink,size,rdev,data,xattrs,dtype,hl
sharefs_fields=$erofs_fields,mtime
diffimg() {
	local name=$1 fields=$2 f ignore= names=; shift 2
	for f in "$@"; do
		case $f in
		ignore=*|fp=*) names=${names:+$names,}${f#*=} ;;
		esac
	done
	[ -z "$names" ] || ignore="--ignore-xattr $names"
	# shellcheck disable=SC2086
	python3 "$top/scripts/manifest.py" --fields "$fields" $ignore \
		"$(cat "$out/$name.tree")" "$out/$name.manifest"
	case " $* " in
	*" needs="*)
		local x=$out/x.$name
		rm -rf "$x"
		sid_exec fsck.erofs -d0 --extract="$x" --xattrs "$out/$name.img" \
			2> /dev/null
		# shellcheck disable=SC2086
		python3 "$top/scripts/manifest.py" \
			--fields type,mode,uid,gid,nlink,size,mtime,rdev,data,xattrs,dtype,hl \
			--unknown-empty-xattrs "$out/$name.manifest" \
			$ignore "$x" "$out/$name.fsck.manifest"
		rm -rf "$x" ;;
	esac
	echo "$name $*" >> "$out/diff.list"
}

# derive NAME FROM: a copy of image FROM to mutate
derive() { cp "$out/$2.img" "$out/$1.img"; }

# --- good images ------------------------------------------------------------
erofs15 basic basic
echo basic > "$out/direct"	# also attached as its own virtio disk

# --- differential test images (diff.list) ------------------------------------
# Option sets checked against each mkfs's --help: Debian 12's 1.5 has -E
# force-inode-compact/force-inode-extended/noinline_data and --chunksize but
# no -b and no xattr prefixes; 1.9.4 has -b, --xattr-prefix and
# --xattr-inode-digest.  A compact inode cannot hold uid 100000: the
# force-inode-compact image uses the 'compact' tree.
: > "$out/diff.list"
erofs15 e15-default full
diffimg e15-default $erofs_fields
erofs15 e15-compact compact -Eforce-inode-compact
diffimg e15-compact $erofs_fields
erofs15 e15-extended full -Eforce-inode-extended
diffimg e15-extended $erofs_fields
erofs15 e15-noinline full -Enoinline_data
diffimg e15-noinline $erofs_fields
erofs15 e15-chunk4k full --chunksize=4096
diffimg e15-chunk4k $erofs_fields
erofs15 e15-chunk1m full --chunksize=1048576
diffimg e15-chunk1m $erofs_fields
erofs19 e19-default full
diffimg e19-default $erofs_fields
erofs19 e19-b512 full -b 512
diffimg e19-b512 $erofs_fields needs=6.4
erofs19 e19-b1024 full -b 1024 --chunksize=65536
diffimg e19-b1024 $erofs_fields needs=6.4
erofs19 e19-prefix full --xattr-prefix=user.attr
diffimg e19-prefix $erofs_fields needs=6.4
erofs19 e19-digest full --xattr-inode-digest=trusted.fingerprint
diffimg e19-digest $erofs_fields fp=trusted.fingerprint needs=6.4
sharefs s-default full
diffimg s-default $sharefs_fields fp=trusted.fingerprint
sharefs s-b1024 full -b 1024
diffimg s-b1024 $sharefs_fields fp=trusted.fingerprint needs=6.4
sharefs s-ishare full --ishare-xattr
diffimg s-ishare $sharefs_fields fp=trusted.fingerprint needs=6.4
# mkfs.sharefs -z (compress.c, zmeta.c): compact indexes, plain extents
# where nothing shrinks, big pclusters with -C; stock erofs must read every
# file as the source has it (zstd from Linux 6.10).  The tree: 'full' and
# compressible files of awkward sizes, text broken by random runs (plain
# extents, then compressed ones starting mid-block), zeros.
sztree() {
	local d=$trees/szfull
	[ -d "$d" ] && return
	cp -a "$(tree full)" "$d.tmp"
	python3 - "$top/scripts" "$d.tmp/z" <<'PY'
import os, random, sys
sys.path.insert(0, sys.argv[1])
from mktree import word_text
root = sys.argv[2]
os.makedirs(root)
rnd = random.Random(4)
text = word_text(rnd)
def put(name, data):
    with open(os.path.join(root, name), 'wb') as f:
        f.write(data)
for n in (4095, 4097, 8191, 8193, 12289, 65535, 65537, 1048577, 3 << 20):
    put('t%d' % n, text(n))
put('mix', rnd.randbytes(10000) + text(50000) + rnd.randbytes(5000) + text(3))
put('mix2', text(70001) + rnd.randbytes(4099) + text(4098))
put('zeros', bytes(1 << 20))
PY
	ln "$d.tmp/z/t65537" "$d.tmp/z/hard"
	mv "$d.tmp" "$d"
}
sztree
sharefs s-zlz4 szfull -z lz4
diffimg s-zlz4 $sharefs_fields fp=trusted.fingerprint
sharefs s-zlz4hc szfull -z lz4hc,12 -C 65536 --verity
diffimg s-zlz4hc $sharefs_fields fp=trusted.fingerprint ignore=trusted.sharefs.verity
sharefs s-zzstd szfull -z zstd,9 -C 131072
diffimg s-zzstd $sharefs_fields fp=trusted.fingerprint needs=6.10
# --verity: packed Merkle trees in blocks no inode owns,
# trusted.sharefs.verity beside the fingerprint; stock erofs must read
# every file as sharefs does
sharefs s-verity full --verity
diffimg s-verity $sharefs_fields fp=trusted.fingerprint ignore=trusted.sharefs.verity

# --- compressed images (zmap.c, decompress.c, zread.c) -----------------------
# The 'zfull' tree ('full' plus compressible files of awkward sizes, text
# with incompressible runs, zeros, near-duplicates) through unstable's
# mkfs.erofs with each algorithm and layout option.  needs=: the stock
# erofs releases that read them (big pclusters 5.13, ztailpacking 5.17,
# fragments and dedupe 6.1, sub-page blocks 6.4, DEFLATE 6.6, zstd 6.10,
# MicroLZMA built into Debian's kernels from 6.12).  ksym=: the kernel
# symbol sharefs needs for the algorithm; where it is missing (MicroLZMA on
# 6.1) the test expects EOPNOTSUPP reads instead of a comparison.
# -Elegacy-compress writes full indexes, the default compact ones.
zimg() {	# NAME [mkfs.erofs options] -- [diffimg flags]
	local name=$1 opts=() flags=(); shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	flags=("$@")
	erofs19 "$name" zfull "${opts[@]}"
	diffimg "$name" $erofs_fields "${flags[@]}"
}
zimg z-lz4 -zlz4
zimg z-lz4hc -zlz4hc,level=12 -C65536 -- needs=5.13
zimg z-legacy -zlz4 -Elegacy-compress
zimg z-legacybig -zlz4hc -C32768 -Elegacy-compress,ztailpacking,dedupe -- needs=6.1
zimg z-ztail -zlz4hc -C16384 -Eztailpacking -- needs=5.17
zimg z-frag -zlz4 -C32768 -Efragments -- needs=6.1
zimg z-allfrag -zlz4hc -Eall-fragments -- needs=6.1
zimg z-dedupe -zlz4hc -C65536 -Ededupe,fragments -- needs=6.1
zimg z-b1k -b 1024 -zlz4hc -C8192 -Eztailpacking -- needs=6.4
zimg z-b512 -b 512 -zlz4 -Elegacy-compress,fragments -- needs=6.4
zimg z-deflate -zdeflate -C32768 -Eztailpacking -- needs=6.6
zimg z-zstd -zzstd -C131072 -Ededupe,fragments -- needs=6.10
zimg z-zstdlegacy -zzstd,level=19 -Elegacy-compress,ztailpacking -- needs=6.10
zimg z-lzma -zlzma -C65536 -Eztailpacking,fragments -- needs=6.12 ksym=xz_dec_microlzma_alloc
# Two algorithms declared (both records in COMPR_CFGS), the files in the
# first one only: a declared algorithm no file uses.
zimg z-multi -zlz4hc:lzma -C65536 -Eztailpacking -- needs=6.12

# Files of three algorithms in one image.  Compress hints cannot pick them:
# mkfs.erofs 1.9.x reads a hints line as "PCLUSTERSIZE [ALGINDEX] PATTERN"
# and segfaults on any line with an ALGINDEX, because mkfs/main.c loads
# the hints before it sets the table of algorithms the index is checked
# against (importer_params.z_paramsets, NULL then); lines without one work
# and all use the first algorithm.  Debian 12's 1.5 has hints but one
# algorithm.  So z-mix is written in three passes over three copies of the
# zfull tree's z/: LZ4HC for a-lz4/ with all three algorithms declared,
# then --incremental=data adds b-lzma/ with MicroLZMA and c-zstd/ with
# zstd.  dump.erofs proves each directory's algorithm: the extents of its
# files (logical ranges, compressed lengths) equal those of an image of
# that directory alone with that one algorithm.
zmix_extents() {	# IMAGE PATH: dump.erofs's extents without addresses
	sid_exec dump.erofs --path="$2" -e "$1" | grep -E '^ +[0-9]+:' |
		awk '{ print $1, $2, $3, $5, $NF }'
}
zmix() {
	local d=$trees/zmix p dir alg opts f
	rm -rf "$d" && mkdir -p "$d"
	for p in a-lz4:lz4hc b-lzma:lzma c-zstd:zstd; do
		dir=${p%%:*} alg=${p#*:}
		rm -rf "$trees/zmix-$dir" && mkdir -p "$trees/zmix-$dir"
		cp -a "$(tree zfull)/z" "$trees/zmix-$dir/$dir"
		cp -a "$(tree zfull)/z" "$d/$dir"
		# the first pass declares every algorithm, the others add to it
		opts=(--incremental=data "-z$alg")
		[ "$dir" = a-lz4 ] && opts=(-zlz4hc:lzma:zstd)
		erofs19 z-mix "zmix-$dir" "${opts[@]}" -C65536 -Eztailpacking
		erofs19 z-mix-one "zmix-$dir" "-z$alg" -C65536 -Eztailpacking
		for f in "$trees/zmix-$dir/$dir"/*; do
			[ -f "$f" ] && [ ! -L "$f" ] || continue
			[ "$(zmix_extents "$out/z-mix.img" "/$dir/${f##*/}")" = \
			  "$(zmix_extents "$out/z-mix-one.img" "/$dir/${f##*/}")" ] ||
				die "z-mix: /$dir/${f##*/} is not $alg"
		done
	done
	# and the check can fail: the three algorithms cut z/large differently
	[ "$(for dir in a-lz4 b-lzma c-zstd; do
		zmix_extents "$out/z-mix.img" "/$dir/large" | md5sum
	     done | sort -u | wc -l)" = 3 ] || die "z-mix: the algorithms did not differ"
	rm -f "$out/z-mix-one.img" "$out/z-mix-one.tree"
	echo "$d" > "$out/z-mix.tree"
}
zmix
diffimg z-mix $erofs_fields needs=6.12 ksym=xz_dec_microlzma_alloc

# --- I/O path test images ------------------------------------------------------
# The same 'io' tree three times: Debian 12's mkfs.erofs default (flat files,
# inline tails), unstable's with 4 KiB chunks (the sparse file has holes)
# and fingerprints, and mkfs.sharefs.  io.manifest holds the content digests.
erofs15 io io
erofs19 io-chunk io --chunksize=4096 --xattr-inode-digest=trusted.fingerprint
sharefs io-sharefs io
python3 "$top/scripts/manifest.py" --fields type,size,data "$trees/io" \
	"$out/io.manifest"

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

# --- corrupted images for corrupt_test.c -------------------------------------
# Each is 'basic' (Debian 12's mkfs.erofs: metadata in block 0, compact
# inodes, inline tails) with one inconsistency, made by imgtool.py.
img() { python3 "$top/scripts/imgtool.py" "$out/$1.img" "${@:2}"; }
derive c-magic basic;	img c-magic set magic 0x12345678
derive c-csum basic;	img c-csum flip $((1024 + 0x40))	# the volume name
derive c-rootnid basic;	img c-rootnid set rootnid_2b 0xffff
derive c-meta basic;	img c-meta set meta_blkaddr 0x7fffffff
# a dirent's name offset past the end of the directory block
derive c-nameoff basic;	img c-nameoff dirent / blk nameoff 0xfff0
# names out of order: "sub" starts before "big"
derive c-nameorder basic; img c-nameorder dirent /dir sub nameoff 50
# dir/sub is dir itself: a directory loop
derive c-loop basic;	img c-loop dirent /dir sub nid nid:/dir
# an xattr area far past the inode's block
derive c-xattr basic;	img c-xattr inode /small.txt xattr_icount 0xffff
# an inline tail of 4000 bytes that starts at 1824: crosses the block end
derive c-inline basic;	img c-inline inode /dir/sub/deep.txt size 4000
# a chunk of dir/big at a block far past the device
mkfs_erofs15 --quiet -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
	--chunksize=4096 "$out/c-chunk.img" "$(tree basic)" > /dev/null
img c-chunk chunk /dir/big 3 0x7ffffff0
# xattrs the long fuzz run found wrong errnos on (now EUCLEAN): an ACL
# entry renamed to security. with no suffix, and an ACL with a bogus tag
derive c-xattrname e15-default;	img c-xattrname acl index 6
derive c-acl e15-default;	img c-acl acl tag 0
# data blocks missing: the superblock says (and the device has) 2 blocks,
# the metadata fits in block 0, dir/big's data is gone
derive c-truncdata basic; img c-truncdata set blocks 2
truncate -s 8192 "$out/c-truncdata.img"

# compressed files (z-legacy: LZ4, full indexes; z-legacybig: LZ4HC, big
# pclusters; z-ztail: compact indexes, ztailpacking), /z/large (3 MiB of
# text, HEADs at lclusters 0, 2, 4...): a HEAD's pcluster past the device,
# NONHEADs that run the first extent past its pcluster's output, a HEAD's
# clusterofs past its lcluster, 0xff over a pcluster (LZ4 garbage), an
# algorithm the superblock does not declare, a CBLKCNT of 2047 blocks, an
# inline pcluster larger than its block
derive c-zhead z-legacy;	img c-zhead zindex /z/large 0 blkaddr 0x7ffffff0
derive c-zdelta z-legacy;	img c-zdelta zindex /z/large 2 advise 2
img c-zdelta zindex /z/large 2 delta0 0x7ff
derive c-zclusterofs z-legacy;	img c-zclusterofs zindex /z/large 2 clusterofs 0xffff
derive c-zgarbage z-legacy;	img c-zgarbage zgarbage /z/large 0
derive c-zalg z-legacy;		img c-zalg zheader /z/large algs 0x33
derive c-zcblk z-legacybig;	img c-zcblk zindex /z/large 1 advise 2
img c-zcblk zindex /z/large 1 delta0 0xfff
derive c-zidata z-ztail;	img c-zidata zheader /z/large idata 0xfff0

# --- page-cache sharing, for share_test.c -----------------------------------
# the same content at other paths (b), in another layout (a1k), from the
# upstream tool with the ishare pointer (e19), and two liars: Debian 12's
# mkfs.erofs copies the tree's forged trusted.fingerprint as it is
# (mkfs.sharefs never copies one from its source)
sharefs share-a share
sharefs share-b shareb
sharefs share-a1k share -b 1024
erofs19 share-e19 share --xattr-inode-digest=trusted.fingerprint
# the same content in eight more layouts, for the stress test's mounts: no
# two mounts read a shared file at the same block addresses
sharefs share-a2k share -b 2048
sharefs share-pad sharepad
sharefs share-pad1k sharepad -b 1024
sharefs share-pad2k sharepad -b 2048
sharefs share-b1k shareb -b 1024
sharefs share-b2k shareb -b 2048
erofs19 share-e19pad sharepad --xattr-inode-digest=trusted.fingerprint
erofs15 share-lie sharelie
erofs15 share-spoof sharespoof
# share-a's tree with fs-verity metadata (mkfs --verity: packed Merkle
# trees, trusted.sharefs.verity), with 4096- and 1024-byte blocks
sharefs share-v share --verity
sharefs share-v1k share --verity -b 1024
# one data source per read call: lib/chunky.so (4 KiB chunks) at other
# block addresses in cx and cy, its chunks interleaved in runs of 16 with
# lib/pad.so's, so that cy's run j starts on its device exactly where cx's
# run j-1 ends on its own
erofs15 share-cx sharechunk --chunksize=4096
derive share-cy share-cx
img share-cx interleave lib/chunky.so lib/pad.so 16 1
img share-cy interleave lib/chunky.so lib/pad.so 16 0
# fingerprints that cannot be read (corrupt_test.c): share-a with the
# xattr areas of two files damaged (a shared xattr count past the area);
# their data is intact
derive c-fpxattr share-a
img c-fpxattr inode /lib/big.so xattr_shared 0xff
img c-fpxattr inode /lib/mid.so xattr_shared 0xff

# compressed members (share_test.c): the 'sharez' tree (compressible text)
# uncompressed, LZ4HC with 64 KiB pclusters, zstd with ztailpacking
erofs19 sharez-plain sharez --xattr-inode-digest=trusted.fingerprint
erofs19 sharez-lz4 sharez -zlz4hc -C65536 --xattr-inode-digest=trusted.fingerprint
erofs19 sharez-zstd sharez -zzstd -Eztailpacking --xattr-inode-digest=trusted.fingerprint
# and by mkfs.sharefs -z (cfuzz_test.c, with the three above)
sharefs sharez-s sharez -z lz4hc -C 16384

# --- the concurrency fuzzer (cfuzz_test.c) ----------------------------------
# The share content in every layout the readers have: cfuzz.list names each
# image with the manifest of its source tree (paths, sizes, SHA-256), the
# fuzzer's reference.  Besides the stress test's eleven: 512-byte blocks,
# mkfs.erofs 1.5 flat without inline data and chunk-based (4 KiB chunks;
# the fingerprints come with the 'sharefp' tree, as 1.5 cannot compute
# them), mkfs.erofs 1.9 chunk-based in 1 KiB blocks.  share-e15chunk is
# also attached as its own disk, for mounts of a block device.
sharefs share-a512 share -b 512
erofs15 share-e15flat sharefp -Enoinline_data
erofs15 share-e15chunk sharefp --chunksize=4096
erofs19 share-e19c1k share -b 1024 --chunksize=4096 --xattr-inode-digest=trusted.fingerprint
echo share-e15chunk >> "$out/direct"
for t in share shareb sharepad sharez; do
	python3 "$top/scripts/manifest.py" --fields type,size,data "$trees/$t" \
		"$out/cfuzz-$t.manifest"
done
{
	echo "# IMAGE MANIFEST: the images cfuzz_test mounts, their source trees"
	for i in share-a share-a2k share-a1k share-a512 share-e19 share-e15flat \
		 share-e15chunk share-e19c1k; do
		echo "$i cfuzz-share.manifest"
	done
	for i in share-b share-b2k share-b1k; do echo "$i cfuzz-shareb.manifest"; done
	for i in share-pad share-pad2k share-pad1k share-e19pad; do
		echo "$i cfuzz-sharepad.manifest"
	done
	# compressed members, with one plain one of the same content:
	# readahead jobs in the workqueue while their mounts go (zread.c)
	for i in sharez-plain sharez-lz4 sharez-zstd sharez-s; do
		echo "$i cfuzz-sharez.manifest"
	done
} > "$out/cfuzz.list"

# --- image files on a host filesystem (host_test.c) -------------------------
# An ext4 disk holding image *files*, as a container host keeps them: the
# VM mounts it and mounts the files with mount.sharefs.  io-copy is the same
# image again (a second file to share with); junk is not an image.
# Attached as its own disk only (hostfs.disk, not *.img: it holds images).
# tools-a and tools-b hold the same static busybox at different block
# addresses (b has a padding file first), for overlay_test's containers.
hostfs() {
	local d=$trees/hostfs t
	rm -rf "$d" && mkdir -p "$d"
	cp "$out/io-sharefs.img" "$d/io.sharefs"
	cp "$out/io-sharefs.img" "$d/io-copy.sharefs"
	cp "$out/io.img" "$d/io.erofs"
	for t in a b; do
		rm -rf "$trees/tools-$t" && mkdir -p "$trees/tools-$t/bin" "$trees/tools-$t/etc/d"
		[ $t = b ] && head -c 300000 /dev/zero > "$trees/tools-$t/0pad"
		cp /bin/busybox "$trees/tools-$t/bin/busybox"
		echo "from the image" > "$trees/tools-$t/etc/d/lower"
		echo "deleted above" > "$trees/tools-$t/etc/gone"
		"$top/tools/mkfs.sharefs" -q -T1700000000 "$d/tools-$t.sharefs" \
			"$trees/tools-$t" > /dev/null
	done
	head -c 65536 /dev/zero | tr '\0' 'j' > "$d/junk.img"
	rm -f "$out/hostfs.disk"
	mkfs.ext4 -q -F -O ^has_journal -b 4096 -E root_owner=0:0 -d "$d" \
		"$out/hostfs.disk" 64M > /dev/null || die "mkfs.ext4 of the hostfs disk failed"
	rm -rf "$d"
}
hostfs

# --- verified sharing (verity_test.c) ------------------------------------------
# share-v (above) and share-vpad: the same files at other addresses, with
# fs-verity trees; share-vlie: other bytes of lib/big.so (sharespoof's, same size)
# with their own valid tree, and share-v's root hash and fingerprint
# patched in; the flips: one bit of lib/big.so's data, tree or root hash.
sharefs share-vpad sharepad --verity
sharefs share-vlie sharespoof --verity
python3 "$top/scripts/verity-images.py" liar "$out/share-vlie.img" \
	"$(tree share)/lib/big.so" "$(tree sharespoof)/lib/big.so"
for f in data tree root; do
	derive "share-vflip${f:0:1}" share-v
	python3 "$top/scripts/verity-images.py" flip "$out/share-vflip${f:0:1}.img" \
		$f "$(tree share)/lib/big.so"
done

# --- failing and stacked devices (fail_test.c) --------------------------------
# share-a under dm-verity: its hash tree as a disk of its own, and the
# verity parameters (data blocks, root hash, salt) as a side file.  A fixed
# salt keeps the images reproducible.
verity() {
	local log=$trees/verity.log
	rm -f "$out/share-a-hash.disk"
	veritysetup format --no-superblock --salt=5348415245465321 \
		"$out/share-a.img" "$out/share-a-hash.disk" > "$log" ||
		die "veritysetup format of share-a failed"
	awk -F: '/^Data blocks/ { b = $2 } /^Root hash/ { r = $2 } /^Salt/ { s = $2 }
		END { gsub(/[ \t]/, "", b); gsub(/[ \t]/, "", r); gsub(/[ \t]/, "", s)
		      print b, r, s }' "$log" > "$out/share-a.verity"
	[ "$(wc -w < "$out/share-a.verity")" = 3 ] || die "no verity parameters in $log"
}
verity
# A disk with an MBR partition table: share-a in partition 1, share-e19 in
# partition 2 (sharefs on a partition, and dm-linear over one).
python3 - "$out/parts.disk" "$out/share-a.img" "$out/share-e19.img" <<'PY' ||
import struct, sys
disk, images = sys.argv[1], sys.argv[2:]
entries, lba, data = b'', 2048, []
for img in images:
    body = open(img, 'rb').read()
    sectors = (len(body) + 511) // 512
    # type 0x83, not bootable; CHS fields unused (0xfe/0xff: "use LBA")
    entries += struct.pack('<B3sB3sII', 0, b'\xfe\xff\xff', 0x83,
                           b'\xfe\xff\xff', lba, sectors)
    data.append((lba, body))
    lba += (sectors + 2047) // 2048 * 2048
with open(disk, 'wb') as f:
    f.truncate(lba * 512)
    f.write(bytes(446) + entries.ljust(64, b'\0') + b'\x55\xaa')
    for start, body in data:
        f.seek(start * 512)
        f.write(body)
PY
	die "cannot write the partitioned disk"

# --- OCI layers with whiteouts (mkfs --aufs) ---------------------------------
# Three layer tars (scripts/mklayers.py).  One layer: mkfs.sharefs --aufs
# must write the tree mkfs.erofs 1.9 --aufs writes.  All three, flattened by
# mkfs.sharefs: the tree overlayfs shows over mkfs.erofs's three single-layer
# images.  diff_test compares each with stock erofs mounts of the others
# (flag same=, top layer first).
python3 "$top/scripts/mklayers.py" "$trees/layers"
for i in 1 2 3; do
	sid_exec mkfs.erofs -d0 -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
		--tar=f --aufs "$out/aufs-l$i-e19.img" "$trees/layers/layer$i.tar" > /dev/null
done
for i in 1 2 3; do	# overlay_test stacks these sharefs layers
	"$top/tools/mkfs.sharefs" -q -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
		--tar --aufs "$out/aufs-l$i.img" "$trees/layers/layer$i.tar"
done
"$top/tools/mkfs.sharefs" -q -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 \
	--tar --aufs "$out/aufs-flat.img" "$trees/layers/layer"[123].tar
echo "aufs-l2 fp=trusted.fingerprint same=aufs-l2-e19" >> "$out/diff.list"
echo "aufs-flat fp=trusted.fingerprint same=aufs-l3-e19:aufs-l2-e19:aufs-l1-e19" >> "$out/diff.list"

# --- the short fuzz pass of make check (fuzz_test.c) ---------------------------
# A fixed set of mutants of the images above, as patches (scripts/fuzz/
# mutate.py); smaller bases weigh more, for a pass well under a minute.
# Mutant 1:I as an image: scripts/fuzz.sh --repro-list build/images/fuzz.list I
python3 "$top/scripts/fuzz/mutate.py" list --seed 1 --count 150 --bases "$out" \
	--base basic --base basic --base share-a --base share-e19 \
	--base share-a1k --base s-ishare --base e19-b1024 --out "$out/fuzz.list"

# Mutants of compressed images (map headers, full indexes, compact packs,
# pcluster bytes): fuzz_test -l /images/zfuzz.list
python3 "$top/scripts/fuzz/mutate.py" list --seed 1 --count 300 --bases "$out" \
	--base sharez-lz4 --base sharez-zstd --base z-legacy --base z-legacybig \
	--out "$out/zfuzz.list"

echo "$stamp" > "$out/.stamp"
log "images: $(ls "$out"/*.img | wc -l) in build/images"
