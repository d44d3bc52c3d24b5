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


def demo(log, ideal_line, kernel):
    ideal = kv_line(ideal_line)
    mem = {kv['label']: kv for _, kv in parse(log, 'MEM')}
    stat = {kv['label']: kv for _, kv in parse(log, 'STAT')}
    if 'erofs' not in mem or 'sharefs' not in mem:
        sys.exit(f'demo: no results in {log}; see build/6.12/console.log')
    e, s = int(mem['erofs']['cached']), int(mem['sharefs']['cached'])
    i, naive = ideal['ideal'], ideal['naive']
    print()
    print(f'Reading every file of two Debian 12 images (base, base+python3) '
          f'on Linux {kernel}:')
    print(f'  {int(mem["sharefs"]["files"])} files, '
          f'{mib(int(mem["sharefs"]["bytes"]))} read; '
          f'{ideal["distinct"]} distinct contents')
    print()
    print(f'  {"":34}{"page cache":>14}{"vs ideal":>10}')
    rows = [('stock erofs (one cache per file)', e),
            ('sharefs, domain=demo', s),
            ('ideal (distinct contents, pages)', i),
            ('per-file sum of both trees', naive)]
    for name, v in rows:
        print(f'  {name:34}{mib(v):>14}{v / i:>9.2f}x')
    print()
    print(f'  sharefs saves {mib(e - s)} ({(e - s) / e * 100:.0f}% of erofs); '
          f'it uses {(s - i) / i * 100:+.1f}% of the ideal')
    ne, ns = int(mem['erofs']['ns']), int(mem['sharefs']['ns'])
    print(f'  read time: erofs {ne / 1e9:.1f} s, sharefs {ns / 1e9:.1f} s '
          f'(TCG: compare, do not quote)')
    st = stat.get('sharefs')
    if st:
        print()
        print(f'  sharefs counters after the read: {st["shared_inodes"]} shared '
              f'inodes, {st["members"]} members, shared cache '
              f'{mib(int(st["resident_bytes"]))}, saved '
              f'{mib(int(st["saved_bytes"]))}')
    print()
    print('  (page cache = /proc/meminfo Cached after minus before, caches '
          'dropped before each phase;')
    print('   metadata read through the loop devices is Buffers: erofs '
          f'{mib(int(mem["erofs"]["buffers"]))}, sharefs '
          f'{mib(int(mem["sharefs"]["buffers"]))})')


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
