#!/bin/bash
# scripts/cfuzz.sh - the concurrency fuzzer (selftests/sharefs/cfuzz_test.c)
# alone in one VM boot: longer runs than make check's minute, and replays.
#
#   scripts/cfuzz.sh [--kernel TAG] [--time SECONDS] [--seed N]
#                    [--workers N] [--threads N] [--hang SECONDS] [--no-build]
#
# Builds what the run needs (the test programs, the images, sharefs.ko for
# TAG with DKMS; --no-build skips that), boots TAG (default 6.12; "debug"
# is the KASAN/lockdep kernel of scripts/debug-kernel.sh) and runs
# cfuzz_test for SECONDS (default 300) with seed N (default: the clock;
# printed first, so that a failing run can be run again with it).  Then
# every sharefs mount left is unmounted and the module removed.  The run
# fails on a result that is not ok, a failed rmmod, a run that does not
# finish, and a BUG/WARNING/KASAN/lockdep/hung-task line in the kernel log.
#
# The VM's files go to build/cfuzz/TAG/ (SHAREFS_VM_OUT), so a run can go on
# beside the VM suite of the same kernel; the output to build/cfuzz/TAG.log.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)

tag=6.12 secs=300 seed= build=1 extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) tag=$2; shift 2 ;;
	--time) secs=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--workers) extra+=(-w "$2"); shift 2 ;;
	--threads) extra+=(-j "$2"); shift 2 ;;
	--hang) extra+=(-H "$2"); shift 2 ;;
	--no-build) build=0; shift ;;
	*) die "unknown argument $1 (see the top of $0)" ;;
	esac
done
[ -n "$seed" ] || seed=$(date +%s)

if [ "$build" = 1 ]; then
	make -s -C "$top" tools selftests
	"$top/scripts/build-images.sh"
	"$top/scripts/build-module.sh" "$tag"
fi

out=$top/build/cfuzz/$tag
mkdir -p "$top/build/cfuzz"
# in the VM: the fuzzer, then nothing may keep the module
cmd="/tests/cfuzz_test -s $seed -t $secs ${extra[*]}"'
echo "# cfuzz_test exit $?"
for m in $(grep " sharefs " /proc/mounts | cut -d" " -f2); do umount $m; done
rmmod sharefs && echo "# rmmod sharefs: ok"'

log "$tag: seed $seed, ${secs}s (again: scripts/cfuzz.sh --kernel $tag --seed $seed --time $secs)"
start=$(date +%s)
rc=0
# a hang is the fuzzer's to report (after SHAREFS_CFUZZ_HANG): leave it
# the time to, and the kernel a few minutes more
SHAREFS_VM_OUT=$out "$top/scripts/vm-run.sh" "$tag" --timeout $((secs + 900)) \
	--cmd "$cmd" > "$out.log" 2>&1 || rc=$?
# the serial port's lines end in CR LF
tr -d '\r' < "$out.log" | grep -E '^(not )?ok |^# cfuzz|^# rmmod|^\[vm-run' || true

fail=
[ $rc -eq 0 ] || fail="the VM run failed: $(grep -a 'error:' "$out.log" | tail -1)"
grep -q '^not ok ' "$out.log" && fail="${fail:+$fail; }a result is not ok"
grep -q '^# cfuzz_test exit 0\b' "$out.log" || fail="${fail:+$fail; }cfuzz_test did not exit 0"
grep -q '^# rmmod sharefs: ok' "$out.log" || fail="${fail:+$fail; }rmmod sharefs failed"
took=$(( $(date +%s) - start ))
if [ -n "$fail" ]; then
	log "$tag: FAIL after ${took}s: $fail"
	log "seed $seed; output build/cfuzz/$tag.log, kernel log build/cfuzz/$tag/console.log"
	exit 1
fi
log "$tag: passed, seed $seed, ${secs}s of fuzzing, ${took}s in all"
