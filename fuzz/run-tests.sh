#!/bin/sh
# The "fuzz" suite (mk/fuzz.mk): for each target, replay the committed seed
# corpus fuzz/corpus/NAME (every input once: -runs=0), then fuzz from it with a
# fixed seed for a fixed number of runs (deterministic).  A target passes only if both runs exit cleanly (no crash,
# leak, timeout or sanitizer report).  Ends with "N passed, M failed".
# Usage: run-tests.sh FUZZ_DIR SECONDS TARGET...
dir=$1
secs=$2
shift 2
pass=0
fail=0
mkdir -p "$dir/crashes"
for t in "$@"; do
	bin="$dir/$t"
	corpus="fuzz/corpus/$t"
	log="$dir/test-$t.log"
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz-$t: $bin was not built"
		fail=$((fail + 1))
		continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
		echo "FAIL fuzz-$t: no seed corpus in $corpus"
		fail=$((fail + 1))
		continue
	fi
	n=$(ls "$corpus" | wc -l)
	if ! "$bin" -runs=0 -timeout=10 -artifact_prefix="$dir/crashes/$t-" "$corpus" >"$log" 2>&1; then
		echo "FAIL fuzz-$t: replaying the $n-input corpus crashed; see $log"
		fail=$((fail + 1))
		continue
	fi
	# Fuzz into a scratch copy so the committed corpus stays as it is.
	work="$dir/test-corpus/$t"
	rm -rf "$work"
	mkdir -p "$work"
	# A fixed seed and a fixed number of runs (about SECONDS of work) keep
	# the suite deterministic: the same commit always explores the same
	# inputs, so a red run is reproducible and CI never turns red by luck.
	if ! "$bin" -seed=1 -runs=$((secs * 2000)) -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/$t-" "$work" "$corpus" >>"$log" 2>&1; then
		echo "FAIL fuzz-$t: fuzzing for ${secs}s found a crash; see $log and $dir/crashes/"
		fail=$((fail + 1))
		continue
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$')
	echo "ok fuzz-$t: $n seeds replayed, ${runs:-?} seeded fuzz runs"
	pass=$((pass + 1))
done
if [ $((pass + fail)) -eq 0 ]; then
	echo "FAIL fuzz: no targets named"
	fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
