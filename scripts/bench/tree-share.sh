#!/bin/bash
# scripts/bench/tree-share.sh - where a whole-tree read's time goes: the
# sharing layer or decompression.
#
#   scripts/bench/tree-share.sh [RUNS]     (default 6)
#
# Reads every file of the images scripts/bench/compress.sh built (run it
# first), the uncompressed plain.img and lz4hc.img, cold, RUNS times each
# through three mounts in one Linux 6.12 boot, alternating: stock erofs,
# sharefs, and sharefs with noshare (every file its own page cache, no
# fingerprint read, no join).  Prints the median ms and the ratio to erofs.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
. "$top/scripts/bench/common.sh"
runs=${1:-6}
img=$BENCH_OUT/compress/img
out=$BENCH_OUT/tree-share
[ -f "$img/plain.img" ] && [ -f "$img/lz4hc.img" ] ||
	die "no images in $img: run scripts/bench/compress.sh lz4hc first"
rm -rf "$out" && mkdir -p "$out"
"$top/scripts/build-module.sh" 6.12
bin=$(vm_bin)
cmd='
. /bin/bench-vm-lib.sh
for a in plain lz4hc; do
	mkdir -p /mnt/erofs-$a /mnt/sharefs-$a /mnt/noshare-$a
	mount -t erofs -o ro $(attach $a) /mnt/erofs-$a
	mount -t sharefs -o ro $(attach $a) /mnt/sharefs-$a
	mount -t sharefs -o ro,noshare $(attach $a) /mnt/noshare-$a
done
for i in $(seq '"$runs"'); do
	for a in plain lz4hc; do
		for d in erofs sharefs noshare; do
			sfbench drop; echo "TREE img=$a drv=$d $(sfbench readall /mnt/$d-$a)"
		done
	done
done'
log "booting 6.12 ($runs runs)"
SHAREFS_IMAGES=$img SHAREFS_EXTRA_BIN=$bin SHAREFS_VM_OUT=$out/vm \
	"$top/scripts/vm-run.sh" 6.12 --timeout 1800 --cmd "$cmd" > "$out/vm.log" 2>&1 ||
	die "the VM run failed, see $out/vm.log"
grep -a '^TREE ' "$out/vm/ktap.log" > "$out/tree.log" || die "no results in $out/vm/ktap.log"
python3 - "$out/tree.log" <<'PY'
import re, statistics, sys
t = {}
for line in open(sys.argv[1]):
    kv = dict(re.findall(r'(\w+)=(\S+)', line))
    t.setdefault((kv['img'], kv['drv']), []).append(int(kv['ns']) / 1e6)
print('| image | erofs (ms) | sharefs / erofs | noshare / erofs |')
print('| --- | ---: | ---: | ---: |')
for img in ('plain', 'lz4hc'):
    e = statistics.median(t[(img, 'erofs')])
    cells = [f'{statistics.median(t[(img, d)]) / e:.2f}' for d in ('sharefs', 'noshare')]
    print(f'| {img} | {e:.0f} | {cells[0]} | {cells[1]} |')
PY
