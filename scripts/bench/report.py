#!/usr/bin/env python3
"""scripts/bench/report.py - turn the VM's result lines into reports.

    report.py demo LOG IDEAL-LINE KERNEL      the `make demo` summary
    report.py bench DIR                       Documentation/benchmarks.md
                                              and its plots, from DIR/*.log

The VM prints one line per result: a keyword (MEM, STAT, SPEED, SECOND)
and key=value pairs (scripts/bench/vm-lib.sh).
"""
import os
import statistics
import sys

MiB = 1 << 20


def parse(path, keyword=None):
    """Result lines of a VM log as (keyword, dict) pairs."""
    out = []
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            words = line.split()
            if not words or not words[0].isupper():
                continue
            kv = dict(w.split('=', 1) for w in words[1:] if '=' in w)
            if keyword is None or words[0] == keyword:
                out.append((words[0], kv))
    return out


def kv_line(s):
    return {k: int(v) for k, v in (w.split('=', 1) for w in s.split())}


def mib(b):
    return f'{b / MiB:.1f} MiB'


DEMO_ROWS = [
    ('erofs-file', 'stock erofs, file-backed (containerd)'),
    ('erofs-dio', 'stock erofs, direct-I/O loop device'),
    ('sharefs', 'sharefs (mount -t sharefs FILE)'),
]


def demo(log, ideal_line, kernel):
    ideal = kv_line(ideal_line)
    mem = {kv['label']: kv for _, kv in parse(log, 'MEM')}
    proc = {kv['label']: kv for _, kv in parse(log, 'PROC')}
    stat = {kv['label']: kv for _, kv in parse(log, 'STAT')}
    bad = [kv for k, kv in parse(log) if k == 'MOUNTFAIL' or
           (k == 'EXEC' and kv.get('rc') != '0')]
    missing = [label for label, _ in DEMO_ROWS
               if label not in mem or label not in proc]
    if missing or bad:
        sys.exit(f'demo: missing {missing} or failed {bad} in {log}; '
                 'see build/bench/vm-6.12/console.log')
    errors = sum(int(mem[label]['errors']) for label, _ in DEMO_ROWS)
    if errors:
        sys.exit(f'demo: {errors} read errors in {log}')
    n = int(mem['sharefs']['n'])
    i, naive = ideal['ideal'], n * ideal['naive']
    s = int(mem['sharefs']['cached'])
    print()
    print(f'{n} containers of one image (a base layer and an app layer with '
          f'python3; the second')
    print('container\'s layers a rebuild: same files, other timestamps), each '
          'an overlayfs over its')
    print('layer files on ext4; every file read through the merged views, then '
          f'python3 running in each, on Linux {kernel}:')
    print(f'  {int(mem["sharefs"]["files"])} files, '
          f'{mib(int(mem["sharefs"]["bytes"]))} read; '
          f'{ideal["distinct"]} distinct contents')
    print()
    print(f'  {"":40}{"page cache":>12}{"vs ideal":>10}'
          f'{"python3 Rss":>13}{"Pss":>11}')
    for label, name in DEMO_ROWS:
        v, p = int(mem[label]['cached']), proc[label]
        print(f'  {name:40}{mib(v):>12}{v / i:>9.2f}x'
              f'{mib(int(p["rss"])):>13}{mib(int(p["pss"])):>11}')
    for name, v in (('ideal (distinct contents, pages)', i),
                    (f'per-file sum of the {n} containers', naive)):
        print(f'  {name:40}{mib(v):>12}{v / i:>9.2f}x')
    print()
    for label, name in DEMO_ROWS[:2]:
        e = int(mem[label]['cached'])
        print(f'  sharefs saves {mib(e - s)} ({(e - s) / e * 100:.0f}%) of page '
              f'cache against {name}')
    print(f'  sharefs uses {(s - i) / i * 100:+.1f}% of the ideal; the '
          f'{n} python3 processes\' Pss: erofs '
          f'{mib(int(proc["erofs-file"]["pss"]))}, sharefs '
          f'{mib(int(proc["sharefs"]["pss"]))} (their mapped files are shared)')
    st = stat.get('sharefs')
    if st:
        r = int(st['resident_bytes'])
        print(f'  file data in sharefs\'s shared cache: {mib(r)} = '
              f'{r / i:.2f}x the ideal; the other {mib(s - r)} of its page '
              f'cache are the layer images\'')
        print('  directories (every driver reads them, each image has its own, '
              'the ideal counts file contents only)')
        print()
        print(f'  sharefs counters: {st["shared_inodes"]} shared inodes, '
              f'{st["members"]} members, shared cache {mib(r)}, saved '
              f'{mib(int(st["saved_bytes"]))}')
    print()
    print('  (page cache = /proc/meminfo Cached after minus before, caches '
          'dropped before each phase;')
    print('   a file-backed mount caches each layer file in ext4 as well; '
          'directories are page cache')
    print('   of every driver and not in the ideal; metadata read through '
          'loop devices is Buffers: ' +
          ', '.join(f'{label} {mib(int(mem[label]["buffers"]))}'
                    for label, _ in DEMO_ROWS) + ')')
    print('  read time, TCG (compare, do not quote): ' +
          ', '.join(f'{label} {int(mem[label]["ns"]) / 1e9:.1f} s'
                    for label, _ in DEMO_ROWS))


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == 'demo':
        demo(*sys.argv[2:5])
    elif len(sys.argv) == 3 and sys.argv[1] == 'bench':
        import bench_report
        bench_report.main(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
