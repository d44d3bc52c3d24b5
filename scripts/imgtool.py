#!/usr/bin/env python3
"""Inspect and mutate the superblock of an EROFS image (for tests).

usage: imgtool.py IMAGE show
       imgtool.py IMAGE set FIELD VALUE [--keep-csum]
       imgtool.py IMAGE flip OFFSET      (xor one byte with 0xff)
       imgtool.py IMAGE fixcsum
       imgtool.py IMAGE acl index|tag VALUE   (first POSIX ACL xattr)
       imgtool.py IMAGE ls PATH          (an inode and its dirents)
       imgtool.py IMAGE inode PATH IFIELD VALUE
       imgtool.py IMAGE dirent DIR NAME DFIELD VALUE
       imgtool.py IMAGE chunk PATH INDEX BLKADDR
       imgtool.py IMAGE verity [OUTDIR]  (trusted.sharefs.verity of every file)
       imgtool.py IMAGE zheader PATH ZFIELD VALUE   (compressed map header)
       imgtool.py IMAGE zindex PATH LCN LFIELD VALUE (full lcluster index)
       imgtool.py IMAGE zgarbage PATH LCN  (0xff over the HEAD's pcluster block)

The inode-aware commands find PATH by walking the directories from the root
(uncompressed images: flat and chunk-based layouts).  IFIELDs: format,
xattr_icount, mode, size, u (startblk / chunk format), nlink.  DFIELDs:
nid, nameoff, type.  VALUE may be "nid:PATH", the nid of another path.
"chunk" sets entry INDEX of a chunk-based file's chunk map.  These
commands recompute the superblock checksum (zheader/zindex/zgarbage: of
compressed files; ZFIELDs: advise, idata, algs, clusterbits; LFIELDs of a
full index entry: advise, clusterofs, blkaddr, delta0, delta1): it covers the rest of block 0,
where small images keep their first inodes.

Fields are the superblock's (sharefs_fs.h): magic, feature_compat,
feature_incompat, blkszbits, rootnid_2b, meta_blkaddr, xattr_blkaddr, blocks.
"set" recomputes the checksum unless --keep-csum is given.

"verity" (mkfs.sharefs --verity, tools/lib/verity_fs.h) prints one line
per path of a non-empty regular file: "NID SIZE TREE_POS TREE_SIZE
SHA256(DESCRIPTOR) SHA256(TREE) PATH", PATH last (it may hold spaces):
TREE_POS and TREE_SIZE are the packed tree's image byte and size,
DESCRIPTOR the fs-verity descriptor rebuilt from the xattr and i_size
(its SHA-256 is the file digest), TREE fs-verity's padded tree rebuilt
from the packed one (what `fsverity digest --out-merkle-tree` writes).
With OUTDIR it also writes each inode's descriptor (NID.desc) and padded
tree (NID.tree).  It exits non-zero when a file lacks the xattr or it is
malformed (size, magic, header, reserved byte), when a tree lies outside
the image, off 32-byte alignment, in a block of the superblock, an inode,
a file's data, or over another content's tree, when a tree block's hash
(salted, if there is a salt) is not the hash one level up or the root
hash, or when an empty or non-regular file carries the xattr.
"""
import hashlib
import os
import struct
import sys

SB = 1024
FIELDS = {  # name: (offset, struct format)
    'magic': (0, '<I'), 'checksum': (4, '<I'), 'feature_compat': (8, '<I'),
    'blkszbits': (12, '<B'), 'rootnid_2b': (14, '<H'), 'inos': (16, '<Q'),
    'blocks': (36, '<I'), 'meta_blkaddr': (40, '<I'),
    'xattr_blkaddr': (44, '<I'), 'feature_incompat': (80, '<I'),
}


def crc32c(data, crc=0xffffffff):
    """Castagnoli CRC, no final inversion (the kernel's crc32c(~0, ...))."""
    table = crc32c.table
    for b in data:
        crc = table[(crc ^ b) & 0xff] ^ (crc >> 8)
    return crc


def _table():
    t = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        t.append(c)
    return t


crc32c.table = _table()


def get(img, name):
    off, fmt = FIELDS[name]
    return struct.unpack_from(fmt, img, SB + off)[0]


def fixcsum(img):
    bits = get(img, 'blkszbits')
    length = 1 << bits
    if length > SB:
        length -= SB
    region = bytearray(img[SB:SB + length])
    region[4:8] = b'\0\0\0\0'
    struct.pack_into('<I', img, SB + 4, crc32c(bytes(region)))


class Image:
    """Just enough of the EROFS format to find inodes and dirents."""

    def __init__(self, img):
        self.img = img
        self.bs = 1 << get(img, 'blkszbits')
        self.meta = get(img, 'meta_blkaddr') * self.bs
        self.root = get(img, 'rootnid_2b')

    def ipos(self, nid):
        return self.meta + 32 * nid

    def inode(self, nid):
        pos = self.ipos(nid)
        fmt, icount, mode = struct.unpack_from('<HHH', self.img, pos)
        ext = fmt & 1
        if ext:
            size, = struct.unpack_from('<Q', self.img, pos + 8)
            u, = struct.unpack_from('<I', self.img, pos + 16)
            isize = 64
        else:
            size, = struct.unpack_from('<I', self.img, pos + 8)
            u, = struct.unpack_from('<I', self.img, pos + 16)
            isize = 32
        xsize = 12 + 4 * (icount - 1) if icount else 0
        return dict(pos=pos, ext=ext, layout=(fmt >> 1) & 7, mode=mode,
                    size=size, u=u, isize=isize, xsize=xsize,
                    tail=pos + isize + xsize)

    def field(self, ino, name):
        """(offset, struct format) of an inode field"""
        ext = ino['ext']
        off = {'format': (0, '<H'), 'xattr_icount': (2, '<H'),
               'mode': (4, '<H'), 'u': (16, '<I'),
               'size': (8, '<Q' if ext else '<I'),
               'nlink': (44, '<I') if ext else (6, '<H'),
               # the xattr ibody header's h_shared_count
               'xattr_shared': (ino['isize'] + 4, '<B')}[name]
        return ino['pos'] + off[0], off[1]

    def dir_blocks(self, ino):
        """file offsets of a directory's blocks"""
        n = (ino['size'] + self.bs - 1) // self.bs
        out = []
        for i in range(n):
            if ino['layout'] == 2 and i == n - 1 and ino['size'] % self.bs:
                out.append((ino['tail'], ino['size'] % self.bs))
            else:
                out.append(((ino['u'] + i) * self.bs,
                            min(self.bs, ino['size'] - i * self.bs)))
        return out

    def dirents(self, ino):
        """(position of the dirent, nid, nameoff, type, name)"""
        out = []
        for base, length in self.dir_blocks(ino):
            first = struct.unpack_from('<QHBB', self.img, base)
            count = first[1] // 12
            offs = [struct.unpack_from('<QHBB', self.img, base + 12 * k)
                    for k in range(count)]
            for k, (nid, noff, ft, _) in enumerate(offs):
                end = offs[k + 1][1] if k + 1 < count else length
                name = bytes(self.img[base + noff:base + end]).split(b'\0')[0]
                out.append((base + 12 * k, nid, noff, ft, name.decode()))
        return out

    def lookup(self, path):
        nid = self.root
        for part in [p for p in path.split('/') if p]:
            ents = {e[4]: e for e in self.dirents(self.inode(nid))}
            nid = ents[part][1]
        return nid

    def value(self, v):
        return self.lookup(v[4:]) if v.startswith('nid:') else int(v, 0)


def mutate(img, cmd, args):
    im = Image(img)
    if cmd == 'ls':
        nid = im.lookup(args[0])
        print(nid, im.inode(nid))
        if stat_isdir(im.inode(nid)['mode']):
            for e in im.dirents(im.inode(nid)):
                print(' ', e)
        return False
    if cmd == 'inode':
        ino = im.inode(im.lookup(args[0]))
        off, fmt = im.field(ino, args[1])
        struct.pack_into(fmt, img, off, im.value(args[2]))
    elif cmd == 'dirent':
        ents = [e for e in im.dirents(im.inode(im.lookup(args[0])))
                if e[4] == args[1]]
        if not ents:
            sys.exit(f'{args[0]}: no entry {args[1]}')
        off = {'nid': (0, '<Q'), 'nameoff': (8, '<H'),
               'type': (10, '<B')}[args[2]]
        struct.pack_into(off[1], img, ents[0][0] + off[0], im.value(args[3]))
    elif cmd in ('zheader', 'zindex', 'zgarbage'):
        zmutate(im, img, cmd, args)
    elif cmd == 'chunk':
        ino = im.inode(im.lookup(args[0]))
        if ino['layout'] != 4:
            sys.exit(f'{args[0]}: not chunk-based')
        if ino['u'] & 0x20:	# 8-byte chunk indexes, 8-aligned
            base = (ino['tail'] + 7) & ~7
            struct.pack_into('<I', img, base + 8 * int(args[1]) + 4,
                             int(args[2], 0))
        else:
            struct.pack_into('<I', img, ino['tail'] + 4 * int(args[1]),
                             int(args[2], 0))
    elif cmd == 'interleave':
        interleave(img, im, args[0], args[1], int(args[2]), int(args[3]))
    if get(img, 'feature_compat') & 1:	# SB_CHKSUM
        fixcsum(img)
    return True


def chunk_table(im, path, ino=None):
    """(position, format) of each chunk entry of a chunk-based file"""
    ino = ino or im.inode(im.lookup(path))
    if ino['layout'] != 4:
        sys.exit(f'{path}: not chunk-based')
    chunkbits = im.bs.bit_length() - 1 + (ino['u'] & 0x1f)
    n = (ino['size'] + (1 << chunkbits) - 1) >> chunkbits
    if ino['u'] & 0x20:	# 8-byte chunk indexes, 8-aligned
        base = (ino['tail'] + 7) & ~7
        return [(base + 8 * i + 4, '<I') for i in range(n)], chunkbits
    return [(ino['tail'] + 4 * i, '<I') for i in range(n)], chunkbits


def interleave(img, im, path_a, path_b, run, first):
    """Two chunk-based files of one-block chunks with as many data chunks
    each (holes are left alone) get alternate runs of RUN blocks of the
    blocks they hold together: A's j-th run of data chunks the (2j +
    FIRST)-th run of them, B's the others.  The same content then sits at
    other block addresses than in an image interleaved with the other
    FIRST: there, A's run j starts where A's run j - 1 ends here."""
    tabs, blks = [], []
    for path in (path_a, path_b):
        t, bits = chunk_table(im, path)
        if (1 << bits) != im.bs:
            sys.exit(f'interleave: {path}: chunks are not one block')
        t = [(p, f) for p, f in t
             if struct.unpack_from(f, img, p)[0] != 0xffffffff]
        tabs.append(t)
        blks.append([struct.unpack_from(f, img, p)[0] for p, f in t])
    n = len(blks[0])
    if n != len(blks[1]) or n % run or len(set(blks[0] + blks[1])) != 2 * n:
        sys.exit('interleave: want as many data chunks, in whole runs, '
                 'no block twice')
    data = [[bytes(img[b * im.bs:(b + 1) * im.bs]) for b in bl]
            for bl in blks]
    slots = sorted(blks[0] + blks[1])
    for j in range(n):
        for k in (0, 1):
            r = 2 * (j // run) + (first if k == 0 else 1 - first)
            blk = slots[r * run + j % run]
            struct.pack_into(tabs[k][j][1], img, tabs[k][j][0], blk)
            img[blk * im.bs:(blk + 1) * im.bs] = data[k][j]


def inline_xattrs(im, ino):
    """[(index, name suffix, value)] of an inode's inline xattrs"""
    if not ino['xsize']:
        return []
    pos = ino['pos'] + ino['isize']
    shared = im.img[pos + 4]
    p, end = pos + 12 + 4 * shared, pos + ino['xsize']
    out = []
    while p < end:
        nlen, index, vlen = struct.unpack_from('<BBH', im.img, p)
        name = bytes(im.img[p + 4:p + 4 + nlen])
        out.append((index, name, bytes(im.img[p + 4 + nlen:p + 4 + nlen + vlen])))
        p += (4 + nlen + vlen + 3) & ~3
    return out


def data_blocks(im, ino):
    """the image blocks an inode's data occupies"""
    size, bs, layout = ino['size'], im.bs, ino['layout']
    if layout == 4:
        tab, bits = chunk_table(im, None, ino)
        out = set()
        for i, (p, f) in enumerate(tab):
            blk = struct.unpack_from(f, im.img, p)[0]
            if blk != 0xffffffff:
                n = (min(size - (i << bits), 1 << bits) + bs - 1) // bs
                out.update(range(blk, blk + n))
        return out
    n = size // bs if layout == 2 else (size + bs - 1) // bs
    return set(range(ino['u'], ino['u'] + n)) if n else set()


def tree_levels(size):
    """hashes of each level of fs-verity's tree over SIZE bytes, level 0
    (the data blocks' hashes) first; [] for one data block or none"""
    n, out = (size + 4095) // 4096, []
    while n > 1:
        out.append(n)
        if n <= 128:
            break
        n = (n + 127) // 128
    return out


def salted(salt):
    """fs-verity's hash of a block: SHA-256 of the salt zero-padded to 64
    bytes (if any), then the block"""
    pad = salt + bytes(-len(salt) % 64)
    return lambda block: hashlib.sha256(pad + block).digest()


def unpack_tree(packed, levels, root, h):
    """fs-verity's padded tree (top level first, 4096-byte blocks) from
    the packed one, and whether every block's hash is the one one level
    up (the root hash for the top block)"""
    off, starts = 0, {}
    for k in reversed(range(len(levels))):
        starts[k] = off
        off += levels[k] * 32
    out, ok = [], True
    for k in reversed(range(len(levels))):
        lvl = packed[starts[k]:starts[k] + levels[k] * 32]
        blocks = [lvl[i:i + 4096].ljust(4096, b'\0')
                  for i in range(0, len(lvl), 4096)]
        for b, block in enumerate(blocks):
            up = root if k + 1 == len(levels) else \
                packed[starts[k + 1] + 32 * b:starts[k + 1] + 32 * b + 32]
            ok = ok and h(block) == up
        out += blocks
    return b''.join(out), ok


def verity(im, outdir):
    """check and list every file's trusted.sharefs.verity"""
    bad = []
    used = set(range((SB + 128 + im.bs - 1) // im.bs))     # the superblock
    files, seen, stack = [], {}, [('', im.root)]
    while stack:
        path, nid = stack.pop()
        ino = im.inode(nid)
        if nid not in seen:
            seen[nid] = ino
            has_data = (ino['mode'] & 0o170000) in (0o100000, 0o040000, 0o120000)
            # the inode, its xattrs and its inline tail or chunk map
            end = ino['tail']
            if has_data and ino['layout'] == 2:
                end += ino['size'] % im.bs
            elif has_data and ino['layout'] == 4:
                tab = chunk_table(im, None, ino)[0]
                end = tab[-1][0] + 4 if tab else end
            used.update(range(ino['pos'] // im.bs, (end - 1) // im.bs + 1))
            if has_data and ino['size']:
                used.update(data_blocks(im, ino))
        if stat_isdir(ino['mode']):
            for e in im.dirents(ino):
                if e[4] not in ('.', '..'):
                    stack.append((path + '/' + e[4], e[1]))
        else:
            files.append((path, nid))
    trees = {}
    for path, nid in sorted(files):
        ino = seen[nid]
        vals = [v for i, n, v in inline_xattrs(im, ino)
                if i == 4 and n == b'sharefs.verity']
        regular = (ino['mode'] & 0o170000) == 0o100000 and ino['size'] > 0
        if not regular:
            if vals:
                bad.append(f'{path}: carries trusted.sharefs.verity')
            continue
        if len(vals) != 1 or len(vals[0]) < 48 or len(vals[0]) != 48 + vals[0][6]:
            bad.append(f'{path}: no trusted.sharefs.verity of 48 bytes + salt')
            continue
        v = vals[0]
        logbs, alg, saltsz, res, pos = struct.unpack_from('<BBBBQ', v, 4)
        root, salt = v[16:48], v[48:]
        if v[:4] != b'SFV2' or (logbs, alg, res) != (12, 1, 0) or saltsz > 32:
            bad.append(f'{path}: malformed trusted.sharefs.verity')
            continue
        # the descriptor a reader rebuilds: its SHA-256 is the file digest
        desc = struct.pack('<BBBBIQ', 1, alg, logbs, saltsz, 0, ino['size']) + \
            root.ljust(64, b'\0') + salt.ljust(32, b'\0') + bytes(144)
        levels = tree_levels(ino['size'])
        tsize = 32 * sum(levels)
        if (pos == 0) != (tsize == 0) or pos % 32 or pos + tsize > len(im.img):
            bad.append(f'{path}: tree at byte {pos}, {tsize} bytes: wrong place')
            continue
        # a bad hash is reported, the line still printed: the tests
        # compare the tree with fsverity's, which must differ too
        tree, ok = unpack_tree(bytes(im.img[pos:pos + tsize]), levels, root,
                               salted(salt)) if tsize else (b'', True)
        if not ok:
            bad.append(f'{path}: a tree block\'s hash is not one level up')
        if tsize and trees.setdefault(pos, (tsize, desc)) != (tsize, desc):
            bad.append(f'{path}: another content\'s tree at byte {pos}')
        if outdir:
            with open(os.path.join(outdir, f'{nid}.desc'), 'wb') as f:
                f.write(desc)
            with open(os.path.join(outdir, f'{nid}.tree'), 'wb') as f:
                f.write(tree)
        print(nid, ino['size'], pos, tsize, hashlib.sha256(desc).hexdigest(),
              hashlib.sha256(tree).hexdigest(), path.lstrip('/'))
    end = 0
    for pos, (tsize, _) in sorted(trees.items()):
        if pos < end:
            bad.append(f'tree at byte {pos} overlaps another tree')
        end = pos + tsize
        if set(range(pos // im.bs, (end - 1) // im.bs + 1)) & used:
            bad.append(f'tree at byte {pos} shares a block with metadata or data')
    for b in bad[:10]:
        print('imgtool: verity:', b, file=sys.stderr)
    return not bad


def zmutate(im, img, cmd, args):
    """compressed files: the map header at align8(tail), full indexes
    8 bytes after it (sharefs_fs.h)"""
    ino = im.inode(im.lookup(args[0]))
    if ino['layout'] not in (1, 3):
        sys.exit(f'{args[0]}: not compressed')
    hdr = (ino['tail'] + 7) & ~7
    if cmd == 'zheader':
        off, fmt = {'advise': (4, '<H'), 'idata': (2, '<H'),
                    'algs': (6, '<B'), 'clusterbits': (7, '<B')}[args[1]]
        struct.pack_into(fmt, img, hdr + off, int(args[2], 0))
        return
    if ino['layout'] != 1:
        sys.exit(f'{args[0]}: not full (legacy) indexes')
    ent = hdr + 16 + 8 * int(args[1])
    if cmd == 'zindex':
        off, fmt = {'advise': (0, '<H'), 'clusterofs': (2, '<H'),
                    'blkaddr': (4, '<I'), 'delta0': (4, '<H'),
                    'delta1': (6, '<H')}[args[2]]
        struct.pack_into(fmt, img, ent + off, int(args[3], 0))
        return
    advise, = struct.unpack_from('<H', img, ent)
    if advise & 3 not in (1, 3):
        sys.exit(f'{args[0]}: lcluster {args[1]} is no compressed HEAD')
    blk, = struct.unpack_from('<I', img, ent + 4)
    img[blk * im.bs:(blk + 1) * im.bs] = b'\xff' * im.bs


def stat_isdir(mode):
    return mode & 0o170000 == 0o040000


def acl_entry(img, field, value):
    """Change the first system.posix_acl_access xattr entry: 'index' sets
    its name index, 'tag' the tag of its first ACL entry."""
    # entry header: name_len 0, index 2, value size; the value starts with
    # version 2 and a first entry of tag ACL_USER_OBJ (1)
    i = 0
    while True:
        i = img.find(b'\x00\x02', i)
        if i < 0:
            sys.exit('imgtool: no POSIX ACL xattr in the image')
        if img[i + 4:i + 10] == b'\x02\x00\x00\x00\x01\x00':
            break
        i += 1
    if field == 'index':
        img[i + 1] = value
    elif field == 'tag':
        img[i + 8] = value
    else:
        sys.exit(f'imgtool: acl: unknown field {field}')


def main():
    path, cmd, *args = sys.argv[1:]
    img = bytearray(open(path, 'rb').read())
    if cmd == 'verity':
        sys.exit(0 if verity(Image(img), args[0] if args else None) else 1)
    if cmd == 'show':
        for k in FIELDS:
            print(f'{k} {get(img, k):#x}')
        return
    if cmd == 'set':
        off, fmt = FIELDS[args[0]]
        struct.pack_into(fmt, img, SB + off, int(args[1], 0))
        if '--keep-csum' not in args:
            fixcsum(img)
    elif cmd == 'flip':
        img[int(args[0], 0)] ^= 0xff
    elif cmd == 'fixcsum':
        fixcsum(img)
    elif cmd == 'acl':
        acl_entry(img, args[0], int(args[1], 0))
        fixcsum(img)	# the entry may lie in the checksummed block
    elif not mutate(img, cmd, args):
        return
    open(path, 'wb').write(img)


if __name__ == '__main__':
    main()
