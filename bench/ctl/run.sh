#!/bin/bash
# SPDX-License-Identifier: MIT
# Control-socket round trips, vmm vs QEMU's QMP, in one run: the same tiny
# guest (build/guest-tests/serial.elf, which waits 20 s for a line) under
#   vmm  --api-socket S   ping = GET vmm.ping, info = GET vm.info,
#                         pause+resume = PUT vm.pause + PUT vm.resume
#   qemu -qmp unix:S      ping = query-version, info = query-status,
#                         pause+resume = stop + cont
# Each client keeps one connection open (HTTP keep-alive; one QMP session)
# and times N round trips of each (python3, time.perf_counter_ns).
#   bench/ctl/run.sh      prints the markdown table for docs/performance.md
# Environment: BUILD (build), N (300) round trips per operation,
#   QEMU (qemu-system-x86_64), QEMU_ACCEL (kvm, falls back to tcg).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 1
BUILD=${BUILD:-build}
N=${N:-300}
QEMU=${QEMU:-qemu-system-x86_64}
GUEST=$BUILD/guest-tests/serial.elf
work=$(mktemp -d /tmp/bench-ctl.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

[ -x "$BUILD/vmm" ] && [ -e "$GUEST" ] || { echo "bench-ctl: make all guest-tests first" >&2; exit 1; }

wait_sock() {
	local i
	for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
	return 1
}

"$BUILD/vmm" --kernel "$GUEST" --console none --api-socket "$work/vmm.sock" </dev/null \
	>"$work/vmm.log" 2>&1 &
pids+=($!)
wait_sock "$work/vmm.sock" || { echo "bench-ctl: vmm did not start" >&2; exit 1; }

qemu_ok=0
if command -v "$QEMU" >/dev/null; then
	for accel in ${QEMU_ACCEL:-kvm tcg}; do
		"$QEMU" -accel "$accel" -m 256 -display none -serial null -monitor none \
			-kernel "$GUEST" -qmp "unix:$work/qmp.sock,server=on,wait=off" \
			</dev/null >"$work/qemu.log" 2>&1 &
		pids+=($!)
		if wait_sock "$work/qmp.sock" && kill -0 "${pids[-1]}" 2>/dev/null; then
			qemu_ok=1
			qemu_accel=$accel
			break
		fi
	done
fi

python3 - "$work/vmm.sock" "$([ $qemu_ok = 1 ] && echo "$work/qmp.sock")" "$N" \
	"${qemu_accel:-none}" <<'EOF'
import http.client, json, socket, statistics, sys, time

vmm_sock, qmp_sock, n, accel = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]

class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=10)
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(self.path)

def timed(fn):
    out = []
    for _ in range(n):
        t = time.perf_counter_ns()
        ok = fn()
        out.append(time.perf_counter_ns() - t)
        if not ok:
            return None
    out.sort()
    return statistics.median(out) / 1000, out[int(len(out) * 0.99) - 1] / 1000

h = Unix(vmm_sock)
def req(method, ep):
    h.request(method, "/api/v1/" + ep, body=b"" if method == "PUT" else None)
    r = h.getresponse()
    r.read()
    return r.status < 300
vmm = {
    "ping": timed(lambda: req("GET", "vmm.ping")),
    "info": timed(lambda: req("GET", "vm.info")),
    "pause+resume": timed(lambda: req("PUT", "vm.pause") and req("PUT", "vm.resume")),
}

qemu = {}
if qmp_sock:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(qmp_sock)
    f = s.makefile("rwb")
    f.readline()                                  # greeting
    def qmp(cmd):
        f.write(json.dumps({"execute": cmd}).encode() + b"\n")
        f.flush()
        while True:
            r = json.loads(f.readline())
            if "return" in r:
                return True
            if "error" in r:
                return False                      # events are skipped
    qmp("qmp_capabilities")
    qemu = {
        "ping": timed(lambda: qmp("query-version")),
        "info": timed(lambda: qmp("query-status")),
        "pause+resume": timed(lambda: qmp("stop") and qmp("cont")),
    }

def cell(v):
    return "n/a" if not v else "%.0f / %.0f" % v
print("Control-socket round trips, %d each, median / p99 in microseconds "
      "(QEMU accel: %s):\n" % (n, accel))
print("| operation | vmm (HTTP over Unix socket) | QEMU (QMP) |")
print("|---|---|---|")
for op in ("ping", "info", "pause+resume"):
    print("| %s | %s | %s |" % (op, cell(vmm[op]), cell(qemu.get(op))))
EOF
