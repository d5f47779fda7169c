#!/bin/bash
# `make demo`: the main job on embedded defaults.  Boots a bundled tiny
# guest on /dev/kvm, then the Debian cloud kernel with a small initramfs
# (2 vCPUs, 512M) -- directly where /dev/kvm is hardware-backed, in the
# testhost otherwise (run.sh says which) -- and shows what the guest printed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}

echo "=== tiny guest: $BUILD/guest-tests/hello.elf"
echo "\$ $BUILD/vmm --kernel $BUILD/guest-tests/hello.elf"
"$BUILD/vmm" --kernel "$BUILD/guest-tests/hello.elf"
echo "(vmm exit status $?: the guest wrote 0 to the debug-exit port, so (0 << 1) | 1 = 1)"

echo
echo "=== Linux: Debian cloud kernel + test initramfs, --cpus 2 --memory 512M"
BUILD=$BUILD DEMO=1 guest-tests/testhost/run.sh boot
rc=$?
log=$(ls -t "$BUILD"/testhost/console.*.log "$BUILD"/testhost/results.log 2>/dev/null | head -n 1)
if [ -n "$log" ]; then
	echo "--- the guest's console (from $log):"
	grep -a '^| ' "$log" | sed 's/^| //' | grep -a -v '^\[' | tail -n 20
	echo "--- (kernel messages left out; the whole log is in $log)"
fi
exit $rc
