#!/bin/sh
# SPDX-License-Identifier: MIT
# virtio-blk benchmark: the same fio jobs (bench/blk/jobs.sh) on the host
# against an image file, then inside a guest against /dev/vda backed by that
# file (cache=none, so both bypass the host page cache), in one run.
#   run.sh                prints a markdown table for docs/performance.md
# Environment: VMM_CMD GUEST_KERNEL GUEST_INITRD OUTDIR as for the Linux
# tests (guest-tests/linux/lib.sh); BENCH_SECONDS (default 10) per job;
# BENCH_CPUS (default 2).  Needs fio on the host (scripts/deps.d/virtio.txt).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}" "${OUTDIR:?}"
secs=${BENCH_SECONDS:-10}
mkdir -p "$OUTDIR"
img=$OUTDIR/blk-bench.img
initrd=$OUTDIR/blk-bench-initrd.gz

# guest initrd = the test initrd + a second cpio with fio, its libraries and the job script
"$here/mk-fio-initrd.sh" "$OUTDIR/fio-extra.cpio.gz"
cat "$GUEST_INITRD" "$OUTDIR/fio-extra.cpio.gz" >"$initrd"

rm -f "$img"
dd if=/dev/zero of="$img" bs=1M count=1024 2>/dev/null	# allocated: no sparse-file effects

. "$here/jobs.sh"
engine=io_uring
fio --name=probe --filename="$img" --ioengine=io_uring --rw=read --size=4k \
	--direct=1 --minimal >/dev/null 2>&1 || engine=libaio
blk_bench_jobs "$img" "$engine" "$secs" >"$OUTDIR/blk-bench-host.txt"

GUEST_CMDLINE="console=ttyS0 panic=-1" CASE_TIMEOUT=$((secs * 12 + 120)) \
	GUEST_INITRD=$initrd GUEST_CPUS=${BENCH_CPUS:-2}
export GUEST_INITRD
LINUX_TESTS=$top/guest-tests/linux
. "$LINUX_TESTS/lib.sh"
vmm_boot blk-bench blk-bench --disk "path=$img,format=raw,cache=none"
cp "$log" "$OUTDIR/blk-bench-guest.log"

echo "| job | host IOPS | host MiB/s | guest IOPS | guest MiB/s | guest/host |"
echo "|---|---:|---:|---:|---:|---:|"
for j in $BLK_BENCH_JOBS; do
	n=${j%%:*}
	h=$(sed -n "s/^VMMTEST fio-$n=//p" "$OUTDIR/blk-bench-host.txt")
	g=$(tr -d '\r' <"$log" | sed -n "s/^.*VMMTEST fio-$n=\([0-9,]*\).*$/\1/p" | head -n 1)
	echo "$n ${h:-0,0} ${g:-0,0}" | awk '{
		split($2, h, ","); split($3, g, ",");
		r = h[1] ? sprintf("%.0f%%", 100 * g[1] / h[1]) : "-";
		printf "| %s | %d | %.1f | %d | %.1f | %s |\n", $1, h[1], h[2] / 1024, g[1], g[2] / 1024, r }'
done
echo
echo "host engine $engine, guest libaio, $secs s per job, image $img (1 GiB, cache=none)"
rm -f "$img"
