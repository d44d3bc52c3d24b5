#!/bin/bash
# scripts/kselftest-headers.sh - print a directory holding kselftest.h and
# kselftest_harness.h, taken from Debian's linux-source-6.12 package (cached).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dir=$SHAREFS_CACHE/kselftest
if [ ! -f "$dir/kselftest_harness.h" ]; then
	pkg=$(apt-cache search --names-only '^linux-source-6\.12$' | awk '{print $1}')
	[ -n "$pkg" ] || die "no linux-source-6.12 package"
	mkdir -p "$SHAREFS_CACHE/debs/src" "$dir.tmp"
	rm -f "$SHAREFS_CACHE/debs/src"/*.deb
	log "downloading $pkg for kselftest_harness.h (once)"
	(cd "$SHAREFS_CACHE/debs/src" &&
		apt-get download -qq -o APT::Sandbox::User=root "$pkg") ||
		die "apt-get download $pkg failed"
	deb=$(ls "$SHAREFS_CACHE"/debs/src/*.deb | head -n 1)
	# the package holds one source tarball; take the two headers out of it
	dpkg-deb --fsys-tarfile "$deb" |
		tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$dir.tmp" --wildcards --strip-components=4 \
			'*/tools/testing/selftests/kselftest.h' \
			'*/tools/testing/selftests/kselftest_harness.h'
	[ -f "$dir.tmp/kselftest_harness.h" ] || die "headers not found in $deb"
	rm -rf "$dir" && mv "$dir.tmp" "$dir"
	rm -f "$deb"
fi
echo "$dir"
