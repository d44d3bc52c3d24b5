#!/bin/bash
# scripts/bench-mkfs.sh - mkfs.sharefs against Debian 12's mkfs.erofs 1.5 on
# the host, warm and cold page cache.  Prints a markdown table.
#
#   scripts/bench-mkfs.sh [-t TREE] [-r RUNS] [-o DIR] [-m MODES]
#                         [NAME=MKFS.SHAREFS ...]
#
# TREE (default /usr/share) is written by mkfs.erofs and by each given
# mkfs.sharefs (default: sharefs=tools/mkfs.sharefs), RUNS times (default 3)
# in each of two modes (-m "warm cold" by default), writing to DIR (default
# /var/tmp/sharefs-bench-mkfs; a tmpfs there leaves out the disk writes):
#   warm  the tree is in the page cache (one untimed build by each writer
#         before the runs);
#   cold  `sync; echo 3 > /proc/sys/vm/drop_caches` before every run, so the
#         tree's data and inodes come from the disk.
# Within a run the writers alternate, in a rotated order from run to run,
# and each sharefs time is divided by the erofs time of the same run: the
# table shows the median (and min-max) of those ratios and the median
# absolute times; the same for CPU time (user + system, all threads),
# which moves less than wall time when the host is busy with other work.
# The timed region is the command plus `sync` of its image, so a writer that
# leaves dirty pages behind is not credited for it.  Root for drop_caches.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
tree=/usr/share runs=3 out=/var/tmp/sharefs-bench-mkfs modes="warm cold"
while getopts t:r:o:m: opt; do
	case $opt in
	t) tree=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	m) modes=$OPTARG ;;
	*) echo "usage: $0 [-t TREE] [-r RUNS] [-o DIR] [-m MODES] [NAME=MKFS ...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- "sharefs=$top/tools/mkfs.sharefs"
command -v mkfs.erofs > /dev/null || { echo "$0: mkfs.erofs missing" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "$0: needs root (drop_caches)" >&2; exit 1; }
mkdir -p "$out"

names=(erofs) cmds=(mkfs.erofs)
for a in "$@"; do
	names+=("${a%%=*}") cmds+=("${a#*=}")
done
n=${#names[@]}

# one timed build: prints wall nanoseconds and CPU milliseconds
build() {	# index image
	local i=$1 img=$2 s e cpu TIMEFORMAT='%3U %3S'
	rm -f "$img"
	s=$(date +%s%N)
	if [ "${names[$i]}" = erofs ]; then
		cpu=$( { time "${cmds[$i]}" "$img" "$tree" > /dev/null 2>&1; } 2>&1 )
	else
		cpu=$( { time "${cmds[$i]}" -q "$img" "$tree" > /dev/null 2>&1; } 2>&1 )
	fi
	sync "$img"
	e=$(date +%s%N)
	echo "$(( e - s )) $(awk -v u="${cpu% *}" -v s="${cpu#* }" 'BEGIN {printf "%d", (u + s) * 1000}')"
}

declare -A t c
for mode in $modes; do
	if [ $mode = warm ]; then
		for i in $(seq 0 $((n - 1))); do
			build $i "$out/${names[$i]}.img" > /dev/null
		done
	fi
	for r in $(seq "$runs"); do
		for k in $(seq 0 $((n - 1))); do
			i=$(( (k + r) % n ))
			if [ $mode = cold ]; then
				sync
				echo 3 > /proc/sys/vm/drop_caches
			fi
			read -r t[$mode,$r,$i] c[$mode,$r,$i] < <(build $i "$out/${names[$i]}.img")
			echo "$mode run $r ${names[$i]}: $(( ${t[$mode,$r,$i]} / 1000000 )) ms, CPU ${c[$mode,$r,$i]} ms" >&2
		done
	done
done

med() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
files=$(find "$tree" -type f | wc -l)
echo "Tree: $tree ($(du -sh "$tree" | cut -f1), $files files), $runs runs per mode, $(nproc) CPUs."
echo
# median (min–max) of the per-run ratios of array $1 to erofs, and the median value
cell() {	# array mode index scale
	local -n arr=$1
	local mode=$2 i=$3 scale=$4 abs rats
	abs=$(for r in $(seq "$runs"); do echo "${arr[$mode,$r,$i]}"; done | med)
	rats=$(for r in $(seq "$runs"); do
		awk -v a="${arr[$mode,$r,$i]}" -v b="${arr[$mode,$r,0]}" 'BEGIN {print a / b}'
	done | sort -g)
	awk -v a="$abs" -v s="$scale" -v m="$(echo "$rats" | med)" \
	    -v lo="$(echo "$rats" | head -1)" -v hi="$(echo "$rats" | tail -1)" \
	    'BEGIN {printf " %.2f | %.2f (%.2f–%.2f) |", a / s, m, lo, hi}'
}
echo "| writer | mode | wall, median s | wall / mkfs.erofs | CPU, median s | CPU / mkfs.erofs | image |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
for mode in $modes; do
	for i in $(seq 0 $((n - 1))); do
		echo "| ${names[$i]} | $mode |$(cell t $mode $i 1e9)$(cell c $mode $i 1e3) $(( $(stat -c %s "$out/${names[$i]}.img") >> 20 )) MiB |"
	done
done
rm -f "$out"/*.img
