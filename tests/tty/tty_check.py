#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks vmm's terminal handling on a real pseudo-terminal.

  tty_check.py VMM GUEST

Cases (each prints PASS/FAIL, then "tty-tests: N passed, M failed"):
  ctrl-a-x   Ctrl-A x quits with status 0 while the guest waits for input
  sigterm    SIGTERM ends vmm with 128+15
  raw-mode   while vmm runs the terminal is raw (no echo, no ICANON), and
             every case leaves it exactly as it found it
"""
import os, pty, select, signal, sys, termios, time

VMM, GUEST = sys.argv[1], sys.argv[2]
results = []


def read_until(fd, needle, timeout):
    buf, end = b"", time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if needle in buf:
                return buf
    return buf


def run_case(name, action):
    pid, master = pty.fork()
    if pid == 0:
        # child: the pty is our terminal; run vmm on it and report the
        # exit status and whether the terminal came back as it was
        before = termios.tcgetattr(0)
        child = os.fork()
        if child == 0:
            os.execv(VMM, [VMM, "--kernel", GUEST])
        # sample the terminal while vmm runs
        time.sleep(1.5)
        during = termios.tcgetattr(0)
        _, status = os.waitpid(child, 0)
        after = termios.tcgetattr(0)
        raw = not (during[3] & (termios.ECHO | termios.ICANON))
        code = os.waitstatus_to_exitcode(status)
        sys.stdout.write("\r\nTTYRESULT status=%d raw=%d restored=%d\r\n"
                         % (code, raw, before == after))
        sys.stdout.flush()
        os._exit(0)
    out = read_until(master, b"waiting", 20)  # the guest's prompt, if any
    time.sleep(2)
    action(master, pid)
    out += read_until(master, b"TTYRESULT", 20)
    out += read_until(master, b"\n", 2)
    os.waitpid(pid, 0)
    os.close(master)
    line = out[out.find(b"TTYRESULT"):].split(b"\r")[0].decode(errors="replace")
    fields = dict(kv.split("=") for kv in line.split()[1:]) if "TTYRESULT" in line else {}
    return fields, out


def expect(name, fields, out, status):
    ok = fields and fields["status"] == str(status) and fields["raw"] == "1" \
        and fields["restored"] == "1"
    if ok:
        print("PASS %s (status %s, raw while running, terminal restored)" % (name, status))
    else:
        print("FAIL %s: want status %d, raw=1, restored=1; got %s" % (name, status, fields or "nothing"))
        print(out.decode(errors="replace")[-2000:])
    results.append(bool(ok))


def ctrl_a_x(master, pid):
    os.write(master, b"\x01x")


def sigterm(master, pid):
    # the vmm process is the child's child: find it by parent pid
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                if int(st[1]) == pid:
                    os.kill(int(p), signal.SIGTERM)
            except OSError:
                pass


for name, action, status in (("ctrl-a-x", ctrl_a_x, 0), ("sigterm", sigterm, 143)):
    fields, out = run_case(name, action)
    expect(name, fields, out, status)

passed = sum(results)
print("tty-tests: %d passed, %d failed" % (passed, len(results) - passed))
sys.exit(0 if passed == len(results) else 1)
