#!/bin/sh
# SPDX-License-Identifier: MIT
# The crash-consistency campaign, the part that runs where /dev/kvm is real
# (inside the testhost, started by scripts/campaign-crash.sh; or directly
# on a host with hardware KVM).  POSIX sh (busybox ash in the testhost).
#   crash-l1.sh ROUNDS FIRST_ROUND FIRST_IDX MODE:FORMAT:CACHE ...
# runs every MODE:FORMAT:CACHE once per round, ROUNDS rounds (N per
# configuration), starting at configuration FIRST_IDX of FIRST_ROUND.
# MODE kill: vmm is SIGKILLed; the image is checked as vmm left it.
# MODE powercut: vmm runs under powercut.so (LD_PRELOAD): the image
#   checked is IMAGE.durable, holding only what vmm had fdatasync'd (a
#   power cut below the block layer); vmm uses engine=threads for it.
# Each run: a fresh image (128 MiB; qcow2 made by qemu-img),
# a Linux guest running /tests/crash-writer.sh (guest-tests/linux/guest/),
# SIGKILL at a random moment 0..KILL_MS ms after the writer starts, then
#  1. qcow2: `qemu-img check` reports no corruption (exit 0, or 3 = leaks
#     only); raw has no metadata to check;
#  2. every record 0..D, D the last "VMMTEST durable=D" the guest printed
#     (the line is printed after that record's fsync returned), reads back
#     exactly at its place (qemu-img convert to raw, then cmp against the
#     records rebuilt here).  cache=unsafe ignores flushes by design: its
#     runs report this check but it does not fail them.
# Prints per run:  CRASHRUN MODE FORMAT CACHE I PASS|FAIL|BOOTFAIL details
# Environment: VMM_CMD, GUEST_KERNEL, GUEST_INITRD, OUTDIR (as lib.sh),
# KILL_MS (default 8000), POWERCUT_SO (default beside this script),
# BOOT_TIMEOUT (default 240 s until the writer starts).
here=$(cd "$(dirname "$0")" && pwd)
: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}" "${OUTDIR:?}"
KILL_MS=${KILL_MS:-8000}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-240}
POWERCUT_SO=${POWERCUT_SO:-$here/powercut.so}
IMG_MB=128
mkdir -p "$OUTDIR"

# images on a filesystem that takes O_DIRECT (cache=none): in the testhost
# a loop ext4 (tmpfs has no O_DIRECT before 6.6), as blk-cache-none does
dir=$OUTDIR
if [ -n "${LINUX_TESTS:-}" ] && [ -f "$LINUX_TESTS/blk-lib.sh" ]; then
	. "$LINUX_TESTS/blk-lib.sh"
	if blk_dio_setup 1024; then
		dir=$blk_dio
	else
		echo "CRASHNOTE no O_DIRECT filesystem ($blk_dio_why): cache=none runs will fail to open"
	fi
fi
echo "CRASHNOTE images in $dir"

# rand N: a pseudo-random number in 0..N-1 (ash and bash have $RANDOM)
rand() {
	echo $(((RANDOM * 32768 + RANDOM) % $1))
}

# expected RUN D FILE: records 0..D of run RUN at their places, as the guest
# writes them (crash-writer.sh)
expected() {
	rm -f "$3"
	dd if=/dev/zero of="$3" bs=65536 count=0 seek=$(($2 + 1)) 2>/dev/null
	_i=0
	while [ "$_i" -le "$2" ]; do
		_l=$(printf 'vmmcrash run=%s seq=%08d' "$1" "$_i")
		_l=$(printf '%-63s' "$_l")
		yes "$_l" | head -n 64 | dd of="$3" bs=4096 count=1 seek=$((_i * 16)) \
			iflag=fullblock conv=notrunc 2>/dev/null
		_i=$((_i + 1))
	done
}

one_run() {
	mode=$1 fmt=$2 cache=$3 i=$4
	run=$(printf '%04x%04x' "$(rand 65536)" "$(rand 65536)")
	img=$dir/crash.$fmt
	log=$OUTDIR/crash.log
	rm -f "$img" "$img.durable" "$OUTDIR/crash.raw" "$OUTDIR/crash.want"
	if [ "$fmt" = qcow2 ]; then
		qemu-img create -q -f qcow2 "$img" ${IMG_MB}M || return 1
	else
		dd if=/dev/zero of="$img" bs=1M count=0 seek=$IMG_MB 2>/dev/null || return 1
	fi
	engine=${ENGINE:-auto}
	pre=
	check=$img
	if [ "$mode" = powercut ]; then
		cp "$img" "$img.durable" || return 1
		engine=threads
		pre="env LD_PRELOAD=$POWERCUT_SO POWERCUT_IMAGE=$img"
		check=$img.durable
	fi
	# shellcheck disable=SC2086
	$pre $VMM_CMD --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--cmdline "console=ttyS0 panic=-1 quiet vmmtest=crash-writer crashrun=$run" \
		--cpus 1 --memory 512M \
		--disk "path=$img,format=$fmt,cache=$cache,engine=$engine" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	t0=$(date +%s)
	while ! grep -q "VMMTEST crash-ready" "$log" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ $(($(date +%s) - t0)) -gt "$BOOT_TIMEOUT" ]; then
			kill -9 "$pid" 2>/dev/null
			wait "$pid"
			echo "CRASHRUN $mode $fmt $cache $i BOOTFAIL vmm exit $? before the writer started; console:"
			tr -d '\r' <"$log" | tail -n 15 | sed 's/^/| /'
			return 0
		fi
		sleep 0.2
	done
	boot=$(($(date +%s) - t0))
	ms=$(rand $((KILL_MS + 1)))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -9 "$pid"
	wait "$pid"
	vrc=$?
	d=$(tr -d '\r' <"$log" | sed -n 's/^.*VMMTEST durable=\([0-9]*\).*$/\1/p' | tail -n 1)
	why=
	ck=n/a
	if [ "$fmt" = qcow2 ]; then
		qemu-img check -f qcow2 "$check" >"$OUTDIR/crash.check" 2>&1
		ck=$?
		if [ "$ck" != 0 ] && [ "$ck" != 3 ]; then
			why="qemu-img check exit $ck: $(grep -i -m 3 -e corrupt -e error "$OUTDIR/crash.check" | tr '\n' ' ')"
		elif ! qemu-img convert -f qcow2 -O raw "$check" "$OUTDIR/crash.raw"; then
			why="qemu-img convert failed"
		fi
		raw=$OUTDIR/crash.raw
	else
		raw=$check
	fi
	dur=ok
	if [ -z "$why" ] && [ -n "$d" ]; then
		expected "$run" "$d" "$OUTDIR/crash.want"
		# the first D+1 slots of the image (busybox cmp -n lists every
		# differing byte, so compare two files of that size instead)
		dd if="$raw" of="$OUTDIR/crash.got" bs=65536 count=$((d + 1)) 2>/dev/null
		if ! c=$(cmp "$OUTDIR/crash.want" "$OUTDIR/crash.got" 2>&1 | head -n 1); then
			c="cmp failed"
		fi
		if [ -n "$c" ]; then
			off=$(echo "$c" | sed -n 's/.*[a-z] \([0-9][0-9]*\),.*/\1/p')
			dur="record $(((${off:-1} - 1) / 65536)) of 0..$d differs ($c)"
		fi
	fi
	[ -n "$why" ] || { [ "$dur" != ok ] && [ "$cache" != unsafe ] && why="durability: $dur"; }
	note="durable=${d:--1} boot=${boot}s kill_after=${ms}ms vmm_exit=$vrc check=$ck records=$dur"
	if [ -n "$why" ]; then
		echo "CRASHRUN $mode $fmt $cache $i FAIL $why; $note"
		tr -d '\r' <"$log" | tail -n 8 | sed 's/^/| /'
	else
		echo "CRASHRUN $mode $fmt $cache $i PASS $note"
	fi
	rm -f "$img" "$img.durable" "$OUTDIR/crash.raw" "$OUTDIR/crash.want" "$OUTDIR/crash.got"
}

# rounds: round R runs every configuration once, so a campaign cut short
# still covers them all; FIRST_ROUND.FIRST_IDX resumes one (after a frozen
# testhost was restarted)
rounds=$1 r=$2 first=$3
shift 3
echo "CRASHPLAN rounds=$rounds from=$r.$first configs=$*"
while [ "$r" -le "$rounds" ]; do
	idx=0
	for item in "$@"; do
		idx=$((idx + 1))
		[ "$idx" -lt "$first" ] && continue
		IFS=: read -r mode fmt cache <<EOF
$item
EOF
		echo "CRASHSTART $r.$idx $mode $fmt $cache"
		one_run "$mode" "$fmt" "$cache" "$r" ||
			echo "CRASHRUN $mode $fmt $cache $r FAIL could not make the image"
	done
	first=1
	r=$((r + 1))
done
[ -n "${blk_dio_loop:-}" ] && blk_dio_teardown
echo "CRASHDONE"
