#!/bin/bash
# qcow2 / vmm-img interop tests against qemu-img (Debian qemu-utils).
# usage: tests/img/run.sh BUILD_DIR    (vmm-img at BUILD_DIR/vmm-img)
# VMM_IMG_SAN=DIR also runs the malformed corpus with DIR/vmm-img (ASan build).
# Prints PASS/FAIL per test and "img-tests: N passed, M failed".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build}
VMM_IMG=$(cd "$BUILD" 2>/dev/null && pwd)/vmm-img
# relative to where we were started: the tests run in a temporary directory
if [ -n "${VMM_IMG_SAN:-}" ]; then
	VMM_IMG_SAN=$(cd "$VMM_IMG_SAN" 2>/dev/null && pwd) || {
		echo "FAIL setup: VMM_IMG_SAN directory missing"
		echo "img-tests: 0 passed, 1 failed"
		exit 1
	}
fi
if [ ! -x "$VMM_IMG" ]; then
	echo "FAIL setup: $BUILD/vmm-img not built"
	echo "img-tests: 0 passed, 1 failed"
	exit 1
fi
if ! command -v qemu-img >/dev/null; then
	echo "FAIL setup: qemu-img missing (install qemu-utils: scripts/install-deps.sh)"
	echo "img-tests: 0 passed, 1 failed"
	exit 1
fi
T=$(mktemp -d /tmp/vmm-img-tests.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
# check NAME CMD...: PASS if CMD succeeds
check() { local n=$1; shift; if "$@" >"$T/out" 2>&1; then pass "$n"; else fail "$n" "$(tail -3 "$T/out" | tr '\n' ' ')"; fi; }
# poke FILE OFFSET HEX: overwrite bytes at OFFSET (hex string "0000ffff")
poke() { printf "$(echo "$3" | sed 's/../\\x&/g')" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none; }

cd "$T" || exit 1
# a test disk: random data, a hole, a few bytes near the end
head -c 3M /dev/urandom > base.raw
truncate -s 6M base.raw
printf 'tail data' | dd of=base.raw bs=1 seek=5500000 conv=notrunc status=none

for t in "$HERE"/t_*.sh; do
	# shellcheck source=/dev/null
	. "$t"
done

echo "img-tests: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
