#!/bin/bash
# scripts/vm-run.sh - boot one test kernel under QEMU and run the VM suite.
#
#   scripts/vm-run.sh TAG [--cmd 'shell command'] [--timeout SECONDS]
#
# TAG is 6.1, 6.12 or sid (scripts/kernels.sh).  The initramfs holds busybox,
# the kernel's own modules that the tests need (virtio, loop, crc32c, stock
# erofs), build/TAG/sharefs.ko and the static test programs of
# build/selftests/.  Every image of build/images/*.img is attached read-only:
# all of them concatenated on one virtio disk (serial "images", the tests
# attach loop devices at the offsets of /images/manifest), and those named in
# build/images/direct also as their own disk (serial = image name) for
# block-device mounts; build/images/NAME.disk files (no images themselves,
# such as host_test's ext4 disk of image files) as disks of their own.
#
# The kernel log goes to the first serial port (build/TAG/console.log), the
# KTAP output to the second (build/TAG/ktap.log).  The run fails on a test
# failure, a timeout, or a BUG/WARNING/Oops/Call Trace/Busy inodes line.
#
# SHAREFS_KO=FILE boots with that module instead of build/TAG/sharefs.ko
# (.ko, .ko.xz or .ko.zst: a module as DKMS installed it).
#
# SHAREFS_EXTRA_BIN=DIR copies every file of DIR into the VM's /bin (the
# benchmarks' static helpers); SHAREFS_VM_MEM sets the VM's memory in MiB
# (default 2048).
#
# QEMU uses TCG.  SHAREFS_KVM=1 opts in to KVM, used only if a probe boot
# succeeds (nested KVM dies with "emulation failure" on these machines).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
# SHAREFS_VM=vng: the same suite booted by virtme-ng (scripts/vng-run.sh)
case ${SHAREFS_VM:-qemu} in
qemu) ;;
vng) exec "$top/scripts/vng-run.sh" "$@" ;;
*) die "SHAREFS_VM=$SHAREFS_VM: use qemu or vng" ;;
esac

vm_args "$@"
# SHAREFS_VM_OUT: where this run's initramfs, disk and logs go, for runs
# side by side (scripts/fuzz.sh); the module is always build/TAG's
out=${SHAREFS_VM_OUT:-$top/build/$tag}
ko=${SHAREFS_KO:-$top/build/$tag/sharefs.ko}
[ -f "$ko" ] || die "$ko missing: run scripts/build-module.sh $tag"
mkdir -p "$out"
tests=$top/build/selftests
images=${SHAREFS_IMAGES:-$top/build/images}

# --- initramfs ------------------------------------------------------------
stage=$out/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,etc,proc,sys,dev,tmp,mnt,lib/modules,tests,images}
cp /bin/busybox "$stage/bin/busybox"
file -L "$stage/bin/busybox" | grep -q 'statically linked' ||
	die "/bin/busybox is not static: install busybox-static"
cp "$top/scripts/vm/init" "$stage/init"
# the counters tool, for tests and the demo (make tools builds it)
if [ -x "$top/tools/sharefs-stat.static" ]; then
	cp "$top/tools/sharefs-stat.static" "$stage/bin/sharefs-stat"
fi
# mount(8)'s helper, where the tests call it (busybox mount runs no helpers)
if [ -x "$top/tools/mount.sharefs.static" ]; then
	cp "$top/tools/mount.sharefs.static" "$stage/bin/mount.sharefs"
fi
cp "$top/scripts/vm/run-tests.sh" "$stage/tests/run-tests.sh"
if [ -n "${SHAREFS_EXTRA_BIN:-}" ]; then
	cp "$SHAREFS_EXTRA_BIN"/* "$stage/bin/"
fi
: > "$stage/etc/modules-load"
# Dependencies first.  crc32c is a soft dependency of libcrc32c on older
# kernels: load the generic and the SSE4.2 version before anything else.
python3 "$top/scripts/vm/modlist.py" "$kdir/modules" \
	crc32c_generic crc32c-intel virtio_pci virtio_blk loop erofs ext4 overlay \
	dm_mod dm_delay dm_verity sd_mod scsi_debug \
	--deps-of "$ko" |
while read -r m; do
	name=$(basename "$m"); name=${name%%.ko*}
	case $m in
	*.ko.xz) xz -dc "$kdir/modules/$m" > "$stage/lib/modules/$name.ko" ;;
	*.ko.zst) zstd -qdc "$kdir/modules/$m" > "$stage/lib/modules/$name.ko" ;;
	*.ko.gz) gzip -dc "$kdir/modules/$m" > "$stage/lib/modules/$name.ko" ;;
	*) cp "$kdir/modules/$m" "$stage/lib/modules/$name.ko" ;;
	esac
	echo "$name.ko" >> "$stage/etc/modules-load"
done
case $ko in
*.ko.xz) xz -dc "$ko" > "$stage/sharefs.ko" ;;
*.ko.zst) zstd -qdc "$ko" > "$stage/sharefs.ko" ;;
*) cp "$ko" "$stage/sharefs.ko" ;;
esac
: > "$stage/tests/order"
if [ -f "$tests/order" ]; then
	for p in $(cat "$tests/order"); do
		cp "$tests/$p" "$stage/tests/$p"
	done
	cp "$tests/order" "$stage/tests/order"
fi
[ -n "$cmd" ] && printf '%s\n' "$cmd" > "$stage/etc/vm-command"

# --- images ---------------------------------------------------------------
drives=()
disk=$out/images.disk
: > "$stage/images/manifest"
if ls "$images"/*.img > /dev/null 2>&1; then
	rm -f "$disk"
	off=0
	for img in "$images"/*.img; do
		size=$(stat -c %s "$img")
		dd if="$img" of="$disk" bs=4096 seek=$((off / 4096)) conv=notrunc status=none
		echo "$(basename "$img" .img) $off $size" >> "$stage/images/manifest"
		off=$(( (off + size + 4095) / 4096 * 4096 ))
	done
	drives+=(-drive "file=$disk,if=none,id=images,format=raw,readonly=on"
		 -device "virtio-blk-pci,drive=images,serial=images")
	if [ -f "$images/direct" ]; then
		for name in $(cat "$images/direct"); do
			drives+=(-drive "file=$images/$name.img,if=none,id=d-$name,format=raw,readonly=on"
				 -device "virtio-blk-pci,drive=d-$name,serial=$name")
		done
	fi
fi

# disks of files that are no images themselves (host_test's and the
# demo's ext4 disks of image files)
for d in "$images"/*.disk; do
	[ -f "$d" ] || continue
	name=$(basename "$d" .disk)
	drives+=(-drive "file=$d,if=none,id=f-$name,format=raw,readonly=on"
		 -device "virtio-blk-pci,drive=f-$name,serial=$name")
done

# small side files of the images: manifests and lists (diff_test)
for f in "$images"/*.manifest "$images"/*.list "$images"/*.verity; do
	[ -f "$f" ] && cp "$f" "$stage/images/"
done

# scripts/vng-run.sh boots the staged tree (and the images disk) itself
[ -n "${SHAREFS_VM_STAGE_ONLY:-}" ] && exit 0
(cd "$stage" && find . | cpio -o -H newc --quiet) > "$out/initramfs.cpio"

# --- boot -----------------------------------------------------------------
boot() {	# accel timeout console ktap
	# QEMU's file: backend does not truncate: a stale tail would be
	# counted as this run's results
	: > "$3"
	: > "$4"
	timeout --foreground "$2" qemu-system-x86_64 -nodefaults -nographic \
		-no-reboot -machine q35 -accel "$1" -cpu max -smp 2 -m "${SHAREFS_VM_MEM:-2048}" \
		-kernel "$kdir/vmlinuz" -initrd "$out/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 oops=panic loglevel=6 rdinit=/init" \
		-serial "file:$3" -serial "file:$4" "${drives[@]}" \
		< /dev/null > /dev/null 2>&1
}

# Single-threaded TCG: both vCPUs run in turn on one host thread.  With
# one host thread per vCPU (MTTCG), a vCPU can still run code that the other
# has just re-patched through the kernel's int3 text poking (static keys):
# about one boot in 40 of the 7.x kernel died at boot with "Oops: int3" in
# sched_clock_cpu(), before any sharefs code ran.  The guest still has two
# CPUs, so the tests keep their concurrency.
accel=tcg,thread=single
if [ "${SHAREFS_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then
	printf 'true\n' > "$stage/etc/vm-command"
	(cd "$stage" && find . | cpio -o -H newc --quiet) > "$out/probe.cpio"
	: > "$out/probe.log"
	if timeout 60 qemu-system-x86_64 -nodefaults -nographic -no-reboot \
		-machine q35,accel=kvm -cpu host -m 512 -kernel "$kdir/vmlinuz" \
		-initrd "$out/probe.cpio" -append "console=ttyS0 panic=-1" \
		-serial null -serial "file:$out/probe.log" < /dev/null > /dev/null 2>&1 &&
		grep -q '@@SHAREFS-END@@' "$out/probe.log"; then
		accel=kvm
	else
		log "$tag: KVM probe boot failed, using TCG"
	fi
fi

log "$tag: booting $rel ($accel)"
start=$(date +%s)
rc=0
boot "$accel" "$timeout" "$out/console.log" "$out/ktap.log" || rc=$?
[ $rc -eq 124 ] && log "$tag: timed out after ${timeout}s"
log "$tag: VM ran $(( $(date +%s) - start ))s"
vm_results
