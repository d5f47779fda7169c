#!/bin/bash
# `make test`: installs what is missing, builds (plain and ASan/UBSan), and
# runs every suite.  Each suite prints "<suite>: N passed, M failed"; this
# script adds them up and ends with the plain line "N passed, M failed".
#
# Environment: JOBS (make -j, default 2), FUZZ_SECONDS (default 15),
# SKIP_LINUX=1 / SKIP_GUESTS=1 / SKIP_FUZZ=1 / SKIP_SAN=1 to leave a suite
# out while iterating (CI sets none of them).
set -u
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
logdir=build/test-logs
total_pass=0 total_fail=0
summary=()

stage() {	# stage NAME COMMAND...: run, tee its output, harvest its counts
	local name=$1; shift
	local log="$logdir/$name.log" t0=$SECONDS rc line p f
	echo
	echo "=== $name: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -a -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	p=$(printf '%s' "$line" | sed -n 's/.*: \([0-9]*\) passed.*/\1/p')
	f=$(printf '%s' "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	p=${p:-0}; f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# a suite that failed without saying what still fails
	fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	summary+=("$(printf '%-12s %s (%ds)' "$name" "${line:-exit $rc}" $((SECONDS - t0)))")
}

mkdir -p "$logdir"
./scripts/install-deps.sh || { echo "install-deps failed"; echo "0 passed, 1 failed"; exit 1; }

echo "=== build"
if ! make -j"$JOBS" all unit-bins guest-tests; then
	echo "build failed"; echo "0 passed, 1 failed"; exit 1
fi
if [ "${SKIP_SAN:-0}" != 1 ] && ! make -j"$JOBS" BUILD=build-san SAN=1 all unit-bins; then
	echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1
fi

stage unit make -s test-unit
[ "${SKIP_SAN:-0}" != 1 ] && stage unit-san make -s BUILD=build-san SAN=1 test-unit
[ "${SKIP_FUZZ:-0}" != 1 ] && stage fuzz make -s -j"$JOBS" test-fuzz FUZZ_SECONDS="$FUZZ_SECONDS"
[ -x tests/img/run.sh ] && stage img tests/img/run.sh build
[ "${SKIP_GUESTS:-0}" != 1 ] && stage guests make -s test-guests
[ "${SKIP_GUESTS:-0}" != 1 ] && stage tty python3 tests/tty/tty_check.py build/vmm build/guest-tests/serial.elf
[ "${SKIP_GUESTS:-0}" != 1 ] && stage ctl tests/ctl/run.sh build
[ "${SKIP_GUESTS:-0}" != 1 ] && stage state tests/state/run.sh build
[ "${SKIP_GUESTS:-0}" != 1 ] && stage sandbox tests/sandbox/run.sh build
[ "${SKIP_LINUX:-0}" != 1 ] && stage linux make -s test-linux

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
