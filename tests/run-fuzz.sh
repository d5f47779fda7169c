#!/bin/bash
# Runs each libFuzzer target for a bounded time: run-fuzz.sh SECONDS BIN...
# Corpus: fuzz/corpus/<name>/ (seeds, read-only here; new inputs go to a temp dir).
# Prints executions per target and ends with: fuzz: N passed, M failed
set -u
secs=$1; shift
pass=0 fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	work=$(mktemp -d)
	seeds=()
	[ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
	log="$work/log"
	if "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work" "${seeds[@]}" >"$log" 2>&1; then
		execs=$(grep -a -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -n1 | awk '{print $2}')
		[ -z "$execs" ] && execs=$(grep -a -E '^#[0-9]+' "$log" | tail -n1 | awk '{print $1}' | tr -d '#')
		echo "PASS $name: ${execs:-?} executions in ${secs}s, no crash"
		pass=$((pass + 1))
	else
		tail -n 40 "$log"
		echo "FAIL $name: crash or error; artifacts:"; ls "$work" | grep -v -e '^log$' | head
		mkdir -p build-fuzz/artifacts && cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* build-fuzz/artifacts/ 2>/dev/null
		fail=$((fail + 1))
	fi
	rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
