# scripts/tests/lib.sh - the harness of the host suites (sourced, not run).
#
# Each suite prints one line a test, "ok - NAME", "not ok - NAME" (with up
# to one "#   DETAIL" line under it) or "ok - NAME # SKIP WHY", and ends
# with the summary that scripts/check.sh adds up: "N passed, N failed,
# N skipped".  A suite that never skips sources this with --no-skip and
# its summary is "N passed, N failed".  The exit status is 0 when nothing
# failed, else 1.

pass=0 fail=0 skip=0
tests_skip_column=1
[ "${1:-}" = --no-skip ] && tests_skip_column=

ok() { echo "ok - $1"; pass=$((pass + 1)); }
nok() { echo "not ok - $1"; [ -z "${2:-}" ] || printf '#   %s\n' "$2"; fail=$((fail + 1)); }
skipped() { echo "ok - $1 # SKIP $2"; skip=$((skip + 1)); }

# check NAME COMMAND...: passes when the command succeeds; a failure shows
# the last three lines of its output on the "#" line
check() {
	local name=$1 out; shift
	if out=$("$@" 2>&1); then ok "$name"; else nok "$name" "$(printf '%s\n' "$out" | tail -n 3 | paste -sd'|')"; fi
}

# the summary line and the suite's exit, here or at any early stop
finish() {
	echo "$pass passed, $fail failed${tests_skip_column:+, $skip skipped}"
	[ "$fail" -eq 0 ]
	exit
}
