#!/bin/bash
# scripts/fuzz.sh - the long image fuzzer run (make fuzz).
#
#   scripts/fuzz.sh [--count N] [--per-boot M] [--seed S] [--time SECONDS]
#                   [--kernels "6.1 6.12 sid"] [--mutant-timeout T]
#                   [--compressed]
#   scripts/fuzz.sh [--compressed] --repro SEED INDEX
#   scripts/fuzz.sh --repro-list LIST INDEX   (a mutant of a fuzz_test list,
#                                 e.g. build/images/fuzz.list of make check)
#
# For each kernel, mutants SEED:0 .. SEED:N-1 of the base images below
# (scripts/fuzz/mutate.py: field-aware mutations, bit flips, truncation) are
# mounted and walked by selftests/sharefs/fuzz_test in the VM, M mutants a
# boot.  Every kernel gets the same mutants, so a reproducer is one for all.
# A boot whose kernel log shows a BUG, WARNING, Oops, ... or that hangs
# names the mutant it was at (fuzz_test logs each one to /dev/kmsg): its
# image is written to build/fuzz/repro-SEED-INDEX.img and the run goes on
# after it.  --time stops starting new boots after SECONDS per kernel.
#
# Defaults: 10000 mutants a kernel, 1500 a boot, seed from the clock, all
# three kernels, 10 s a mutant before it counts as a hang (raise it when
# the machine runs other VMs: a starved guest is not a hung one).  The VM
# runs use build/fuzz/ (SHAREFS_VM_OUT), not build/TAG, so they can run
# beside the normal suite.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/.." && pwd)
fz=$top/build/fuzz
bases=(basic e15-default e15-chunk4k e15-extended e19-b1024 e19-b512
       e19-prefix e19-digest s-default s-ishare s-b1024 share-a share-e19
       io-chunk)
# --compressed adds these: each algorithm and layout the reader has (map
# headers, full and compact indexes, big pclusters, inline tails,
# fragments, sub-page blocks, several algorithms in one image).  A flag,
# not a change of the list: a mutant is drawn from the list, so seeds of
# runs without it regenerate the same mutants, and --repro of a run with
# it needs it too.
zbases=(sharez-lz4 sharez-zstd z-legacy z-legacybig z-ztail z-frag z-b1k
	z-b512 z-deflate z-zstd z-lzma z-mix s-zlz4)

count=10000 per=1500 seed=$(date +%s) budget=0 kernels="6.1 6.12 sid" repro= mt=10
while [ $# -gt 0 ]; do
	case $1 in
	--count) count=$2; shift 2 ;;
	--per-boot) per=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--time) budget=$2; shift 2 ;;
	--kernels) kernels=$2; shift 2 ;;
	--mutant-timeout) mt=$2; shift 2 ;;
	--compressed) bases+=("${zbases[@]}"); shift ;;
	--repro) repro=$3; seed=$2; shift 3 ;;
	--repro-list)
		python3 "$top/scripts/fuzz/mutate.py" one --from "$2" --index "$3" \
			--bases "$top/build/images" --out "$fz/repro-list-$3.img"
		log "wrote $fz/repro-list-$3.img"
		exit 0 ;;
	*) die "unknown argument $1" ;;
	esac
done

mutate() { python3 "$fz/tools/fuzz/mutate.py" "$@" --bases "$top/build/images" \
	--seed "$seed" $(printf -- '--base %s ' "${bases[@]}"); }

# A run takes hours: it keeps its own copies of the mutator and of each
# kernel's module, so that work in the tree meanwhile (a rebuilt module, a
# changed mutator) neither changes what it tests nor breaks a boot.
mkdir -p "$fz/tools/fuzz"
cp "$top/scripts/fuzz/mutate.py" "$fz/tools/fuzz/"
cp "$top/scripts/imgtool.py" "$fz/tools/"
if [ -n "$repro" ]; then
	mutate one --index "$repro" --out "$fz/repro-$seed-$repro.img"
	log "wrote $fz/repro-$seed-$repro.img"
	exit 0
fi

"$top/scripts/build-images.sh"

BAD=$KERNEL_BAD
for tag in $kernels; do
	"$top/scripts/build-module.sh" "$tag" > /dev/null
	cp "$top/build/$tag/sharefs.ko" "$fz/sharefs-$tag.ko"
done
log "seed $seed, $count mutants a kernel, $per a boot, kernels: $kernels"
summary=()
failures=0 unexpected_all=0
for tag in $kernels; do
	start=0 ran=0 mounted=0 refused=0 clean=0 unexpected=0 boots=0
	t0=$(date +%s)
	out=$fz/vm-$tag imgs=$fz/images-$tag
	# the bases, as hard links (vm-run.sh sizes images with stat), and
	# the mutant list: one directory a kernel, for runs side by side
	rm -rf "$imgs"
	mkdir -p "$imgs"
	for b in "${bases[@]}"; do
		ln -f "$top/build/images/$b.img" "$imgs/$b.img" 2>/dev/null ||
			cp "$top/build/images/$b.img" "$imgs/$b.img"
	done
	while [ "$start" -lt "$count" ]; do
		if [ "$budget" -gt 0 ] && [ $(( $(date +%s) - t0 )) -ge "$budget" ]; then
			log "$tag: time budget of ${budget}s used"
			break
		fi
		n=$(( count - start < per ? count - start : per ))
		mutate list --start "$start" --count "$n" --out "$imgs/fuzz.list"
		boots=$((boots + 1))
		SHAREFS_VM_OUT=$out SHAREFS_IMAGES=$imgs SHAREFS_KO=$fz/sharefs-$tag.ko \
			"$top/scripts/vm-run.sh" "$tag" --timeout $(( n + 300 )) \
			--cmd "/tests/fuzz_test -t $mt -l /images/fuzz.list" > "$out.out" 2>&1 || true
		line=$(grep '^# fuzz: [0-9]* mutants' "$out.out" || true)
		bad=$(grep -naE "$BAD" "$out/console.log" | head -1 | cut -d: -f1 || true)
		hang=$(grep -a 'HANG in' "$out.out" || true)
		if [ -n "$line" ] && [ -z "$bad" ] && [ -z "$hang" ]; then
			set -- $line
			ran=$((ran + $3)) mounted=$((mounted + $7))
			refused=$((refused + $9)) clean=$((clean + ${13}))
			unexpected=$((unexpected + ${16}))
			grep -a 'unexpected' "$out.out" | grep -v '^# fuzz:' >> "$fz/unexpected-$tag.log" || true
			start=$((start + n))
			continue
		fi
		# a kernel failure or a hang: the last mutant the kernel log names
		if [ -n "$bad" ]; then
			id=$(head -n "$bad" "$out/console.log" | grep -a 'sharefs-fuzz: mutant' |
			     tail -1 | sed 's/.*sharefs-fuzz: mutant \([0-9]*:[0-9]*\).*/\1/')
		else
			id=$(grep -a 'sharefs-fuzz: mutant' "$out/console.log" | tail -1 |
			     sed 's/.*sharefs-fuzz: mutant \([0-9]*:[0-9]*\).*/\1/')
		fi
		[ -n "$id" ] || die "$tag: boot failed before any mutant: see $out.out, $out/console.log"
		idx=${id#*:}
		failures=$((failures + 1))
		mutate one --index "$idx" --out "$fz/repro-$seed-$idx.img" > "$fz/repro-$seed-$idx.txt"
		cp "$out/console.log" "$fz/repro-$seed-$idx-$tag.console.log"
		log "$tag: FAILURE at mutant $id ($(cut -d' ' -f2- "$fz/repro-$seed-$idx.txt")):"
		grep -aE "$BAD" "$out/console.log" | head -3 >&2 || true
		log "$tag: reproducer build/fuzz/repro-$seed-$idx.img, log $fz/repro-$seed-$idx-$tag.console.log"
		ran=$((ran + idx + 1 - start))
		start=$((idx + 1))
	done
	unexpected_all=$((unexpected_all + unexpected))
	summary+=("$tag: $ran mutants in $boots boots, $(( $(date +%s) - t0 ))s: $mounted mounted, $refused refused at mount, $clean accesses failed cleanly, $unexpected unexpected errnos")
done
log "seed $seed"
for s in "${summary[@]}"; do log "$s"; done
log "kernel failures (BUG/WARNING/Oops/hang): $failures"
# only clean failures count as passes: an errno outside the documented set
# (EUCLEAN, EIO, EOPNOTSUPP, ...) fails the run too, listed per kernel in
# build/fuzz/unexpected-TAG.log
log "unexpected errnos: $unexpected_all"
[ "$failures" -eq 0 ] && [ "$unexpected_all" -eq 0 ]
