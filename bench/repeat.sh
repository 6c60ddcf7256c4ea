#!/bin/sh
# repeat.sh NAME...: the repeatability test (make test-bench-repeat).  For
# each NAME, runs "make bench-quick-NAME" twice; each run prints BENCH lines
# (bench/benchmarks.def format) on stdout.  Under -icount the guest is a
# deterministic machine (with mk/bench.mk's fixed inputs), so both runs
# must print identical figures (median, p10, p90, min, max, n) for every
# benchmark.  Prints one ok/FAIL line per check and "N passed, M failed".
set -u
py=${BENCH_PYTHON:-/usr/bin/python3}
dir=${BENCH_REPEAT_DIR:-build/bench/repeat} # mk/bench.mk: $(BUILD)/bench/repeat
mkdir -p "$dir"
tp=0 tf=0
# Names in BENCH_REPEAT_PARALLEL run their two runs at the same time (their
# bench-quick target only reads what make built before); others one by one.
quick() { # name run
	if make --no-print-directory -s "bench-quick-$1" >"$dir/$1.$2.log" 2>"$dir/$1.$2.err"; then
		echo ok >"$dir/$1.$2.rc"
	else
		echo fail >"$dir/$1.$2.rc"
	fi
}
for name in "$@"; do
	rm -f "$dir/$name".*
	case " ${BENCH_REPEAT_PARALLEL:-} " in
	*" $name "*) quick "$name" a & quick "$name" b & wait ;;
	*) quick "$name" a; quick "$name" b ;;
	esac
	ok=1
	for run in a b; do
		if [ "$(cat "$dir/$name.$run.rc")" != ok ]; then
			echo "FAIL $name: make bench-quick-$name failed (run $run); see $dir/$name.$run.err"
			sed 's/^/    | /' "$dir/$name.$run.err" | tail -n 10
			ok=0
		fi
	done
	if [ "$ok" = 0 ]; then
		tf=$((tf + 1))
		continue
	fi
	# A bench-quick target need not print BENCHEND: add one so the log
	# parses as a complete run.
	for run in a b; do
		grep -q '^BENCHEND' "$dir/$name.$run.log" ||
			echo "BENCHEND $(grep -c '^BENCH ' "$dir/$name.$run.log")" >>"$dir/$name.$run.log"
	done
	out=$("$py" bench/report.py repeat --skip --label "$name" "$dir/$name.a.log" "$dir/$name.b.log")
	echo "$out" | sed '$d'
	line=$(echo "$out" | tail -n 1)
	tp=$((tp + $(echo "$line" | awk '{print $1}')))
	tf=$((tf + $(echo "$line" | awk '{print $3}')))
done
echo "$tp passed, $tf failed"
[ "$tf" -eq 0 ]
