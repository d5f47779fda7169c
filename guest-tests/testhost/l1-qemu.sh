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
# Unless TESTHOST_MONITOR=0, QEMU's monitor listens on LOG.mon and a frozen
# testhost's CPU state is saved to LOG.frozen before it is killed (what the
# L1 vCPU was doing: HLT, in a nested guest or not, its local APIC).
l1_watched() {
	local log=$1 limit=$2 freeze=$3 append=$4 pid mon=()
	: >"$log"
	if [ "${TESTHOST_MONITOR:-1}" = 1 ]; then
		rm -f "$log.mon"
		mon=(-monitor "unix:$log.mon,server,nowait")
	fi
	timeout -k 10 "$limit" "${l1_qemu[@]}" "${mon[@]}" -serial "file:$log" -append "$append" \
		2>>"$out/qemu.err" </dev/null &
	pid=$!
	froze=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if [ $(($(date +%s) - $(stat -c %Y "$log"))) -gt "$freeze" ] &&
		   kill -0 "$pid" 2>/dev/null; then
			froze=1
			[ "${#mon[@]}" -gt 0 ] && l1_dump_state "$log.mon" >"$log.frozen" 2>&1
			kill "$pid"
			break
		fi
	done
	wait "$pid"
	qrc=$?
}

# l1_dump_state SOCK: the monitor's view of the L1 vCPU, twice 2 s apart
# (does anything move?)
l1_dump_state() {
	python3 - "$1" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(3)
def cmd(c):
    s.sendall((c + "\n").encode())
    time.sleep(0.5)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    sys.stdout.write(out.decode(errors="replace"))
for rnd in range(2):
    for c in ("info registers", "info lapic", "info pic", "info irq"):
        cmd(c)
    time.sleep(2)
EOF
}
