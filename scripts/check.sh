#!/bin/bash
# scripts/check.sh - `make check`: the one command that proves the tree works.
#
# From nothing on a Debian 12 machine: installs the host packages, prepares
# the three kernels (cached under SHAREFS_CACHE), builds the tools, the test
# programs and the test images, runs the host unit tests, then builds
# sharefs.ko for each kernel and runs the VM suite on it.  Ends with one line
# "N passed, N failed, N skipped" over all of it, and exits non-zero on any
# failure.  The modules are built with DKMS (scripts/build-module.sh), as a
# host builds them from the sharefs-dkms package.
#
#   SHAREFS_KERNELS="6.1 6.12 sid"   the kernels to test (default: all three)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh

passed=0 failed=0 skipped=0
fail_step() { log "FAILED: $*"; failed=$((failed + 1)); }
step() {	# name command...
	local name=$1; shift
	log "== $name"
	"$@" || { fail_step "$name"; return 1; }
}
add_counts() {	# "passed failed skipped"
	set -- $1
	passed=$((passed + $1)) failed=$((failed + $2)) skipped=$((skipped + ${3:-0}))
}

start=$(date +%s)
step deps scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
step kernels scripts/kernels.sh ${SHAREFS_KERNELS:-}
step tools make -s tools

# host suites: each one's last line is "N passed, N failed"
host_suite() {	# name command...
	local name=$1 out line; shift
	log "== host tests: $name"
	out=$("$@" 2>&1)
	printf '%s\n' "$out" | sed 's/^/  /'
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ -n "$line" ]; then
		add_counts "$(echo "$line" | sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/')"
	else
		fail_step "host tests $name printed no summary"
	fi
}
host_suite tools make -s -C tools check
host_suite first-run scripts/tests/first-run.sh
host_suite packages scripts/tests/packages.sh
host_suite verity scripts/tests/verity.sh
host_suite compress scripts/tests/compress.sh

step selftests make -s selftests
step images scripts/build-images.sh

for tag in ${SHAREFS_KERNELS:-$KERNEL_TAGS}; do
	step "module $tag" scripts/build-module.sh "$tag" || continue
	log "== VM suite on $tag"
	out=$(scripts/vm-run.sh "$tag" 2>&1)
	printf '%s\n' "$out" | grep -v '^SUMMARY' | sed 's/^/  /'
	sum=$(printf '%s\n' "$out" | sed -n 's/^SUMMARY [^ ]* //p')
	if [ -n "$sum" ]; then
		add_counts "$sum"
		set -- $sum
		log "$tag: $1 passed, $2 failed, $3 skipped (log: build/$tag/ktap.log, build/$tag/console.log)"
	else
		fail_step "VM suite on $tag printed no summary"
	fi
done

log "make check took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
