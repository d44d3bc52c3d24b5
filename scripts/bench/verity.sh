#!/bin/bash
# scripts/bench/verity.sh - what verified sharing costs (issue 13).
#
# One image of the demo's python tree plus a 32 MiB file, built by
# mkfs.sharefs with and without --verity (the size figure).  In one VM
# boot the --verity image is mounted twice, over two loop devices of its
# own bytes: with -o verity (every page checked against its Merkle tree)
# and plain (the same files shared by fingerprint, unchecked).  Each
# operation runs BENCH_RUNS times (default 5) per mount, alternating, after
# dropping caches when cold; the table gives median times and the ratio
# verified / unverified.  Results are written into Documentation/benchmarks.md
# by hand; raw output in build/bench/verity/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/bench/common.sh"
runs=${BENCH_RUNS:-5}
out=$BENCH_OUT/verity
rm -rf "$out" && mkdir -p "$out/img" "$out/tree"

"$top/scripts/deps.sh"
make -s -C "$top" tools
"$top/scripts/build-module.sh" 6.12
"$top/scripts/bench/trees.sh" > /dev/null
cp -al "$TREES/python" "$out/tree/python"
cp -al "$TREES/big/big.bin" "$out/tree/big.bin"
for v in plain verity; do
	args=(); [ $v = verity ] && args=(--verity)
	"$top/tools/mkfs.sharefs" -q "${args[@]}" "$out/$v.img" "$out/tree"
done
plain=$(stat -c %s "$out/plain.img") verity=$(stat -c %s "$out/verity.img")
echo "SIZE plain=$plain verity=$verity" > "$out/size.log"
mv "$out/verity.img" "$out/img/v.img"
rm -f "$out/plain.img"
bin=$(vm_bin)

cmd='
. /bin/bench-vm-lib.sh
set -- $(grep "^v " /images/manifest)
mkdir -p /mnt/on /mnt/off
mount -t sharefs -o ro,verity $(sfbench loop /dev/disk/by-id/images $2 $3) /mnt/on
mount -t sharefs -o ro $(sfbench loop /dev/disk/by-id/images $2 $3) /mnt/off
for i in $(seq '"$runs"'); do
	for m in on off; do
		sfbench drop; echo "OP op=seq_cold mount=$m $(sfbench seq /mnt/$m/big.bin)"
		echo "OP op=seq_warm mount=$m $(sfbench seq /mnt/$m/big.bin)"
		sfbench drop; echo "OP op=rand_cold mount=$m $(sfbench rand /mnt/$m/big.bin 256)"
		sfbench drop; echo "OP op=tree_cold mount=$m $(sfbench readall /mnt/$m/python)"
	done
done'
log "booting 6.12 ($runs runs of each operation per mount)"
SHAREFS_IMAGES=$out/img SHAREFS_EXTRA_BIN=$bin SHAREFS_VM_OUT=$out/vm \
	"$top/scripts/vm-run.sh" 6.12 --timeout 1800 --cmd "$cmd" > "$out/vm.log" 2>&1 ||
	die "the VM run failed, see $out/vm.log and $out/vm/console.log"
grep -a '^OP ' "$out/vm/ktap.log" > "$out/ops.log" || die "no results in $out/vm/ktap.log"
python3 - "$out/ops.log" "$out/size.log" <<'PY'
import re, statistics, sys
ops = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    ns = int(kv.get('ns') or kv.get('time_ns') or kv.get('elapsed_ns'))
    ops.setdefault((kv['op'], kv['mount']), []).append(ns)
size = dict(re.findall(r'(\w+)=(\d+)', open(sys.argv[2]).read()))
names = {'seq_cold': 'sequential read, 32 MiB file, cold',
         'seq_warm': 'sequential read, 32 MiB file, warm',
         'rand_cold': '256 random 4 KiB preads, cold',
         'tree_cold': 'every file of the python tree, cold'}
print('| operation | unverified median (ms, TCG) | verified / unverified |')
print('| --- | ---: | ---: |')
for op, name in names.items():
    on, off = ops[(op, 'on')], ops[(op, 'off')]
    mo, mf = statistics.median(on), statistics.median(off)
    ratios = sorted(a / b for a, b in zip(on, off))
    print(f'| {name} | {mf / 1e6:.1f} | {mo / mf:.2f} '
          f'({ratios[0]:.2f}–{ratios[-1]:.2f}) |')
p, v = int(size['plain']), int(size['verity'])
print(f'\nimage: {p} bytes without --verity, {v} with (+{(v - p) / p * 100:.2f}%)')
PY
