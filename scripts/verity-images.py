#!/usr/bin/env python3
"""Damage a --verity image on purpose, for verity_test.c.

usage: verity-images.py liar IMAGE VICTIM_FILE LIAR_FILE
       verity-images.py flip IMAGE {data,tree,root} FILE

liar: IMAGE holds LIAR_FILE's bytes and its own valid Merkle tree at the
path where another image holds VICTIM_FILE (same size); patch the victim's
root hash and fingerprint over the liar's, so that IMAGE claims the
victim's digest.  flip: flip one bit of FILE's data, of a leaf-level hash
of its tree, or of the root hash in its verity xattr.  Every pattern must
occur exactly once in the image.  The sources' root hashes come from
`fsverity digest --out-descriptor` (fsverity-utils), not from our tools.
"""
import hashlib
import os
import struct
import subprocess
import sys
import tempfile

BLOCK, HASH = 4096, 32


def root_hash(path):
    with tempfile.NamedTemporaryFile() as d:
        subprocess.run(['fsverity', 'digest', '--out-descriptor=' + d.name,
                        path], check=True, stdout=subprocess.DEVNULL)
        desc = open(d.name, 'rb').read()
    return desc[16:16 + HASH]          # version..data_size, then root_hash


def find_once(img, pattern, what):
    at = img.find(pattern)
    if at < 0 or img.find(pattern, at + 1) >= 0:
        sys.exit(f'verity-images: {what} not found exactly once')
    return at


def tree_bytes(size):
    """(bytes of the packed tree, bytes of its leaf level)"""
    n, total, leaf = -(-size // BLOCK), 0, None
    while n > 1:
        total += n * HASH
        leaf = leaf or n * HASH
        n = -(-n // (BLOCK // HASH))
    return total, leaf or 0


def liar(img, victim, liar_file):
    for old, new, what in (
            (root_hash(liar_file), root_hash(victim), 'root hash'),
            (hashlib.sha256(open(liar_file, 'rb').read()).digest(),
             hashlib.sha256(open(victim, 'rb').read()).digest(),
             'fingerprint')):
        at = find_once(img, old, what)
        img[at:at + HASH] = new


def flip(img, where, path):
    data = open(path, 'rb').read()
    if where == 'data':
        at = find_once(img, data[:BLOCK], 'data') + 5 * BLOCK + 7
    else:
        root = find_once(img, root_hash(path), 'root hash')
        if where == 'root':
            at = root + 3
        else:
            # the xattr: magic, sizes, tree_pos (8 bytes), then the root
            tree_pos = struct.unpack_from('<Q', img, root - 8)[0]
            total, leaf = tree_bytes(len(data))
            at = tree_pos + total - leaf + 40
    img[at] ^= 0x10


def main():
    op, path = sys.argv[1], sys.argv[2]
    img = bytearray(open(path, 'rb').read())
    if op == 'liar':
        liar(img, sys.argv[3], sys.argv[4])
    elif op == 'flip':
        flip(img, sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
    with open(path + '.tmp', 'wb') as f:
        f.write(img)
    os.replace(path + '.tmp', path)


if __name__ == '__main__':
    main()
