#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs Linux test cases (cases/NAME.sh) one after another and prints one
# "VMMRESULT NAME PASS|FAIL ..." line for each, even for a case that died
# without saying anything.  POSIX sh: runs inside the testhost (busybox ash)
# and directly on a host with hardware KVM.
#   run-cases.sh [NAME...]        (default: every case)
# Environment: see lib.sh (VMM_CMD, GUEST_KERNEL, GUEST_INITRD, OUTDIR).
LINUX_TESTS=$(cd "$(dirname "$0")" && pwd)
export LINUX_TESTS
: "${OUTDIR:?}"
mkdir -p "$OUTDIR"
if [ $# -eq 0 ]; then
	for f in "$LINUX_TESTS"/cases/*.sh; do
		n=${f##*/}
		set -- "$@" "${n%.sh}"
	done
fi
echo "VMMCASES $*"
for name in "$@"; do
	out=$OUTDIR/$name.result
	if [ ! -f "$LINUX_TESTS/cases/$name.sh" ]; then
		echo "VMMRESULT $name FAIL no such case"
		continue
	fi
	echo "VMMSTART $name"
	sh "$LINUX_TESTS/cases/$name.sh" >"$out" 2>&1
	cat "$out"
	if ! grep -q "^VMMRESULT $name " "$out"; then
		echo "VMMRESULT $name FAIL the case script reported nothing"
	fi
done
echo "VMMDONE"
