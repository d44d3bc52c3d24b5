#!/bin/bash
# scripts/deps.sh - install the host packages that the build and the tests
# need (Debian 12).  Idempotent and quick when everything is there.
#
# Every command the scripts run comes from this list or from Debian 12's
# minbase (.ci/run proves it: it runs `make demo` and `make check` in a
# freshly debootstrapped minbase root that has only git and make besides).
#   dwarves       pahole: 6.12's headers ship a vmlinux, so kbuild makes BTF
#   dkms          the module is built the way hosts build it (dkms.conf)
#   e2fsprogs     mkfs.ext4 -d: the host filesystem disk of host_test
#   cryptsetup-bin  veritysetup: the dm-verity hash tree of fail_test
#   libfsverity-dev mkfs.sharefs --verity computes fs-verity Merkle trees
#                 with libfsverity (fsverity-utils)
#   fsverity      `fsverity digest`: the oracle of scripts/tests/verity.sh
#   liblz4-dev libzstd-dev  mkfs.sharefs -z lz4, lz4hc and zstd
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] ||
	die "run as root (sudo make ...): the build and the tests install Debian packages, chroot into a Debian unstable root and attach disks to test VMs"
host_install make gcc libc6-dev pkg-config file python3 \
	qemu-system-x86 busybox-static erofs-utils debootstrap \
	debian-archive-keyring cpio kmod xz-utils zstd acl attr \
	libarchive-dev libssl-dev dwarves dkms e2fsprogs cryptsetup-bin \
	libfsverity-dev fsverity liblz4-dev libzstd-dev
