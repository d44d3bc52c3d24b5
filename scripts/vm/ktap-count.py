#!/usr/bin/env python3
"""Count the results of one VM run and check its kernel log.

usage: ktap-count.py TAG KTAP_LOG CONSOLE_LOG

Counts the nested results of every test program ("# ok N ..." lines that the
in-VM runner indented), falling back to the program's own line when it
printed none.  Adds one result for the kernel log: any BUG, WARNING, Oops,
Call Trace or "Busy inodes" fails the run.  A run that never reached the end
marker (timeout, panic) is a failure too.  Prints failures, each with the
diagnostic lines its test printed (the harness's "Expected ..." lines), so
that a CI log that keeps only this output still says why; then
"SUMMARY TAG passed failed skipped".
"""
import re
import sys

BAD = re.compile(r'BUG:|WARNING:|Oops|Call Trace|Busy inodes|'
                 r'Kernel panic|general protection fault|'
                 r'kernel BUG|UBSAN:|KASAN:|list_(add|del) corruption|'
                 r'possible circular locking|hung_task|soft lockup')
TOP = re.compile(r'^(not )?ok (\d+) (.*?)(?: # (.*))?$')
# the harness's own RUN/OK/FAIL lines, which say nothing the result does not
HARNESS = re.compile(r'^# #\s+(RUN|OK|FAIL)\s')
SUB = re.compile(r'^# (not )?ok (\d+) (.*?)(?: # (.*))?$')


def main():
    tag, ktap, console = sys.argv[1:4]
    passed = failed = skipped = 0
    fails = []
    text = open(ktap, errors='replace').read()
    finished = '@@SHAREFS-END@@' in text
    sub = []  # nested results of the current program, with their notes
    notes = []  # "# " lines since the last nested result

    def count(neg, name, directive, why=()):
        nonlocal passed, failed, skipped
        if directive and directive.upper().startswith('SKIP'):
            skipped += 1
        elif neg:
            failed += 1
            fails.append((name, why))
        else:
            passed += 1

    for line in text.splitlines():
        line = line.rstrip('\r')
        m = SUB.match(line)
        if m:
            sub.append((m, notes[-8:]))
            notes = []
            continue
        if line.startswith('# '):
            notes.append(line)
            continue
        m = TOP.match(line)
        if not m:
            continue
        neg, _, name, directive = m.groups()
        if sub:
            for s, why in sub:
                count(s.group(1), f'{name}: {s.group(3)}', s.group(4), why)
            # a program that crashed after passing its subtests
            if neg and not any(s.group(1) for s, _ in sub):
                count(True, f'{name} ({directive})', None, notes[-8:])
        else:
            count(neg, name, directive, notes[-8:])
        sub = []
        notes = []

    if not finished:
        count(True, 'VM run finished (timeout or crash: see console log)', None)
    log = open(console, errors='replace').read()
    bad = [l for l in log.splitlines() if BAD.search(l)]
    if bad:
        count(True, 'kernel log clean: ' + bad[0].strip()[:120], None)
    else:
        count(False, 'kernel log clean', None)

    for f, why in fails:
        print(f'# {tag}: FAIL {f}')
        for w in why:
            if not HARNESS.match(w):
                print(f'#   {w[2:]}')
    print(f'SUMMARY {tag} {passed} {failed} {skipped}')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
