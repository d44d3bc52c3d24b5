#!/usr/bin/env python3
"""scripts/bench/ideal.py - the page cache that reading some trees needs.

    ideal.py TREE...

Prints one line of key=value pairs over all regular files of the trees:
  files     number of non-empty regular files
  naive     sum of each file's size rounded up to pages: what a page cache
            per file (stock erofs) holds after reading all of them
  ideal     the same over distinct contents (SHA-256) only: what one page
            cache per content can hold at best
Hard links within a tree count once, as they are one inode in an image.
"""
import hashlib
import os
import sys

PAGE = 4096


def pages(size):
    return (size + PAGE - 1) // PAGE * PAGE


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').digest()


def main():
    files = naive = 0
    seen = {}
    for tree in sys.argv[1:]:
        inodes = set()
        for root, _dirs, names in os.walk(tree):
            for n in names:
                p = os.path.join(root, n)
                st = os.lstat(p)
                if not os.path.isfile(p) or os.path.islink(p) or not st.st_size:
                    continue
                if (st.st_dev, st.st_ino) in inodes:
                    continue
                inodes.add((st.st_dev, st.st_ino))
                files += 1
                naive += pages(st.st_size)
                seen[digest(p)] = st.st_size
    ideal = sum(pages(s) for s in seen.values())
    print(f'files={files} naive={naive} ideal={ideal} distinct={len(seen)}')


if __name__ == '__main__':
    main()
