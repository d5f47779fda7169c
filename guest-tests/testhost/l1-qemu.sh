# SPDX-License-Identifier: MIT
# Sourced (bash) by every script that boots the testhost: its QEMU command
# line and the watchdog for a frozen TCG testhost (docs/testhost.md).
# Needs L1_KERNEL and out (the directory holding l1.cpio and qemu.err).

# l1_qemu_cmd SMP: sets the array l1_qemu; callers add -serial and -append.
# TESTHOST_ICOUNT=SHIFT (benchmarks only): TCG counts instructions and the
# testhost's clock advances 2^SHIFT ns per instruction, so timings measure
# work done, the same in every run, whatever else the host is doing.
l1_qemu_cmd() {
	l1_qemu=(qemu-system-x86_64 -accel tcg -cpu EPYC -smp "$1" -m 3072
		-M pc -nodefaults -no-user-config -display none -no-reboot
		-kernel "$L1_KERNEL" -initrd "$out/l1.cpio")
	if [ -n "${TESTHOST_ICOUNT:-}" ]; then
		l1_qemu+=(-icount "shift=$TESTHOST_ICOUNT")
	fi
}

# l1_watched LOG TIMEOUT FREEZE APPEND: runs "${l1_qemu[@]}" with its
# console in LOG for at most TIMEOUT s and kills it once LOG has been
# silent for FREEZE s (l1-init prints a heartbeat every 20 s, so silence
# means the TCG testhost froze, not that a job hung).  Sets froze (0 or 1)
# and qrc (QEMU's exit status); QEMU's stderr is appended to $out/qemu.err.
l1_watched() {
	local log=$1 limit=$2 freeze=$3 append=$4 pid
	: >"$log"
	timeout -k 10 "$limit" "${l1_qemu[@]}" -serial "file:$log" -append "$append" \
		2>>"$out/qemu.err" </dev/null &
	pid=$!
	froze=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ $(($(date +%s) - $(stat -c %Y "$log"))) -gt "$freeze" ] &&
		   kill -0 "$pid" 2>/dev/null; then
			froze=1
			kill "$pid"
			break
		fi
	done
	wait "$pid"
	qrc=$?
}
