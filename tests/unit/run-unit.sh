#!/bin/sh
# Runs the host unit-test programs for `make test-unit` (see mk/unit.mk).
# Usage: run-unit.sh "STALE..." PROGRAM...
# STALE lists the programs that failed to build.  Each program's output is
# shown as it is; its last "N passed, M failed" line is added to the total.
# A program that did not build, crashed, printed no count, or exited non-zero
# while reporting no failure adds one failure: a test that did not run is
# never a pass.  The last line printed is the combined count.
stale=$1
shift
pass=0
fail=0
for prog in "$@"; do
	name=$(basename "$prog")
	case " $stale " in
	*" $prog "*)
		echo "FAIL $name: did not build"
		fail=$((fail + 1))
		continue
		;;
	esac
	echo "# $name"
	out=$("$prog" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL $name: crashed or printed no count (exit $rc)"
		fail=$((fail + 1))
		continue
	fi
	p=$(echo "$line" | awk '{print $1}')
	f=$(echo "$line" | awk '{print $3}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited $rc after reporting no failure (sanitizer or leak report?)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
