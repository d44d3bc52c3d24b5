#!/bin/bash
# scripts/bench/mkfs-z.sh - mkfs.sharefs -z against unstable's mkfs.erofs
# 1.9 -z at the same settings, on a Debian rootfs.  Prints a markdown
# table: image size (and the ratio to the uncompressed content) and time.
#
#   scripts/bench/mkfs-z.sh [-s ROOT] [-r RUNS] [-o DIR] [-z "ALGS"] [-C "SIZES"]
#
# ROOT (default: the unstable chroot, $SID_ROOT) is packed once into
# DIR/root.tar with `tar --one-file-system`, so that nothing mounted in it
# (a /proc while a script runs in the chroot) is ever walked; both tools
# read that tar (mkfs.sharefs --tar, mkfs.erofs --tar=f), warm (the tar is
# read once before the runs).  For each of lz4, lz4hc (level 9) and zstd
# (level 3) (-z picks some), with 1-block and 64 KiB pclusters (-C
# "block 65536" by default), the two tools
# alternate RUNS times (default 3); the table has the median wall and CPU
# (user + system) time of each, the timed region being the command and a
# sync of its image.  mkfs.erofs gets --xattr-inode-digest=
# trusted.fingerprint, so that both images carry the same SHA-256 xattr on
# every file; both use their default threads (mkfs.erofs --workers: 2 here;
# mkfs.sharefs -j: CPUs, though a tar is compressed on one thread).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib.sh"
root=$SID_ROOT runs=3 out=/var/tmp/sharefs-bench-mkz algs="lz4 lz4hc zstd" sizes="block 65536"
while getopts s:r:o:z:C: opt; do
	case $opt in
	s) root=$OPTARG ;;
	r) runs=$OPTARG ;;
	o) out=$OPTARG ;;
	z) algs=$OPTARG ;;
	C) sizes=$OPTARG ;;
	*) echo "usage: $0 [-s ROOT] [-r RUNS] [-o DIR] [-z ALGS] [-C SIZES]" >&2; exit 2 ;;
	esac
done
mkfs=$top/tools/mkfs.sharefs
[ -x "$mkfs" ] || make -s -C "$top/tools" mkfs.sharefs
[ -x "$SID_ROOT/usr/bin/mkfs.erofs" ] ||
	die "no unstable chroot with mkfs.erofs 1.9 at $SID_ROOT (scripts/kernels.sh sid)"
[ -d "$root" ] || die "$root: no such directory"
mkdir -p "$out"
if [ ! -s "$out/root.tar" ]; then
	tar --one-file-system -C "$root" -cf "$out/root.tar.tmp" . 2> /dev/null ||
		[ $? = 1 ]	# 1: files changed while read; the tar is still whole
	mv "$out/root.tar.tmp" "$out/root.tar"
fi
cat "$out/root.tar" > /dev/null		# warm

# one timed build: prints wall milliseconds, CPU milliseconds, image bytes
build() {	# sharefs|erofs alg pcluster image
	local who=$1 z=$2 C=$3 img=$4 s e cpu TIMEFORMAT='%3U %3S' zo co=()
	rm -f "$img"
	s=$(date +%s%N)
	if [ "$who" = sharefs ]; then
		zo=$z
		case $z in lz4hc) zo=lz4hc,9 ;; zstd) zo=zstd,3 ;; esac
		[ -n "$C" ] && co=(-C "$C")
		cpu=$( { time "$mkfs" -q -z "$zo" "${co[@]}" -T0 --tar "$img" "$out/root.tar" > /dev/null; } 2>&1 )
	else
		zo=$z
		case $z in lz4hc) zo=lz4hc,level=9 ;; zstd) zo=zstd,level=3 ;; esac
		[ -n "$C" ] && co=(-C"$C")
		cpu=$( { time sid_exec mkfs.erofs -z"$zo" "${co[@]}" -T0 \
			--xattr-inode-digest=trusted.fingerprint --tar=f "$img" \
			"$out/root.tar" > /dev/null 2>&1; } 2>&1 )
	fi
	sync "$img"
	e=$(date +%s%N)
	echo "$(( (e - s) / 1000000 )) $(awk -v u="${cpu% *}" -v s="${cpu#* }" \
		'BEGIN {printf "%d", (u + s) * 1000}') $(stat -c %s "$img")"
}

median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

"$mkfs" -q -T0 --tar "$out/flat.img" "$out/root.tar"
content=$(tar -tvf "$out/root.tar" | awk '$1 ~ /^-/ {s += $3} END {print s}')
flat=$(stat -c %s "$out/flat.img")
rm -f "$out/flat.img"
echo "root: $root; $(mib "$content") MiB of file content; mkfs.sharefs without -z: $(mib "$flat") MiB"
echo "mkfs.erofs: $(sid_exec mkfs.erofs --version 2>&1 | head -n 1); $runs runs, warm; $(nproc) CPUs"
echo
echo "| -z | -C | mkfs.sharefs image | mkfs.erofs image | size sharefs/erofs | mkfs.sharefs wall / CPU | mkfs.erofs wall / CPU | wall, CPU sharefs/erofs |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for z in $algs; do
	for C in $sizes; do
		[ "$C" = block ] && C=
		declare -a sw=() sc=() ew=() ec=()
		for r in $(seq "$runs"); do
			for who in sharefs erofs; do
				[ $((r % 2)) = 0 ] && who=$([ $who = sharefs ] && echo erofs || echo sharefs)
				read -r w c size < <(build $who $z "$C" "$out/$who.img")
				echo "$z ${C:-block} run $r $who: $w ms, CPU $c ms, $size bytes" >&2
				if [ $who = sharefs ]; then sw+=("$w") sc+=("$c") ss=$size
				else ew+=("$w") ec+=("$c") es=$size; fi
			done
		done
		msw=$(median "${sw[@]}") msc=$(median "${sc[@]}")
		mew=$(median "${ew[@]}") mec=$(median "${ec[@]}")
		awk -v z=$z -v C="${C:-block}" -v ss=$ss -v es=$es -v cont=$content \
		    -v sw=$msw -v sc=$msc -v ew=$mew -v ec=$mec 'BEGIN {
			printf "| %s | %s | %.1f MiB (%.1f%%) | %.1f MiB (%.1f%%) | %.4f | %.1f s / %.1f s | %.1f s / %.1f s | %.2f, %.2f |\n",
				z, C, ss / 1048576, 100 * ss / cont, es / 1048576, 100 * es / cont,
				ss / es, sw / 1000, sc / 1000, ew / 1000, ec / 1000, sw / ew, sc / ec }'
		unset sw sc ew ec
	done
done
rm -f "$out/sharefs.img" "$out/erofs.img"
