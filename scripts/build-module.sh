#!/bin/bash
# scripts/build-module.sh - build sharefs.ko for one test kernel, with DKMS.
#
#   scripts/build-module.sh TAG
#
# The module is built the way a host builds it: `dkms add` + `dkms build`
# over the tree that the sharefs-dkms package installs (dkms.conf, Kbuild,
# fs/sharefs/), so the module the VM suite tests is the one DKMS makes.  The
# DKMS tree and source tree are private (build/TAG/dkms/): nothing under
# /var/lib/dkms or /usr/src is touched.  For the unstable kernel, whose
# headers need unstable's compiler, DKMS runs inside the chroot.  W=1 is
# always on, and any compiler warning fails the build.
#
# Leaves build/TAG/sharefs.ko and build/TAG/build.log (kbuild's output).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

tag=${1:?usage: build-module.sh TAG}
kdir=$KERNELS_DIR/$tag
[ -f "$kdir/kdir" ] || "$top/scripts/kernels.sh" "$tag"
headers=$(cat "$kdir/kdir")
rel=$(cat "$kdir/release")
ver=$(sharefs_version "$top")
out=$top/build/$tag
mkdir -p "$out"

# fresh private DKMS trees under $1, the package's source tree staged in it
prepare() {	# dir
	rm -rf "$1" && mkdir -p "$1/tree" "$1/src"
	stage_dkms_source "$top" "$1/src/sharefs-$ver"
}

# dkms add + build, run by "$@" (the host, or the chroot); prints dkms's
# own output only on failure
dkms_build() {	# dir kernel-source-dir runner...
	local d=$1 ksrc=$2; shift 2
	"$@" env SHAREFS_KBUILD_ARGS=W=1 sh -c '
		dkms add -m sharefs -v "$1" --dkmstree "$2/tree" --sourcetree "$2/src" &&
		dkms build -m sharefs -v "$1" -k "$3" --kernelsourcedir "$4" \
			--dkmstree "$2/tree" --sourcetree "$2/src"' \
		_ "$ver" "$d" "$rel" "$ksrc" > "$out/dkms.log" 2>&1
}

case $(cat "$kdir/builder") in
host)
	host_install dkms dwarves
	d=$out/dkms
	prepare "$d"
	dkms_build "$d" "$headers" || true
	root=$d
	;;
sid)
	sid_ensure dkms
	# one directory per work tree: clones side by side share the chroot
	sub=build/sharefs-$(printf '%s' "$top" | sha256sum | cut -c1-12)
	prepare "$SID_ROOT/$sub"
	dkms_build "/$sub" "$headers" sid_chroot_run || true
	root=$SID_ROOT/$sub
	;;
esac
# a failed build leaves no $rel directory: find fails, and must not end the
# script (set -e, pipefail) before it has shown the compiler's messages
ko=$(find "$root/tree/sharefs/$ver/$rel" -name sharefs.ko 2>/dev/null | head -n 1 || true)
mklog=$(find "$root/tree/sharefs/$ver" -name make.log 2>/dev/null | head -n 1 || true)
[ -n "$mklog" ] && cp "$mklog" "$out/build.log"
if [ -z "$ko" ]; then
	cat "$out/dkms.log" "${mklog:-/dev/null}" >&2
	die "dkms build for $tag failed"
fi
cp "$ko" "$out/sharefs.ko"
# warnings are errors in our own code
if grep -E 'warning:' "$out/build.log" | grep -v 'Skipping BTF' | grep -q .; then
	grep -E 'warning:' "$out/build.log" >&2
	die "build for $tag has warnings"
fi
log "$tag: build/$tag/sharefs.ko (dkms $ver, $rel)"
