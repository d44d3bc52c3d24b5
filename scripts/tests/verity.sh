#!/bin/bash
# scripts/tests/verity.sh - mkfs.sharefs --verity against oracles we did not
# write: fsverity-utils' `fsverity digest` and fsck.erofs 1.5 and 1.9.
#
# A tree of awkward sizes (0, 1, 4095, 4096, 4097, 512 KiB and one byte
# more, 1 MiB + 1, about 8 MiB, sparse files, a hard link, equal files, a
# forged trusted.sharefs.verity) goes into --verity images with 4096-,
# 2048-, 1024- and 512-byte blocks, from the directory and from a tar, and
# with a salt.  For each image:
#   - scripts/imgtool.py (its own reader of the format) finds every
#     non-empty regular file's xattr well formed, every packed tree on
#     blocks that no inode or file data uses and over no other tree, every
#     tree block's hash one level up; it rebuilds each file's descriptor
#     and fs-verity's padded tree;
#   - fsck.erofs 1.5 (Debian 12) and 1.9 (the unstable chroot) accept it;
#   - for every file that 1.9 extracts: `fsverity digest` prints SHA-256 of
#     the descriptor rebuilt from the file's xattr, --out-descriptor writes
#     those 256 bytes and --out-merkle-tree the padded tree rebuilt from
#     the packed one in the image.
# Then: a corrupted tree byte and a corrupted root hash byte are caught
# (the checks can fail); equal files and hard links share one tree; an
# image without --verity carries no trusted.sharefs.verity, and a forged
# one from the source never reaches an image; -j1 and -j4 write the same
# image; bad --verity-salt values are usage errors.
#
# Last, a real tree (a whole Debian rootfs: the unstable chroot; without it
# the demo's python tree, else the host's /usr/bin): every file's digest against
# `fsverity digest`, both fsck.erofs, and the image size overhead of
# --verity printed as a comment line (mkfs time: scripts/bench/mkfs-verity.sh).
# Ends with "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/tests/lib.sh

mkfs=$top/tools/mkfs.sharefs
imgtool() { python3 "$top/scripts/imgtool.py" "$@"; }
[ -x "$mkfs" ] || make -s -C tools mkfs.sharefs > /dev/null
for p in fsverity fsck.erofs getfattr; do
	command -v $p > /dev/null || { nok "$p is installed (scripts/deps.sh)"; finish; }
done
have19=
[ -x "$SID_ROOT/usr/bin/fsck.erofs" ] && have19=1
fsck19() { sid_exec fsck.erofs "$@"; }

work=$(mktemp -d /var/tmp/sharefs-verity.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src/d/e"
(
	cd "$src" || exit 1
	: > empty
	printf x > one
	head -c 4095 /dev/urandom > f4095
	head -c 4096 /dev/urandom > f4096
	head -c 4097 /dev/urandom > f4097
	head -c 524288 /dev/urandom > f512k		# 128 blocks: one tree block
	head -c 524289 /dev/urandom > f512k1		# 129: two levels
	head -c 1048577 /dev/urandom > d/f1m1
	head -c 8000000 /dev/urandom > d/e/f8m
	cp f4097 d/same4097				# equal content: one tree
	ln d/f1m1 d/e/hard				# hard link
	truncate -s 20M sparse.mid			# data in the middle only
	printf abc | dd of=sparse.mid bs=1 seek=10000000 conv=notrunc status=none
	truncate -s 5000000 sparse.ends			# data at both ends, odd size
	head -c 70000 /dev/urandom | dd of=sparse.ends conv=notrunc status=none
	printf tail | dd of=sparse.ends bs=1 seek=4999996 conv=notrunc status=none
	truncate -s 3M sparse.none			# all hole
	ln -s f4097 link
	mkfifo fifo
	printf forged > forged
	setfattr -n trusted.sharefs.verity -v 0x5346563100 forged
) || { nok "build the source tree"; finish; }
nfiles=$(find "$src" -type f -size +0c | wc -l)
tar -C "$src" --sparse --xattrs --xattrs-include='*' -cf "$work/src.tar" .

# verify_image NAME IMAGE [SALT]: the per-image checks above
verify_image() {
	local name=$1 img=$2 salt=${3:-} out=$work/$1.out x=$work/$1.x lst=$work/$1.lst
	local saltopt=() n bad=0 badtree=0 baddesc=0 first= nid size pos tsz dsha tsha path d
	[ -n "$salt" ] && saltopt=(--salt="$salt")
	mkdir -p "$out"
	check "$name: every file's trusted.sharefs.verity well formed, trees on free bytes" \
		sh -c 'python3 "$1/scripts/imgtool.py" "$2" verity "$3" > "$4" && [ "$(wc -l < "$4")" = "$5" ]' \
		_ "$top" "$img" "$out" "$lst" "$nfiles"
	if [ "$(python3 scripts/imgtool.py "$img" show | awk '$1 == "blkszbits" { print $2 }')" = 0xc ]; then
		check "$name: fsck.erofs 1.5 accepts it" sh -c 'fsck.erofs "$1" && fsck.erofs --extract="$2.15" "$1"' _ "$img" "$x"
	else
		skipped "$name: fsck.erofs 1.5 accepts it" "1.5 reads only 4096-byte blocks"
	fi
	if [ -z "$have19" ]; then
		skipped "$name: fsck.erofs 1.9 accepts and extracts it" "no unstable chroot (scripts/kernels.sh sid)"
		skipped "$name: fsverity digest of every extracted file = SHA-256 of its descriptor" "no fsck.erofs 1.9"
		return
	fi
	check "$name: fsck.erofs 1.9 accepts and extracts it" fsck19 -d0 --extract="$x" "$img"
	n=0
	while read -r nid size pos tsz dsha tsha path; do
		n=$((n + 1))
		d=$(fsverity digest "${saltopt[@]}" --out-merkle-tree="$work/t" \
			--out-descriptor="$work/d" "$x/$path" 2>&1 | cut -d' ' -f1)
		[ "$d" = "sha256:$dsha" ] || { bad=$((bad + 1)); first=${first:-"$path: $d, image says $dsha"}; }
		cmp -s "$work/t" "$out/$nid.tree" || badtree=$((badtree + 1))
		cmp -s "$work/d" "$out/$nid.desc" || baddesc=$((baddesc + 1))
	done < "$lst"
	if [ "$n" = "$nfiles" ] && [ $bad = 0 ]; then
		ok "$name: fsverity digest of every extracted file = SHA-256 of its descriptor ($n files)"
	else
		nok "$name: fsverity digest of every extracted file = SHA-256 of its descriptor" "$bad of $n differ; first: $first"
	fi
	[ "$n" = "$nfiles" ] && [ $badtree = 0 ] && ok "$name: stored trees, padded = fsverity --out-merkle-tree" ||
		nok "$name: stored trees, padded = fsverity --out-merkle-tree" "$badtree of $n differ"
	[ "$n" = "$nfiles" ] && [ $baddesc = 0 ] && ok "$name: rebuilt descriptors = fsverity --out-descriptor" ||
		nok "$name: rebuilt descriptors = fsverity --out-descriptor" "$baddesc of $n differ"
}

opts=(-q -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11)
for bs in 4096 2048 1024 512; do
	check "mkfs --verity -b $bs of the awkward tree" "$mkfs" "${opts[@]}" --verity -b $bs "$work/b$bs.img" "$src"
	verify_image "b$bs" "$work/b$bs.img"
done
check "mkfs --verity --tar of the same tree" "$mkfs" "${opts[@]}" --verity --tar "$work/tar.img" "$work/src.tar"
verify_image tar "$work/tar.img"
salt=0123456789abcdeffedcba9876543210a5
check "mkfs --verity --verity-salt=$salt" "$mkfs" "${opts[@]}" --verity --verity-salt=$salt "$work/salt.img" "$src"
verify_image salt "$work/salt.img" $salt

# The checks can fail: one byte of a tree and one of a root hash changed.
# imgtool's own check must fail, and so must the comparison with fsverity
# (imgtool still prints the file's line and writes its tree).
corrupted_caught() {	# tree|root
	local img=$work/bad.img lst=$work/bad.lst nid pos off
	cp "$work/b4096.img" "$img"
	read -r nid _ pos _ < <(grep ' d/e/f8m$' "$work/b4096.lst")
	case $1 in
	# 8,000,000 bytes: 16 hashes on top (512 bytes), then 1954 of level 0
	tree) off=$((pos + 4000)) ;;
	# a byte of the root hash, 16 bytes into the xattr value, found by its
	# bytes (bytes 16..47 of the descriptor; the value is not in the
	# checksummed block)
	root) off=$(python3 - "$img" "$work/b4096.out/$nid.desc" <<'PY'
import sys
img, desc = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
print(img.index(desc[16:48]) + 5)
PY
) ;;
	esac
	python3 scripts/imgtool.py "$img" flip "$off"
	rm -rf "$work/bad.x" "$work/bad.out" && mkdir -p "$work/bad.out"
	! python3 scripts/imgtool.py "$img" verity "$work/bad.out" > "$lst" 2> /dev/null || return 1
	fsck19 -d0 --extract="$work/bad.x" "$img" > /dev/null 2>&1 || return 1
	fsverity digest --out-merkle-tree="$work/t" --out-descriptor="$work/d" \
		"$work/bad.x/d/e/f8m" > "$work/bad.digest" || return 1
	! { cmp -s "$work/t" "$work/bad.out/$nid.tree" && cmp -s "$work/d" "$work/bad.out/$nid.desc" &&
	    grep -q "$(awk '$NF == "d/e/f8m" { print $5 }' "$lst")" "$work/bad.digest"; }
}
if [ -n "$have19" ]; then
	check "a changed tree byte is caught" corrupted_caught tree
	check "a changed root hash byte is caught" corrupted_caught root
else
	skipped "a changed tree byte is caught" "no fsck.erofs 1.9"
	skipped "a changed root hash byte is caught" "no fsck.erofs 1.9"
fi

check "equal files and hard links share one tree" sh -c '
	a=$(awk "\$NF == \"f4097\" { print \$3 }" "$1"); b=$(awk "\$NF == \"d/same4097\" { print \$3 }" "$1")
	h1=$(awk "\$NF == \"d/f1m1\" { print \$1, \$3 }" "$1"); h2=$(awk "\$NF == \"d/e/hard\" { print \$1, \$3 }" "$1")
	[ -n "$a" ] && [ "$a" != 0 ] && [ "$a" = "$b" ] && [ -n "$h1" ] && [ "$h1" = "$h2" ]' _ "$work/b4096.lst"

# without --verity: no xattr at all, the forged one included (fsck.erofs
# 1.9 extracts xattrs; the extraction of the --verity image shows the
# computed value instead of the forged one)
noverity() {
	"$mkfs" "${opts[@]}" "$work/plain.img" "$src" &&
	"$mkfs" "${opts[@]}" --tar "$work/plaintar.img" "$work/src.tar" || return 1
	for i in plain plaintar; do
		rm -rf "$work/$i.x"
		fsck19 -d0 --extract="$work/$i.x" --xattrs "$work/$i.img" > /dev/null || return 1
		! getfattr -R -h -m - -d "$work/$i.x" 2> /dev/null |
			grep -q '^trusted\.sharefs\.verity=' || return 1
	done
	rm -rf "$work/v.x"
	fsck19 -d0 --extract="$work/v.x" --xattrs "$work/b4096.img" > /dev/null || return 1
	[ "$(getfattr -h --only-values -n trusted.sharefs.verity "$work/v.x/forged" | head -c 4)" = SFV2 ] &&
	[ "$(getfattr -h --only-values -n trusted.sharefs.verity "$work/v.x/forged" | wc -c)" = 48 ] &&
	[ "$(getfattr -R -h -m '^trusted\.sharefs\.verity$' "$work/v.x" 2> /dev/null |
	     grep -c '^trusted\.sharefs\.verity$')" = "$nfiles" ]
}
if [ -n "$have19" ]; then
	check "no trusted.sharefs.verity without --verity; a forged one never passes" noverity
else
	skipped "no trusted.sharefs.verity without --verity; a forged one never passes" "no fsck.erofs 1.9"
fi

check "-j1 and -j4 write the same --verity image" sh -c '
	"$1" -q -T1 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 --verity -j1 "$2/j1.img" "$3" &&
	"$1" -q -T1 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11 --verity -j4 "$2/j4.img" "$3" &&
	cmp "$2/j1.img" "$2/j4.img"' _ "$mkfs" "$work" "$src"
# the tree threads run while contents are stored: a failure there must
# stop them (no hang), exit 1 and leave no image
check "a truncated tar with --verity: exit 1, a message, no image, no hang" sh -c '
	tar -C "$3" -cf - . | head -c 3000000 > "$2/trunc.tar"
	timeout 60 "$1" -q --verity --tar "$2/trunc.img" "$2/trunc.tar" 2> "$2/trunc.err"
	[ $? = 1 ] && grep -q "Truncated tar archive" "$2/trunc.err" &&
		! ls "$2"/trunc.img* > /dev/null 2>&1' _ "$mkfs" "$work" "$src"
check "bad --verity-salt values are usage errors" sh -c '
	for s in 0 xyz 00112233445566778899aabbccddeeff0011223344556677889900aabbccddeeff11; do
		"$1" -q --verity --verity-salt=$s "$2/s.img" "$3" 2> /dev/null; [ $? = 2 ] || exit 1
	done
	"$1" -q --verity-salt=00 "$2/s.img" "$3" 2> /dev/null; [ $? = 2 ]' _ "$mkfs" "$work" "$src"

# --- a real tree: a whole Debian rootfs ----------------------------------------
# The unstable chroot (SID_ROOT, which also gives fsck.erofs 1.9) is a
# debootstrapped Debian rootfs of about 23,000 files.  It is read as a tar
# of its one filesystem, so that a /proc mounted in it is never walked.
# Without it: the demo's python tree, else the host's /usr/bin.
if [ -n "$have19" ]; then
	real=$SID_ROOT realtar=1
else
	real=$SHAREFS_CACHE/demo/trees/python realtar=
	[ -f "$real/.sharefs-ready" ] || real=/usr/bin
fi
mkreal() {	# IMAGE [mkfs.sharefs options]
	local img=$1; shift
	if [ -n "$realtar" ]; then
		tar --one-file-system -C "$real" -cf - . 2> /dev/null |
			"$mkfs" -q "$@" --tar "$img" -
	else
		"$mkfs" -q "$@" "$img" "$real"
	fi
}
rm -rf "$work"/*.x "$work"/*.x.15 "$work"/*.out
check "real tree ($real): mkfs" mkreal "$work/real.img"
check "real tree: mkfs --verity" mkreal "$work/realv.img" --verity
# every file's digest against fsverity digest of the file as fsck.erofs 1.9
# extracts it (without the unstable chroot: of the source file)
realdigests() {
	local from=$real
	python3 scripts/imgtool.py "$work/realv.img" verity > "$work/real.lst" || return 1
	fsck.erofs "$work/realv.img" > /dev/null || return 1
	if [ -n "$have19" ]; then
		rm -rf "$work/real.x"
		fsck19 -d0 --extract="$work/real.x" "$work/realv.img" || return 1
		from=$work/real.x
	fi
	awk '{ d = $5; $1 = $2 = $3 = $4 = $5 = $6 = ""; sub(/^ +/, ""); print "sha256:" d " " $0 }' \
		"$work/real.lst" | sort > "$work/real.want"
	(cd "$from" && find . -type f -size +0c -printf '%P\0' | xargs -0 -r fsverity digest) |
		sort > "$work/real.got"
	[ -s "$work/real.want" ] && diff "$work/real.want" "$work/real.got" | head -5 >&2 &&
		cmp -s "$work/real.want" "$work/real.got"
}
if [ -n "$have19" ]; then
	check "real tree: fsck.erofs 1.5 and 1.9 accept it, every extracted file's digest = fsverity digest" realdigests
else
	check "real tree: fsck.erofs 1.5 accepts it, every source file's digest = fsverity digest (no 1.9)" realdigests
fi
a=$(stat -c %s "$work/real.img") b=$(stat -c %s "$work/realv.img")
trees=$(awk '!($3 in s) { s[$3] = 1; t += $4 } END { print t + 0 }' "$work/real.lst" 2> /dev/null || echo 0)
echo "# real tree $real: $(wc -l < "$work/real.lst" 2> /dev/null) files; image $a bytes, with --verity $b bytes:" \
	"+$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f%%", 100 * (b - a) / a }')" \
	"(trees $(awk -v t="$trees" -v a="$a" 'BEGIN { printf "%.2f%%", 100 * t / a }')," \
	"the rest xattrs and tails no longer inline)"

finish
