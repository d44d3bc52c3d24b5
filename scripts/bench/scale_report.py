#!/usr/bin/env python3
"""scripts/bench/scale_report.py - the tables of scripts/bench/scale.sh.

    scale_report.py LOG IDEAL KERNEL VM_MIB

LOG is the VM's output (result lines of scripts/bench/scale-vm.sh), IDEAL
the host's IDEAL lines (scripts/bench/ideal.py over the base and all app
trees, and over the base alone).  Prints Markdown tables to stdout; exits
non-zero when a mount or a read failed or a phase is missing.
"""
import statistics
import sys

MiB = 1 << 20

NAMES = {
    'erofs-file': 'stock erofs, file-backed',
    'erofs-one': 'stock erofs, one base image',
    'sharefs-one': 'sharefs, one base image',
    'erofs-many': 'stock erofs, a base image per container',
    'sharefs-many': 'sharefs, a base image per container',
    'sharefs-noinline': 'sharefs, a base image per container, '
                        'mkfs.erofs 1.9 -Enoinline_data images',
}


def parse(path):
    """(keyword, {key: value}) for every result line of a file"""
    out = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if words and words[0].isupper():
                out.append((words[0], dict(w.split('=', 1) for w in words[1:]
                                           if '=' in w)))
    return out


class Phase:
    """Everything the VM said about one phase (label)."""

    def __init__(self, lines, label):
        def pick(kw, lab=label):
            return [kv for k, kv in lines if k == kw and kv.get('label') == lab]

        self.label = label
        self.head = pick('PHASE')[0]
        self.n = int(self.head['n'])
        self.mounts = [int(kv['ns']) for kv in pick('MOUNT')]
        self.overlays = [int(kv['ns']) for kv in pick('OVERLAY')]
        self.reads = pick('READ')
        self.umounts = pick('UMOUNT')
        self.memd = (pick('MEMD') or [{}])[0]
        self.slab = {kv['cache']: kv for kv in pick('SLAB')}
        self.stat = (pick('STAT') or [{}])[0]
        self.left = {kv['cache']: kv for kv in pick('SLAB', label + '-left')}
        self.left_stat = (pick('STAT', label + '-left') or [{}])[0]
        self.fails = pick('MOUNTFAIL')

    def total(self, key):
        return sum(int(r[key]) for r in self.reads)

    def umount_ns(self, what):
        return [int(kv['ns']) for kv in self.umounts if kv['what'] == what]

    def dir_pages(self, dirs):
        """pages of the directories this phase read, one each: every
        mounted image caches its own"""
        bases = 1 if self.head['layout'] == 'one' else self.n
        return bases * dirs['base'] + self.n * dirs['app']

    def cache(self, name, key='bytes'):
        return int(self.slab.get(name, {}).get(key, 0))


def ms(ns):
    return f'{ns / 1e6:.1f}'


def mib(b):
    return f'{b / MiB:.1f} MiB'


def median(xs):
    return statistics.median(xs) if xs else 0


def ideal_lines(path):
    return {kv['set']: {k: int(v) for k, v in kv.items() if k != 'set'}
            for _, kv in parse(path) if 'set' in kv}


def check(phases):
    """Stop on failed mounts or reads; warn when memory ran short."""
    for p in phases.values():
        reclaim = sum(int(p.memd.get(k, 0)) for k in
                      ('pgsteal_kswapd', 'pgsteal_direct', 'slabs_scanned'))
        if reclaim:
            print(f'WARNING: {p.label}: the kernel reclaimed memory during the '
                  f'phase ({reclaim} pages stolen or slab objects scanned): '
                  'its figures are too low; give the VM more memory (-m)',
                  file=sys.stderr)
    bad = [(p.label, f) for p in phases.values() for f in p.fails]
    bad += [(p.label, 'read errors') for p in phases.values()
            if p.reads and p.total('errors')]
    if bad:
        sys.exit(f'scale: failures in the VM: {bad}')


def mount_table(phases, exec_ns):
    print('| layers mounted with | images | mount per image, median (max), ms '
          '| all mounts, s | overlayfs per container, median, ms '
          '| umount per image, median, ms | all umounts, s |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for p in phases.values():
        ov = f'{ms(median(p.overlays))}' if p.overlays else ''
        layers = p.umount_ns('layer')
        um = sum(layers) + sum(p.umount_ns('overlays'))
        print(f'| {NAMES[p.label]} | {len(p.mounts)} | {ms(median(p.mounts))} '
              f'({ms(max(p.mounts))}) | {sum(p.mounts) / 1e9:.2f} | {ov} '
              f'| {ms(median(layers))} | {um / 1e9:.1f} |')
    print()
    print(f'Each mount, overlay and umount time is one command as a user runs '
          f'it, including one exec of a static program: {ms(exec_ns)} ms '
          f'(median of 20 under TCG).  "All umounts" is the overlays, then '
          f'the layers: every inode of the phase is evicted there.')


def memory_table(phases, ideal, n):
    i, dirs = ideal['all']['ideal'], ideal['dirs']
    naive = {'one': ideal['all']['naive'],
             'many': ideal['all']['naive'] + (n - 1) * ideal['base']['naive']}
    print('| containers read | files read | page cache (Cached growth) '
          '| vs ideal | of it: shared file data | directory pages '
          '| metadata (Buffers growth) | per-file page cache sum |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
    for p in phases.values():
        if not p.reads:
            continue
        c, layout = p.total('cached'), p.head['layout']
        mark = ' (sum, see below)' if p.head['drop'] != '0' else ''
        shared = mib(int(p.stat['resident_bytes'])) if p.stat else ''
        print(f'| {NAMES[p.label]} | {p.total("files")} | {mib(c)}{mark} '
              f'| {c / i:.2f}x | {shared} | {mib(p.dir_pages(dirs) * 4096)} '
              f'| {mib(p.total("buffers"))} | {mib(naive[layout])} |')
    print(f'| ideal: distinct contents, page-rounded | | {mib(i)} | 1.00x '
          f'| | | | |')
    print()
    print(f'Directory pages: {dirs["base"]} directories in a base image, '
          f'{dirs["app"]} in an app image, one 4 KiB page each in the page '
          f'cache of the image that holds them (an estimate: a directory of '
          f'many entries takes more).')
    for p in phases.values():
        if p.stat:
            r = int(p.stat['resident_bytes'])
            print(f'- {NAMES[p.label]}: {p.stat["shared_inodes"]} shared '
                  f'inodes, {p.stat["members"]} members, shared cache {mib(r)} '
                  f'({r / i:.2f}x the ideal), saved {mib(int(p.stat["saved_bytes"]))}.')


def per_obj(p, name):
    objs = p.cache(name, 'objs')
    return p.cache(name) / objs if objs else 0


def slab_table(phases, sizes):
    print('| phase | driver inodes | bytes per driver inode | shared inodes '
          '(bytes each) | all slab growth | per file read | dentries |')
    print('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
    for p in phases.values():
        if not p.reads:
            continue
        drv = 'sharefs_inode' if p.label.startswith('sharefs') else 'erofs_inode'
        sh = ''
        if drv == 'sharefs_inode':
            sh = f'{p.cache("sharefs_shared", "objs")} ({per_obj(p, "sharefs_shared"):.0f})'
        slab = int(p.memd['Slab'])
        print(f'| {NAMES[p.label]} | {p.cache(drv, "objs")} | {per_obj(p, drv):.0f} '
              f'| {sh} | {mib(slab)} | {slab / p.total("files"):.0f} B '
              f'| {p.memd["nr_dentry"]} |')
    print()
    print('Object sizes (SLUB object_size / slab_size, bytes): ' + ', '.join(
        f'{kv["cache"]} {kv["object_size"]}/{kv["slab_size"]}' for kv in sizes) + '.')
    for layout in ('one', 'many'):
        e, s = phases.get(f'erofs-{layout}'), phases.get(f'sharefs-{layout}')
        if not e or not s or not s.stat:
            continue
        members = int(s.stat['members'])
        ours = s.cache('sharefs_inode') + s.cache('sharefs_shared') + s.cache('lsm_inode_cache')
        theirs = e.cache('erofs_inode') + e.cache('lsm_inode_cache')
        print(f'- {layout}: sharefs inode caches (its inodes, shared inodes, '
              f'their LSM blobs) {mib(ours)} against erofs {mib(theirs)}: '
              f'{(ours - theirs) / members:+.0f} bytes per member '
              f'({members} members).')


def time_table(phases):
    print('| phase | first container, s | each further container, '
          'median (min), s | all containers, s |')
    print('| --- | ---: | ---: | ---: |')
    for p in phases.values():
        if not p.reads:
            continue
        ns = [int(r['ns']) for r in p.reads]
        rest = ns[1:] or [0]
        print(f'| {NAMES[p.label]} | {ns[0] / 1e9:.2f} | {median(rest) / 1e9:.2f} '
              f'({min(rest) / 1e9:.2f}) | {sum(ns) / 1e9:.1f} |')


def left_lines(phases):
    for p in phases.values():
        if not p.reads:
            continue
        objs = ', '.join(f'{c} {p.left[c]["objs"]}' for c in
                         ('erofs_inode', 'sharefs_inode', 'sharefs_shared', 'ovl_inode')
                         if c in p.left)
        st = (f'; sharefs counters: {p.left_stat["shared_inodes"]} shared inodes, '
              f'{p.left_stat["members"]} members' if p.left_stat else '')
        print(f'- {NAMES[p.label]}: objects left against the phase\'s start: {objs}{st}')


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    log, ideal_path, kernel, mem = sys.argv[1:]
    lines = parse(log)
    ideal = ideal_lines(ideal_path)
    labels = [kv['label'] for k, kv in lines if k == 'PHASE']
    if not labels:
        sys.exit(f'scale: no phase in {log}')
    phases = {label: Phase(lines, label) for label in labels}
    check(phases)
    n = max(p.n for p in phases.values())
    exec_ns = median([int(kv['ns']) for k, kv in lines if k == 'EXEC'])
    sizes = [kv for k, kv in lines if k == 'SLABSIZE']
    print(f'\n{n} containers, each a base layer of {ideal["base"]["files"]} '
          f'non-empty files and an app layer; Linux {kernel}, QEMU/TCG, '
          f'{mem} MiB.\n')
    mount_table(phases, exec_ns)
    print()
    memory_table(phases, ideal, n)
    print()
    slab_table(phases, sizes)
    print()
    time_table(phases)
    print()
    left_lines(phases)


if __name__ == '__main__':
    main()
