#!/bin/bash
# scripts/ci-dkms.sh - install sharefs as a Debian host does, and prove it.
#
# Run by .ci/run inside its throw-away Debian 12 root, after `make check`:
# it installs packages and kernel headers into the system it runs on, so it
# refuses to run anywhere else (CI=true is the guard).
#
#  1. `make deb`, then apt-get installs sharefs-dkms, sharefs-tools and the
#     headers of Debian 12's 6.1 kernel: DKMS builds and installs sharefs.ko
#     for 6.1;
#  2. a kernel upgrade: the headers of 6.12 arrive alone, and DKMS's kernel
#     hook builds sharefs for it, with nobody asking;
#  3. the unstable kernel: the same package, dpkg -i'd in the unstable chroot
#     (which holds that kernel's headers and gcc), builds there; it is
#     purged again afterwards so the cached chroot stays as it was;
#  4. each installed module boots in the VM of its kernel and passes
#     mount_test, and the packaged mkfs.sharefs writes an image that
#     fsck.erofs accepts;
#  5. purging sharefs-dkms removes the modules.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "${CI:-}" = true ] ||
	die "ci-dkms.sh installs kernel headers and packages into this system; it runs only in .ci/run's clean root"
export DEBIAN_FRONTEND=noninteractive
ver=$(sharefs_version "$top")
rel() { cat "$KERNELS_DIR/$1/release"; }

installed_ko() {	# release [root] -> the installed module's path
	local f
	f=$(ls "${2:-}/lib/modules/$1/updates/dkms/sharefs.ko"* 2>/dev/null | head -n 1)
	[ -n "$f" ] || die "no sharefs.ko installed for $1"
	# the module must be built for exactly that kernel
	modinfo -F vermagic "$f" | grep -q "^$1 " ||
		die "$f: vermagic $(modinfo -F vermagic "$f") is not $1"
	echo "$f"
}

boot_test() {	# tag module
	SHAREFS_KO=$2 scripts/vm-run.sh "$1" --timeout 300 \
		--cmd 'grep -qw sharefs /proc/filesystems && /tests/mount_test && echo SHAREFS-DKMS-OK' \
		> "build/dkms-$1.log" 2>&1 || true
	grep -q SHAREFS-DKMS-OK "build/dkms-$1.log" ||
		{ cat "build/dkms-$1.log"; die "$1: the DKMS-installed module failed in the VM"; }
	log "$1: the DKMS-installed module loads and passes mount_test"
}

log "make deb"
scripts/mkdeb.sh
debs=("$top"/build/deb/*.deb)

log "install sharefs-dkms, sharefs-tools and linux-headers-$(rel 6.1)"
apt-get install -y -qq --no-install-recommends "${debs[@]}" \
	"linux-headers-$(rel 6.1)" > build/dkms-apt.log 2>&1 ||
	{ cat build/dkms-apt.log; die "apt-get install failed"; }
ko61=$(installed_ko "$(rel 6.1)")

log "a kernel upgrade: install linux-headers-$(rel 6.12) alone"
apt-get install -y -qq --no-install-recommends "linux-headers-$(rel 6.12)" \
	>> build/dkms-apt.log 2>&1 || { cat build/dkms-apt.log; die "apt-get install failed"; }
ko612=$(installed_ko "$(rel 6.12)")
dkms status -m sharefs

log "the unstable kernel: dpkg -i sharefs-dkms in the unstable chroot"
sid_ensure dkms
cp build/deb/sharefs-dkms_"$ver"_all.deb "$SID_ROOT/tmp/"
sid_chroot_run dpkg -i "/tmp/sharefs-dkms_${ver}_all.deb" > build/dkms-sid.log 2>&1 ||
	{ cat build/dkms-sid.log; die "dpkg -i in the unstable chroot failed"; }
mkdir -p build/dkms-sid
cp "$(installed_ko "$(rel sid)" "$SID_ROOT")" build/dkms-sid/
sid_chroot_run dpkg --purge sharefs-dkms >> build/dkms-sid.log 2>&1 ||
	die "dpkg --purge in the unstable chroot failed"
rm -f "$SID_ROOT/tmp/sharefs-dkms_${ver}_all.deb"

boot_test 6.1 "$ko61"
boot_test 6.12 "$ko612"
boot_test sid "$(ls build/dkms-sid/sharefs.ko*)"

log "the packaged tools"
rm -rf build/dkms-tree && mkdir -p build/dkms-tree/d
printf 'hello\n' > build/dkms-tree/d/f
/usr/sbin/mkfs.sharefs -q build/dkms-tree.img build/dkms-tree
fsck.erofs build/dkms-tree.img > /dev/null || die "fsck.erofs rejects the packaged mkfs.sharefs's image"
/usr/bin/sharefs-stat --help > /dev/null || die "sharefs-stat does not run"
# mount(8) looks for helpers in /sbin: merged /usr puts /usr/sbin there
[ -x /sbin/mount.sharefs ] || die "mount(8) would not find /sbin/mount.sharefs"

log "purge sharefs-dkms"
apt-get purge -y -qq sharefs-dkms sharefs-tools >> build/dkms-apt.log 2>&1
if ls /lib/modules/*/updates/dkms/sharefs.ko* > /dev/null 2>&1; then
	die "purging sharefs-dkms left modules behind"
fi
log "sharefs-dkms $ver: built and loaded for $(rel 6.1), $(rel 6.12), $(rel sid)"
