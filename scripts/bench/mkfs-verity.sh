#!/bin/bash
# scripts/bench/mkfs-verity.sh - what --verity costs mkfs.sharefs (issue 13:
# at most 1.15x the time of mkfs.sharefs without it).
#
#   scripts/bench/mkfs-verity.sh [-t TREE] [-r RUNS] [-o DIR] [NAME=MKFS ...]
#
# For each given mkfs.sharefs (default: sharefs=tools/mkfs.sharefs), RUNS
# times (default 7): one build of TREE (default: the demo's python tree)
# without --verity and one with, back to back, the order alternating from
# run to run, the page cache warm (one untimed build of each first).  Each
# --verity time is divided by the plain time of the same run and of the
# same binary; the table gives the median (min-max) of those ratios and the
# median absolute times, wall and CPU (user + system, all threads).  The
# timed region is the command plus `sync` of its image.  Prints a markdown
# table.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
tree=$SHAREFS_CACHE/demo/trees/python runs=7 out=/var/tmp/sharefs-bench-mkfsv
while getopts t:r:o: opt; do
	case $opt in
	t) tree=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-t TREE] [-r RUNS] [-o DIR] [NAME=MKFS ...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "sharefs=$top/tools/mkfs.sharefs"
[ -d "$tree" ] || die "$tree: no such tree (make demo builds the python tree)"
mkdir -p "$out"

# one timed build: prints wall milliseconds and CPU milliseconds
build() {	# mkfs image [options]
	local mkfs=$1 img=$2 s e cpu TIMEFORMAT='%3U %3S'
	shift 2
	rm -f "$img"
	s=$(date +%s%N)
	cpu=$( { time "$mkfs" -q "$@" "$img" "$tree" > /dev/null 2>&1; } 2>&1 )
	sync "$img"
	e=$(date +%s%N)
	echo "$(( (e - s) / 1000000 )) $(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN {printf "%d", (u + s) * 1000}')"
}

stats() {	# numbers...: median (min-max)
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	printf "%.2f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1000 }'; }

echo "| mkfs.sharefs | wall plain, s | wall --verity, s | wall ratio | CPU plain, s | CPU --verity, s | CPU ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for a in "$@"; do
	name=${a%%=*} mkfs=${a#*=}
	build "$mkfs" "$out/p.img" > /dev/null
	build "$mkfs" "$out/v.img" --verity > /dev/null
	wp=() wv=() cp=() cv=() rw=() rc=()
	for r in $(seq "$runs"); do
		if [ $((r % 2)) = 1 ]; then
			set -- $(build "$mkfs" "$out/p.img") $(build "$mkfs" "$out/v.img" --verity)
		else
			set -- $(build "$mkfs" "$out/v.img" --verity)
			set -- $(build "$mkfs" "$out/p.img") "$@"
		fi
		wp+=("$1") cp+=("$2") wv+=("$3") cv+=("$4")
		rw+=("$(awk -v a="$1" -v b="$3" 'BEGIN { print b / a }')")
		rc+=("$(awk -v a="$2" -v b="$4" 'BEGIN { print b / a }')")
	done
	echo "| $name | $(median "${wp[@]}") | $(median "${wv[@]}") | $(stats "${rw[@]}") |" \
	     "$(median "${cp[@]}") | $(median "${cv[@]}") | $(stats "${rc[@]}") |"
done
rm -f "$out/p.img" "$out/v.img"
