#!/bin/bash
# scripts/tests/packages.sh - `make deb` builds installable packages.
#
# The static half of the DKMS proof (the other half, an apt-get install on a
# clean Debian 12 root with DKMS building for three kernels, is
# scripts/ci-dkms.sh in .ci/run): the packages hold what DKMS and a host
# need, their maintainer scripts parse, and the source tree in
# sharefs-dkms is the one the suite's modules were built from.
# Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/tests/lib.sh --no-skip
ver=$(sharefs_version "$top")
arch=$(dpkg --print-architecture)
dkms_deb=build/deb/sharefs-dkms_${ver}_all.deb
tools_deb=build/deb/sharefs-tools_${ver}_$arch.deb

check "dkms.conf states a version" test -n "$ver"
check "make deb builds both packages" scripts/mkdeb.sh
check "sharefs-dkms holds dkms.conf" sh -c "dpkg-deb -c $dkms_deb | grep -q ' ./usr/src/sharefs-$ver/dkms.conf$'"
check "sharefs-dkms holds every source file" sh -c "
	for f in Kbuild \$(cd fs/sharefs && ls *.[ch] | sed 's|^|fs/sharefs/|'); do
		dpkg-deb -c $dkms_deb | grep -q \" ./usr/src/sharefs-$ver/\$f\$\" || exit 1
	done"
check "sharefs-dkms depends on dkms" sh -c "dpkg-deb -f $dkms_deb Depends | grep -q '^dkms'"
tmp=$(mktemp -d)
dpkg-deb -e "$dkms_deb" "$tmp/ctl"
check "the maintainer scripts parse" sh -c "sh -n $tmp/ctl/postinst && sh -n $tmp/ctl/prerm"
check "postinst builds for every kernel with headers" grep -q 'dkms install -m sharefs' "$tmp/ctl/postinst"
dpkg-deb -x "$tools_deb" "$tmp/tools"
check "sharefs-tools: mkfs.sharefs in /usr/sbin runs" sh -c "$tmp/tools/usr/sbin/mkfs.sharefs 2>&1 | grep -q Usage"
check "sharefs-tools: sharefs-stat in /usr/bin runs" "$tmp/tools/usr/bin/sharefs-stat" --help
check "sharefs-tools: mount.sharefs in /usr/sbin (mount(8)'s helper)" \
	sh -c "$tmp/tools/usr/sbin/mount.sharefs 2>&1 | grep -q 'Usage: mount.sharefs'"
check "sharefs-tools depends on libarchive, libssl and libfsverity" \
	sh -c "dpkg-deb -f $tools_deb Depends | grep libarchive | grep libssl | grep -q libfsverity0"
rm -rf "$tmp"
finish
