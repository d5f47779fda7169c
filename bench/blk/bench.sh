#!/bin/sh
# SPDX-License-Identifier: MIT
# The virtio-blk benchmark proper (POSIX sh; busybox ash in the testhost):
# fio on an image file on this host, then fio in a guest on /dev/vda backed
# by the same file with cache=none, in one run; prints a markdown table, each
# line prefixed "BENCHBLK ".  bench/blk/run.sh starts it where Linux guests
# run (this host with hardware KVM, or L1 in the testhost).
# Environment: VMM_CMD GUEST_KERNEL OUTDIR as for the Linux tests, and
#   GUEST_INITRD         the test initrd + bench/blk/mk-fio-initrd.sh's cpio
#   LINUX_TESTS          guest-tests/linux (lib.sh, blk-lib.sh)
#   BLK_BENCH_SECONDS    per fio job (8)      BLK_BENCH_MB  image size (256)
#   BLK_BENCH_CPUS       guest vCPUs (1)      BLK_BENCH_MEMORY  guest RAM (1G)
#   BLK_BENCH_QEMU       1 (default if qemu-system-x86_64 exists): the same
#                        guest once more under QEMU -accel kvm (virtio-blk-pci,
#                        cache=none, aio=io_uring) as a reference column
: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}" "${OUTDIR:?}" "${LINUX_TESTS:?}"
secs=${BLK_BENCH_SECONDS:-8}
mb=${BLK_BENCH_MB:-256}
here=$(cd "$(dirname "$0")" && pwd)
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
. "$here/jobs.sh"
mkdir -p "$OUTDIR"

# the file must take O_DIRECT (cache=none): on tmpfs (the testhost) that
# means an ext4 on a loop device (blk-lib.sh)
if ! blk_dio_setup $((mb + mb / 8 + 16)); then
	echo "BENCHBLK error: $blk_dio_why"
	exit 1
fi
img=$blk_dio/blk-bench.img
rm -f "$img"
# allocated, not sparse: reads must hit real blocks on both sides
if ! dd if=/dev/zero of="$img" bs=1M count="$mb" oflag=direct 2>/dev/null; then
	echo "BENCHBLK error: cannot write the ${mb} MiB image $img"
	blk_dio_teardown
	exit 1
fi
where="$(uname -r), image $img ($mb MiB)"
[ -n "$blk_dio_loop" ] && where="$where on ext4 on $blk_dio_loop (backing file on $OUTDIR)"

# KVM's exit counters (debugfs) around each guest job: exits per guest I/O
# is what a VMM controls, and unlike IOPS it does not depend on how busy
# the machine is.  kvm_stats prints "exits mmio_exits irq_injections halt_exits".
kvm_dir=/sys/kernel/debug/kvm
[ -d "$kvm_dir" ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
kvm_stats() {
	for _f in exits mmio_exits irq_injections halt_exits; do
		cat "$kvm_dir/$_f" 2>/dev/null || echo 0
	done | tr '\n' ' '
}
# kvm_watch LOG OUT: appends "LABEL counters" to OUT whenever the guest
# starts its jobs (bench-engine=) or finishes one (fio-NAME=); runs until killed
kvm_watch() {
	_seen=0
	: >"$2"
	while :; do
		_n=$(grep -c -e "VMMTEST bench-engine=" -e "VMMTEST fio-" "$1" 2>/dev/null)
		if [ "${_n:-0}" -gt "$_seen" ]; then
			_l=$(grep -e "VMMTEST bench-engine=" -e "VMMTEST fio-" "$1" | sed -n "${_n}p" |
				sed 's/^.*VMMTEST \([^=]*\)=.*$/\1/')
			echo "$_l $(kvm_stats)" >>"$2"
			_seen=$_n
		fi
		sleep 0.5
	done
}
# exits_per_io STATS RESULTS: per job, "NAME exits/IO (mmio irq halt)"
exits_per_io() {
	[ -s "$1" ] || return 0
	awk -v secs="$secs" 'NR == FNR { split($0, a, "="); v[a[1]] = a[2]; next }
		{ if (prev != "") { split(v[$1], r, ","); n = r[1] * secs;
			printf "%s %s\n", $1, n ? sprintf("%.1f/%.1f/%.1f/%.1f", ($2 - e) / n, ($3 - m) / n, ($4 - i) / n, ($5 - h) / n) : "-" }
		  prev = $1; e = $2; m = $3; i = $4; h = $5 }' "$2" "$1"
}

start=$(date +%s)
engine=$(blk_bench_engine "$img")
blk_bench_jobs "$img" "$engine" "$secs" >"$OUTDIR/blk-bench-host.txt"
host_s=$(($(date +%s) - start))

GUEST_CMDLINE="console=ttyS0 panic=-1 quiet BLK_BENCH_SECONDS=$secs"
GUEST_CPUS=${BLK_BENCH_CPUS:-1}
GUEST_MEMORY=${BLK_BENCH_MEMORY:-1G}
CASE_TIMEOUT=$((secs * 6 * 4 + 300))
rm -f "$OUTDIR/blk-bench.log"
kvm_watch "$OUTDIR/blk-bench.log" "$OUTDIR/kvm-vmm.txt" &
watch=$!
vmm_boot blk-bench blk-bench --disk "path=$img,format=raw,cache=none"
kill "$watch"
cp "$log" "$OUTDIR/blk-bench-guest.log"
vlog=$log vrc=$rc velapsed=$elapsed
tr -d '\r' <"$vlog" | sed -n 's/^.*VMMTEST \(fio-[^ ]*\).*$/\1/p' >"$OUTDIR/vmm-results.txt"
gengine=$(log_value bench-engine)
gqueues=$(log_value bench-queues)

# reference: the same guest, disk and jobs under QEMU (what this KVM can do)
qemu=${BLK_BENCH_QEMU:-}
[ -z "$qemu" ] && command -v qemu-system-x86_64 >/dev/null && qemu=1
qlog=
if [ "$qemu" = 1 ]; then
	qlog=$OUTDIR/blk-bench-qemu.log
	rm -f "$qlog"
	kvm_watch "$qlog" "$OUTDIR/kvm-qemu.txt" &
	watch=$!
	qstart=$(date +%s)
	timeout -k 10 "$CASE_TIMEOUT" qemu-system-x86_64 -accel kvm -cpu host -M pc \
		-smp "$GUEST_CPUS" -m "$GUEST_MEMORY" -nodefaults -no-user-config \
		-display none -serial stdio -monitor none -no-reboot \
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" \
		-append "$GUEST_CMDLINE vmmtest=blk-bench" \
		-drive "file=$img,format=raw,if=none,id=d0,cache=none,aio=io_uring" \
		-device "virtio-blk-pci,drive=d0,num-queues=$GUEST_CPUS" \
		</dev/null >"$qlog" 2>&1
	qrc=$?
	qelapsed=$(($(date +%s) - qstart))
	kill "$watch"
	tr -d '\r' <"$qlog" | sed -n 's/^.*VMMTEST \(fio-[^ ]*\).*$/\1/p' >"$OUTDIR/qemu-results.txt"
fi

qval() {
	[ -n "$qlog" ] && tr -d '\r' <"$qlog" | sed -n "s/^.*VMMTEST $1=\([^ ]*\).*\$/\1/p" | head -n 1
}
echo "BENCHBLK | job | host IOPS | host MiB/s | guest IOPS (vmm) | guest MiB/s | vmm/host | guest IOPS (QEMU) | QEMU/host | vmm/QEMU |"
echo "BENCHBLK |---|---:|---:|---:|---:|---:|---:|---:|---:|"
for j in $BLK_BENCH_JOBS; do
	n=${j%%:*}
	h=$(sed -n "s/^VMMTEST fio-$n=//p" "$OUTDIR/blk-bench-host.txt")
	g=$(log_value "fio-$n")
	q=$(qval "fio-$n")
	echo "$n ${h:-failed} ${g:-failed} ${q:--}" | awk '
	function ok(s) { return s ~ /^[0-9]+,[0-9]+$/ }
	function iops(s) { split(s, a, ","); return a[1] + 0 }
	function mib(s) { split(s, a, ","); return sprintf("%.1f", a[2] / 1024) }
	function pct(a, b) { return ok(a) && ok(b) && iops(b) ? sprintf("%.0f%%", 100 * iops(a) / iops(b)) : "-" }
	{
		printf "BENCHBLK | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,
			ok($2) ? iops($2) : $2, ok($2) ? mib($2) : "",
			ok($3) ? iops($3) : $3, ok($3) ? mib($3) : "", pct($3, $2),
			ok($4) ? iops($4) : $4, pct($4, $2), pct($3, $4) }'
done
echo "BENCHBLK "
echo "BENCHBLK host: fio --ioengine=$engine --direct=1 --thread on the image, $secs s per job ($host_s s in all); $where"
echo "BENCHBLK guest: fio --ioengine=${gengine:-?} --direct=1 --thread on /dev/vda, $GUEST_CPUS vCPU(s), $GUEST_MEMORY, ${gqueues:-?} queue(s); $VMM_CMD --disk path=$img,format=raw,cache=none; vmm exit $vrc after ${velapsed}s"
[ -n "$qlog" ] && echo "BENCHBLK QEMU: $(qemu-system-x86_64 --version | head -n 1 | cut -d'(' -f1)-accel kvm -cpu host -M pc, virtio-blk-pci cache=none aio=io_uring, guest engine $(qval bench-engine), $(qval bench-queues) queue(s); exit $qrc after ${qelapsed}s"
if [ -s "$OUTDIR/kvm-vmm.txt" ]; then
	echo "BENCHBLK "
	echo "BENCHBLK KVM exits per guest I/O (L1 debugfs, sampled as each job ends; I/Os = IOPS x $secs s): all/mmio/irq-injections/halt"
	echo "BENCHBLK "
	echo "BENCHBLK | job | vmm | QEMU |"
	echo "BENCHBLK |---|---|---|"
	exits_per_io "$OUTDIR/kvm-vmm.txt" "$OUTDIR/vmm-results.txt" >"$OUTDIR/epi-vmm.txt"
	exits_per_io "$OUTDIR/kvm-qemu.txt" "$OUTDIR/qemu-results.txt" >"$OUTDIR/epi-qemu.txt"
	for j in $BLK_BENCH_JOBS; do
		n=fio-${j%%:*}
		echo "BENCHBLK | ${n#fio-} | $(sed -n "s/^$n //p" "$OUTDIR/epi-vmm.txt") | $(sed -n "s/^$n //p" "$OUTDIR/epi-qemu.txt" 2>/dev/null) |"
	done
fi
if [ -z "$gengine" ]; then
	echo "BENCHBLK vmm guest console (last lines):"
	tr -d '\r' <"$vlog" | tail -n 40 | sed 's/^/BENCHBLK     /'
fi
rm -f "$img"
blk_dio_teardown
[ "$vrc" = 0 ]
