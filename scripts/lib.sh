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

# apt-get install on the host, only for packages not yet installed.  When
# that cannot work (not root, no network, apt locked, a broken dpkg), stop
# with one line that names the packages and what to do, never a page of
# apt output.
host_install() {
	local missing=() p out
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] ||
		die "missing packages: ${missing[*]}; run as root, or first: sudo apt-get install ${missing[*]}"
	log "installing ${missing[*]}"
	out=$(mktemp)
	if [ -z "${SHAREFS_APT_UPDATED:-}" ]; then
		apt_run "${missing[*]}" "$out" update
		export SHAREFS_APT_UPDATED=1
	fi
	apt_run "${missing[*]}" "$out" install -y --no-install-recommends "${missing[@]}"
	rm -f "$out"
}

# apt-get with a minute's patience for a lock; on failure, one clear line.
apt_run() {	# what-for log apt-args...
	local what=$1 out=$2; shift 2
	# apt-get update only warns, and exits 0, when it cannot fetch
	DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout="${SHAREFS_APT_LOCK_WAIT:-60}" "$@" \
		> "$out" 2>&1 && ! grep -qE '^(W|E): (Failed to fetch|Some index files failed)' "$out" &&
		return 0
	sed 's/^/  apt: /' "$out" | tail -5 >&2
	if grep -qE 'Could not get lock|Unable to acquire the dpkg' "$out"; then
		die "apt is locked by another process; wait for it to finish, then run again (needed: $what)"
	elif grep -qE 'dpkg was interrupted' "$out"; then
		die "dpkg was interrupted earlier; run 'dpkg --configure -a', then run again (needed: $what)"
	elif grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect|Network is unreachable' "$out"; then
		die "cannot reach the Debian archive (no network?); needed: $what; install them by hand (apt-get install $what) or fix the network, then run again"
	elif grep -qE 'Unable to locate package|has no installation candidate' "$out"; then
		die "the apt sources have no package among: $what; enable Debian 12 (bookworm) main in /etc/apt/sources.list, then run again"
	fi
	die "apt-get $1 failed (needed: $what)"
}

# Debian 12's mkfs.erofs (1.5), with /tmp on the image's filesystem.  It
# keeps chunked files in a tmpfile() in /tmp (glibc ignores TMPDIR there)
# and copy_file_range()s it into the image: with /tmp on tmpfs, Debian 13's
# default, that is EXDEV and mkfs.erofs fails with "[Error 5] Input/output
# error".  A private mount namespace gives it a /tmp beside the image.
mkfs_erofs15() {	# mkfs.erofs arguments..., the image second to last
	local img=${@:$#-1:1} tmp
	tmp=$(dirname "$img")/.mkfs-tmp
	mkdir -p "$tmp"
	if [ "$(stat -c %d /tmp)" = "$(stat -c %d "$tmp")" ]; then
		mkfs.erofs "$@"
		return
	fi
	unshare --mount --propagation private \
		sh -c 'mount --bind "$1" /tmp && shift && exec mkfs.erofs "$@"' _ "$tmp" "$@"
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

# Install packages into the unstable chroot, only those not yet installed,
# so that a cached chroot gets what a newer tree needs.
sid_ensure() {
	local missing=() p
	for p in "$@"; do
		chroot "$SID_ROOT" dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing ${missing[*]} in the unstable chroot"
	# a run killed mid-install leaves dpkg half done: finish it first
	sid_chroot_run dpkg --configure -a > /dev/null 2>&1 || true
	# the lists may be older than the packages a newer tree asks for
	cp /etc/resolv.conf "$SID_ROOT/etc/resolv.conf" 2>/dev/null || true
	sid_chroot_run env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
		die "apt-get update in the unstable chroot failed (no network?); run again once the Debian archive is reachable"
	sid_chroot_run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" > "$SID_ROOT/tmp/apt.log" 2>&1 ||
		{ tail -5 "$SID_ROOT/tmp/apt.log" >&2
		  die "cannot install ${missing[*]} in the unstable chroot $SID_ROOT (see the apt lines above; no network? run again once the Debian archive is reachable)"; }
}

# The project's version, from dkms.conf (the one place that states it).
sharefs_version() {	# top
	sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$1/dkms.conf"
}

# The module's source tree as the sharefs-dkms package installs it under
# /usr/src/sharefs-VERSION: dkms.conf, Kbuild, fs/sharefs/*.[ch].
stage_dkms_source() {	# top dir
	rm -rf "$2" && mkdir -p "$2/fs/sharefs"
	cp "$1/dkms.conf" "$1/Kbuild" "$2/"
	cp "$1"/fs/sharefs/*.[ch] "$2/fs/sharefs/"
}

# The VM runners' arguments (vm-run.sh, vng-run.sh): TAG [--cmd CMD]
# [--timeout S].  Sets tag, cmd, timeout, and kdir and rel of the kernel.
vm_args() {
	tag=${1:?usage: ${0##*/} TAG [--cmd CMD] [--timeout S]}; shift
	cmd= timeout=${SHAREFS_VM_TIMEOUT:-900}
	while [ $# -gt 0 ]; do
		case $1 in
		--cmd) cmd=$2; shift 2 ;;
		--timeout) timeout=$2; shift 2 ;;
		*) die "unknown argument $1" ;;
		esac
	done
	kdir=$KERNELS_DIR/$tag
	[ -f "$kdir/release" ] || die "kernel $tag not prepared: run scripts/kernels.sh $tag"
	rel=$(cat "$kdir/release")
}

# After a VM runner's boot (uses tag, cmd, out, top): for --cmd, print the
# command's output and fail on a bad kernel log or a command that did not
# finish (its own output is for the caller to judge, the kernel's health is
# ours); for the suite, count its results (SUMMARY line, exit status).
vm_results() {
	if [ -n "$cmd" ]; then
		sed -n '/@@SHAREFS-BEGIN/,/@@SHAREFS-END/p' "$out/ktap.log" | sed '1d;$d'
		bad=$(grep -aE "$KERNEL_BAD" "$out/console.log" | head -1 || true)
		[ -z "$bad" ] || die "$tag: kernel log: $bad (see ${out#$top/}/console.log)"
		grep -q '@@SHAREFS-END@@' "$out/ktap.log" ||
			die "$tag: the command did not finish (timeout or crash, see ${out#$top/}/console.log)"
		return 0
	fi
	python3 "$top/scripts/vm/ktap-count.py" "$tag" "$out/ktap.log" "$out/console.log"
}

# The kernel tags we test, in order; scripts/kernels.sh resolves each one.
KERNEL_TAGS="6.1 6.12 sid"

# Kernel log lines that fail a VM run (scripts/vm/ktap-count.py has the same
# list for the suite).
KERNEL_BAD='BUG:|kernel BUG|WARNING:|Oops|Call Trace|Busy inodes|Kernel panic|general protection fault|UBSAN:|KASAN:|list_(add|del) corruption|possible circular locking|hung_task|soft lockup'
