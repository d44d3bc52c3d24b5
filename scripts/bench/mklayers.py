#!/usr/bin/env python3
"""scripts/bench/mklayers.py - OCI-style layer tars of the demo's trees.

usage: mklayers.py BASE APP OUTDIR

Writes, for two "rebuilds" r1 and r2 of one image:
  base-rN.tar   every entry of BASE (the base layer)
  app-rN.tar    what APP adds to BASE: entries that are new or differ (type,
                mode, owner, content or target), their parent directories,
                and a whiteout (.wh.NAME) for what APP lacks of BASE
The two rebuilds hold the same bytes in every file but differ in their
timestamps (r2 is a day later), so their layers have other digests and a
container host stores and mounts them separately: equal files are shared
only by content.  xattrs travel as SCHILY.xattr pax records, hard links as
tar hard links.
"""
import os
import stat
import sys
import tarfile


def entries(root):
    """relative path -> lstat, for every entry under root (root itself as
    '.'), in sorted order"""
    out = {'.': os.lstat(root)}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = os.lstat(p)
    return out


def same(a_root, b_root, rel, sa, sb):
    if stat.S_IFMT(sa.st_mode) != stat.S_IFMT(sb.st_mode) or \
       (sa.st_mode, sa.st_uid, sa.st_gid) != (sb.st_mode, sb.st_uid, sb.st_gid):
        return False
    if stat.S_ISLNK(sa.st_mode):
        return os.readlink(f'{a_root}/{rel}') == os.readlink(f'{b_root}/{rel}')
    if stat.S_ISREG(sa.st_mode):
        if sa.st_size != sb.st_size:
            return False
        with open(f'{a_root}/{rel}', 'rb') as fa, open(f'{b_root}/{rel}', 'rb') as fb:
            while True:
                x, y = fa.read(1 << 20), fb.read(1 << 20)
                if x != y:
                    return False
                if not x:
                    return True
    if stat.S_ISCHR(sa.st_mode) or stat.S_ISBLK(sa.st_mode):
        return sa.st_rdev == sb.st_rdev
    return True


class Writer:
    def __init__(self, path, root, shift):
        self.tar = tarfile.open(path, 'w', format=tarfile.PAX_FORMAT)
        self.root, self.shift, self.links = root, shift, {}

    def add(self, rel):
        p = f'{self.root}/{rel}'
        ti = self.tar.gettarinfo(p, arcname=rel)
        ti.mtime = int(ti.mtime) + self.shift
        ti.uname = ti.gname = ''
        st = os.lstat(p)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            key = (st.st_dev, st.st_ino)
            if key in self.links:
                ti.type, ti.linkname, ti.size = tarfile.LNKTYPE, self.links[key], 0
            else:
                self.links[key] = rel
        try:
            for name in os.listxattr(p, follow_symlinks=False):
                # surrogateescape: tarfile then writes the raw bytes
                # (hdrcharset=BINARY), as libarchive reads them
                ti.pax_headers['SCHILY.xattr.' + name] = os.getxattr(
                    p, name, follow_symlinks=False).decode('utf-8', 'surrogateescape')
        except OSError:
            pass
        if ti.type == tarfile.REGTYPE:
            with open(p, 'rb') as f:
                self.tar.addfile(ti, f)
        else:
            self.tar.addfile(ti)

    def whiteout(self, rel):
        d, n = os.path.split(rel)
        ti = tarfile.TarInfo(os.path.join(d, '.wh.' + n))
        ti.mtime = 1700000000 + self.shift
        self.tar.addfile(ti)

    def close(self):
        self.tar.close()


def main():
    base, app, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    eb, ea = entries(base), entries(app)
    changed = [r for r, s in ea.items()
               if r not in eb or not same(base, app, r, eb[r], s)]
    # a changed entry needs its parent directories in the layer
    need = set(changed)
    for r in changed:
        while r not in ('.', ''):
            r = os.path.dirname(r) or '.'
            need.add(r)
    # what APP lacks: one whiteout for the topmost missing entry of each
    # missing subtree
    gone = [r for r in eb if r not in ea and (os.path.dirname(r) or '.') in ea]
    for n, shift in (('r1', 0), ('r2', 86400)):
        w = Writer(f'{out}/base-{n}.tar.tmp', base, shift)
        for r in eb:
            w.add(r)
        w.close()
        os.replace(f'{out}/base-{n}.tar.tmp', f'{out}/base-{n}.tar')
        w = Writer(f'{out}/app-{n}.tar.tmp', app, shift)
        for r in sorted(need):
            w.add(r)
        for r in sorted(gone):
            w.whiteout(r)
        w.close()
        os.replace(f'{out}/app-{n}.tar.tmp', f'{out}/app-{n}.tar')
    print(f'app layer: {len(changed)} entries changed or new, {len(gone)} whiteouts')


if __name__ == '__main__':
    main()
