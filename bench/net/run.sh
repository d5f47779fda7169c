#!/bin/bash
# SPDX-License-Identifier: MIT
# virtio-net benchmark: vmm vs QEMU -accel kvm, side by side in one
# testhost run (bench/net/bench.sh): tap + vhost-net, tap with the
# userspace backend, and user networking (libslirp); iperf3 both ways with
# 1 and 4 streams, and the guest's ping round trip.
#   bench/net/run.sh          prints the markdown table for docs/performance.md
# Environment: BUILD (build), VMM ($BUILD/vmm), NET_BENCH_SECONDS (5) per
#   iperf3 run, NET_BENCH_ONLY ("vmm_user_space qemu_user_space": only
#   those of the six runs), TESTHOST_FREEZE (75) s of silence that mean a frozen
#   testhost, BENCH_BOOTS (2) testhost boots at most.
# Runs in the testhost only (root there, for the taps); the testhost is QEMU
# TCG, so the numbers are small and only the vmm/QEMU ratios mean anything.
# Needs iperf3 (scripts/deps.d/net-bench.txt).  Console: $BUILD/testhost-net/bench-net.log
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
VMM=${VMM:-$BUILD/vmm}
secs=${NET_BENCH_SECONDS:-5}
KVER=$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")
L1_KERNEL=/boot/vmlinuz-$KVER
# its own directory: a test run may use $BUILD/testhost at the same time
out=$BUILD/testhost-net
log=$out/bench-net.log
mkdir -p "$out"
iperf=$(command -v iperf3) || {
	echo "bench-net: iperf3 missing: run scripts/install-deps.sh" >&2
	exit 1
}
if [ ! -x "$VMM" ]; then
	echo "bench-net: $VMM does not exist: build it (make BUILD=$BUILD)" >&2
	exit 1
fi
. guest-tests/testhost/initramfs-lib.sh
start=$(date +%s)
echo "bench-net: running in the testhost (QEMU TCG -cpu EPYC + kvm-amd)"
guest-tests/testhost/mk-l1-initrd.sh "$out" "$VMM" || exit 1

# iperf3 + the guest script, for the guest; iperf3 + the L1 script, for L1
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/g/tests" "$stage/l1/th/linux/cases" "$stage/l1/guest"
stage_bin "$stage/g" "$iperf"
cp "$here/guest-bench.sh" "$stage/g/tests/net-bench.sh"
pack_cpio "$stage/g" "$out/net-guest.cpio"
size=$(stat -c %s "$out/guest-initrd.gz")
# an uncompressed archive after a compressed one must start 4-byte aligned
{ cat "$out/guest-initrd.gz"; head -c $(((4 - size % 4) % 4)) /dev/zero
  cat "$out/net-guest.cpio"; } >"$stage/l1/guest/net-bench-initrd"
stage_bin "$stage/l1" "$iperf"
cp "$here/bench.sh" "$stage/l1/th/linux/cases/bench-net.sh"
pack_cpio "$stage/l1" "$out/net-l1.cpio"
cat "$out/net-l1.cpio" >>"$out/l1.cpio"

append="console=ttyS0 panic=-1 quiet transparent_hugepage=never th.job=tests th.cases=bench-net"
append="$append netbench.secs=$secs"
[ -n "${NET_BENCH_ONLY:-}" ] && append="$append netbench.only=$(echo $NET_BENCH_ONLY | tr ' ' ,)"
freeze=${TESTHOST_FREEZE:-75}
. guest-tests/testhost/l1-qemu.sh
l1_qemu_cmd 1
: >"$out/qemu.err"
for attempt in $(seq 1 "${BENCH_BOOTS:-2}"); do
	l1_watched "$log" 1800 "$freeze" "$append"
	[ "$froze" = 0 ] && break
	echo "bench-net: the testhost froze (console silent ${freeze}s), attempt $attempt"
done
echo "bench-net: $(($(date +%s) - start))s; console/log $log"
if ! tr -d '\r' <"$log" | grep -q '^BENCHNET |'; then
	echo "bench-net: no result"
	tr -d '\r' <"$log" | tail -n 40
	exit 1
fi
tr -d '\r' <"$log" | sed -n 's/^BENCHNET //p'
