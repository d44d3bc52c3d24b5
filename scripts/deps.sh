#!/bin/bash
# scripts/deps.sh - install the host packages that the build and the tests
# need (Debian 12).  Idempotent and quick when everything is there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
host_install make gcc libc6-dev pkg-config file python3 \
	qemu-system-x86 busybox-static erofs-utils debootstrap \
	debian-archive-keyring cpio kmod xz-utils zstd acl attr \
	libarchive-dev libssl-dev
