#!/bin/bash
# scripts/vng-run.sh - boot one test kernel with virtme-ng and run the VM suite.
#
#   scripts/vng-run.sh TAG [--cmd 'shell command'] [--timeout SECONDS]
#   SHAREFS_VM=vng scripts/vm-run.sh TAG ...      (the same)
#   make check VM=vng                             (every kernel)
#
# Our users' CI boots its kernels with QEMU or with virtme-ng (vng); this is
# the suite under vng.  Interface and output are those of scripts/vm-run.sh:
# the suite's KTAP in build/TAG/ktap.log, the kernel log in
# build/TAG/console.log, a "SUMMARY TAG passed failed skipped" line from
# scripts/vm/ktap-count.py (which fails the run on BUG/WARNING/Oops lines),
# and the output of a --cmd on stdout.
#
# Debian 12 has no virtme-ng and Debian unstable does, so vng and its QEMU
# are installed into the unstable chroot (scripts/kernels.sh) and vng runs
# there.  vng shares the root filesystem it runs in (the chroot's) read-only
# with the guest, so everything the guest needs is bind-mounted under the
# chroot's /mnt, in a private mount namespace that goes away with the run:
#   /mnt/kernel   the kernel image, laid out as an installed kernel with
#                 the modules vng's own boot needs (9p, virtio) beside it,
#                 where vng looks for them
#   /mnt/out      build/TAG: the staged tree and the images disk
#   /mnt/images   build/images, for the images attached as their own disks
#   /mnt/vm       scripts/vm, for the guest-side script
#
# The guest runs what a scripts/vm-run.sh boot runs: vm-run.sh stages its
# initramfs tree (SHAREFS_VM_STAGE_ONLY=1), and scripts/vm/vng-init copies
# that tree into a tmpfs in the guest and runs its /init with it as root.  The
# disks are attached as vm-run.sh attaches them (read-only virtio-blk, the
# serial naming /dev/disk/by-id/NAME).
#
# vng --disable-kvm: TCG, single-threaded for the reason vm-run.sh gives
# (int3 text poking on the 7.x kernel).  SHAREFS_KVM=1 lets vng use KVM when
# /dev/kvm opens, with no probe boot: nested KVM that dies mid-boot, as it
# does on these machines, fails the run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

vm_args "$@"
args=("${@:2}")
out=${SHAREFS_VM_OUT:-$top/build/$tag}
images=${SHAREFS_IMAGES:-$top/build/images}

# Everything below mounts: do it in a mount namespace of our own, so that
# nothing stays mounted in the shared chroot and runs side by side (other
# work trees, another kernel) do not see each other's /mnt.
if [ -z "${SHAREFS_VNG_NS:-}" ]; then
	exec env SHAREFS_VNG_NS=1 unshare --mount --propagation private -- \
		"$0" "$tag" "${args[@]}"
fi

# --- vng in the unstable chroot ---------------------------------------------
[ -f "$SID_ROOT/.sharefs-ready" ] || "$top/scripts/kernels.sh" sid
# What virtme-ng 1.41's guest init needs but the package does not pull in:
# QEMU (only recommended); udev, which names the virtio ports that carry the
# command's stdout (without them the output goes to the kernel console);
# poweroff (systemd-sysv), or the guest's init dies with a kernel panic.
sid_ensure virtme-ng qemu-system-x86 udev systemd-sysv

# --- the guest's tree and disks, staged by vm-run.sh --------------------------
SHAREFS_VM=qemu SHAREFS_VM_STAGE_ONLY=1 "$top/scripts/vm-run.sh" "$tag" "${args[@]}"
[ -d "$out/initramfs" ] || die "vm-run.sh staged nothing in ${out#$top/}"

mnt=$SID_ROOT/mnt
mount -t tmpfs -o mode=0755 sharefs-vng "$mnt"
mkdir -p "$mnt"/{out,images,vm,tmp,kernel/boot,kernel/lib/modules/"$rel"}
mount --bind "$out" "$mnt/out"
mount --bind "$top/scripts/vm" "$mnt/vm"
[ -d "$images" ] && mount --bind "$images" "$mnt/images"
touch "$mnt/kernel/boot/vmlinuz-$rel"
mount --bind "$(readlink -f "$kdir/vmlinuz")" "$mnt/kernel/boot/vmlinuz-$rel"
# Only the modules vng's own boot needs (its root over 9p, its virtio
# ports, its overlays; the suite's come in the staged tree).  With the
# whole directory, udev's coldplug in the guest loaded 36 more (kvm, ahci,
# the crypto drivers...) that the suite does not use, and took 22 s of the
# TCG boot instead of 11.
kmods=$mnt/kernel/lib/modules/$rel
python3 "$top/scripts/vm/modlist.py" "$kdir/modules" 9p 9pnet_virtio \
	virtiofs virtio_pci virtio_mmio virtio_console overlay virtio_blk |
while read -r m; do
	mkdir -p "$kmods/$(dirname "$m")"
	cp "$kdir/modules/$m" "$kmods/$m"
done
cp "$kdir/modules"/modules.{order,builtin*} "$kmods/" 2> /dev/null || true
depmod -b "$mnt/kernel" "$rel" || die "depmod for the guest's modules failed"
# QEMU needs the host's devices (/dev/kvm, ptys), vng reads /proc and /sys
mount --rbind /dev "$SID_ROOT/dev"
mountpoint -q "$SID_ROOT/proc" || mount -t proc proc "$SID_ROOT/proc"
mountpoint -q "$SID_ROOT/sys" || mount -t sysfs sysfs "$SID_ROOT/sys"

# The disks, as vm-run.sh attaches them: vng's own --disk would open them
# read-write and let QEMU guess their format.
qemu_opts=
if [ -f "$out/images.disk" ] && [ -s "$out/initramfs/images/manifest" ]; then
	qemu_opts="-drive file=/mnt/out/images.disk,if=none,id=images,format=raw,readonly=on"
	qemu_opts+=" -device virtio-blk-pci,drive=images,serial=images"
	if [ -f "$images/direct" ]; then
		for name in $(cat "$images/direct"); do
			qemu_opts+=" -drive file=/mnt/images/$name.img,if=none,id=d-$name,format=raw,readonly=on"
			qemu_opts+=" -device virtio-blk-pci,drive=d-$name,serial=$name"
		done
	fi
fi
# disks of image files (host_test's and the demo's ext4 disks)
for d in "$images"/*.disk; do
	[ -f "$d" ] || continue
	name=$(basename "$d" .disk)
	qemu_opts+=" -drive file=/mnt/images/$name.disk,if=none,id=f-$name,format=raw,readonly=on"
	qemu_opts+=" -device virtio-blk-pci,drive=f-$name,serial=$name"
done

accel=(--disable-kvm)
if [ "${SHAREFS_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	accel=()
else
	qemu_opts+=" -accel tcg,thread=single"
fi

# --verbose puts the kernel console on stderr (console.log); the guest's
# stdout carries the suite (ktap.log).  oops=panic and loglevel=6 as in
# vm-run.sh.  vng keeps the current directory in the guest: /mnt/out.
log "$tag: booting $rel with $(chroot "$SID_ROOT" vng --version 2>/dev/null || echo vng) (${accel[*]:-kvm})"
start=$(date +%s)
rc=0
: > "$out/ktap.log"
: > "$out/console.log"
# no --foreground: on a timeout, kill vng's whole process group, QEMU too
timeout -k 10 "$timeout" env TMPDIR=/mnt/tmp HOME=/mnt/tmp \
	chroot "$SID_ROOT" sh -c 'cd /mnt/out && exec "$@"' vng \
	vng --run "/mnt/kernel/boot/vmlinuz-$rel" "${accel[@]}" \
	--cpus 2 --memory "${SHAREFS_VM_MEM:-2048}M" --verbose \
	--append "oops=panic loglevel=6" \
	--exec "/mnt/out/initramfs/bin/busybox sh /mnt/vm/vng-init /mnt/out/initramfs" \
	--qemu-opts="$qemu_opts" \
	< /dev/null > "$out/ktap.log" 2> "$out/console.log" || rc=$?
[ $rc -eq 124 ] && log "$tag: timed out after ${timeout}s"
log "$tag: VM ran $(( $(date +%s) - start ))s"
vm_results
