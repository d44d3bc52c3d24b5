#!/bin/bash
# scripts/bench/scale.sh - 100 containers on one host (issue 11, item 6).
#
#   scripts/bench/scale.sh [-n CONTAINERS] [-f FILES] [-m VM_MiB] [-p PHASES]
#
# Each container is a shared base layer of about FILES files plus a small
# app layer of its own (scripts/bench/mkscale.py); N (CONTAINERS) is 100.
# FILES is 5000 by default, half the issue's 10000: every phase reads all
# N x FILES files under QEMU's TCG, at about 0.4 ms a file cold, and the
# whole run has to stay near a quarter of an hour; -f 10000 takes twice
# as long and, for the phase that keeps 100 bases' metadata in memory,
# about 6 GiB (-m 6144).  On the host,
# offline, every layer becomes an image file twice: by mkfs.sharefs for
# sharefs and by Debian 12's mkfs.erofs 1.5 for stock erofs; a base image
# is built once per container as well (base-NNN: the same files, own
# UUID), as a host holds bases that are rebuilds of one another.  The image
# files go on an ext4 disk.  In one boot of Debian 12's 6.12 kernel under
# QEMU (scripts/bench/scale-vm.sh), for each driver and layout:
#   one    one base image mounted once under all containers, + N app layers
#   many   N base images, one per container, + N app layers
# it mounts every layer file (sharefs: mount.sharefs, what `mount -t
# sharefs FILE DIR` runs; erofs: a direct-I/O loop device, the best stock
# erofs can do), stacks an overlayfs per container (lowerdir=app:base,
# upper on tmpfs), reads every file through every container, and measures
# mount times, the page cache against the ideal (distinct contents,
# scripts/bench/ideal.py) and the slab memory per inode.  A fifth phase
# (erofs-file) only times file-backed erofs mounts of every layer, the way
# containerd mounts them on 6.12.  A sixth, not run unless asked for
# (-p sharefs-noinline), is sharefs on "many" again, with images written by
# unstable's mkfs.erofs 1.9 -Enoinline_data --xattr-inode-digest, on a
# disk of their own: what keeping file tails out of the metadata blocks
# saves.  Stock erofs on
# "many" needs N private copies of the base in its page cache, more than
# the VM holds: there the page cache is dropped after each container and
# the growth summed (scripts/bench/scale-vm.sh says how).
#
# Prints the tables; writes nothing into the tree but build/bench/scale/
# (the VM's raw output).  Trees and the disk are cached in
# $SHAREFS_CACHE/scale and built again only when mkscale.py or a mkfs is
# newer.  PHASES (default: the five above) picks phases, e.g.
# -p "sharefs-many sharefs-noinline".
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/bench/common.sh

usage() { die "usage: ${0##*/} [-n CONTAINERS] [-f FILES] [-m VM_MiB] [-p PHASES]"; }
n=100 files=5000 mem=4096
phases="erofs-file erofs-one sharefs-one erofs-many sharefs-many"
while getopts n:f:m:p: o; do
	case $o in
	n) n=$OPTARG ;;
	f) files=$OPTARG ;;
	m) mem=$OPTARG ;;
	p) phases=$OPTARG ;;
	*) usage ;;
	esac
done
[ $# -ge "$OPTIND" ] && usage
case $n$files$mem in *[!0-9]*) usage ;; esac
[ "$n" -ge 1 ] && [ "$n" -le 999 ] || die "-n: 1 to 999 containers"

# other jobs share this host: everything here, the VM included, yields
renice -n 10 -p $$ > /dev/null || true

cache=$SHAREFS_CACHE/scale/f$files-n$n
trees=$cache/trees
out=$BENCH_OUT/scale
mkdir -p "$cache" "$out"
t0=$(date +%s)

echo "== sharefs scale: $n containers on a base of $files files" >&2
prepare_612 "$out"

# true when STAMP is missing or older than any of FILES...
stale() {	# stamp files...
	local s=$1; shift
	[ ! -f "$s" ] || [ -n "$(find "$@" -newer "$s" 2>/dev/null)" ]
}

# The base tree and the N app trees (deterministic: see mkscale.py).
make_trees() {
	stale "$trees/.ready" scripts/bench/mkscale.py || return 0
	step "trees: base and $n app layers"
	rm -rf "$trees"
	python3 scripts/bench/mkscale.py "$trees" --files "$files" --apps "$n" \
		> "$cache/trees.log" 2>&1 || die "mkscale.py failed, see $cache/trees.log"
	touch "$trees/.ready"
	stepdone "$(cat "$cache/trees.log")"
}

# Every layer image of one writer into DIR: base-NNN and app-NNN.  Each
# base is its own mkfs run: a distinct file (its own UUID) of equal files.
make_images() {	# writer dir
	local w=$1 d=$2 i c
	mkdir -p "$d"
	for i in $(seq 0 $((n - 1))); do
		c=$(printf %03d "$i")
		image_of "$w" "$d/base-$c.img" "$trees/base"
		image_of "$w" "$d/app-$c.img" "$trees/app-$c"
	done
}

# one mkfs run; its output (mkfs.erofs 1.5 lists every file) is kept only
# for the last one.  Writer noinline: unstable's mkfs.erofs 1.9 with its
# digest as the fingerprint and no tail packing (-Enoinline_data, as
# containerd's EROFS snapshotter writes layers).
image_of() {	# writer image tree
	case $1 in
	noinline) sid_exec mkfs.erofs -Enoinline_data \
		--xattr-inode-digest=trusted.fingerprint "$2" "$3" ;;
	*) mkfs_run "$@" ;;
	esac > "$cache/mkfs.log" 2>&1 || die "mkfs ($1) of $2 failed, see $cache/mkfs.log"
}

writer_tool() {	# writer
	case $1 in
	sharefs) echo tools/mkfs.sharefs ;;
	erofs) command -v mkfs.erofs ;;
	noinline) echo "$SID_ROOT/usr/bin/mkfs.erofs" ;;
	esac
}

# The ext4 disk NAME.disk of image files, as a container host keeps its
# layers: a directory per writer, each with base-NNN.img and app-NNN.img.
# The images exist only inside it (N copies of the base twice over would
# take the disk's size again).
make_disk() {	# name writers...
	local name=$1 stage=$cache/stage bytes start w tools=() sizes=
	shift
	for w in "$@"; do tools+=("$(writer_tool "$w")"); done
	stale "$cache/$name.disk" "$trees/.ready" "${tools[@]}" || return 0
	step "images: $((2 * n * $#)) ($*)"
	start=$(date +%s)
	rm -rf "$stage" "$cache/$name.disk"
	for w in "$@"; do
		make_images "$w" "$stage/$w"
		sizes="$sizes${sizes:+ + }$(du -sm "$stage/$w" | cut -f1)"
	done
	stepdone "$(( $(date +%s) - start ))s, $sizes MiB"
	step "host disk $name: ext4 of the image files"
	rm -rf "$stage"/*/.mkfs-tmp	# mkfs.erofs 1.5's /tmp (scripts/lib.sh)
	bytes=$(du -sb "$stage" | cut -f1)
	mkfs.ext4 -q -F -O ^has_journal -b 4096 -E root_owner=0:0 \
		-d "$stage" "$cache/$name.disk.tmp" "$(( (bytes / 4 * 5 >> 20) + 64 ))M" > /dev/null ||
		die "mkfs.ext4 of the host disk failed"
	mv "$cache/$name.disk.tmp" "$cache/$name.disk"
	rm -rf "$stage"
	stepdone "$(( $(du -sm "$cache/$name.disk" | cut -f1) )) MiB"
}

# The ideal page cache (distinct contents) and the per-file sums of both
# layouts, and the directories of a base and an app layer (each takes a
# page of its image's own cache), as IDEAL lines for the report.
make_ideal() {
	stale "$cache/ideal" "$trees/.ready" scripts/bench/ideal.py "$0" || return 0
	step "distinct contents (SHA-256 of every file)"
	{
		echo "IDEAL set=all $(python3 scripts/bench/ideal.py "$trees"/base "$trees"/app-*)"
		echo "IDEAL set=base $(python3 scripts/bench/ideal.py "$trees"/base)"
		echo "IDEAL set=dirs base=$(find "$trees/base" -type d | wc -l) app=$(find "$trees/app-000" -type d | wc -l)"
	} > "$cache/ideal.tmp" && mv "$cache/ideal.tmp" "$cache/ideal"
	stepdone "done"
}

make_trees
make_disk hostfs sharefs erofs
case " $phases " in
*" sharefs-noinline "*)
	scripts/kernels.sh sid 2>> "$out/kernels.log" ||
		{ cat "$out/kernels.log" >&2; exit 1; }
	make_disk noinline noinline ;;
esac
make_ideal

# the VM's programs: sfbench, the shared VM library and the scale phases
bin=$out/bin
mkdir -p "$bin"
cp "$(vm_bin)"/* "$bin/"
cp scripts/bench/scale-vm.sh "$bin/scale-vm.sh"
# the VM attaches every NAME.disk of SHAREFS_IMAGES as a disk of that serial
rm -rf "$out/images" && mkdir -p "$out/images"
for d in "$cache"/*.disk; do
	ln "$d" "$out/images/" 2>/dev/null || ln -s "$d" "$out/images/"
done

cmd=". /bin/bench-vm-lib.sh; . /bin/scale-vm.sh; scale_slab_sizes; scale_exec_cost"
for p in $phases; do
	case $p in
	erofs-file) cmd="$cmd; scale_mount_file $p $n" ;;
	erofs-many) cmd="$cmd; DROP=1 scale_phase $p erofs many $n" ;;
	erofs-one|sharefs-one|sharefs-many) cmd="$cmd; scale_phase $p ${p%-*} ${p#*-} $n" ;;
	sharefs-noinline) cmd="$cmd; scale_noinline_mount; SCALE_IMAGES=/noinline/noinline scale_phase $p sharefs many $n" ;;
	*) die "unknown phase $p (erofs-file erofs-one sharefs-one erofs-many sharefs-many sharefs-noinline)" ;;
	esac
done
step "VM 6.12, $mem MiB: $phases"
start=$(date +%s)
SHAREFS_IMAGES=$out/images SHAREFS_EXTRA_BIN=$bin SHAREFS_VM_OUT=$out/vm \
	SHAREFS_VM_MEM=$mem scripts/vm-run.sh 6.12 --timeout 3000 --cmd "$cmd" \
	> "$out/scale.log" 2> "$out/vm.err" ||
	{ cat "$out/vm.err" >&2; die "the VM run failed, see ${out#$top/}/vm/console.log"; }
stepdone "$(( $(date +%s) - start ))s"
cp "$out/vm/console.log" "$out/console.log"

python3 scripts/bench/scale_report.py "$out/scale.log" "$cache/ideal" \
	"$(cat "$KERNELS_DIR/6.12/release")" "$mem" || exit 1
echo "scale took $(( $(date +%s) - t0 ))s; VM output in ${out#$top/}/scale.log" >&2
