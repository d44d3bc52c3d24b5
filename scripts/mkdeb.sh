#!/bin/bash
# scripts/mkdeb.sh - `make deb`: the Debian packages a host installs.
#
#   sharefs-dkms_VERSION_all.deb     the module's source under
#                                    /usr/src/sharefs-VERSION, built by DKMS
#                                    for every kernel with headers, now and
#                                    at every kernel upgrade (as zfs-dkms)
#   sharefs-tools_VERSION_amd64.deb  mkfs.sharefs and mount.sharefs
#                                    (/usr/sbin, which merged-/usr makes
#                                    /sbin, where mount(8) finds helpers)
#                                    and sharefs-stat (/usr/bin)
#
# Written to build/deb/.  Plain dpkg-deb, so no debhelper is needed: the
# maintainer scripts are the few lines below.  VERSION comes from dkms.conf.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sharefs_version "$top")
[ -n "$ver" ] || die "no PACKAGE_VERSION in dkms.conf"
out=$top/build/deb
stage=$out/stage
rm -rf "$out" && mkdir -p "$stage"
maint="sharefs developers <sharefs@localhost>"

# --- sharefs-dkms ---------------------------------------------------------
p=$stage/dkms
stage_dkms_source "$top" "$p/usr/src/sharefs-$ver"
mkdir -p "$p/DEBIAN" "$p/usr/share/doc/sharefs-dkms"
cp "$top/README.md" "$p/usr/share/doc/sharefs-dkms/"
cat > "$p/DEBIAN/control" <<CTRL
Package: sharefs-dkms
Version: $ver
Architecture: all
Section: kernel
Priority: optional
Maintainer: $maint
Depends: dkms (>= 2.8)
Recommends: sharefs-tools
Description: sharefs: read-only EROFS-format filesystem with shared page cache (DKMS)
 sharefs mounts EROFS-format images and lets files with equal content
 fingerprints share one page cache across images.  This package builds the
 sharefs kernel module with DKMS for every installed kernel that has its
 headers, and for every kernel installed later.
CTRL
# configure: register the source, then build and install for every kernel
# that has headers.  A kernel whose build fails is named and skipped, as
# dkms's own hooks do, so one odd kernel does not break the upgrade.
cat > "$p/DEBIAN/postinst" <<POST
#!/bin/sh
set -e
[ "\$1" = configure ] || exit 0
dkms status -m sharefs -v $ver | grep -q . || dkms add -m sharefs -v $ver
for b in /lib/modules/*/build; do
	[ -d "\$b" ] || continue
	k=\${b%/build}; k=\${k##*/}
	dkms install -m sharefs -v $ver -k "\$k" ||
		echo "sharefs-dkms: the module did not build for \$k (see dkms status)" >&2
done
POST
cat > "$p/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
case "\$1" in
remove|upgrade|deconfigure)
	if dkms status -m sharefs -v $ver | grep -q .; then
		dkms remove -m sharefs -v $ver --all
	fi ;;
esac
PRERM
chmod 0755 "$p/DEBIAN/postinst" "$p/DEBIAN/prerm"
dpkg-deb --root-owner-group -Zxz --build "$p" "$out/sharefs-dkms_${ver}_all.deb" > /dev/null

# --- sharefs-tools --------------------------------------------------------
make -s -C "$top/tools" mkfs.sharefs sharefs-stat mount.sharefs
p=$stage/tools
mkdir -p "$p/DEBIAN" "$p/usr/share/doc/sharefs-tools"
make -s -C "$top/tools" install DESTDIR="$p" PREFIX=/usr MOUNTHELPERDIR=/usr/sbin
cp "$top/README.md" "$p/usr/share/doc/sharefs-tools/"
# Depends: the packages that own the libraries the tools link directly
# (their NEEDED entries, not everything ldd pulls in behind them)
deps=$(for b in "$p"/usr/sbin/* "$p"/usr/bin/*; do
	needed=$(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	for so in $needed; do
		ldd "$b" | awk -v so="$so" '$1 == so && $3 ~ /^\// {print $3}'
	done
done | sort -u | while read -r lib; do
	dpkg -S "$(readlink -f "$lib")" 2>/dev/null || dpkg -S "$lib" 2>/dev/null
done | cut -d: -f1 | sort -u | while read -r pkg; do
	echo "$pkg (>= $(dpkg-query -W -f='${Version}' "$pkg" | sed 's/+deb.*//'))"
done | paste -sd, | sed 's/,/, /g')
[ -n "$deps" ] || die "cannot work out the tools' library dependencies"
cat > "$p/DEBIAN/control" <<CTRL
Package: sharefs-tools
Version: $ver
Architecture: $(dpkg --print-architecture)
Section: admin
Priority: optional
Maintainer: $maint
Depends: $deps
Recommends: sharefs-dkms
Description: sharefs: build EROFS-format images with content fingerprints
 mkfs.sharefs builds EROFS-format images from a directory or a tar stream
 and gives every regular file a trusted.fingerprint xattr, so the sharefs
 module can share one page cache between equal files of different images.
 mount.sharefs lets `mount -t sharefs IMAGE-FILE DIR` read the image through
 a direct-I/O loop device, so its bytes are cached once.  sharefs-stat
 prints the sharing counters of /sys/fs/sharefs.
CTRL
dpkg-deb --root-owner-group -Zxz --build "$p" "$out/sharefs-tools_${ver}_$(dpkg --print-architecture).deb" > /dev/null
rm -rf "$stage"
for d in "$out"/*.deb; do log "${d#$top/}"; done
