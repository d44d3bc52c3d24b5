#!/bin/bash
# scripts/check-debug.sh - `make check-debug`: the VM suite (stress test
# included) on a 6.12 kernel built with KASAN, lockdep, DEBUG_VM and
# kmemleak (scripts/debug-kernel.sh, cached).  Not part of `make check`:
# the first build of the kernel takes long on two cores, and KASAN under
# TCG slows the suite down several times.  After the suite, kmemleak is
# asked for a scan and any leak report fails the run.
#
# The concurrency fuzzer (cfuzz_test, a minute in make check) runs for
# SHAREFS_CFUZZ_SECONDS here, 1800 by default; its seed is printed in
# build/debug/ktap.log (scripts/cfuzz.sh --kernel debug --seed N runs it
# again alone).
#
# Ends with "N passed, N failed, N skipped"; exits non-zero on failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/lib.sh

start=$(date +%s)
scripts/deps.sh || exit 1
scripts/debug-kernel.sh || { echo "0 passed, 1 failed"; exit 1; }
make -s tools selftests || { echo "0 passed, 1 failed"; exit 1; }
scripts/build-images.sh || { echo "0 passed, 1 failed"; exit 1; }
scripts/build-module.sh debug || { echo "0 passed, 1 failed"; exit 1; }

# One boot: the suite, then every mount gone, rmmod, and two kmemleak scans
# (the second reports what the first found unreferenced).  The suite's
# hour, and the fuzzer's time on top.
cfuzz_secs=${SHAREFS_CFUZZ_SECONDS:-1800}
SHAREFS_VM_TIMEOUT=${SHAREFS_VM_TIMEOUT:-$((3600 + cfuzz_secs))} \
	scripts/vm-run.sh debug --cmd "SHAREFS_CFUZZ_SECONDS=$cfuzz_secs"'
export SHAREFS_CFUZZ_SECONDS
/tests/run-tests.sh
for m in $(grep " sharefs " /proc/mounts | cut -d" " -f2); do umount $m; done
rmmod sharefs && echo "# rmmod sharefs: ok"
mount -t debugfs none /sys/kernel/debug
echo scan > /sys/kernel/debug/kmemleak; sleep 5
echo scan > /sys/kernel/debug/kmemleak
cat /sys/kernel/debug/kmemleak' > /dev/null || true	# counted below
ktap=build/debug/ktap.log
sum=$(python3 scripts/vm/ktap-count.py debug "$ktap" build/debug/console.log)
printf '%s\n' "$sum" | grep -v '^SUMMARY'
set -- $(printf '%s\n' "$sum" | sed -n 's/^SUMMARY [^ ]* //p')
passed=${1:-0} failed=${2:-1} skipped=${3:-0}
# nothing may hold the module after the suite (the fuzzer included)
if grep -q '^# rmmod sharefs: ok' "$ktap"; then
	passed=$((passed + 1))
else
	log "FAIL: rmmod sharefs after the suite failed"
	failed=$((failed + 1))
fi
if grep -q 'unreferenced object' "$ktap"; then
	grep -A12 'unreferenced object' "$ktap" | head -40
	log "FAIL: kmemleak found leaks"
	failed=$((failed + 1))
else
	passed=$((passed + 1))
	log "kmemleak: no leaks after the suite and rmmod"
fi
log "make check-debug took $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
