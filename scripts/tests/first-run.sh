#!/bin/bash
# scripts/tests/first-run.sh - what a new user sees when the scripts cannot
# install what they need: one clear line naming the packages and the way
# out, and no cache that a later run would take for complete.
#
# Runs on the host, as root, as part of make check's host tests; each case
# runs the real script function in a setting that makes it fail:
#   not root      (setpriv to nobody)
#   no network    (a network namespace with no interfaces)
#   apt locked    (the dpkg frontend lock held, with a 1 s wait)
# that Debian 12's mkfs.erofs works where /tmp is tmpfs (Debian 13's
# default), and checks the kernel cache's rule: an interrupted unpack (a *.tmp
# directory, no release file) is not taken for a prepared kernel.
# Ends with "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. scripts/tests/lib.sh --no-skip

# expect "name" "regex on the last line" command...: the command must fail,
# and its last stderr line must match
expect() {
	local name=$1 re=$2 out; shift 2
	if out=$("$@" 2>&1 > /dev/null); then
		nok "$name" "succeeded, expected a failure"
		return
	fi
	out=$(printf '%s\n' "$out" | tail -n 1)
	if printf '%s\n' "$out" | grep -qE "$re"; then ok "$name"; else nok "$name" "last line: $out"; fi
}

# a package that no test machine has
absent=sharefs-no-such-package-$$
expect "not root: deps.sh says to run as root" 'error: run as root' \
	setpriv --reuid=nobody --regid=nogroup --clear-groups scripts/deps.sh
expect "not root: host_install names the missing packages" \
	"missing packages: $absent; .*sudo apt-get install $absent" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	bash -c ". scripts/lib.sh; host_install $absent"
# no network: apt-get update is the first step to fail
expect "no network: one line, the packages, what to do" \
	"cannot reach the Debian archive.*needed: $absent" \
	unshare --net bash -c ". scripts/lib.sh; host_install $absent"
expect "unknown package: says the apt sources lack it" \
	"apt sources have no package among: $absent" \
	bash -c ". scripts/lib.sh; SHAREFS_APT_UPDATED=1 host_install $absent"
# apt takes fcntl locks (flock(1) would not stop it); the package is one
# that does not exist, so nothing is installed even if the lock were ignored
with_dpkg_lock() {
	python3 -c 'import fcntl, subprocess, sys
f = open("/var/lib/dpkg/lock-frontend", "w")
fcntl.lockf(f, fcntl.LOCK_EX)
sys.exit(subprocess.run(sys.argv[1:]).returncode)' "$@"
}
expect "apt locked: says so instead of hanging" \
	"apt is locked by another process" \
	with_dpkg_lock env SHAREFS_APT_LOCK_WAIT=1 \
	bash -c ". scripts/lib.sh; SHAREFS_APT_UPDATED=1 host_install $absent"

# an unpack that died half way must not count as a prepared kernel
cache=$(mktemp -d)
mkdir -p "$cache/kernels/6.12.tmp/root"
if SHAREFS_CACHE=$cache bash -c '. scripts/lib.sh; [ -f "$KERNELS_DIR/6.12/release" ]'; then
	nok "a half-unpacked kernel is not taken for a prepared one" "release file seen"
else
	ok "a half-unpacked kernel is not taken for a prepared one"
fi
expect "vm-run refuses a kernel that is not prepared" "kernel 6.12 not prepared" \
	env SHAREFS_CACHE="$cache" scripts/vm-run.sh 6.12
rm -rf "$cache"

# a host whose /tmp is tmpfs (Debian 13's default): Debian 12's mkfs.erofs
# failed with EIO on chunked files there (copy_file_range EXDEV from /tmp)
work=$(mktemp -d /var/tmp/first-run.XXXXXX)
mkdir -p "$work/src" && head -c 100000 /dev/urandom > "$work/src/f"
if unshare --mount --propagation private bash -c \
	'mount -t tmpfs t /tmp && . scripts/lib.sh &&
	 mkfs_erofs15 --quiet --chunksize=4096 "$1/a.img" "$1/src"' _ "$work" > /dev/null 2>&1 &&
   fsck.erofs "$work/a.img" > /dev/null 2>&1; then
	ok "mkfs.erofs 1.5 writes chunked images with /tmp on tmpfs"
else
	nok "mkfs.erofs 1.5 writes chunked images with /tmp on tmpfs" "mkfs_erofs15 or fsck failed"
fi
rm -rf "$work"

finish
