#!/bin/bash
# scripts/kernels.sh - make the three test kernels available, and cache them.
#
#   6.1   Debian 12's newest 6.1 kernel
#   6.12  Debian 12's newest 6.12 kernel (bookworm's +deb12 series)
#   sid   the newest kernel of Debian unstable (7.x), whose headers need
#         unstable's compiler: it is built against inside a debootstrapped
#         unstable chroot that is kept in the cache.
#
# For each tag this leaves $KERNELS_DIR/<tag>/ with:
#   release    the kernel release string (uname -r)
#   vmlinuz    the kernel image to boot (a link into root/)
#   modules    its /lib/modules/<release> (from the -unsigned image package)
#   kdir       the path of the headers to build against
#   builder    "host" or "sid" (where make must run: sid paths are inside
#              the chroot)
#
# Package names change with every Debian update, so they are looked up with
# apt-cache at run time; nothing here names a version number.  The machine's
# own apt sources are never touched: unstable is only ever seen from inside
# its chroot.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# newest package name matching an anchored regex, from a given apt-cache
newest_pkg() {
	local re=$1; shift
	"$@" search --names-only "$re" | awk '{print $1}' | sort -V | tail -n 1
}

# Unpack the image package (and any headers packages) of one kernel into
# $KERNELS_DIR/<tag>/root, so that the headers' relative symlinks to their
# -common and kbuild parts resolve there, without touching the host's /boot
# or /usr/src.
unpack_kernel() {	# tag release deb...
	local tag=$1 rel=$2 dir=$KERNELS_DIR/$1 deb
	shift 2
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/root"
	for deb in "$@"; do
		dpkg-deb -x "$deb" "$dir.tmp/root" || die "cannot unpack $deb"
	done
	# merged-/usr packages put the modules (and, lately, the kernel itself)
	# under usr/lib/modules; give them the classic /lib path too
	if [ ! -e "$dir.tmp/root/lib" ] && [ -d "$dir.tmp/root/usr/lib" ]; then
		ln -s usr/lib "$dir.tmp/root/lib"
	fi
	if [ -f "$dir.tmp/root/boot/vmlinuz-$rel" ]; then
		ln -s "root/boot/vmlinuz-$rel" "$dir.tmp/vmlinuz"
	elif [ -f "$dir.tmp/root/lib/modules/$rel/vmlinuz" ]; then
		ln -s "root/lib/modules/$rel/vmlinuz" "$dir.tmp/vmlinuz"
	else
		die "no vmlinuz for $rel in $*"
	fi
	ln -s "root/lib/modules/$rel" "$dir.tmp/modules"
	# image packages ship no modules.dep: depmod writes it (the VM runner
	# resolves module dependencies from it)
	depmod -b "$dir.tmp/root" "$rel" || die "depmod failed for $rel"
	echo "$rel" > "$dir.tmp/release"
	if [ -d "$dir.tmp/root/usr/src/linux-headers-$rel" ]; then
		# Debian's headers include their -common half by absolute
		# path: point that at the unpacked copy, not at /usr/src
		sed -i "s|^include /usr/src/|include $dir/root/usr/src/|" \
			"$dir.tmp/root/usr/src/linux-headers-$rel/Makefile"
		echo "$dir/root/usr/src/linux-headers-$rel" > "$dir.tmp/kdir"
		echo host > "$dir.tmp/builder"
	fi
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# The names of the packages a headers package needs from its own kernel
# build (its -common part and the kbuild scripts).
header_deps() {	# apt-cache-command... -- pkg
	local pkg=${!#}
	"${@:1:$#-1}" depends "$pkg" | awk '$1 == "Depends:" {print $2}' |
		grep -E '^linux-(headers|kbuild)-' | tr -d '<>' | sort -u
}

bookworm_kernel() {	# tag regex-of-release
	local tag=$1 relre=$2 pkg rel dir=$KERNELS_DIR/$1 p debs=()
	pkg=$(newest_pkg "^linux-image-${relre}-amd64-unsigned\$" apt-cache)
	if [ -z "$pkg" ]; then	# a fresh machine has no package lists yet
		apt_run "the package lists" "$(mktemp)" update
		pkg=$(newest_pkg "^linux-image-${relre}-amd64-unsigned\$" apt-cache)
	fi
	[ -n "$pkg" ] || die "no linux-image package for $tag"
	rel=${pkg#linux-image-}; rel=${rel%-unsigned}
	if [ ! -f "$dir/release" ] || [ "$(cat "$dir/release")" != "$rel" ]; then
		log "$tag: downloading $pkg and its headers"
		mkdir -p "$SHAREFS_CACHE/debs/$tag"
		rm -f "$SHAREFS_CACHE/debs/$tag"/*.deb
		(cd "$SHAREFS_CACHE/debs/$tag" &&
			apt-get download -qq -o APT::Sandbox::User=root "$pkg" "linux-headers-$rel" \
				$(header_deps apt-cache "linux-headers-$rel")) ||
			die "apt-get download for $tag failed"
		for p in "$SHAREFS_CACHE/debs/$tag"/*.deb; do debs+=("$p"); done
		unpack_kernel "$tag" "$rel" "${debs[@]}"
	fi
	log "$tag: $rel"
}

sid_chroot() {
	if [ -f "$SID_ROOT/.sharefs-ready" ]; then
		return 0
	fi
	host_install debootstrap debian-archive-keyring
	log "debootstrapping Debian unstable into $SID_ROOT (once)"
	rm -rf "$SID_ROOT"
	mkdir -p "$SHAREFS_CACHE"
	debootstrap --variant=minbase --include=make,erofs-utils,ca-certificates \
		sid "$SID_ROOT" "$DEBIAN_MIRROR" > "$SHAREFS_CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $SHAREFS_CACHE/debootstrap.log"
	sid_apt_config
	touch "$SID_ROOT/.sharefs-ready"
}

# The archive this machine reaches is a frozen copy whose unstable Release
# file may be past its Valid-Until date: accept it, inside the chroot only.
sid_apt_config() {
	echo 'Acquire::Check-Valid-Until "false";' \
		> "$SID_ROOT/etc/apt/apt.conf.d/99sharefs"
}

sid_apt() {
	sid_chroot_run env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

sid_kernel() {
	local dir=$KERNELS_DIR/sid pkg rel stamp
	sid_chroot
	# refresh the package lists at most once a day
	stamp=$SID_ROOT/.sharefs-apt-stamp
	if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
		cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf" 2>/dev/null || true
		sid_apt_config
		sid_apt update -qq ||
			die "apt-get update in the unstable chroot failed (no network?); run again once the Debian archive is reachable"
		touch "$stamp"
	fi
	# unstable ships the image as linux-image-<rel> (signed, no -unsigned
	# twin any more); the cloud and rt flavours are not what we test
	pkg=$(chroot "$SID_ROOT" apt-cache search --names-only \
		'^linux-image-[0-9].*-amd64(-unsigned)?$' | awk '{print $1}' |
		grep -Ev -- '-(cloud|rt)-amd64' | sort -V | tail -n 1)
	[ -n "$pkg" ] || die "no linux-image package in unstable"
	rel=${pkg#linux-image-}; rel=${rel%-unsigned}
	# by dpkg's status, not by a directory: an interrupted install
	# leaves the directory half filled
	sid_ensure "linux-headers-$rel" erofs-utils make dkms
	if [ ! -f "$dir/release" ] || [ "$(cat "$dir/release")" != "$rel" ]; then
		log "sid: unpacking $pkg"
		# newer kernels split the image package: the kernel and the
		# modules come in linux-binary-* and linux-modules-* packages
		parts=$(chroot "$SID_ROOT" apt-cache depends "$pkg" |
			awk '$1 == "Depends:" {print $2}' |
			grep -Fx -e "linux-binary-$rel" -e "linux-modules-$rel" |
			tr '\n' ' ')
		rm -rf "$SID_ROOT/tmp/kdebs" && mkdir -p "$SID_ROOT/tmp/kdebs"
		chroot "$SID_ROOT" sh -c "cd /tmp/kdebs && apt-get download -qq $pkg $parts" ||
			die "apt-get download $pkg failed"
		unpack_kernel sid "$rel" "$SID_ROOT"/tmp/kdebs/*.deb
		rm -rf "$SID_ROOT/tmp/kdebs"
	fi
	# the headers live inside the chroot; make runs there (chroot path)
	echo "/usr/src/linux-headers-$rel" > "$dir/kdir"
	echo sid > "$dir/builder"
	log "sid: $rel"
}

main() {
	mkdir -p "$KERNELS_DIR"
	local tag
	for tag in ${1:-$KERNEL_TAGS}; do
		case $tag in
		6.1)	bookworm_kernel 6.1 '6\.1\.0-[0-9]+' ;;
		6.12)	bookworm_kernel 6.12 '6\.12\.[0-9]+\+deb12' ;;
		sid)	sid_kernel ;;
		*)	die "unknown kernel tag $tag" ;;
		esac
	done
}

main "$@"
