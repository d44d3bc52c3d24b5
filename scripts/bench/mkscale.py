#!/usr/bin/env python3
"""scripts/bench/mkscale.py - the trees of the scale benchmark.

usage: mkscale.py OUTDIR [--files N] [--apps N]

Writes, deterministically (a fixed seed: the same bytes on every run):
  OUTDIR/base        a distro-like base of about N (default 10000) files
  OUTDIR/app-NNN     N (default 100) app layers, one per container

The base copies the shape of a Debian 12 root (scripts/bench/trees.sh's
trees): per directory, a file count and a log-normal size distribution
whose median is that of the Debian directory.  The long tail (binaries,
libraries, locale catalogues) is trimmed so that the base stays in the
tens of MiB: a host benchmark has to read it 100 times under QEMU's TCG.
As in Debian, some files are equal to each other inside the base (licence
texts under usr/share/doc, zoneinfo), and a few are empty.

Every app layer holds a handful of files, as a small application layer
on a shared base does:
  etc/hostname, app/config.json, app/data.bin   unique to the container
  app/bin/server                                one of ten builds (i % 10)
  app/lib/libapp.so, app/static/*               equal in every container
"""
import argparse
import math
import os
import random

# (directory pattern, share of the files, median bytes, sigma, cap bytes,
#  suffix); {p} is a package number, {l} a language.  Medians after
#  Debian 12's minbase + python3 (find -printf %s), caps trimmed.
KINDS = [
    ('usr/share/doc/{p}', 0.10, 2500, 1.0, 32 << 10, ''),
    ('usr/share/locale/{l}/LC_MESSAGES', 0.08, 4000, 0.9, 64 << 10, '.mo'),
    ('usr/share/man/man{s}', 0.13, 1900, 0.8, 32 << 10, '.gz'),
    ('usr/lib/python3/dist-packages/{p}', 0.23, 3000, 1.1, 64 << 10, '.py'),
    ('usr/lib/x86_64-linux-gnu', 0.05, 8000, 1.3, 512 << 10, '.so'),
    ('usr/bin', 0.03, 16000, 1.0, 512 << 10, ''),
    ('usr/share/perl5/{p}', 0.13, 900, 1.1, 48 << 10, '.pm'),
    ('usr/share/zoneinfo/{z}', 0.10, 1050, 0.6, 8 << 10, ''),
    ('usr/include/{p}', 0.10, 2500, 1.0, 32 << 10, '.h'),
    ('etc/{p}', 0.05, 480, 1.0, 16 << 10, '.conf'),
]
LANGS = ['de', 'fr', 'es', 'it', 'pt', 'ru', 'ja', 'zh_CN', 'pl', 'nl',
         'sv', 'cs', 'da', 'fi', 'hu', 'ko', 'tr', 'uk', 'ca', 'el']
ZONES = ['Europe', 'America', 'Asia', 'Africa', 'Australia', 'Pacific',
         'Indian', 'Atlantic', 'Antarctica', 'Etc']
LICENCES = 12			# distinct licence texts shared by usr/share/doc
APP_BUILDS = 10			# distinct app/bin/server builds


def size_of(rng, median, sigma, cap):
    return min(cap, int(rng.lognormvariate(math.log(median), sigma)))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)
    os.utime(path, (1700000000, 1700000000))


def directory(rng, pattern, i, packages):
    return pattern.format(p=f'pkg{rng.randrange(packages):03d}',
                          l=LANGS[rng.randrange(len(LANGS))],
                          s=1 + rng.randrange(8),
                          z=ZONES[i % len(ZONES)])


def base_tree(root, nfiles, rng):
    """Files after KINDS; a licence copy in every 'copyright', a few empty
    __init__.py, every tenth zoneinfo file a copy of another.  Returns the
    file count."""
    licences = [rng.randbytes(size_of(rng, 8000, 0.6, 32 << 10))
                for _ in range(LICENCES)]
    # one package directory per 40 files: about one directory per 8
    # entries in all, as in Debian (917 for 6639 files)
    packages = max(10, nfiles // 40)
    zones = []
    count = 0
    for pattern, share, median, sigma, cap, suffix in KINDS:
        for i in range(round(nfiles * share)):
            d = directory(rng, pattern, i, packages)
            path = f'{root}/{d}/f{count:05d}{suffix}'
            if pattern.startswith('usr/share/doc') and i % 3 == 0:
                data = licences[rng.randrange(LICENCES)]
                path = f'{root}/{d}/copyright{count:05d}'
            elif suffix == '.py' and i % 25 == 0:
                data = b''
            elif pattern.startswith('usr/share/zoneinfo') and zones and i % 10 == 0:
                data = zones[rng.randrange(len(zones))]
            else:
                data = rng.randbytes(size_of(rng, median, sigma, cap))
                if pattern.startswith('usr/share/zoneinfo'):
                    zones.append(data)
            write(path, data)
            count += 1
    # symlinks, as a root tree has (about one in ten entries): sonames
    libdir = f'{root}/usr/lib/x86_64-linux-gnu'
    libs = sorted(os.listdir(libdir))
    for i in range(nfiles // 10):
        os.symlink(libs[i % len(libs)], f'{libdir}/lib{i:05d}.so.1')
    return count


def app_layer(root, i, rng, shared):
    write(f'{root}/etc/hostname', f'app-{i:03d}\n'.encode())
    write(f'{root}/app/config.json',
          f'{{"name": "app-{i:03d}", "port": {8000 + i}}}\n'.encode())
    write(f'{root}/app/data.bin', rng.randbytes(64 << 10))
    write(f'{root}/app/bin/server', shared['builds'][i % APP_BUILDS])
    write(f'{root}/app/lib/libapp.so', shared['lib'])
    for name, data in shared['static'].items():
        write(f'{root}/app/static/{name}', data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('outdir')
    ap.add_argument('--files', type=int, default=10000)
    ap.add_argument('--apps', type=int, default=100)
    a = ap.parse_args()
    rng = random.Random(20251130)
    n = base_tree(f'{a.outdir}/base', a.files, rng)
    shared = {
        'builds': [rng.randbytes(768 << 10) for _ in range(APP_BUILDS)],
        'lib': rng.randbytes(512 << 10),
        'static': {f'{n}': rng.randbytes(s) for n, s in
                   [('index.html', 6000), ('app.css', 20000),
                    ('app.js', 90000), ('logo.png', 15000)]},
    }
    for i in range(a.apps):
        app_layer(f'{a.outdir}/app-{i:03d}', i, rng, shared)
    print(f'base: {n} files; {a.apps} app layers')


if __name__ == '__main__':
    main()
