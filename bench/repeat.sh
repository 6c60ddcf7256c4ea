#!/bin/sh
# repeat.sh NAME...: the repeatability test (make test-bench-repeat).  For
# each NAME, runs "make bench-quick-NAME" twice; each run prints BENCH lines
# (bench/benchmarks.def format) on stdout.  Under -icount the guest is a
# deterministic machine (with mk/bench.mk's fixed inputs), so both runs
# must print identical figures (median, p10, p90, min, max, n) for every
# benchmark.  Prints one ok/FAIL line per check and "N passed, M failed".
set -u
py=${BENCH_PYTHON:-/usr/bin/python3}
dir=build/bench/repeat
mkdir -p "$dir"
tp=0 tf=0
for name in "$@"; do
	ok=1
	for run in a b; do
		if ! make --no-print-directory -s "bench-quick-$name" >"$dir/$name.$run.log" 2>"$dir/$name.$run.err"; then
			echo "FAIL $name: make bench-quick-$name failed (run $run); see $dir/$name.$run.err"
			sed 's/^/    | /' "$dir/$name.$run.err" | tail -n 10
			ok=0
		fi
	done
	if [ "$ok" = 0 ]; then
		tf=$((tf + 1))
		continue
	fi
	# bench-quick output has no BENCHEND: add it so the logs parse as complete.
	for run in a b; do
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
