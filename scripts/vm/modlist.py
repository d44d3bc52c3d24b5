#!/usr/bin/env python3
"""Print, in load order, the module files needed for a set of module names.

usage: modlist.py MODULES_DIR NAME... [--deps-of FILE.ko]

Dependencies come from MODULES_DIR/modules.dep (written by depmod); modules
built into the kernel (modules.builtin) are left out.  Names may use - or _.
"""
import os
import subprocess
import sys


def norm(name):
    base = os.path.basename(name).split('.ko')[0]
    return base.replace('-', '_')


def main():
    args = sys.argv[1:]
    moddir = args.pop(0)
    wanted = []
    while args:
        a = args.pop(0)
        if a == '--deps-of':
            ko = args.pop(0)
            out = subprocess.run(['modinfo', '-F', 'depends', ko],
                                 capture_output=True, text=True).stdout
            wanted += [d for d in out.strip().split(',') if d]
        else:
            wanted.append(a)

    deps, path = {}, {}
    with open(os.path.join(moddir, 'modules.dep')) as f:
        for line in f:
            key, _, rest = line.partition(':')
            n = norm(key)
            path[n] = key
            deps[n] = [norm(d) for d in rest.split()]
    builtin = set()
    bfile = os.path.join(moddir, 'modules.builtin')
    if os.path.exists(bfile):
        builtin = {norm(line.strip()) for line in open(bfile)}

    order, seen = [], set()

    def visit(n):
        if n in seen:
            return
        seen.add(n)
        for d in deps.get(n, []):
            visit(d)
        order.append(n)

    for w in wanted:
        n = norm(w)
        if n in builtin:
            continue
        if n not in path:
            if builtin:  # without modules.builtin, built-ins look missing
                print(f'modlist: no module {w} (and not built in)',
                      file=sys.stderr)
            continue
        visit(n)
    for n in order:
        print(path[n])


if __name__ == '__main__':
    main()
