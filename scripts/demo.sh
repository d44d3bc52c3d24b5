#!/bin/bash
# scripts/demo.sh - `make demo`: page-cache sharing on real container-like
# images, on a fresh machine.
#
# 1. installs what it needs (scripts/deps.sh, Debian 12's newest 6.12
#    kernel), builds mkfs.sharefs and sharefs.ko;
# 2. builds two Debian 12 root trees (scripts/bench/trees.sh): a
#    debootstrap --variant=minbase bookworm "base", and the same base with
#    python3 installed on top;
# 3. cuts them into OCI-style layer tars (scripts/bench/mklayers.py): a
#    base layer and an app layer (what python3 added), twice: two rebuilds
#    of one image, the same files with other timestamps, so other layer
#    digests that a host stores and mounts separately;
# 4. converts each layer with mkfs.sharefs --tar --aufs and puts the four
#    image files on an ext4 disk, the host's filesystem;
# 5. boots the 6.12 kernel in QEMU and, in that one boot, runs the two
#    containers the way a container host does, three times: each layer
#    file mounted (stock erofs file-backed, as containerd's EROFS
#    snapshotter mounts it on 6.12; stock erofs on a direct-I/O loop
#    device; sharefs through mount.sharefs, domain=demo), an overlayfs per
#    container (lowerdir=app:base, upper on tmpfs), every file read
#    through the merged views, then python3 started in each, importing a
#    few modules and staying alive; all caches dropped before each phase;
# 6. prints, per phase, the page cache used (the /proc/meminfo Cached
#    delta) and the memory of the two running python3 processes (Rss and
#    Pss), against the ideal: the distinct contents of the image, computed
#    on the host from SHA-256 of every file, rounded up to pages.
#
# Trees and images are cached in $SHAREFS_CACHE/demo and rebuilt only when
# missing; a warm run is one VM boot.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/bench/common.sh

t0=$(date +%s)
echo "== sharefs demo: two Debian 12 images on one base, one page cache" >&2
prepare_612 "$BENCH_OUT"

scripts/bench/trees.sh
demo_layers
for l in base-r1 app-r1 base-r2 app-r2; do
	layer_image "$l" "$DEMO_CACHE/layers/$l.tar"
done
bin=$(vm_bin)
step "unique content of the image (SHA-256)"
ideal_line=$(ideal "$TREES/python")
stepdone "done"

step "host disk: ext4 holding the four layer images"
stage_hostfs "$BENCH_OUT/demo-images" base-r1 app-r1 base-r2 app-r2
stepdone "done"
log="$BENCH_OUT/demo.log"
echo "  booting 6.12 in QEMU (TCG): erofs file-backed, erofs on direct-I/O loop, sharefs" >&2
c1=c1=app-r1:base-r1 c2=c2=app-r2:base-r2
SHAREFS_IMAGES=$BENCH_OUT/demo-images SHAREFS_EXTRA_BIN=$bin \
	SHAREFS_VM_OUT=$BENCH_OUT/vm-6.12 \
	scripts/vm-run.sh 6.12 --timeout 900 --cmd "
. /bin/bench-vm-lib.sh
host_phase erofs-file erofs-file '' $c1 $c2
host_phase erofs-dio erofs-dio '' $c1 $c2
SHOW_STAT=1 host_phase sharefs sharefs domain=demo $c1 $c2
" > "$log"

python3 scripts/bench/report.py demo "$log" "$ideal_line" \
	"$(cat "$KERNELS_DIR/6.12/release")" || exit 1
echo
echo "demo took $(( $(date +%s) - t0 ))s; VM output in ${log#$top/}" >&2
