#!/usr/bin/env python3
"""Deterministic mutants of EROFS images, for the sharefs image fuzzer.

usage: mutate.py list --seed S [--start I] --count N --bases DIR --base NAME...
                      --out FILE.list
       mutate.py one --seed S --index I --bases DIR --base NAME... --out X.img
       mutate.py one --from FILE.list --index I --bases DIR --out X.img
       mutate.py targets IMAGE             (what the mutator found to mutate)

Mutant (S, I) depends only on S, I and the list of bases: the same command
line regenerates it, so the index that a VM run reports is a reproducer.

A mutant is one base image with one to three mutations.  The mutator walks
the base (scripts/imgtool.py's reader) and records where its metadata lies:
the superblock, every inode, its xattr area (header, shared ids, entries,
the trusted.fingerprint entry), chunk indexes, dirents, shared xattrs,
the long prefix table, and of compressed files the map header, the full
lcluster indexes (and the first block of the pclusters they name) or the
compact index packs.  A mutation is field-aware (an interesting value in
one of those fields) or a bit flip in metadata bytes, or a truncation.  The
superblock checksum is recomputed for nine mutants in ten, so most get past
it to the code behind it.

"list" writes mutants S:I .. S:I+N-1 as patches of their base, one line
each: "SEED:INDEX BASE SIZE OFF:HEX,OFF:HEX... WHAT".  The test program in
the VM (selftests/sharefs/fuzz_test.c) has the bases on its image disk,
applies a patch to a copy in tmpfs and limits its loop device to SIZE (a
truncation): thousands of mutants of multi-MiB images cost a few hundred
bytes each.  The first line of a list, "# seed S bases NAME...", lets "one
--from" take the seed and the bases from it.  "one" writes the whole mutant
image, to reproduce a failure.
"""
import os
import random
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                '..'))
import imgtool  # noqa: E402

SB = imgtool.SB
MAX_ENTRIES, MAX_DEPTH = 200, 8	# the bounds of fuzz_test.c's walk

# superblock fields: (offset from SB, struct format)
SB_FIELDS = {
    'feature_compat': (8, '<I'), 'blkszbits': (12, '<B'),
    'sb_extslots': (13, '<B'), 'rootnid_2b': (14, '<H'), 'inos': (16, '<Q'),
    'epoch': (24, '<Q'), 'fixed_nsec': (32, '<I'), 'blocks': (36, '<I'),
    'meta_blkaddr': (40, '<I'), 'xattr_blkaddr': (44, '<I'),
    'feature_incompat': (80, '<I'), 'u1': (84, '<H'),
    'extra_devices': (86, '<H'), 'devt_slotoff': (88, '<H'),
    'dirblkbits': (90, '<B'), 'xattr_prefix_count': (91, '<B'),
    'xattr_prefix_start': (92, '<I'), 'packed_nid': (96, '<Q'),
    'xattr_filter_reserved': (104, '<B'),
    'ishare_xattr_prefix_id': (105, '<B'), 'build_time': (108, '<I'),
    'rootnid_8b': (112, '<Q'),
}
WIDTH = {'<B': 8, '<H': 16, '<I': 32, '<Q': 64}


class Targets:
    """Where the metadata of a valid image lies."""

    def __init__(self, img):
        self.img = img
        im = self.im = imgtool.Image(img)
        self.bs = im.bs
        self.inodes = []	# inode dicts (imgtool) + 'nid'
        self.xheaders = []	# offsets of xattr ibody headers
        self.xentries = []	# (offset of entry, inline: bool)
        self.fps = []		# offsets of trusted.fingerprint entries
        self.chunks = []	# (offset, entry size)
        self.dirents = []	# offsets of dirents
        self.prefixes = []	# offsets of long prefix entries
        self.zheaders = []	# offsets of compressed map headers
        self.zfull = []		# offsets of full lcluster index entries
        self.zdata = []		# offsets of pcluster blocks (full indexes)
        self.ranges = [(SB, SB + 128)]
        # the walk of fuzz_test.c: depth first in readdir (name) order,
        # MAX_ENTRIES entries, MAX_DEPTH deep; aim at what it reaches
        self.seen = set()
        self.visit(im.root, 0)
        self.long_prefixes()

    def visit(self, nid, depth):
        if len(self.seen) >= MAX_ENTRIES:
            return
        self.seen.add(nid)
        try:
            ino = self.im.inode(nid)
        except struct.error:
            return
        ino['nid'] = nid
        self.inodes.append(ino)
        self.ranges.append((ino['pos'], ino['tail']))
        self.xattrs(ino)
        if ino['layout'] == 4:
            self.chunk_map(ino)
        if ino['layout'] in (1, 3):
            self.zmap(ino)
        if not imgtool.stat_isdir(ino['mode']) or depth >= MAX_DEPTH:
            return
        for base, length in self.im.dir_blocks(ino):
            self.ranges.append((base, base + length))
        ents = self.im.dirents(ino)
        self.dirents += [e[0] for e in ents]
        for pos, cnid, _, _, name in sorted(ents, key=lambda e: e[4]):
            if name not in ('.', '..') and cnid not in self.seen:
                self.visit(cnid, depth + 1)

    def xattrs(self, ino):
        if not ino['xsize']:
            return
        base = ino['pos'] + ino['isize']
        end = base + ino['xsize']
        self.xheaders.append(base)
        shared = self.img[base + 4]
        xbase = imgtool.get(self.img, 'xattr_blkaddr') * self.bs
        for k in range(shared):
            sid, = struct.unpack_from('<I', self.img, base + 12 + 4 * k)
            pos = xbase + 4 * sid
            if pos + 4 <= len(self.img):
                self.xentries.append((pos, False))
                nl, ni, vs = struct.unpack_from('<BBH', self.img, pos)
                self.ranges.append((pos, pos + 4 + nl + vs))
        pos = base + 12 + 4 * shared
        while pos + 4 <= end:
            nl, ni, vs = struct.unpack_from('<BBH', self.img, pos)
            self.xentries.append((pos, True))
            name = bytes(self.img[pos + 4:pos + 4 + nl])
            if name == b'fingerprint' and ni == 4 or vs == 39 and \
                    self.img[pos + 4 + nl:pos + 4 + nl + 7] == b'sha256:':
                self.fps.append(pos)
            pos += (4 + nl + vs + 3) & ~3

    def chunk_map(self, ino):
        fmt = ino['u'] & 0xffff
        bits = self.im.bs.bit_length() - 1 + (fmt & 0x1f)
        n = (ino['size'] + (1 << bits) - 1) >> bits if bits < 63 else 0
        if fmt & 0x20:
            base, esz = (ino['tail'] + 7) & ~7, 8
        else:
            base, esz = ino['tail'], 4
        for k in range(min(n, 4096)):
            self.chunks.append((base + k * esz, esz))
        self.ranges.append((base, base + min(n, 4096) * esz))

    def zmap(self, ino):
        """compressed: map header at align8(tail), then full entries 8
        bytes on, or compact packs right after it (sharefs_fs.h)"""
        hdr = (ino['tail'] + 7) & ~7
        if hdr + 8 > len(self.img):
            return
        self.zheaders.append(hdr)
        cbits = self.img[hdr + 7]
        if cbits & 0x80:		# the whole file in the packed inode
            self.ranges.append((hdr, hdr + 8))
            return
        lb = self.bs.bit_length() - 1 + (cbits & 7)
        n = min((ino['size'] + (1 << lb) - 1) >> lb, 4096)
        if ino['layout'] == 1:
            base = hdr + 16
            for k in range(n):
                pos = base + 8 * k
                if pos + 8 > len(self.img):
                    break
                self.zfull.append(pos)
                adv, blk = struct.unpack_from('<HxxI', self.img, pos)
                if adv & 3 in (1, 3) and (blk + 1) * self.bs <= len(self.img):
                    self.zdata.append(blk * self.bs)
            self.ranges.append((hdr, base + 8 * n))
        else:
            # at most 4 bytes an lcluster, and the inline tail after them
            self.ranges.append((hdr, hdr + 8 + 4 * n + 8))

    def long_prefixes(self):
        count = self.img[SB + 91]
        if not imgtool.get(self.img, 'feature_incompat') & 0x40:
            return
        pos = struct.unpack_from('<I', self.img, SB + 92)[0] * 4
        for _ in range(count):
            if pos + 2 > len(self.img):
                break
            self.prefixes.append(pos)
            size, = struct.unpack_from('<H', self.img, pos)
            self.ranges.append((pos, pos + 2 + size))
            pos += (2 + size + 3) & ~3

    def meta_end(self):
        return max(e for _, e in self.ranges)


def interesting(rng, width, cur):
    top = (1 << width) - 1
    return rng.choice([
        0, 1, 2, 3, 4, 7, 8, 0x10, 0x20, 0x40, 0x7f, 0x80, 0xff, 0x100,
        0xfff, 0x1000, 0xfff0, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
        0x80000000, 0xffffffff, 1 << 40, top, top - 1, top >> 1,
        cur + 1, cur - 1, cur + 4, cur - 4, cur * 2, cur >> 1, cur ^ 0x80,
        cur + 12, cur + 32, cur + 4096, cur ^ (1 << rng.randrange(width)),
        rng.getrandbits(width), rng.getrandbits(rng.randrange(1, width + 1)),
    ]) & top


def put(img, off, fmt, rng, value=None):
    """set the field at off to an interesting value; its description"""
    size = struct.calcsize(fmt)
    if off < 0 or off + size > len(img):
        return None
    cur, = struct.unpack_from(fmt, img, off)
    v = interesting(rng, WIDTH[fmt], cur) if value is None else value
    struct.pack_into(fmt, img, off, v)
    return f'@{off:#x}={v:#x}'


def m_super(img, t, rng):
    name = rng.choice(list(SB_FIELDS))
    off, fmt = SB_FIELDS[name]
    if name in ('feature_compat', 'feature_incompat') and rng.random() < .7:
        cur, = struct.unpack_from(fmt, img, SB + off)
        v = cur ^ (1 << rng.randrange(12))
        return 'sb.' + name + put(img, SB + off, fmt, rng, v)
    if name == 'blkszbits' and rng.random() < .7:
        return 'sb.' + name + put(img, SB + off, fmt, rng,
                                  rng.choice([0, 8, 9, 10, 11, 12, 13, 16]))
    return 'sb.' + name + put(img, SB + off, fmt, rng)


def m_inode(img, t, rng):
    ino = rng.choice(t.inodes)
    name = rng.choice(['format', 'format', 'layout', 'xattr_icount', 'mode',
                       'mode', 'size', 'size', 'u', 'u', 'nlink', 'ino'])
    if name == 'layout':	# a layout, the version bit kept
        cur = img[ino['pos']] >> 1 & 7
        fmt = img[ino['pos']] & ~0xe | (cur + rng.randrange(1, 8)) % 8 << 1
        img[ino['pos']] = fmt
        return f'inode{ino["nid"]}.layout={fmt:#x}'
    if name == 'mode' and rng.random() < .6:	# another file type
        cur, = struct.unpack_from('<H', img, ino['pos'] + 4)
        v = cur & 0o7777 | rng.choice([0, 1, 2, 4, 6, 8, 10, 12, 14, 15]) << 12
        return f'inode{ino["nid"]}.mode' + put(img, ino['pos'] + 4, '<H',
                                               rng, v)
    if name == 'ino':
        off, fmt = ino['pos'] + 20, '<I'
    else:
        off, fmt = t.im.field(ino, name)
    return f'inode{ino["nid"]}.{name}' + put(img, off, fmt, rng)


def m_dirent(img, t, rng):
    pos = rng.choice(t.dirents)
    name, off, fmt = rng.choice([('nid', 0, '<Q'), ('nid', 0, '<Q'),
                                 ('nameoff', 8, '<H'), ('nameoff', 8, '<H'),
                                 ('file_type', 10, '<B')])
    if name == 'nid' and rng.random() < .5 and t.inodes:	# another inode
        v = rng.choice(t.inodes)['nid'] + rng.choice([0, 0, 1, 2, -1])
        return 'dirent.nid' + put(img, pos, fmt, rng, v & (1 << 64) - 1)
    if name == 'file_type' and rng.random() < .7:
        return 'dirent.type' + put(img, pos + off, fmt, rng, rng.randrange(9))
    return 'dirent.' + name + put(img, pos + off, fmt, rng)


def m_xattr(img, t, rng):
    if t.xheaders and (not t.xentries or rng.random() < .3):
        pos = rng.choice(t.xheaders)
        if rng.random() < .7:
            return 'xattr.shared_count' + put(img, pos + 4, '<B', rng)
        return 'xattr.filter' + put(img, pos, '<I', rng)
    if not t.xentries:
        return None
    pos, _ = rng.choice(t.xentries)
    name = rng.choice(['name_len', 'name_index', 'name_index', 'value_size',
                       'long_prefix'])
    if name == 'name_len':
        return 'xattr.name_len' + put(img, pos, '<B', rng)
    if name == 'name_index':
        return 'xattr.name_index' + put(img, pos + 1, '<B', rng,
                                        rng.choice([0, 1, 2, 3, 4, 5, 6, 7,
                                                    0xff, 0x80, 0x81]))
    if name == 'long_prefix':	# a long-prefix id, maybe one that exists
        return 'xattr.long_prefix' + put(img, pos + 1, '<B', rng,
                                         0x80 | rng.choice([0, 1, 2, 0x7f]))
    return 'xattr.value_size' + put(img, pos + 2, '<H', rng)


def m_fingerprint(img, t, rng):
    if not t.fps:
        return None
    pos = rng.choice(t.fps)
    nl = img[pos]
    what = rng.choice(['value_size', 'tag', 'digest', 'name', 'index'])
    if what == 'value_size':
        return 'fp.value_size' + put(img, pos + 2, '<H', rng,
                                     rng.choice([0, 1, 7, 8, 38, 40, 0xffff,
                                                 rng.randrange(64)]))
    if what == 'tag':	# "sha256:" changed
        off = pos + 4 + nl + rng.randrange(7)
        img[off] ^= 1 << rng.randrange(8)
        return f'fp.tag@{off:#x}'
    if what == 'digest':	# another content hash: a liar
        off = pos + 4 + nl + 7 + rng.randrange(32)
        img[off] ^= 0xff
        return f'fp.digest@{off:#x}'
    if what == 'name':
        off = pos + 4 + rng.randrange(max(nl, 1))
        img[off] ^= 1 << rng.randrange(8)
        return f'fp.name@{off:#x}'
    return 'fp.index' + put(img, pos + 1, '<B', rng)


def m_chunk(img, t, rng):
    if not t.chunks:
        return None
    pos, esz = rng.choice(t.chunks)
    if esz == 8:
        f = rng.choice([(0, '<H'), (2, '<H'), (4, '<I'), (4, '<I')])
        return 'chunk' + put(img, pos + f[0], f[1], rng)
    return 'chunk' + put(img, pos, '<I', rng)


# fields of a compressed file's map header and of a full lcluster index:
# (name, offset in the structure, struct format)
ZHEADER_FIELDS = [('fragoff', 0, '<I'), ('idata', 2, '<H'),
                  ('advise', 4, '<H'), ('algs', 6, '<B'),
                  ('clusterbits', 7, '<B')]
ZINDEX_FIELDS = [('advise', 0, '<H'), ('clusterofs', 2, '<H'),
                 ('blkaddr', 4, '<I'), ('delta0', 4, '<H'),
                 ('delta1', 6, '<H')]


def m_field(img, rng, what, positions, fields):
    """one field of one of the structures at positions, set to an
    interesting value: the structure first, then the field (the draw order
    that a seed's mutants depend on)"""
    if not positions:
        return None
    pos = rng.choice(positions)
    name, off, fmt = rng.choice(fields)
    return f'{what}.{name}' + put(img, pos + off, fmt, rng)


def m_zheader(img, t, rng):
    return m_field(img, rng, 'zheader', t.zheaders, ZHEADER_FIELDS)


def m_zindex(img, t, rng):
    return m_field(img, rng, 'zindex', t.zfull, ZINDEX_FIELDS)


def m_zdata(img, t, rng):
    """garbage for the decompressor: bytes of a pcluster's first block"""
    if not t.zdata:
        return None
    base = rng.choice(t.zdata)
    out = []
    for _ in range(rng.randrange(1, 9)):
        off = base + rng.randrange(t.bs)
        img[off] ^= 1 << rng.randrange(8)
        out.append(f'{off:#x}')
    return 'zdata@' + ','.join(out)


def m_prefix(img, t, rng):
    if not t.prefixes:
        return None
    pos = rng.choice(t.prefixes)
    if rng.random() < .5:
        return 'prefix.size' + put(img, pos, '<H', rng)
    return 'prefix.base_index' + put(img, pos + 2, '<B', rng)


def m_flip(img, t, rng):
    """flip bits in the metadata"""
    lo, hi = rng.choice(t.ranges)
    if hi <= lo:
        return None
    out = []
    for _ in range(rng.randrange(1, 9)):
        off = rng.randrange(lo, min(hi, len(img)))
        img[off] ^= 1 << rng.randrange(8)
        out.append(f'{off:#x}')
    return 'flip@' + ','.join(out)


def m_bytes(img, t, rng):
    """random bytes over a run of metadata"""
    lo, hi = rng.choice(t.ranges)
    if hi <= lo:
        return None
    off = rng.randrange(lo, min(hi, len(img)))
    n = rng.randrange(1, 17)
    img[off:off + n] = bytes(rng.getrandbits(8) for _ in range(n))[
        :len(img) - off]
    return f'bytes@{off:#x}+{n}'


MUTATIONS = [(m_super, 3), (m_inode, 5), (m_dirent, 4), (m_xattr, 4),
             (m_fingerprint, 2), (m_chunk, 2), (m_prefix, 1), (m_flip, 4),
             (m_bytes, 1), (m_zheader, 2), (m_zindex, 3), (m_zdata, 2)]


def mutant(seed, index, bases, bdir, cache={}):
    """(bytes, base name, description) of mutant seed:index"""
    rng = random.Random(f'{seed}:{index}')
    base = rng.choice(bases)
    if base not in cache:
        raw = bytearray(open(os.path.join(bdir, base + '.img'), 'rb').read())
        cache[base] = (raw, Targets(raw))
    raw, t = cache[base]
    img = bytearray(raw)
    what = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        fn = rng.choices([m for m, _ in MUTATIONS],
                         [w for _, w in MUTATIONS])[0]
        d = fn(img, t, rng)
        if d:
            what.append(d)
    if not what:
        what.append(m_flip(img, t, rng))
    if rng.random() < .9 and imgtool.get(raw, 'feature_compat') & 1:
        imgtool.fixcsum(img)
    else:
        what.append('csum-kept')
    cut = len(img)
    if rng.random() < .08:	# truncated anywhere, even in the metadata
        cut = rng.randrange(SB + 128, len(img) + 1)
        what.append(f'trunc={cut:#x}')
    return img, raw, cut, base, ' '.join(what)


def patches(img, raw):
    """"OFF:HEX,..." for the bytes where img differs from raw"""
    out, step = [], 4096
    for blk in range(0, len(raw), step):
        if img[blk:blk + step] == raw[blk:blk + step]:
            continue
        k = blk
        while k < min(blk + step, len(raw)):
            if img[k] == raw[k]:
                k += 1
                continue
            e = k
            while e < len(raw) and img[e] != raw[e] and e - k < 64:
                e += 1
            out.append(f'{k:x}:{bytes(img[k:e]).hex()}')
            k = e
    return ','.join(out) or '-'


def opt(args, name, default=None):
    if name in args:
        return args[args.index(name) + 1]
    return default


def main():
    cmd, *args = sys.argv[1:]
    if cmd == 'targets':
        t = Targets(bytearray(open(args[0], 'rb').read()))
        print(f'inodes {len(t.inodes)} dirents {len(t.dirents)} '
              f'xheaders {len(t.xheaders)} xentries {len(t.xentries)} '
              f'fps {len(t.fps)} chunks {len(t.chunks)} '
              f'zheaders {len(t.zheaders)} zfull {len(t.zfull)} '
              f'prefixes {len(t.prefixes)} meta_end {t.meta_end():#x}')
        return
    bdir = opt(args, '--bases')
    if '--from' in args:
        head = open(opt(args, '--from')).readline().split()
        seed, bases = int(head[2]), head[4:]
    else:
        seed = int(opt(args, '--seed'))
        bases = [args[i + 1] for i, a in enumerate(args) if a == '--base']
    out = opt(args, '--out')
    if cmd == 'one':
        i = int(opt(args, '--index'))
        img, raw, cut, base, what = mutant(seed, i, bases, bdir)
        open(out, 'wb').write(img[:cut])
        print(f'{seed}:{i} {base} {cut} {what}')
        return
    start, count = int(opt(args, '--start', 0)), int(opt(args, '--count'))
    with open(out, 'w') as lst:
        lst.write(f'# seed {seed} bases {" ".join(bases)}\n')
        for i in range(start, start + count):
            img, raw, cut, base, what = mutant(seed, i, bases, bdir)
            lst.write(f'{seed}:{i} {base} {cut} {patches(img, raw)} {what}\n')


if __name__ == '__main__':
    main()
