#!/bin/bash
# Runs criterion unit-test binaries; prints one line per binary and a total:
#   unit-tests: N passed, M failed
# A binary that crashes or reports no tests counts as a failure.
set -u
pass=0 fail=0 bad=()
for t in "$@"; do
	out=$("$t" --jobs=2 2>&1); rc=$?
	syn=$(printf '%s\n' "$out" | grep -a 'Synthesis:' | tail -n 1)
	p=$(printf '%s' "$syn" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(printf '%s' "$syn" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(printf '%s' "$syn" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	p=${p:-0}; f=${f:-0}; c=${c:-0}
	if [ "$rc" -ne 0 ] || [ -z "$syn" ] || [ $((f + c)) -ne 0 ] || [ "$p" -eq 0 ]; then
		printf '%s\n' "$out" | grep -av '^\[----\]' | tail -n 40
		echo "FAIL $(basename "$t"): exit $rc, $p passing, $f failing, $c crashing"
		fail=$((fail + f + c)); [ $((f + c)) -eq 0 ] && fail=$((fail + 1))
		bad+=("$(basename "$t")")
	else
		echo "PASS $(basename "$t"): $p tests"
	fi
	pass=$((pass + p))
done
echo "unit-tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
