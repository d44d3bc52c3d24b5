#!/bin/bash
# scripts/debug-kernel.sh - build a 6.12 debug kernel for `make check-debug`.
#
# From Debian's linux-source-6.12, with KASAN, lockdep (PROVE_LOCKING),
# DEBUG_VM and kmemleak on a small configuration (tinyconfig plus what the
# VM suite needs, all built in), so that it builds in reasonable time on
# two cores.  The result is cached as kernel tag "debug" under
# $SHAREFS_CACHE/kernels/debug, laid out like the others (release, vmlinuz,
# modules, kdir, builder), and rebuilt only when this script changes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$KERNELS_DIR/debug
work=$SHAREFS_CACHE/debug-kernel
stamp=$(sha256sum "$0" | cut -c1-16)
if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ]; then
	log "debug kernel up to date: $(cat "$dir/release")"
	exit 0
fi

host_install bc bison flex libelf-dev libssl-dev dwarves cpio xz-utils kmod

# --- the source -------------------------------------------------------------
if [ ! -f "$work/src/Makefile" ]; then
	pkg=$(apt-cache search --names-only '^linux-source-6\.12$' | awk '{print $1}')
	[ -n "$pkg" ] || die "no linux-source-6.12 package"
	mkdir -p "$work/deb"
	rm -f "$work/deb"/*.deb
	log "downloading $pkg"
	(cd "$work/deb" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") ||
		die "apt-get download $pkg failed"
	rm -rf "$work/src.tmp" && mkdir -p "$work/src.tmp"
	log "unpacking the kernel source"
	dpkg-deb --fsys-tarfile "$work"/deb/*.deb |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$work/src.tmp" --strip-components=1
	rm -rf "$work/src" && mv "$work/src.tmp" "$work/src"
	rm -f "$work"/deb/*.deb
fi

# --- the configuration --------------------------------------------------------
# ext4, overlayfs (over a tmpfs upper, which needs trusted xattrs) and memory
# cgroups for the container-host tests; device
# mapper (error, delay, flakey, verity), MBR partitions and a scsi_debug disk
# to remove for the failing-device and drain tests.
src=$work/src
cd "$src"
make -s tinyconfig
# What the VM and the suite need, built in.  EXT2_FS is there for the
# BUFFER_HEAD it selects, as Debian's kernels have: without buffer heads
# the block device's page cache reads through iomap, and there both stock
# erofs and sharefs got EIO reading the last, partial page of an image
# whose size is not a multiple of the page size (1.9's 512-byte blocks).
enable="64BIT SMP PRINTK PRINTK_TIME BUG TTY SERIAL_8250 SERIAL_8250_CONSOLE
	BLK_DEV_INITRD BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS DEVTMPFS TMPFS
	SHMEM MULTIUSER FUTEX EPOLL POSIX_TIMERS FILE_LOCKING AIO FHANDLE
	NAMESPACES USER_NS PROC_PAGE_MONITOR SYSCTL PROC_SYSCTL ADVISE_SYSCALLS
	MODULES MODULE_UNLOAD PCI PCI_MSI ACPI DEBUG_FS EXT2_FS BUFFER_HEAD
	BLOCK BLK_DEV BLK_DEV_LOOP VIRTIO_MENU VIRTIO VIRTIO_PCI VIRTIO_BLK
	MISC_FILESYSTEMS EROFS_FS EROFS_FS_XATTR EROFS_FS_POSIX_ACL FS_POSIX_ACL
	CRYPTO CRYPTO_CRC32C LIBCRC32C XXHASH KALLSYMS
	EXT4_FS OVERLAY_FS TMPFS_XATTR CGROUPS MEMCG PARTITION_ADVANCED MSDOS_PARTITION
	MD BLK_DEV_DM DM_DELAY DM_FLAKEY DM_VERITY CRYPTO_SHA256
	SCSI SCSI_LOWLEVEL BLK_DEV_SD SCSI_DEBUG
	DEBUG_KERNEL DEBUG_INFO_NONE KASAN KASAN_GENERIC KASAN_INLINE
	PROVE_LOCKING DEBUG_VM DEBUG_KMEMLEAK DEBUG_LIST DEBUG_ATOMIC_SLEEP
	SLUB SLUB_DEBUG STACKTRACE"
args=()
for o in $enable; do args+=(--enable "$o"); done
scripts/config "${args[@]}" --set-str LOCALVERSION "-sharefs-debug" \
	--disable DEBUG_KMEMLEAK_DEFAULT_OFF --disable MODULE_SIG \
	--disable SLUB_TINY \
	--disable WERROR
make -s olddefconfig
# a missing dependency drops an option silently: check them all
for o in $enable; do
	grep -q "^CONFIG_$o=y" .config || die "CONFIG_$o did not stick"
done

# --- build ----------------------------------------------------------------------
log "building the debug kernel (takes a while on two cores)"
start=$(date +%s)
nice make -s -j"$(nproc)" bzImage modules > "$work/build.log" 2>&1 ||
	{ tail -30 "$work/build.log" >&2; die "debug kernel build failed"; }
rel=$(make -s kernelrelease)
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/root"
make -s INSTALL_MOD_PATH="$dir.tmp/root" modules_install > /dev/null
cp arch/x86/boot/bzImage "$dir.tmp/vmlinuz"
ln -s "root/lib/modules/$rel" "$dir.tmp/modules"
echo "$rel" > "$dir.tmp/release"
echo "$src" > "$dir.tmp/kdir"
echo host > "$dir.tmp/builder"
echo "$stamp" > "$dir.tmp/stamp"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
log "debug kernel $rel built in $(( $(date +%s) - start ))s"
