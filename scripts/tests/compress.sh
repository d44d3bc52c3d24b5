#!/bin/bash
# scripts/tests/compress.sh - mkfs.sharefs -z against oracles we did not
# write: fsck.erofs 1.9 (the unstable chroot), the source tree, sha256sum
# and `fsverity digest`.
#
# A tree of awkward sizes (0, 1, blocks and a byte either side, 64 KiB and
# 1 MiB either side), compressible and random, files that switch between
# the two at odd offsets (plain extents, then compressed ones that start
# mid-block), sparse files, a hard link, equal files, xattrs, a 255-byte
# name, a symlink, a fifo, a 5 MiB compressible and a 5 MiB random file,
# goes into images with -z lz4, lz4hc and zstd, each with 1-block and
# 64 KiB (-C 65536, big) pclusters, from the directory with --verity and
# from a tar (--tar).  For each image:
#   - fsck.erofs 1.9 accepts it and extracts it (with xattrs);
#   - the extraction equals the source: every path, type, mode, size,
#     content byte, symlink target and user.* xattr;
#   - every non-empty regular file's trusted.fingerprint is "sha256:" and
#     SHA-256 of its (uncompressed) content; with --verity,
#     `fsverity digest` of the extracted file is SHA-256 of the descriptor
#     rebuilt from its trusted.sharefs.verity;
#   - dump.erofs says the large files are compressed (layout 3: compact).
# Then: -j1 and -j4 write the same image (each algorithm, both pcluster
# sizes); a 1024-byte-block image passes fsck.erofs 1.9 too; bad -z and -C
# values are usage errors (exit 2) with a message that names the problem.
# Ends with "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. scripts/lib.sh
. scripts/tests/lib.sh

mkfs=$top/tools/mkfs.sharefs
[ -x "$mkfs" ] || make -s -C tools mkfs.sharefs > /dev/null
for p in fsverity getfattr setfattr; do
	command -v $p > /dev/null || { nok "$p is installed (scripts/deps.sh)"; finish; }
done
if [ ! -x "$SID_ROOT/usr/bin/fsck.erofs" ]; then
	skipped "mkfs.sharefs -z against fsck.erofs 1.9" "no unstable chroot (scripts/kernels.sh sid)"
	finish
fi
fsck19() { sid_exec fsck.erofs "$@"; }
dump19() { sid_exec dump.erofs "$@"; }

work=$(mktemp -d /var/tmp/sharefs-compress.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
src=$work/src
mkdir -p "$src/d/e"

# text(N): N bytes of deterministic, compressible text (lz4: about 2:1)
python3 - "$top/scripts" "$src" <<'PY' || { nok "build the source tree"; finish; }
import os, random, sys
sys.path.insert(0, sys.argv[1])
from mktree import word_text
root = sys.argv[2]
rnd = random.Random(14)
text = word_text(rnd)
def noise(n):
    return rnd.randbytes(n)
def put(path, data):
    with open(os.path.join(root, path), 'wb') as f:
        f.write(data)
for n in (0, 1, 100, 4095, 4096, 4097, 8191, 8192, 8193, 12289, 65535, 65536,
          65537, 1048575, 1048576, 1048577, 1048576 + 4096 * 3 + 7):
    put('t%d' % n, text(n))
for n in (1, 4095, 4097, 65537, 1048577):
    put('r%d' % n, noise(n))
# plain extents, then compressed ones that start mid-block, and back
put('mix1', noise(10000) + text(50000) + noise(5000) + text(3))
put('d/mix2', text(70001) + noise(4099) + text(4098))
put('d/mix3', noise(1048576 + 777) + text(300000) + noise(1))
put('d/e/text5m', text(5 << 20))
put('d/e/rand5m', noise(5 << 20))
put('d/e/zeros3m', bytes(3 << 20))
put('x' * 255, text(20000))
PY
(
	cd "$src" || exit 1
	cp t65537 d/same65537				# equal content: stored once
	ln d/mix2 d/e/hard				# hard link
	truncate -s 20M sparse.mid			# data in the middle only
	printf abc | dd of=sparse.mid bs=1 seek=10000000 conv=notrunc status=none
	truncate -s 5000001 sparse.ends			# data at both ends, odd size
	head -c 70000 t1048575 | dd of=sparse.ends conv=notrunc status=none
	printf tail | dd of=sparse.ends bs=1 seek=4999997 conv=notrunc status=none
	truncate -s 3M sparse.none			# all hole
	ln -s t4097 link
	mkfifo fifo
	setfattr -n user.note -v "a note on a compressed file" t65537
	setfattr -n user.big -v "$(head -c 1500 t4096 | tr -dc a-z)" d/mix2
	setfattr -n trusted.fingerprint -v 0x666f72676564 t4097	# forged: dropped
) || { nok "build the source tree"; finish; }
tar -C "$src" --sparse --xattrs --xattrs-include='user.*' -cf "$work/src.tar" .
nfiles=$(find "$src" -type f -size +0c | wc -l)

# The extraction against the source, and every fingerprint and verity
# digest of it (python: xattrs and hashing in one pass).
cat > "$work/cmp.py" <<'PY'
import hashlib, os, stat, subprocess, sys
src, out, verity = sys.argv[1], sys.argv[2], sys.argv[3] == '1'
bad, files = [], 0
def walk(root):
    for d, dirs, fs in os.walk(root):
        for n in dirs + fs:
            p = os.path.join(d, n)
            yield os.path.relpath(p, root)
a, b = sorted(walk(src)), sorted(walk(out))
if a != b:
    bad.append('paths differ: %s' % sorted(set(a) ^ set(b))[:5])
def uxattrs(p):
    return {k: os.getxattr(p, k, follow_symlinks=False)
            for k in os.listxattr(p, follow_symlinks=False) if k.startswith('user.')}
def descriptor_digest(value, size):
    # design.md "Verity metadata": rebuild fs-verity's descriptor
    assert value[:4] == b'SFV2' and len(value) == 48, value[:8]
    d = bytes([1, value[5], value[4], value[6]]) + bytes(4) + size.to_bytes(8, 'little')
    d += value[16:48] + bytes(32) + bytes(32) + bytes(144)
    assert len(d) == 256
    return hashlib.sha256(d).hexdigest()
for rel in a:
    if rel not in b:
        continue
    s, o = os.path.join(src, rel), os.path.join(out, rel)
    ss, os_ = os.lstat(s), os.lstat(o)
    if stat.S_IFMT(ss.st_mode) != stat.S_IFMT(os_.st_mode) or \
       stat.S_IMODE(ss.st_mode) != stat.S_IMODE(os_.st_mode):
        bad.append('%s: mode %o, extracted %o' % (rel, ss.st_mode, os_.st_mode))
        continue
    if stat.S_ISLNK(ss.st_mode) and os.readlink(s) != os.readlink(o):
        bad.append('%s: symlink target' % rel)
    if uxattrs(s) != uxattrs(o):
        bad.append('%s: user xattrs' % rel)
    if not stat.S_ISREG(ss.st_mode):
        continue
    data = open(o, 'rb').read()
    if data != open(s, 'rb').read():
        bad.append('%s: content differs' % rel)
        continue
    try:
        fp = os.getxattr(o, 'trusted.fingerprint')
    except OSError:
        fp = None
    if not data:
        if fp is not None:
            bad.append('%s: empty file with a fingerprint' % rel)
        continue
    files += 1
    if fp != b'sha256:' + hashlib.sha256(data).digest():
        bad.append('%s: fingerprint is not SHA-256 of the content' % rel)
    if verity:
        v = os.getxattr(o, 'trusted.sharefs.verity')
        fd = subprocess.run(['fsverity', 'digest', o], capture_output=True,
                            text=True, check=True).stdout.split()[0]
        if fd != 'sha256:' + descriptor_digest(v, len(data)):
            bad.append('%s: fsverity digest %s, image says otherwise' % (rel, fd))
print('%d files' % files)
if bad:
    print('; '.join(bad[:4]), '(%d problems)' % len(bad))
    sys.exit(1)
PY

compressed() {	# image: the files that must be compressed are
	local f
	for f in d/e/text5m d/e/rand5m d/mix3 sparse.mid t65537; do
		dump19 --path=/$f "$1" | grep -q "Layout: 3 " || { echo "$f is not compressed"; return 1; }
	done
}
same_image() {	# image source mkfs-options...: -j1 and -j4 give it again
	local img=$1 s=$2; shift 2
	"$mkfs" "$@" -j1 "$img.j1" "$s" && "$mkfs" "$@" -j4 "$img.j4" "$s" &&
		cmp "$img.j1" "$img.j4" && cmp "$img.j1" "$img"
}

# verify NAME IMAGE VERITY: the per-image checks above
verify() {
	local name=$1 img=$2 verity=$3 x=$work/$1.x
	rm -rf "$x"
	check "$name: fsck.erofs 1.9 accepts and extracts it" fsck19 -d0 --xattrs --extract="$x" "$img"
	check "$name: extraction = source; fingerprints$([ "$verity" = 1 ] && echo ", verity digests") of the content ($nfiles files)" \
		sh -c 'out=$(python3 "$1" "$2" "$3" "$4") && echo "$out" && [ "$out" = "$5 files" ]' \
		_ "$work/cmp.py" "$src" "$x" "$verity" "$nfiles"
	check "$name: the large files are compressed (dump.erofs: layout 3)" compressed "$img"
	rm -rf "$x"
}

opts=(-q -T1700000000 -U 6d2c1e7a-1d0b-4a55-9a40-3c1b2a0e5f11)
for z in lz4 lz4hc zstd; do
	for C in "" 65536; do
		copt=() tag=$z
		[ -n "$C" ] && copt=(-C "$C") tag=$z-C$C
		check "mkfs -z $z ${copt[*]} --verity of the awkward tree" "$mkfs" "${opts[@]}" -z $z "${copt[@]}" --verity "$work/$tag.img" "$src"
		verify "$tag" "$work/$tag.img" 1
		check "mkfs -z $z ${copt[*]} --tar of the same tree" "$mkfs" "${opts[@]}" -z $z "${copt[@]}" --tar "$work/$tag-tar.img" "$work/src.tar"
		verify "$tag-tar" "$work/$tag-tar.img" 0
		check "mkfs -z $z ${copt[*]}: -j1 and -j4 write the same image" \
			same_image "$work/$tag.img" "$src" "${opts[@]}" -z $z "${copt[@]}" --verity
		rm -f "$work/$tag.img"* "$work/$tag-tar.img"
	done
done
check "mkfs -z zstd,15 -b 1024 -C 8192" "$mkfs" "${opts[@]}" -z zstd,15 -b 1024 -C 8192 "$work/b1k.img" "$src"
verify b1k "$work/b1k.img" 0
check "mkfs -z lz4hc,12 -b 4096 --ishare-xattr -C 131072" "$mkfs" "${opts[@]}" -z lz4hc,12 --ishare-xattr -C 131072 "$work/ishare.img" "$src"
verify ishare "$work/ishare.img" 0

# usage errors: exit 2, and the message names what is wrong
usage_error() {	# expected-text args...
	local want=$1 out rc; shift
	out=$("$mkfs" -q "$@" "$work/bad.img" "$src" 2>&1); rc=$?
	[ $rc = 2 ] && grep -q -- "$want" <<< "$out" && [ ! -e "$work/bad.img" ] ||
		{ echo "exit $rc: $(head -n 1 <<< "$out")"; return 1; }
}
check "-z gzip: unknown compressor" usage_error "unknown compressor" -z gzip
check "-z lz4,3: lz4 takes no level" usage_error "takes no level" -z lz4,3
check "-z lz4hc,13: level out of range" usage_error "level must be 1 to 12" -z lz4hc,13
check "-z zstd,0: level out of range" usage_error "level must be 1 to 22" -z zstd,0
check "-z zstd,x: not a number" usage_error "level must be" -z zstd,x
check "-z zstd,: empty level" usage_error "level must be" -z zstd,
check "-C 65536 without -z" usage_error "-C needs -z" -C 65536
check "-C 1000: not a multiple of the block size" usage_error "multiple of the block size" -z lz4 -C 1000
check "-C 2097152: over 1 MiB" usage_error "up to" -z lz4 -C 2097152
check "-C 0" usage_error "bad pcluster size" -z lz4 -C 0
check "-b 512 -C 1048576: over 1024 blocks" usage_error "up to 524288" -z lz4 -b 512 -C 1048576
finish
