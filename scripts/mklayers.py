#!/usr/bin/env python3
"""Write three OCI-style layer tars for the --aufs tests.

usage: mklayers.py DIR

DIR/layer1.tar is a base; layer2.tar and layer3.tar change it the way image
layers do: whiteout files (.wh.NAME), opaque directories (.wh..wh..opq), a
file over a directory, a file re-created after its whiteout, a hard link
whited out.  Owners, modes and times are fixed, so the tars are the same on
every run.  Every layer lists the directories it uses, as image builders
write them: a directory only implied by a path gets mode 0755 from
mkfs.sharefs (as containerd's layer applier makes it) but 0777 from
mkfs.erofs 1.9, which would be a difference of the oracle, not of the tree.
"""
import io
import os
import random
import sys
import tarfile

MTIME = 1700000000


def add(tar, name, data=None, mode=0o644, kind=tarfile.REGTYPE, link=None,
        uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.mtime = MTIME
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ''
    ti.mode = mode
    ti.type = kind
    if kind == tarfile.DIRTYPE:
        ti.mode = mode if mode != 0o644 else 0o755
        tar.addfile(ti)
    elif kind == tarfile.LNKTYPE:
        ti.linkname = link
        tar.addfile(ti)
    else:
        data = data or b''
        ti.size = len(data)
        tar.addfile(ti, io.BytesIO(data))


def d(tar, name, mode=0o755):
    add(tar, name, kind=tarfile.DIRTYPE, mode=mode)


def layer1(tar, rng):
    for x in ('.', 'etc', 'etc/d', 'etc/d/sub', 'bin', 'var', 'var/lib', 'usr',
              'usr/share', 'usr/local', 'dirx'):
        d(tar, x)
    add(tar, 'etc/keep', b'kept\n')
    add(tar, 'etc/keep2', kind=tarfile.LNKTYPE, link='etc/keep')
    add(tar, 'etc/old', b'old\n')
    add(tar, 'etc/d/a', b'a\n')
    add(tar, 'etc/d/sub/x', b'x\n', uid=1000, gid=1000)
    add(tar, 'bin/tool', rng.randbytes(20000), mode=0o755)
    add(tar, 'var/lib/big', rng.randbytes(100000))
    add(tar, 'usr/share/readme', b'read me\n' * 100)
    add(tar, 'usr/local/l', b'local\n')
    add(tar, 'dirx/inner', b'inner\n')


def layer2(tar, rng):
    d(tar, '.')
    d(tar, 'etc')
    add(tar, 'etc/.wh.old')                     # delete a file
    d(tar, 'etc/d', mode=0o750)
    add(tar, 'etc/d/.wh..wh..opq')              # hide all of etc/d below
    add(tar, 'etc/d/b', b'b\n')
    d(tar, 'bin')
    add(tar, 'bin/tool', rng.randbytes(30000), mode=0o755)  # a new version
    d(tar, 'var')
    d(tar, 'var/lib')
    add(tar, 'var/lib/.wh.big')
    add(tar, 'dirx', b'a file over a directory\n')
    d(tar, 'newdir')
    add(tar, 'newdir/f', b'f\n')
    add(tar, 'newdir/g', b'g\n', uid=33, gid=33)


def layer3(tar, rng):
    d(tar, '.')
    d(tar, 'etc')
    add(tar, 'etc/.wh.keep2')                   # one of two hard links
    add(tar, 'etc/old', b'old, back again\n')   # re-created after its whiteout
    d(tar, 'usr')
    add(tar, 'usr/.wh..wh..opq')                # hides usr/share, usr/local
    d(tar, 'usr/local')
    add(tar, 'usr/local/new', b'new\n')
    d(tar, 'newdir')
    add(tar, 'newdir/.wh.f')                    # what layer2 added


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = random.Random(7)
    for i, fn in enumerate((layer1, layer2, layer3), 1):
        with tarfile.open(f'{out}/layer{i}.tar', 'w',
                          format=tarfile.GNU_FORMAT) as tar:
            fn(tar, rng)


if __name__ == '__main__':
    main()
