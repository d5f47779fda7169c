#!/bin/bash
# SPDX-License-Identifier: MIT
# virtio-blk benchmark: the same fio jobs (bench/blk/jobs.sh) on the host
# against an image file, then inside a guest against /dev/vda backed by that
# file with cache=none (both bypass the page cache), in one run
# (bench/blk/bench.sh).  Where, as for the Linux tests
# (guest-tests/testhost/where.sh): directly on this host if /dev/kvm is
# hardware KVM, else inside the testhost, where "host" means L1 (QEMU TCG
# -cpu EPYC + kvm-amd) and the image lives on an ext4 on a loop device.
#   bench/blk/run.sh           prints the markdown table for docs/performance.md
# Environment: BUILD (build), VMM ($BUILD/vmm), TESTHOST=auto|always|never,
#   BLK_BENCH_SECONDS (8) per job, BLK_BENCH_MB image MiB (testhost 256,
#   direct 1024), BLK_BENCH_CPUS guest vCPUs (testhost 1, direct 2),
#   TESTHOST_FREEZE (75) s of silence that mean a frozen testhost,
#   BENCH_BOOTS (3) testhost boots at most.
# Needs fio (scripts/deps.d/virtio.txt).  Console/log: $BUILD/testhost/bench-blk.log
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
VMM=${VMM:-$BUILD/vmm}
secs=${BLK_BENCH_SECONDS:-8}
KVER=$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")
L1_KERNEL=/boot/vmlinuz-$KVER
out=$BUILD/testhost
log=$out/bench-blk.log
mkdir -p "$out"
if ! command -v fio >/dev/null; then
	echo "bench-blk: fio missing: run scripts/install-deps.sh" >&2
	exit 1
fi
if [ ! -x "$VMM" ]; then
	echo "bench-blk: $VMM does not exist: build it (make BUILD=$BUILD)" >&2
	exit 1
fi

. guest-tests/testhost/where.sh
start=$(date +%s)
if [ "$where" = direct ]; then
	echo "bench-blk: running directly on this host (/dev/kvm is hardware KVM)"
	guest-tests/testhost/mk-guest-initrd.sh "$out/guest-initrd.gz" || exit 1
	bench/blk/mk-fio-initrd.sh "$out/fio.cpio" "$out/guest-initrd.gz" \
		"$out/blk-bench-initrd" || exit 1
	VMM_CMD=$(readlink -f "$VMM") GUEST_KERNEL=$L1_KERNEL \
		GUEST_INITRD=$top/$out/blk-bench-initrd LINUX_TESTS=$top/guest-tests/linux \
		OUTDIR=$top/$BUILD/bench-blk BLK_BENCH_SECONDS=$secs \
		BLK_BENCH_MB=${BLK_BENCH_MB:-1024} BLK_BENCH_CPUS=${BLK_BENCH_CPUS:-2} \
		sh bench/blk/bench.sh >"$log" 2>&1
else
	echo "bench-blk: running in the testhost (QEMU TCG -cpu EPYC + kvm-amd): /dev/kvm here is not hardware KVM"
	L1_FIO=1 guest-tests/testhost/mk-l1-initrd.sh "$out" "$VMM" || exit 1
	append="console=ttyS0 panic=-1 quiet transparent_hugepage=never th.job=bench-blk"
	append="$append th.secs=$secs th.mb=${BLK_BENCH_MB:-256}"
	[ -n "${BLK_BENCH_CPUS:-}" ] && echo "bench-blk: BLK_BENCH_CPUS is ignored in the testhost (1 vCPU: docs/testhost.md)"
	# a frozen TCG testhost (docs/testhost.md) is restarted, at most BENCH_BOOTS times
	freeze=${TESTHOST_FREEZE:-75}
	. guest-tests/testhost/l1-qemu.sh
	l1_qemu_cmd 1
	: >"$out/qemu.err"
	for attempt in $(seq 1 "${BENCH_BOOTS:-3}"); do
		l1_watched "$log" 1200 "$freeze" "$append"
		[ "$froze" = 0 ] && break
		echo "bench-blk: the testhost froze (console silent ${freeze}s), attempt $attempt"
	done
fi
echo "bench-blk: $(($(date +%s) - start))s; console/log $log"
if ! tr -d '\r' <"$log" | grep -q '^BENCHBLK |'; then
	echo "bench-blk: no result"
	tr -d '\r' <"$log" | tail -n 30
	exit 1
fi
tr -d '\r' <"$log" | sed -n 's/^BENCHBLK //p'
