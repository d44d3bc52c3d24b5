#!/bin/sh
# In-VM kselftest-style runner: one KTAP stream, one nested result per test
# program (their own KTAP output is indented with "# ").  The host counts the
# nested results (scripts/vm-run.sh).
progs=$(cat /tests/order)
n=$(echo $progs | wc -w)
echo "KTAP version 1"
echo "1..$n"
i=0
for p in $progs; do
	i=$((i + 1))
	echo "# selftests: sharefs: $p"
	( cd /tests && ./$p 2>&1; echo "@@rc=$?" ) > /tmp/out.$i
	rc=$(sed -n 's/^@@rc=//p' /tmp/out.$i)
	grep -v '^@@rc=' /tmp/out.$i | sed 's/^/# /'
	case $rc in
	0) echo "ok $i selftests: sharefs: $p" ;;
	4) echo "ok $i selftests: sharefs: $p # SKIP" ;;
	*) echo "not ok $i selftests: sharefs: $p # exit=$rc" ;;
	esac
done
