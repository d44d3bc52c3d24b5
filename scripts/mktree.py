#!/usr/bin/env python3
"""Build deterministic source trees for the test images.

usage: mktree.py PROFILE DIR

Profiles:
  basic    a small tree: files of several sizes, dirs, a symlink, a hard link,
           a fifo, a socket, char and block devices, user/trusted/security xattrs
  full     everything of basic plus: a many-block directory, long names
           (255 bytes), a deep tree, sparse files, many xattrs, POSIX ACLs,
           odd modes, uid/gid > 65535, timestamps with nanoseconds
  compact  full without what a compact (32-byte) inode cannot hold
           (uid/gid > 65535), for mkfs.erofs -E force-inode-compact
  io       for the I/O path tests: a 9 MiB random file, a sparse file with
           data at 1 MiB and 3 MiB, small files with inline tails, a
           directory of 1000 entries
The content is a pure function of the profile, so images rebuild identically.
"""
import os
import random
import socket
import stat
import subprocess
import sys


def write(path, data, mode=0o644, mtime=1700000000, ns=0):
    with open(path, 'wb') as f:
        f.write(data)
    os.chmod(path, mode)
    os.utime(path, ns=(mtime * 10**9 + ns, mtime * 10**9 + ns))


def setx(path, name, value):
    os.setxattr(path, name, value, follow_symlinks=False)


def blob(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n)) if n < 4096 else \
        rng.randbytes(n)


def basic(d, rng):
    os.makedirs(f'{d}/dir/sub', exist_ok=True)
    write(f'{d}/empty', b'')
    write(f'{d}/small.txt', b'hello, sharefs\n')
    write(f'{d}/block', blob(rng, 4096))
    write(f'{d}/odd', blob(rng, 4096 * 3 + 123))
    write(f'{d}/dir/big', blob(rng, 1 << 20), mode=0o755)
    write(f'{d}/dir/sub/deep.txt', b'deep\n' * 100)
    os.symlink('dir/sub/deep.txt', f'{d}/link')
    os.symlink('/' + 'x' * 200, f'{d}/longlink')
    os.link(f'{d}/small.txt', f'{d}/hardlink')
    os.mkfifo(f'{d}/fifo')
    s = socket.socket(socket.AF_UNIX)
    s.bind(f'{d}/sock')
    s.close()
    os.mknod(f'{d}/chr', 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    os.mknod(f'{d}/blk', 0o600 | stat.S_IFBLK, os.makedev(7, 0))
    setx(f'{d}/small.txt', 'user.color', b'blue')
    setx(f'{d}/small.txt', 'trusted.note', b'only root sees this')
    setx(f'{d}/dir', 'user.dirattr', b'1')
    setx(f'{d}/odd', 'security.label', b'system_u:object_r:etc_t:s0')


def full(d, rng):
    basic(d, rng)
    os.makedirs(f'{d}/many', exist_ok=True)
    for i in range(600):	# several directory blocks
        write(f'{d}/many/entry-{i:04d}-{"y" * (i % 40)}', b'%d\n' % i)
    os.makedirs(f'{d}/names', exist_ok=True)
    for c in 'abc':
        # 254: Debian 12's mkfs.erofs 1.5 fails on 255-byte names
        write(f'{d}/names/{c * 254}', c.encode() * 10)
    p = f'{d}/deep'
    for i in range(40):
        p += f'/level{i}'
    os.makedirs(p)
    write(f'{p}/bottom', b'bottom\n')
    # sparse: a hole at the start, data in the middle, a hole at the end
    with open(f'{d}/sparse', 'wb') as f:
        f.seek(1 << 20)
        f.write(blob(rng, 8192))
        f.truncate(4 << 20)
    os.utime(f'{d}/sparse', ns=(1700000000 * 10**9,) * 2)
    write(f'{d}/xattrs', b'x')
    for i in range(40):
        setx(f'{d}/xattrs', f'user.attr{i:02d}', b'v' * (i * 3))
    for i in range(5):	# the same xattr on many files: shared xattrs
        write(f'{d}/shared{i}', b'%d' % i)
        setx(f'{d}/shared{i}', 'user.common', b'the same value everywhere')
    write(f'{d}/acl', b'acl\n')
    subprocess.run(['setfacl', '-m', 'u:1234:r-x,g:5678:rw-', f'{d}/acl'],
                   check=True)
    os.makedirs(f'{d}/acldir')
    subprocess.run(['setfacl', '-d', '-m', 'u:1234:rwx', f'{d}/acldir'],
                   check=True)
    write(f'{d}/modes', b'm', mode=0o4755)
    write(f'{d}/sticky', b's', mode=0o1777)
    write(f'{d}/nsec', b'n', mtime=1234567890, ns=123456789)
    write(f'{d}/future', b'f', mtime=4102444800)	# 2100: 64-bit time
    write(f'{d}/owned', b'o')
    os.chown(f'{d}/owned', 100000, 200000)
    write(f'{d}/dup1', b'same content\n' * 1000)
    write(f'{d}/dup2', b'same content\n' * 1000)


def text(rng, n):
    """n bytes of compressible text: words from a small vocabulary"""
    words = [b'erofs', b'sharefs', b'page', b'cache', b'cluster', b'the',
             b'of', b'lz4', b'zstd', b'block', b'extent', b'\n', b'inode']
    out = bytearray()
    while len(out) < n:
        out += b' '.join(rng.choices(words, k=256)) + b' '
    return bytes(out[:n])


def word_text(rng):
    """text(n): n bytes of made-up words (lz4: about 2:1).  The 300 words
    are drawn from rng now, the text from it as text() is called."""
    words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz')
                     for _ in range(rng.randint(2, 9)))
             for _ in range(300)]

    def text(n):
        out, size = [], 0
        while size < n:
            w = rng.choice(words) + rng.choice(' ,\n.;')
            out.append(w)
            size += len(w)
        return ''.join(out).encode()[:n]
    return text


def zfull(d, rng):
    """'full' plus compressible files of awkward sizes, for compressed
    images: text, text with incompressible runs (uncompressed pclusters
    between compressed ones), zeros, and the same text twice (dedupe)"""
    full(d, rng)
    os.makedirs(f'{d}/z', exist_ok=True)
    for n in (1, 100, 4095, 4096, 4097, 12289, 65535, 65537, 200001):
        write(f'{d}/z/text{n}', text(rng, n))
    mixed = b''
    for i in range(24):
        mixed += text(rng, 5000 + 777 * i) if i % 3 else blob(rng, 3000 + 999 * i)
    write(f'{d}/z/mixed', mixed)
    write(f'{d}/z/large', text(rng, (3 << 20) + 4321), mode=0o755)
    write(f'{d}/z/zeros', bytes(1 << 20 | 17))
    t = text(rng, 300000)
    write(f'{d}/z/dupA', t)
    write(f'{d}/z/dupB', t[:123456] + b'different middle' + t[123456:])
    write(f'{d}/z/dupC', t[50000:])
    os.link(f'{d}/z/text4097', f'{d}/z/hardlink4097')
    setx(f'{d}/z/large', 'user.kind', b'text')
    with open(f'{d}/z/sparse', 'wb') as f:
        f.seek(1 << 20)
        f.write(text(rng, 70000))
        f.truncate(3 << 20)
    os.utime(f'{d}/z/sparse', ns=(1700000000 * 10**9,) * 2)


def sharez(d, rng):
    """compressible content for sharing between compressed and plain
    images: lib/big.so (4 MiB of text), and a small file"""
    r = random.Random('sharez-content')
    os.makedirs(f'{d}/lib', exist_ok=True)
    write(f'{d}/lib/big.so', text(r, 4 << 20), mode=0o755)
    write(f'{d}/lib/odd.so', text(r, 300001))


def compact(d, rng):
    full(d, rng)
    os.chown(f'{d}/owned', 60000, 60001)


def io(d, rng):
    write(f'{d}/large', rng.randbytes(9 << 20 | 1234))
    with open(f'{d}/sparse', 'wb') as f:	# data: [1M, 1M+64K) [3M, 3M+4K)
        f.seek(1 << 20)
        f.write(rng.randbytes(64 << 10))
        f.seek(3 << 20)
        f.write(rng.randbytes(4096))
        f.truncate(5 << 20)
    os.utime(f'{d}/sparse', ns=(1700000000 * 10**9,) * 2)
    for n in (1, 100, 4095, 5000, 8191 + 4096):
        write(f'{d}/tail{n}', rng.randbytes(n))
    write(f'{d}/exec', b'\xc3' * 4096, mode=0o755)	# x86 "ret"
    os.makedirs(f'{d}/dir')
    for i in range(1000):
        write(f'{d}/dir/file-{i:04d}-{"z" * (i % 50)}', b'')


# --- page-cache sharing (share_test.c) --------------------------------------
# 'share' and 'shareb' hold the same content at different paths, as two
# container images on one base do; 'sharelie' and 'sharespoof' carry
# share's fingerprint of lib/big.so on other content (built with Debian
# 12's mkfs.erofs, which copies the tree's own xattrs; mkfs.sharefs never
# copies a trusted.fingerprint from its source).

def share_content():
    rng = random.Random('share-content')
    return {
        'big.so': rng.randbytes(4 << 20),
        'tool': rng.randbytes(200 << 10),
        'mid.so': rng.randbytes(300000),
        'motd': b'Welcome to a shared image.\n' * 37,
        'small': b'tiny\n',
        'docs': [rng.randbytes(5000 + 1000 * i) for i in range(20)],
    }


def share(d, rng, prefix=''):
    c = share_content()
    for sub in ('lib', 'bin', 'etc', 'docs'):
        os.makedirs(f'{d}/{prefix}{sub}', exist_ok=True)
    write(f'{d}/{prefix}lib/big.so', c['big.so'], mode=0o755)
    write(f'{d}/{prefix}lib/mid.so', c['mid.so'])
    write(f'{d}/{prefix}bin/tool', c['tool'], mode=0o755)
    os.makedirs(f'{d}/etc', exist_ok=True)
    write(f'{d}/etc/motd', c['motd'])
    write(f'{d}/etc/small', c['small'])
    for i, doc in enumerate(c['docs']):
        write(f'{d}/{prefix}docs/doc{i:02d}.txt', doc)


def shareb(d, rng):
    share(d, rng, prefix='usr/')
    os.makedirs(f'{d}/usr/lib', exist_ok=True)
    write(f'{d}/usr/lib/extra.so', rng.randbytes(1 << 20))


def sharepad(d, rng):
    """the share tree behind a 300 KiB file that sorts first: every shared
    file at other block addresses than in share-a (stress_test)"""
    share(d, rng)
    write(f'{d}/0pad', rng.randbytes(300 << 10))


def sharechunk(d, rng):
    """for share_test's one-source-per-read test: lib/chunky.so and a
    padding file of the same size, whose 4 KiB chunks build-images.sh
    interleaves in runs (imgtool.py interleave); both carry their
    fingerprint as a tree xattr, for Debian 12's mkfs.erofs, which keeps
    4 KiB chunks (1.9 widens the chunks of contiguous data) but cannot
    compute fingerprints"""
    import hashlib
    os.makedirs(f'{d}/lib')
    for name, r in (('chunky.so', random.Random('chunky')), ('pad.so', rng)):
        data = r.randbytes(60 * 16 * 4096)
        write(f'{d}/lib/{name}', data)
        setx(f'{d}/lib/{name}', 'trusted.fingerprint',
             b'sha256:' + hashlib.sha256(data).digest())


def sharefp(d, rng):
    """the share tree with every file's fingerprint as a tree xattr, for
    Debian 12's mkfs.erofs, which copies it but cannot compute one: its
    flat and chunk-based layouts of the share content (cfuzz_test)"""
    import hashlib
    share(d, rng)
    for root, _, files in os.walk(d):
        for n in files:
            p = os.path.join(root, n)
            with open(p, 'rb') as f:
                digest = hashlib.sha256(f.read()).digest()
            setx(p, 'trusted.fingerprint', b'sha256:' + digest)


def big_fingerprint():
    import hashlib
    return b'sha256:' + hashlib.sha256(share_content()['big.so']).digest()


def sharelie(d, rng):
    os.makedirs(f'{d}/lib')
    write(f'{d}/lib/big.so', b"this file claims big.so's fingerprint\n")
    setx(f'{d}/lib/big.so', 'trusted.fingerprint', big_fingerprint())


def sharespoof(d, rng):
    os.makedirs(f'{d}/lib')
    write(f'{d}/lib/big.so', rng.randbytes(4 << 20))
    setx(f'{d}/lib/big.so', 'trusted.fingerprint', big_fingerprint())


PROFILES = {'basic': basic, 'full': full, 'zfull': zfull, 'sharez': sharez, 'compact': compact, 'io': io,
            'share': share, 'shareb': shareb, 'sharelie': sharelie,
            'sharespoof': sharespoof, 'sharepad': sharepad,
            'sharechunk': sharechunk, 'sharefp': sharefp}


def main():
    profile, d = sys.argv[1:3]
    rng = random.Random(profile)
    os.makedirs(d)
    PROFILES[profile](d, rng)
    # directories last, so adding entries did not move their mtimes
    for root, dirs, _ in os.walk(d, topdown=False):
        for x in dirs:
            os.utime(os.path.join(root, x), ns=(1700000000 * 10**9,) * 2)
    os.utime(d, ns=(1700000000 * 10**9,) * 2)


if __name__ == '__main__':
    main()
