#!/bin/bash
# scripts/bench/compress.sh - compressed images: sharefs against stock erofs
# (issue 14: at least 1.0x erofs speed, no more decompression memory).
#
#   scripts/bench/compress.sh [ALGORITHM...]     (default: lz4hc zstd lzma deflate)
#
# One tree (the demo base's usr/bin and usr/lib, 63 MiB of programs and
# libraries, plus big.bin: 24 MiB of those files back to back) written by
# unstable's mkfs.erofs 1.9 with -zALGORITHM, one image per algorithm.  In
# one Linux 6.12 boot each image is attached twice, on loop devices of its
# own bytes, and mounted by stock erofs and by sharefs.  Each operation
# runs BENCH_RUNS times (default 3) per driver, alternating, caches dropped
# when cold:
#   seq_cold   read big.bin sequentially
#   rand_cold  256 random 4 KiB preads of big.bin
#   back_cold  big.bin's last 4 MiB in 4 KiB preads, from the end backwards
#   tree_cold  every file of the tree
#   seq_warm   big.bin again, from the page cache
# The same tree uncompressed (plain.img) runs them too: what sharefs costs
# without decompression (its sharing layer joins every file it opens).
# The table gives median times and the ratio sharefs / erofs (min-max over
# the runs, each run's pair back to back).  Then, first in the boot, the
# memory each driver holds for decompression: for each image and driver,
# BENCH_MEM_RUNS times (default 5), the driver's module is loaded afresh
# (erofs keeps its streams and buffers until module exit, so only a fresh
# module shows them again), the image mounted and every file read, caches
# dropped, and the growth of unreclaimable slab, per-CPU and vmalloc
# memory less kernel stacks (new kworkers' stacks are vmalloc'ed) taken
# with the image still mounted.  The same for the tree uncompressed
# (plain.img) gives a mount's and its inodes' growth without
# decompression.  The table gives medians, with min-max.
# Raw output in build/bench/compress/; results go into
# Documentation/benchmarks.md by hand.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/bench/common.sh"
runs=${BENCH_RUNS:-3}
mem_runs=${BENCH_MEM_RUNS:-5}
algs=("$@")
[ ${#algs[@]} -gt 0 ] || algs=(lz4hc zstd lzma deflate)
out=$BENCH_OUT/compress
rm -rf "$out" && mkdir -p "$out/img" "$out/tree"

"$top/scripts/deps.sh"
make -s -C "$top" tools
"$top/scripts/build-module.sh" 6.12
"$top/scripts/bench/trees.sh" > /dev/null
[ -x "$SID_ROOT/usr/bin/mkfs.erofs" ] || "$top/scripts/kernels.sh" sid
cp -al "$TREES/base/usr/bin" "$TREES/base/usr/lib" "$out/tree/"
# (head stops reading early: cat's SIGPIPE is expected, not a failure)
{ find "$out/tree/lib" -type f -size +64k | sort | xargs cat 2> /dev/null || true; } |
	head -c $((24 << 20)) > "$out/tree/big.bin"
for a in "${algs[@]}"; do
	sid_exec mkfs.erofs --quiet -T1700000000 -z"$a" "$out/img/$a.img" "$out/tree" ||
		die "mkfs.erofs -z$a failed"
done
# the memory baseline: the same tree uncompressed
sid_exec mkfs.erofs --quiet -T1700000000 "$out/img/plain.img" "$out/tree" ||
	die "mkfs.erofs failed"
( cd "$out/img" && ls -l ) > "$out/sizes.log"
bin=$(vm_bin)

cmd='
. /bin/bench-vm-lib.sh
memk() { awk "/^(SUnreclaim|Percpu|VmallocUsed):/ { s += \$2 } /^KernelStack:/ { s -= \$2 } END { print s }" /proc/meminfo; }
# a fresh module of driver $1: what it keeps from an earlier mount is gone
reload() {
	if [ $1 = erofs ]; then
		rmmod erofs && insmod /lib/modules/erofs.ko
	else
		rmmod sharefs && insmod /sharefs.ko
	fi || echo "MOUNTFAIL reload $1"
}
# decompression memory first: per image and driver, a fresh module each
# time, measured while the image is still mounted; the plain image is the
# baseline of a mount and its inodes without decompression
for r in $(seq '"$mem_runs"'); do
for a in plain '"${algs[*]}"'; do
	set -- $(grep "^$a " /images/manifest)
	for d in erofs sharefs; do
		mkdir -p /mnt/$d-$a
		# the loop device first: its queue is no driver memory
		dev=$(sfbench loop /dev/disk/by-id/images $2 $3)
		reload $d
		sfbench drop; sleep 1; before=$(memk)
		mount -t $d -o ro $dev /mnt/$d-$a || echo "MOUNTFAIL $d $a"
		sfbench readall /mnt/$d-$a > /dev/null
		sfbench drop; sleep 1; echo "MEMK alg=$a drv=$d grew_kib=$(( $(memk) - before ))"
		umount /mnt/$d-$a
	done
done
done
for a in plain '"${algs[*]}"'; do
	set -- $(grep "^$a " /images/manifest)
	mkdir -p /mnt/erofs-$a /mnt/sharefs-$a
	mount -t erofs -o ro $(sfbench loop /dev/disk/by-id/images $2 $3) /mnt/erofs-$a || echo "MOUNTFAIL erofs $a"
	mount -t sharefs -o ro $(sfbench loop /dev/disk/by-id/images $2 $3) /mnt/sharefs-$a || echo "MOUNTFAIL sharefs $a"
	for i in $(seq '"$runs"'); do
		for d in erofs sharefs; do
			m=/mnt/$d-$a
			sfbench drop; echo "OP alg=$a op=seq_cold drv=$d $(sfbench seq $m/big.bin)"
			echo "OP alg=$a op=seq_warm drv=$d $(sfbench seq $m/big.bin)"
			sfbench drop; echo "OP alg=$a op=rand_cold drv=$d $(sfbench rand $m/big.bin 256)"
			sfbench drop; echo "OP alg=$a op=back_cold drv=$d $(sfbench back $m/big.bin 1024)"
			sfbench drop; echo "OP alg=$a op=tree_cold drv=$d $(sfbench readall $m)"
		done
	done
	umount /mnt/erofs-$a /mnt/sharefs-$a
done
done'
log "booting 6.12 (${algs[*]}; $runs runs of each operation per driver)"
SHAREFS_IMAGES=$out/img SHAREFS_EXTRA_BIN=$bin SHAREFS_VM_OUT=$out/vm \
	"$top/scripts/vm-run.sh" 6.12 --timeout 3600 --cmd "$cmd" > "$out/vm.log" 2>&1 ||
	die "the VM run failed, see $out/vm.log and $out/vm/console.log"
grep -a -E '^(OP|MEMK|MOUNTFAIL) ' "$out/vm/ktap.log" > "$out/ops.log" ||
	die "no results in $out/vm/ktap.log"
! grep -q MOUNTFAIL "$out/ops.log" || die "a mount failed: $(grep MOUNTFAIL "$out/ops.log" | head -3)"
python3 - "$out/ops.log" <<'PY'
import re, statistics, sys
ops, mem = {}, {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    if line.startswith('MEMK'):
        mem.setdefault(kv.get('alg', '?'), {}).setdefault(kv['drv'], []).append(
            int(kv['grew_kib']))
        continue
    ns = int(kv.get('ns') or kv.get('time_ns') or kv.get('elapsed_ns'))
    ops.setdefault((kv['alg'], kv['op'], kv['drv']), []).append(ns)
names = {'seq_cold': 'sequential read, big.bin (24 MiB), cold',
         'rand_cold': '256 random 4 KiB preads, cold',
         'back_cold': 'the last 4 MiB backwards, 4 KiB preads, cold',
         'tree_cold': 'every file of the tree, cold',
         'seq_warm': 'sequential read, warm'}
print('| algorithm | operation | erofs median (ms, TCG) | sharefs / erofs |')
print('| --- | --- | ---: | ---: |')
for alg in dict.fromkeys(k[0] for k in ops):
    for op, name in names.items():
        e, s = ops[(alg, op, 'erofs')], ops[(alg, op, 'sharefs')]
        me, ms = statistics.median(e), statistics.median(s)
        r = sorted(b / a for a, b in zip(e, s))
        print(f'| {alg} | {name} | {me / 1e6:.1f} | {ms / me:.2f} '
              f'({r[0]:.2f}–{r[-1]:.2f}) |')
if mem:
    print('\nunreclaimable slab + per-CPU + vmalloc - kernel stacks, growth '
          'over mounting and reading the tree with a fresh module, image still '
          'mounted (KiB, median and min-max); in brackets, the median less '
          "the uncompressed image's (a mount and its inodes):\n")
    print('| image | erofs | sharefs |')
    print('| --- | ---: | ---: |')
    med = {a: {d: statistics.median(v) for d, v in dv.items()}
           for a, dv in mem.items()}
    base = med.get('plain', {})
    for alg, d in mem.items():
        cells = []
        for drv in ('erofs', 'sharefs'):
            v = d.get(drv)
            if not v:
                cells.append('-')
                continue
            m = med[alg][drv]
            extra = '' if alg == 'plain' or drv not in base else \
                f' ({m - base[drv]:+.0f})'
            cells.append(f'{m:.0f} ({min(v)}–{max(v)}){extra}')
        print(f'| {alg} | {cells[0]} | {cells[1]} |')
PY
