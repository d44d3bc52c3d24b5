# scripts/lib.sh - shared settings for the sharefs scripts (sourced, not run).
#
# Everything downloaded or built outside the tree lives under SHAREFS_CACHE so
# that a second run, or a fresh clone on the same machine, reuses it.

SHAREFS_CACHE=${SHAREFS_CACHE:-/var/cache/sharefs}
SID_ROOT=$SHAREFS_CACHE/sid-root
KERNELS_DIR=$SHAREFS_CACHE/kernels
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# apt-get install on the host, only for packages not yet installed.
host_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]}"
	if [ -z "${SHAREFS_APT_UPDATED:-}" ]; then
		apt-get update -qq || die "apt-get update failed"
		export SHAREFS_APT_UPDATED=1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# Run a program of the unstable chroot on the host, with the chroot's own
# dynamic loader and libraries, so that host paths work unchanged.
sid_exec() {
	local prog=$1; shift
	"$SID_ROOT/usr/lib64/ld-linux-x86-64.so.2" \
		--library-path "$SID_ROOT/usr/lib/x86_64-linux-gnu" \
		"$SID_ROOT/usr/bin/$prog" "$@"
}

# Run a command inside the unstable chroot, with /proc mounted for its
# duration (objtool and apt read it).
sid_chroot_run() {
	local mounted= rc=0
	if ! mountpoint -q "$SID_ROOT/proc"; then
		mount -t proc proc "$SID_ROOT/proc" && mounted=1
	fi
	chroot "$SID_ROOT" "$@" || rc=$?
	[ -n "$mounted" ] && umount "$SID_ROOT/proc"
	return $rc
}

# apt-get install inside the unstable chroot, only for packages it lacks:
# a chroot cached before a script needed them gets them on first use.
sid_install() {
	local missing=() p
	for p in "$@"; do
		chroot "$SID_ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]} in the unstable chroot"
	cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf" 2>/dev/null || true
	sid_chroot_run env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		die "apt-get update in the unstable chroot failed"
	sid_chroot_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" > /dev/null ||
		die "apt-get install ${missing[*]} in the unstable chroot failed"
}

# The kernel tags we test, in order; scripts/kernels.sh resolves each one.
KERNEL_TAGS="6.1 6.12 sid"

# Kernel log lines that fail a VM run (scripts/vm/ktap-count.py has the same
# list for the suite).
KERNEL_BAD='BUG:|kernel BUG|WARNING:|Oops|Call Trace|Busy inodes|Kernel panic|general protection fault|UBSAN:|KASAN:|list_(add|del) corruption|possible circular locking|hung_task|soft lockup'
