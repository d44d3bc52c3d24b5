#!/usr/bin/env python3
"""Inspect and mutate the superblock of an EROFS image (for tests).

usage: imgtool.py IMAGE show
       imgtool.py IMAGE set FIELD VALUE [--keep-csum]
       imgtool.py IMAGE flip OFFSET      (xor one byte with 0xff)
       imgtool.py IMAGE fixcsum

Fields are the superblock's (sharefs_fs.h): magic, feature_compat,
feature_incompat, blkszbits, rootnid_2b, meta_blkaddr, xattr_blkaddr, blocks.
"set" recomputes the checksum unless --keep-csum is given.
"""
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


def main():
    path, cmd, *args = sys.argv[1:]
    img = bytearray(open(path, 'rb').read())
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
    open(path, 'wb').write(img)


if __name__ == '__main__':
    main()
