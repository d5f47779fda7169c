#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Snapshot and restore times of a tiny guest (docs/performance.md,
"Snapshot and restore").

    bench/state/bench.py [BUILD_DIR] [ROUNDS] [MEMORY...]   (build 10 256M 1G)

For each memory size: ticks.elf boots with a control socket; at "tick 3"
`vmmctl snapshot` writes it to a directory (timed: the vmmctl call, pause
included).  Then ROUNDS times each, alternating:
  cold     vmm --kernel ticks.elf: exec to the first "tick" line
  restore  vmm --restore DIR --resume: exec to the first "tick" line
  copy     the same with memory=copy
a migration between two vmm processes over a Unix socket (the source's
own line: total time and downtime, pause to the destination's answer);
and, from vmm -v's own log line, the time vm_restore() took (state file
read and checked, VM built, memory mapped or copied, state put back).
A "tick" line comes every 100 ms of guest time, so both the cold boot and
the restore include up to 100 ms of the guest's own waiting; the internal
restore time does not.  Medians and ranges are printed as a Markdown table.
"""
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

B = sys.argv[1] if len(sys.argv) > 1 else "build"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
SIZES = sys.argv[3:] or ["256M", "1G"]
VMM, CTL = f"{B}/vmm", f"{B}/vmmctl"
TICKS = os.environ.get("GUESTS", "build/guest-tests") + "/ticks.elf"


def until_line(args, pattern, timeout=20.0):
    """Starts args, returns (seconds to the first stdout line matching, stderr)."""
    t0 = time.monotonic()
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    buf, t = b"", None
    while time.monotonic() - t0 < timeout:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if not r:
            continue
        chunk = os.read(p.stdout.fileno(), 4096)
        if not chunk:
            break
        buf += chunk
        if re.search(pattern, buf):
            t = time.monotonic() - t0
            break
    p.kill()
    _, err = p.communicate()
    return t, err.decode(errors="replace")


def snapshot(mem, d):
    sock = os.path.join(d, "s.sock")
    con = os.path.join(d, "c")
    for f in (sock, con):
        if os.path.exists(f):
            os.unlink(f)
    p = subprocess.Popen([VMM, "--kernel", TICKS, "--memory", mem, "--console",
                          "file:" + con, "--api-socket", sock],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        if (os.path.exists(sock) and os.path.exists(con) and
                b"tick 3" in open(con, "rb").read()):
            break
        time.sleep(0.05)
    t0 = time.monotonic()
    r = subprocess.run([CTL, "snapshot", "--socket", sock, os.path.join(d, "snap")],
                       capture_output=True, text=True)
    t = time.monotonic() - t0
    subprocess.run([CTL, "quit", "--socket", sock], capture_output=True)
    p.wait()
    if r.returncode:
        sys.exit("snapshot failed: " + r.stderr)
    return t


def migrate(mem, d):
    """One idle migration; returns (total s, downtime s) from the source's line."""
    src, dst = os.path.join(d, "src.sock"), os.path.join(d, "mig.sock")
    con = os.path.join(d, "mc")
    for f in (src, dst, con):
        if os.path.exists(f):
            os.unlink(f)
    a = subprocess.Popen([VMM, "--kernel", TICKS, "--memory", mem, "--console", "file:" + con,
                          "--api-socket", src], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    b = subprocess.Popen([VMM, "--incoming", "unix:" + dst, "--console", "none"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        if (os.path.exists(src) and os.path.exists(dst) and os.path.exists(con) and
                b"tick 3" in open(con, "rb").read()):
            break
        time.sleep(0.05)
    subprocess.run([CTL, "migrate", "--socket", src, "unix:" + dst], capture_output=True)
    _, err = a.communicate(timeout=30)
    b.kill()
    b.wait()
    m = re.search(r"in ([0-9.]+) ms, downtime ([0-9.]+) ms", err.decode(errors="replace"))
    return (float(m.group(1)) / 1000, float(m.group(2)) / 1000) if m else (None, None)


def med(xs):
    xs = [x * 1000 for x in xs if x is not None]
    if not xs:
        return "-"
    return f"{statistics.median(xs):.1f} ({min(xs):.1f}-{max(xs):.1f})"


def main():
    print(f"| RAM | snapshot (vmmctl) | cold boot to tick 1 | restore to next tick | "
          f"restore, memory=copy | vm_restore() map | vm_restore() copy | "
          f"migration total | migration downtime |")
    print("|---|---|---|---|---|---|---|---|---|")
    for mem in SIZES:
        d = tempfile.mkdtemp(prefix="bench-state.", dir="/var/tmp")
        snaps, cold, rest, copy, imap, icopy = [], [], [], [], [], []
        mtot, mdown = [], []
        try:
            for _ in range(3):
                shutil.rmtree(os.path.join(d, "snap"), ignore_errors=True)
                snaps.append(snapshot(mem, d))
            url = "file://" + os.path.join(d, "snap")
            for _ in range(ROUNDS):
                t, _ = until_line([VMM, "--kernel", TICKS, "--memory", mem], rb"tick 1")
                cold.append(t)
                for mode, tl, il in ((url, rest, imap), (url + ",memory=copy", copy, icopy)):
                    t, err = until_line([VMM, "-v", "--restore", mode, "--resume"], rb"tick")
                    tl.append(t)
                    m = re.search(r"restored .* in ([0-9.]+) ms", err)
                    il.append(float(m.group(1)) / 1000 if m else None)
            for _ in range(min(ROUNDS, 5)):
                t, dt = migrate(mem, d)
                mtot.append(t)
                mdown.append(dt)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        print(f"| {mem} | {med(snaps)} | {med(cold)} | {med(rest)} | {med(copy)} | "
              f"{med(imap)} | {med(icopy)} | {med(mtot)} | {med(mdown)} |")


main()
