# scripts/bench/common.sh - host side shared by scripts/demo.sh and
# scripts/bench.sh (sourced after scripts/lib.sh, with $top set).
#
# Images are cached in $SHAREFS_CACHE/demo/images and rebuilt only when
# missing or older than the tool that writes them.  Each VM run gets its
# own directory of hard links to the images it needs (vm-run.sh attaches
# every *.img of $SHAREFS_IMAGES).

DEMO_CACHE=$SHAREFS_CACHE/demo
TREES=$DEMO_CACHE/trees
IMAGES=$DEMO_CACHE/images
BENCH_OUT=$top/build/bench
mkdir -p "$IMAGES" "$BENCH_OUT"

# say what is happening, on one line, without a newline
step() { printf '  %-50s' "$*" >&2; }
stepdone() { printf '%s\n' "$*" >&2; }

# Host packages, Debian 12's 6.12 kernel, the tools and sharefs.ko for it,
# on one progress line; the builds' output goes to LOGDIR and is shown
# only when one fails.
prepare_612() {	# logdir
	step "host packages, kernel 6.12, tools, module"
	scripts/deps.sh
	scripts/kernels.sh 6.12 2> "$1/kernels.log" ||
		{ cat "$1/kernels.log" >&2; exit 1; }
	make -s tools > "$1/tools.log" 2>&1 ||
		{ cat "$1/tools.log" >&2; die "make tools failed"; }
	scripts/build-module.sh 6.12 2> "$1/module.log" ||
		{ cat "$1/module.log" >&2; exit 1; }
	stepdone "$(cat "$KERNELS_DIR/6.12/release")"
}

# Build image NAME from TREE with a mkfs command, unless it is up to date.
# WRITER is sharefs, erofs (Debian 12's mkfs.erofs 1.5) or erofs19
# (unstable's 1.9 with --xattr-inode-digest=trusted.fingerprint).
image() {	# writer name tree
	local writer=$1 img=$IMAGES/$2.img tree=$3 tool start
	case $writer in
	sharefs) tool=$top/tools/mkfs.sharefs ;;
	erofs) tool=$(command -v mkfs.erofs) ;;
	erofs19) tool=$SID_ROOT/usr/bin/mkfs.erofs ;;
	esac
	if [ -f "$img" ] && [ "$img" -nt "$tool" ] &&
	   [ "$img" -nt "$tree/.sharefs-ready" ]; then
		return 0
	fi
	step "image $2 ($writer)"
	start=$(date +%s%N)
	mkfs_run "$writer" "$img.tmp" "$tree" > "$DEMO_CACHE/mkfs-$2.log" 2>&1 ||
		die "mkfs for $2 failed, see $DEMO_CACHE/mkfs-$2.log"
	mv "$img.tmp" "$img"
	stepdone "$(( ($(date +%s%N) - start) / 1000000 )) ms, $(( $(stat -c %s "$img") >> 20 )) MiB"
}

mkfs_run() {	# writer image tree
	case $1 in
	sharefs) "$top/tools/mkfs.sharefs" -q "$2" "$3" ;;
	erofs) mkfs_erofs15 "$2" "$3" ;;
	erofs19) sid_exec mkfs.erofs --xattr-inode-digest=trusted.fingerprint "$2" "$3" ;;
	esac
}

# A fresh directory of hard links to images NAMES... for one VM run.
stage_images() {	# dir names...
	local dir=$1 n; shift
	rm -rf "$dir" && mkdir -p "$dir"
	for n in "$@"; do
		ln "$IMAGES/$n.img" "$dir/$n.img" 2>/dev/null ||
			cp "$IMAGES/$n.img" "$dir/$n.img"
	done
}

# Build image NAME from layer tar TAR with mkfs.sharefs --tar --aufs (one
# image per OCI layer, whiteouts kept for overlayfs), unless up to date.
layer_image() {	# name tar
	local img=$IMAGES/$1.img start
	if [ -f "$img" ] && [ "$img" -nt "$2" ] && [ "$img" -nt "$top/tools/mkfs.sharefs" ]; then
		return 0
	fi
	step "image $1 (mkfs.sharefs --tar --aufs)"
	start=$(date +%s%N)
	"$top/tools/mkfs.sharefs" -q --tar --aufs "$img.tmp" "$2" \
		> "$DEMO_CACHE/mkfs-$1.log" 2>&1 ||
		die "mkfs for $1 failed, see $DEMO_CACHE/mkfs-$1.log"
	mv "$img.tmp" "$img"
	stepdone "$(( ($(date +%s%N) - start) / 1000000 )) ms, $(( $(stat -c %s "$img") >> 20 )) MiB"
}

# OCI-style layer tars of the demo (scripts/bench/mklayers.py): base and
# app, twice (rebuilds r1 and r2), into DEMO_CACHE/layers; made again when
# a tree or the script is newer.
demo_layers() {
	local d=$DEMO_CACHE/layers
	if [ -f "$d/.ready" ] && [ -z "$(find "$TREES/base/.sharefs-ready" \
	     "$TREES/python/.sharefs-ready" "$top/scripts/bench/mklayers.py" \
	     -newer "$d/.ready")" ]; then
		return 0
	fi
	step "OCI layers: base and app, two rebuilds"
	rm -rf "$d"
	python3 "$top/scripts/bench/mklayers.py" "$TREES/base" "$TREES/python" "$d" \
		> "$DEMO_CACHE/layers.log" 2>&1 || die "mklayers failed, see $DEMO_CACHE/layers.log"
	touch "$d/.ready"
	stepdone "$(cat "$DEMO_CACHE/layers.log")"
}

# An ext4 disk image DIR/hostfs.disk holding images NAMES... as files
# NAME.img: the host filesystem a container host keeps its images on.
stage_hostfs() {	# dir names...
	local dir=$1 n bytes=0 files; shift
	rm -rf "$dir" && mkdir -p "$dir/files"
	for n in "$@"; do
		ln "$IMAGES/$n.img" "$dir/files/$n.img" 2>/dev/null ||
			cp "$IMAGES/$n.img" "$dir/files/$n.img"
		bytes=$((bytes + $(stat -c %s "$IMAGES/$n.img")))
	done
	mkfs.ext4 -q -F -O ^has_journal -b 4096 -E root_owner=0:0 -d "$dir/files" \
		"$dir/hostfs.disk" "$(( (bytes / 4 * 5 >> 20) + 64 ))M" > /dev/null ||
		die "mkfs.ext4 of the host disk failed"
	rm -rf "$dir/files"
}

# The static helpers for the VM: sfbench and the VM-side library.
vm_bin() {
	local bin=$BENCH_OUT/bin
	mkdir -p "$bin"
	if [ ! -x "$bin/sfbench" ] || [ "$top/scripts/bench/sfbench.c" -nt "$bin/sfbench" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -o "$bin/sfbench" \
			"$top/scripts/bench/sfbench.c" || die "building sfbench failed"
	fi
	cp "$top/scripts/bench/vm-lib.sh" "$bin/bench-vm-lib.sh"
	echo "$bin"
}

# Unique-content figures of TREES..., cached per set of trees.
ideal() {	# trees...
	local key f
	key=$(printf '%s\n' "$@" | md5sum | cut -c1-12)
	f=$DEMO_CACHE/ideal-$key
	if [ ! -f "$f" ] || [ -n "$(find "$@" -maxdepth 1 -name .sharefs-ready -newer "$f")" ]; then
		python3 "$top/scripts/bench/ideal.py" "$@" > "$f.tmp" && mv "$f.tmp" "$f"
	fi
	cat "$f"
}
