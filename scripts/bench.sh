#!/bin/bash
# scripts/bench.sh - `make bench`: the benchmark suite; writes
# Documentation/benchmarks.md and its plots (Documentation/bench-*.png).
#
# Every comparison runs in one VM boot, the drivers side by side on the same
# image bytes (own loop devices over the same range of the image disk), so
# that the ratios against stock erofs hold even though TCG and a shared host
# distort the absolute figures.  Boots:
#   6.12 main     memory (base + python), read speed, mount time, second start
#   6.12 scaling  memory and read time for 1..16 images on one base
#   sid           memory: erofs vs sharefs vs upstream erofs -o inode_share
# and on the host: mkfs time and image size.
#
# BENCH_RUNS (default 5) repetitions of each timed operation;
# BENCH_SECOND_RUNS (default 3) of the second-start test; BENCH_ONLY
# (default "main scaling sid") the boots to run: the others keep the
# results of an earlier run in build/bench/results.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/bench/common.sh

runs=${BENCH_RUNS:-5}
only=${BENCH_ONLY:-main scaling sid}
second_runs=${BENCH_SECOND_RUNS:-3}
scale_ns="1 2 4 8 16"
t0=$(date +%s)
res=$BENCH_OUT/results
mkdir -p "$res"

echo "== sharefs benchmarks" >&2
step "host packages, kernels, tools, modules"
scripts/deps.sh
host_install python3-matplotlib || log "no matplotlib: the doc gets no plots"
for k in 6.12 sid; do
	scripts/kernels.sh $k 2>> "$BENCH_OUT/kernels.log" ||
		{ cat "$BENCH_OUT/kernels.log" >&2; exit 1; }
done
make -s tools > "$BENCH_OUT/tools.log" 2>&1 ||
	{ cat "$BENCH_OUT/tools.log" >&2; die "make tools failed"; }
for k in 6.12 sid; do
	scripts/build-module.sh $k 2>> "$BENCH_OUT/module.log" ||
		{ cat "$BENCH_OUT/module.log" >&2; exit 1; }
done
stepdone "6.12: $(cat "$KERNELS_DIR/6.12/release"), sid: $(cat "$KERNELS_DIR/sid/release")"

# ---- trees and images --------------------------------------------------------
scripts/bench/trees.sh
# the big-file tree: 32 MiB of incompressible data
if [ ! -f "$TREES/big/.sharefs-ready" ]; then
	rm -rf "$TREES/big" && mkdir -p "$TREES/big"
	head -c $((32 << 20)) /dev/urandom > "$TREES/big/big.bin"
	touch "$TREES/big/.sharefs-ready"
fi
# the scaling trees: the base's programs (usr/bin, 21 MiB: TCG reads
# slowly) plus, per image, its own 256 KiB file and hostname: N container
# images on one base.  Hard links: no disk cost.
for i in $(seq -w 0 15); do
	t=$TREES/scale-$i
	[ -f "$t/.sharefs-ready" ] && [ ! -d "$t/usr/sbin" ] && continue
	rm -rf "$t" && mkdir -p "$t/usr" "$t/etc"
	cp -al "$TREES/base/usr/bin" "$t/usr/"
	echo "image-$i" > "$t/etc/hostname"
	head -c $((256 << 10)) /dev/urandom > "$t/etc/unique.bin"
	touch "$t/.sharefs-ready"
done
image sharefs base "$TREES/base"
image sharefs python "$TREES/python"
image sharefs big "$TREES/big"
for i in $(seq -w 0 15); do image sharefs scale-$i "$TREES/scale-$i"; done
image erofs19 base19 "$TREES/base"
image erofs19 python19 "$TREES/python"
bin=$(vm_bin)

vm() {	# tag name mem images... -- cmd
	local tag=$1 name=$2 mem=$3 imgs=() start
	shift 3
	while [ "$1" != -- ]; do imgs+=("$1"); shift; done
	shift
	case " $only " in
	*" $name "*) ;;
	*) log "$name: not in BENCH_ONLY, keeping $res/$name.log"; return 0 ;;
	esac
	stage_images "$BENCH_OUT/img-$name" "${imgs[@]}"
	step "VM $tag: $name"
	start=$(date +%s)
	SHAREFS_IMAGES=$BENCH_OUT/img-$name SHAREFS_EXTRA_BIN=$bin \
		SHAREFS_VM_OUT=$BENCH_OUT/vm-$tag SHAREFS_VM_MEM=$mem \
		scripts/vm-run.sh "$tag" --timeout 1500 \
		--cmd ". /bin/bench-vm-lib.sh; $1" > "$res/$name.log" 2> "$res/$name.err" ||
		{ cat "$res/$name.err" >&2; die "VM run $name failed"; }
	stepdone "$(( $(date +%s) - start ))s"
	cp "$BENCH_OUT/vm-$tag/console.log" "$res/$name.console" || true
}

# ---- mkfs on the host ----------------------------------------------------------
step "mkfs: 3 writers x $runs runs on the base tree"
: > "$res/mkfs.log"
for r in $(seq "$runs"); do
	for w in sharefs erofs erofs19; do
		s=$(date +%s%N)
		mkfs_run $w "$BENCH_OUT/mkfs.img" "$TREES/base" > /dev/null 2>&1 ||
			die "mkfs $w failed"
		echo "MKFS writer=$w ns=$(( $(date +%s%N) - s )) size=$(stat -c %s "$BENCH_OUT/mkfs.img")" >> "$res/mkfs.log"
		rm -f "$BENCH_OUT/mkfs.img"
	done
done
stepdone done

# ---- VM boots ------------------------------------------------------------------
vm 6.12 main 2048 base python big -- "
mem_phase erofs erofs '' base python
mem_phase sharefs sharefs domain=bench base python
mount_set e erofs '' big base
mount_set s sharefs domain=bench big base
mount_set n sharefs noshare big base
speed_runs $runs big base/usr/share e s n
umount_set e; umount_set s; umount_set n
mount_runs $runs base e:erofs: s:sharefs:domain=bench n:sharefs:noshare
second_runs $second_runs base python e:erofs: s:sharefs:domain=bench
"

scale_cmd=
names=
for n in $scale_ns; do
	names=$(seq -f 'scale-%02g' 0 $((n - 1)) | tr '\n' ' ')
	scale_cmd="$scale_cmd
mem_phase erofs-$n erofs '' $names
mem_phase sharefs-$n sharefs domain=bench $names"
	ideal $(for x in $names; do echo "$TREES/$x"; done) |
		sed "s/^/IDEAL n=$n /" >> "$res/ideal.log.tmp"
done
mv "$res/ideal.log.tmp" "$res/ideal.log"
ideal "$TREES/base" "$TREES/python" | sed 's/^/IDEAL n=demo /' >> "$res/ideal.log"
vm 6.12 scaling 3072 $(seq -f 'scale-%02g' 0 15) -- "$scale_cmd"

vm sid sid 2048 base19 python19 -- "
mem_phase erofs erofs '' base19 python19
mem_phase sharefs sharefs domain=bench base19 python19
mem_phase ishare erofs inode_share,domain_id=bench base19 python19
dmesg | grep -i -E 'erofs|ishare' | sed 's/^/KLOG /' | tail -n 5
"

# ---- the document ---------------------------------------------------------------
{
	echo "KERNEL tag=6.12 release=$(cat "$KERNELS_DIR/6.12/release")"
	echo "KERNEL tag=sid release=$(cat "$KERNELS_DIR/sid/release")"
	echo "HOST cpus=$(nproc) model=$(sed -n 's/^model name.*: //p' /proc/cpuinfo | head -1 | tr ' ' '_')"
	echo "TIME total_s=$(( $(date +%s) - t0 )) only=${only// /,}"
} > "$res/env.log"
# Debian's python3, which sees the apt-installed matplotlib
/usr/bin/python3 scripts/bench/report.py bench "$res"
echo "bench took $(( $(date +%s) - t0 ))s; wrote Documentation/benchmarks.md" >&2
