#!/bin/bash
# The deep fuzzing campaign (issue 13, docs/reliability.md): every libFuzzer
# target for RUNS executions (default 10 million) or SECONDS (default 3600),
# whichever comes first, growing a corpus kept under build-fuzz/campaign/.
#   scripts/campaign-fuzz.sh [TARGET...]      (default: every build-fuzz/fuzz_*)
# Environment: RUNS, SECONDS_MAX, JOBS (libFuzzer -jobs, default 1).
# Prints one line per target (executions, crashes, corpus size, wall time)
# to stdout and build-fuzz/campaign/results.txt; crashes are copied to
# build-fuzz/campaign/<target>/crashes/ to become regression tests.
# Coverage (llvm-cov line %) is a separate step: see docs/reliability.md.
# Long: hours of CPU on a shared machine.  Run it on a machine of its own.
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10000000}
SECONDS_MAX=${SECONDS_MAX:-3600}
out=build-fuzz/campaign
mkdir -p "$out"
if [ $# -eq 0 ]; then
	make -s fuzz || exit 1
	set -- build-fuzz/fuzz_*
fi
for bin in "$@"; do
	[ -x "$bin" ] || { echo "$bin: not built (make fuzz)"; exit 1; }
	name=$(basename "$bin")
	dir="$out/$name"
	mkdir -p "$dir/corpus" "$dir/crashes"
	seeds=()
	[ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
	t0=$SECONDS
	"$bin" -runs="$RUNS" -max_total_time="$SECONDS_MAX" -rss_limit_mb=2048 -timeout=10 \
		-print_final_stats=1 -artifact_prefix="$dir/crashes/" \
		"$dir/corpus" "${seeds[@]}" >"$dir/log" 2>&1
	rc=$?
	execs=$(grep -a -o 'stat::number_of_executed_units: [0-9]*' "$dir/log" | tail -n1 | awk '{print $2}')
	crashes=$(find "$dir/crashes" -type f | wc -l)
	line="$name: ${execs:-?} executions in $((SECONDS - t0)) s, exit $rc, $crashes crash file(s), corpus $(find "$dir/corpus" -type f | wc -l) inputs"
	echo "$line" | tee -a "$out/results.txt"
done
