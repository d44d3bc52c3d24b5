"""scripts/bench/bench_report.py - Documentation/benchmarks.md from the
result logs of scripts/bench.sh (imported by report.py)."""
import os
import statistics

from report import parse, mib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(TOP, 'Documentation')

OPS = [('seq-cold', 'sequential read, 32 MiB file, cold'),
       ('seq-warm', 'sequential read, 32 MiB file, warm'),
       ('rand-cold', '256 random 4 KiB preads, cold'),
       ('rand-warm', '16384 random 4 KiB preads, warm'),
       ('mmap-cold', 'mmap page faults, 32 MiB file, cold'),
       ('mmap-warm', 'mmap page faults, 32 MiB file, warm'),
       ('walk-cold', 'find+lstat walk of usr/share, cold'),
       ('walk-warm', 'find+lstat walk of usr/share, warm'),
       ('evict', 'drop_caches after reading all of usr/share'),
       ('mount', 'mount(2) of the base image, cold')]


def ratio_stats(num, den):
    """Paired ratios num[i]/den[i]: run i of each driver ran back to back."""
    r = [a / b for a, b in zip(num, den) if b]
    if not r:
        return None
    return statistics.median(r), min(r), max(r), len(r)


def fmt_ratio(st):
    if not st:
        return 'n/a'
    med, lo, hi, _ = st
    return f'{med:.2f} ({lo:.2f}–{hi:.2f})'


def ms(ns):
    return f'{ns / 1e6:.1f}'


def mem_table(mem, stat, ideal, labels):
    rows = ['| driver | page cache (Cached delta) | vs ideal | vs erofs | files read |',
            '| --- | ---: | ---: | ---: | ---: |']
    e = int(mem['erofs']['cached']) if 'erofs' in mem else None
    for label, name in labels:
        if label not in mem:
            rows.append(f'| {name} | not measured | | | |')
            continue
        m = mem[label]
        c = int(m['cached'])
        rows.append(f'| {name} | {mib(c)} | {c / ideal:.2f}x | '
                    f'{c / e:.2f}x | {m["files"]} |' if e else
                    f'| {name} | {mib(c)} | {c / ideal:.2f}x | | {m["files"]} |')
    rows.append(f'| ideal: distinct contents, page-rounded | {mib(ideal)} | 1.00x | '
                f'{ideal / e:.2f}x | |' if e else '')
    return rows


def main(res):
    lines = []
    add = lines.append
    env = {kv.get('tag', k): kv for k, kv in parse(os.path.join(res, 'env.log'))}
    ideal = {kv['n']: kv for _, kv in parse(os.path.join(res, 'ideal.log'), 'IDEAL')}
    rel612 = env.get('6.12', {}).get('release', '?')
    relsid = env.get('sid', {}).get('release', '?')

    add('# sharefs benchmarks')
    add('')
    add('Written by `make bench` (scripts/bench.sh); the tables below are the '
        'output of its last run.')
    add('')
    add('## How these numbers are made')
    add('')
    add(f'- Kernels: Debian 12 `{rel612}` (tag 6.12) and Debian unstable '
        f'`{relsid}` (tag sid), booted by `scripts/vm-run.sh` in QEMU '
        '**under TCG** (no usable KVM on the development machines), 2 vCPUs, '
        '2 GiB (3 GiB for the scaling run). The host has '
        f'{env.get("HOST", {}).get("cpus", "?")} CPUs shared with other jobs.')
    add('- TCG and a shared host distort absolute times by large and varying '
        'factors, so **every figure is a ratio against stock erofs measured in '
        'the same boot**, the drivers side by side on the same image bytes '
        '(each has its own read-only loop device over the same range of the '
        'image disk; direct I/O, so the image disk adds no second cache). '
        'Timed runs of the drivers alternate, and a ratio is taken per run '
        '(run i of sharefs over run i of erofs, back to back): the table shows '
        'the median and the min–max of those ratios. Below 1 means sharefs is '
        'faster.')
    add('- Page cache is the `/proc/meminfo` `Cached` delta around mounting '
        'and reading every file, after `drop_caches=3`. Metadata read through '
        'the loop devices is `Buffers` and not counted. The ideal is computed on '
        'the host: the sizes of the distinct SHA-256 contents of the trees, '
        'each rounded up to 4 KiB pages (scripts/bench/ideal.py).')
    add('- Timing is done by a static helper, scripts/bench/sfbench.c '
        '(`clock_gettime(CLOCK_MONOTONIC)` around the work only).')
    add('- Trees: `base` = `debootstrap --variant=minbase bookworm`; `python` = '
        'the same base plus `apt-get install python3` (both without apt lists '
        'and .deb files, as container images ship): two container images on '
        'one base. Images are written by mkfs.sharefs (6.12 runs) and by '
        'unstable\'s `mkfs.erofs --xattr-inode-digest=trusted.fingerprint` '
        '(sid run, so that upstream inode_share can share too).')
    add('')
    add('Reproduce: `make bench` as root on Debian 12 (installs its '
        'dependencies; trees and images are cached in '
        '`/var/cache/sharefs/demo`, raw VM output in `build/bench/results/`). '
        '`BENCH_RUNS=N` sets the repetitions (default 5).')
    add('')
    # written by hand from `make demo` output (not part of make bench)
    add(HOST_STACK)

    # ---- memory
    main_mem = {kv['label']: kv for _, kv in parse(os.path.join(res, 'main.log'), 'MEM')}
    main_stat = {kv['label']: kv for _, kv in parse(os.path.join(res, 'main.log'), 'STAT')}
    sid_mem = {kv['label']: kv for _, kv in parse(os.path.join(res, 'sid.log'), 'MEM')}
    idl = int(ideal['demo']['ideal']) if 'demo' in ideal else 1
    add('## Memory: reading every file of base and python')
    add('')
    add(f'Linux {rel612}, images by mkfs.sharefs:')
    add('')
    lines.extend(mem_table(main_mem, main_stat, idl,
                           [('erofs', 'stock erofs'),
                            ('sharefs', 'sharefs, same domain')]))
    st = main_stat.get('sharefs')
    if st:
        add('')
        add(f'sharefs counters after the read: {st["shared_inodes"]} shared '
            f'inodes, {st["members"]} members, shared cache '
            f'{mib(int(st["resident_bytes"]))}, saved {mib(int(st["saved_bytes"]))}.')
    add('')
    add(f'Linux {relsid}, images by mkfs.erofs 1.9 with '
        '`--xattr-inode-digest=trusted.fingerprint`:')
    add('')
    lines.extend(mem_table(sid_mem, {}, idl,
                           [('erofs', 'stock erofs'),
                            ('sharefs', 'sharefs, same domain'),
                            ('ishare', 'upstream erofs -o inode_share,domain_id=bench')]))
    klog = [kv for k, kv in parse(os.path.join(res, 'sid.log'), 'KLOG')]
    fails = [kv for _, kv in parse(os.path.join(res, 'sid.log'), 'MOUNTFAIL')]
    add('')
    add('Upstream inode_share: Debian unstable\'s erofs.ko has the '
        '`inode_share` option (`grep -a inode_share erofs.ko`) and its '
        'config enables `CONFIG_EROFS_FS_PAGE_CACHE_SHARE=y`; the option '
        'needs `domain_id=` and images whose superblock names the digest '
        'xattr (mkfs.erofs 1.9 `--xattr-inode-digest`).' +
        (f' **The inode_share mounts failed** ({len(fails)} mount errors); '
         'see build/bench/results/sid.console.' if fails else ''))
    add('')

    # ---- scaling
    sc = {kv['label']: kv for _, kv in parse(os.path.join(res, 'scaling.log'), 'MEM')}
    ns = sorted({int(k.split('-')[1]) for k in sc})
    if ns:
        add('## Scaling: N images on one base')
        add('')
        add('Each image holds the base\'s usr/bin plus its own 256 KiB file '
            'and hostname. '
            f'Linux {rel612}, all N mounted, every file read.')
        add('')
        add('| N | erofs | sharefs | ideal | sharefs/erofs | read time sharefs/erofs |')
        add('| ---: | ---: | ---: | ---: | ---: | ---: |')
        for n in ns:
            e, s = sc.get(f'erofs-{n}'), sc.get(f'sharefs-{n}')
            i = int(ideal.get(str(n), {}).get('ideal', 0))
            if not e or not s:
                continue
            ce, cs = int(e['cached']), int(s['cached'])
            add(f'| {n} | {mib(ce)} | {mib(cs)} | {mib(i)} | {cs / ce:.2f} | '
                f'{int(s["ns"]) / int(e["ns"]):.2f} |')
        add('')
        if plot_scaling(sc, ideal, ns):
            add('![page cache vs number of images](bench-memory.png)')
            add('')

    # written by hand from scripts/bench/scale.sh output (not part of make bench)
    add(SCALE)

    # ---- speed
    sp = parse(os.path.join(res, 'main.log'), 'SPEED')
    by = {}
    for _, kv in sp:
        by.setdefault((kv['op'], kv['label']), []).append(int(kv['ns']))
    if by:
        add('## Read speed: sharefs / erofs time ratios')
        add('')
        add(f'Linux {rel612}; one boot; {len(by.get(("seq-cold", "e"), []))} '
            'runs. "shared" is sharefs with its page cache shared (a '
            'member of a shared inode); "noshare" is sharefs mounted with '
            '`noshare` (its own page cache per file), which isolates the cost '
            'of the sharing layer from the cost of the reader itself. '
            'erofs median is the absolute time under TCG, for scale only.')
        add('')
        add('| operation | erofs median (ms, TCG) | sharefs shared / erofs | '
            'sharefs noshare / erofs |')
        add('| --- | ---: | ---: | ---: |')
        for op, name in OPS:
            e = by.get((op, 'e'), [])
            if not e:
                continue
            add(f'| {name} | {ms(statistics.median(e))} | '
                f'{fmt_ratio(ratio_stats(by.get((op, "s"), []), e))} | '
                f'{fmt_ratio(ratio_stats(by.get((op, "n"), []), e))} |')
        add('')
        plot_speed(by)
        if os.path.exists(os.path.join(DOC, 'bench-speed.png')):
            add('![sharefs/erofs time ratios](bench-speed.png)')
            add('')

    # ---- second start
    sec = parse(os.path.join(res, 'main.log'), 'SECOND')
    if sec:
        a = {}
        for _, kv in sec:
            a.setdefault(kv['label'], []).append((int(kv['a_ns']), int(kv['b_ns'])))
        add('## Second container start')
        add('')
        add('Time to read every file of image B (python) right after every '
            'file of image A (base) was read, both mounted, caches dropped '
            'before A. With sharefs, B\'s files that equal A\'s are already '
            f'in the page cache; erofs reads them again. {len(a.get("e", []))} runs.')
        add('')
        add('| | erofs: B (ms, TCG) | sharefs B / erofs B | sharefs A / erofs A |')
        add('| --- | ---: | ---: | ---: |')
        e, s = a.get('e', []), a.get('s', [])
        add(f'| read B after A | {ms(statistics.median([x[1] for x in e]))} | '
            f'{fmt_ratio(ratio_stats([x[1] for x in s], [x[1] for x in e]))} | '
            f'{fmt_ratio(ratio_stats([x[0] for x in s], [x[0] for x in e]))} |')
        add('')

    # ---- mkfs
    mk = parse(os.path.join(res, 'mkfs.log'), 'MKFS')
    if mk:
        w = {}
        for _, kv in mk:
            w.setdefault(kv['writer'], []).append((int(kv['ns']), int(kv['size'])))
        add('## mkfs: the base tree (host, not the VM)')
        add('')
        add('| writer | time median (min–max), s | image size |')
        add('| --- | ---: | ---: |')
        names = {'sharefs': 'mkfs.sharefs (fingerprints, dedup)',
                 'erofs': 'Debian 12 mkfs.erofs 1.5 (no fingerprints)',
                 'erofs19': 'unstable mkfs.erofs 1.9 --xattr-inode-digest=trusted.fingerprint'}
        for k in ('sharefs', 'erofs', 'erofs19'):
            if k not in w:
                continue
            t = [x[0] / 1e9 for x in w[k]]
            add(f'| {names[k]} | {statistics.median(t):.2f} '
                f'({min(t):.2f}–{max(t):.2f}) | {mib(w[k][0][1])} |')
        add('')

    # written by hand from scripts/bench-mkfs.sh output (not part of make bench)
    add(MKFS_SPEED)
    # written by hand from scripts/bench/verity.sh (not part of make bench)
    add(VERITY_COST)

    add(ANALYSIS)
    tot = env.get('TIME', {}).get('total_s')
    only = env.get('TIME', {}).get('only', 'main,scaling,sid')
    if tot:
        what = ('all boots' if set(only.split(',')) >= {'main', 'scaling', 'sid'}
                else f'only the boots {only.replace(",", ", ")} (BENCH_ONLY)')
        add(f'The last `make bench` invocation took {int(tot) // 60} min '
            f'{int(tot) % 60} s on the 2-CPU development machine, {what}.')
        add('')
    with open(os.path.join(DOC, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(lines).rstrip() + '\n')


def pyplot():
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def plot_scaling(sc, ideal, ns):
    plt = pyplot()
    if not plt:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, name in (('erofs', 'stock erofs'), ('sharefs', 'sharefs')):
        pts = [(n, int(sc[f'{label}-{n}']['cached']) / (1 << 20))
               for n in ns if f'{label}-{n}' in sc]
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker='o', label=name)
    pts = [(n, int(ideal[str(n)]['ideal']) / (1 << 20)) for n in ns if str(n) in ideal]
    ax.plot([p[0] for p in pts], [p[1] for p in pts], linestyle='--', label='ideal')
    ax.set_xscale('log', base=2)
    ax.set_xticks(ns)
    ax.set_xticklabels([str(n) for n in ns])
    ax.set_xlabel('images mounted (one base)')
    ax.set_ylabel('page cache after reading all files (MiB)')
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.path.join(DOC, 'bench-memory.png'), dpi=100)
    return True


def plot_speed(by):
    plt = pyplot()
    if not plt:
        return
    ops = [op for op, _ in OPS if by.get((op, 'e'))]
    fig, ax = plt.subplots(figsize=(7, 4))
    for k, (label, name) in enumerate((('s', 'sharefs shared'), ('n', 'sharefs noshare'))):
        med, lo, hi = [], [], []
        for op in ops:
            st = ratio_stats(by.get((op, label), []), by[(op, 'e')]) or (0, 0, 0, 0)
            med.append(st[0]); lo.append(st[0] - st[1]); hi.append(st[2] - st[0])
        x = [i + (k - 0.5) * 0.38 for i in range(len(ops))]
        ax.bar(x, med, width=0.38, yerr=[lo, hi], capsize=3, label=name)
    ax.axhline(1, color='black', linewidth=0.8)
    ax.set_xticks(range(len(ops)))
    ax.set_xticklabels(ops, rotation=30, ha='right')
    ax.set_ylabel('time / stock erofs time (median, min–max)')
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(DOC, 'bench-speed.png'), dpi=100)


VERITY_COST = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'verity-cost.md')).read()
HOST_STACK = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               'host-stack.md')).read()
ANALYSIS = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             'analysis.md')).read()
MKFS_SPEED = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               'mkfs-speed.md')).read()
SCALE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          'scale.md')).read()
