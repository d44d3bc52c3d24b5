#!/usr/bin/env python3
"""Write the canonical manifest of a host tree (selftests/sharefs/manifest.h).

usage: manifest.py [--fields CSV] [--ignore-xattr NAME,...]
                   [--unknown-empty-xattrs SRC_MANIFEST] DIR [OUT]

The same format as the in-VM walker, for the fields given (default: every
field a host tree can describe: all but ino and blocks).  The header lines
tell the VM test which fields to compare and which xattrs the image builder
adds.  --unknown-empty-xattrs works around erofs-utils 1.9.4's fsck.erofs --extract,
which drops every xattr of a file that has an xattr with an empty value
("failed to get xattr value size"): for the entries of SRC_MANIFEST (the
source tree's) with such an xattr, the xattrs field becomes "?", which the
VM test takes as "unknown".  readdir's d_type is taken from the entry's own type (the host's
filesystems report it faithfully).
"""
import hashlib
import os
import stat
import sys

FIELDS = ['type', 'mode', 'uid', 'gid', 'nlink', 'size', 'dsize', 'mtime',
          'rdev', 'data', 'xattrs', 'dtype', 'hl', 'ino', 'blocks']
TYPES = {stat.S_IFREG: 'reg', stat.S_IFDIR: 'dir', stat.S_IFLNK: 'lnk',
         stat.S_IFCHR: 'chr', stat.S_IFBLK: 'blk', stat.S_IFIFO: 'fifo',
         stat.S_IFSOCK: 'sock'}


def escape(b):
    return ''.join(chr(c) if 0x20 < c < 0x7f and c != 0x25 else '%%%02X' % c
                   for c in b)


def walk(root):
    """(escaped name, raw path) of every entry, the root first."""
    out = [(b'/', root)]
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(dirpath, n)
            out.append((p[len(root):], p))
    return [(escape(n), p) for n, p in out]


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').hexdigest()


def line(name, path, st, fields, ignore, hl):
    t = stat.S_IFMT(st.st_mode)
    out = [name]
    if 'type' in fields:
        out.append('type=' + TYPES[t])
    if 'mode' in fields:
        out.append('mode=%04o' % stat.S_IMODE(st.st_mode))
    if 'uid' in fields:
        out.append('uid=%d' % st.st_uid)
    if 'gid' in fields:
        out.append('gid=%d' % st.st_gid)
    if 'nlink' in fields:
        out.append('nlink=%d' % st.st_nlink)
    if 'size' in fields and t != stat.S_IFDIR:
        out.append('size=%d' % st.st_size)
    if 'dsize' in fields and t == stat.S_IFDIR:
        out.append('dsize=%d' % st.st_size)
    if 'mtime' in fields:
        out.append('mtime=%d.%09d' % divmod(st.st_mtime_ns, 10**9))
    if 'rdev' in fields:
        out.append('rdev=%d:%d' % (os.major(st.st_rdev), os.minor(st.st_rdev)))
    if 'data' in fields and t == stat.S_IFREG:
        out.append('data=' + sha256(path))
    if 'data' in fields and t == stat.S_IFLNK:
        out.append('target=' + os.readlink(path).hex())
    if 'xattrs' in fields:
        xs = []
        for x in sorted(os.listxattr(path, follow_symlinks=False),
                        key=os.fsencode):
            if x in ignore:
                continue
            v = os.getxattr(path, x, follow_symlinks=False)
            xs.append(escape(os.fsencode(x)) + '=' + v.hex())
        out.append('xattrs=' + (','.join(xs) or '-'))
    if 'dtype' in fields:
        out.append('dtype=' + ('-' if name == '/' else TYPES[t]))
    if 'hl' in fields:
        out.append('hl=' + hl.get(name, '-'))
    if 'ino' in fields:
        out.append('ino=%d' % st.st_ino)
    if 'blocks' in fields:
        out.append('blocks=%d' % st.st_blocks)
    return ' '.join(out)


def manifest(root, fields, ignore):
    root = os.fsencode(root.rstrip('/') or '/')
    ents = sorted(walk(root))
    sts = {n: os.lstat(p) for n, p in ents}
    groups = {}
    for n, _ in ents:
        st = sts[n]
        if not stat.S_ISDIR(st.st_mode):
            groups.setdefault((st.st_dev, st.st_ino), []).append(n)
    hl = {}
    for g in groups.values():
        if len(g) > 1:
            for n in g:
                hl[n] = g[0]
    lines = ['#fields ' + ','.join(f for f in FIELDS if f in fields)]
    if ignore:
        lines.append('#ignore-xattr ' + ','.join(ignore))
    lines += [line(n, p, sts[n], fields, ignore, hl) for n, p in ents]
    return '\n'.join(lines) + '\n'


def main():
    args = sys.argv[1:]
    fields = [f for f in FIELDS if f not in ('ino', 'blocks')]
    ignore = []
    unknown = None
    while args and args[0].startswith('--'):
        opt = args.pop(0)
        if opt == '--fields':
            fields = args.pop(0).split(',')
            if fields == ['all']:
                fields = FIELDS
        elif opt == '--unknown-empty-xattrs':
            unknown = set()
            for ln in open(args.pop(0)):
                for tok in ln.split()[1:]:
                    if tok.startswith('xattrs=') and any(
                            x.endswith('=') for x in tok[7:].split(',')):
                        unknown.add(ln.split()[0])
        elif opt == '--ignore-xattr':
            ignore = args.pop(0).split(',')
        else:
            sys.exit('unknown option ' + opt)
    for f in fields:
        if f not in FIELDS:
            sys.exit('unknown field ' + f)
    text = manifest(args[0], fields, ignore)
    if unknown:
        out = []
        for ln in text.splitlines():
            if ln.split(' ', 1)[0] in unknown:
                ln = ' '.join('xattrs=?' if t.startswith('xattrs=') else t
                              for t in ln.split(' '))
            out.append(ln)
        text = '\n'.join(out) + '\n'
    if len(args) > 1:
        with open(args[1], 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == '__main__':
    main()
