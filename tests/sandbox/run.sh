#!/bin/bash
# Least privilege and the seccomp sandbox, end to end (docs/sandbox.md):
#   - a tiny guest runs as an ordinary user (nobody) in group kvm
#   - vmm refuses to run setuid (status 2, one line)
#   - the tiny guests' paths that print the most (-vv, crash report) run
#     under --seccomp on without a violation
# usage: tests/sandbox/run.sh BUILD_DIR   (vmm and guest-tests under it)
# Prints PASS/FAIL/SKIP per case and "sandbox-tests: N passed, M failed".
set -u
BUILD=$(cd "${1:-build}" && pwd)
VMM=$BUILD/vmm
GUESTS=$BUILD/guest-tests
PASSED=0 FAILED=0
pass() { echo "PASS $1"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL $1: $2"; FAILED=$((FAILED + 1)); }
skip() { echo "SKIP $1: $2"; }
T=$(mktemp -d /tmp/vmm-sandbox-tests.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT

if [ ! -x "$VMM" ] || [ ! -f "$GUESTS/hello.elf" ]; then
	fail setup "$VMM or $GUESTS/hello.elf not built (make all guest-tests)"
	echo "sandbox-tests: $PASSED passed, $FAILED failed"
	exit 1
fi

# run NAME EXPECTED_STATUS CMD...: the status, and no seccomp line on stderr
run() {
	local name=$1 want=$2 rc; shift 2
	timeout 60 "$@" </dev/null >"$T/out" 2>"$T/err"; rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name" "exit status $rc, expected $want: $(tail -n 2 "$T/err" | tr '\n' ' ')"
	elif grep -q 'seccomp: the' "$T/err"; then
		fail "$name" "$(grep 'seccomp: the' "$T/err" | head -n 1)"
	else
		pass "$name"
	fi
}

# -- the seccomp filters on the noisiest tiny-guest paths
run seccomp-vv 1 "$VMM" --kernel "$GUESTS/hello.elf" --console none -vv --seccomp on
run seccomp-crash-report 8 "$VMM" --kernel "$GUESTS/exit.elf" --cmdline exit=triple --console none -vv
run seccomp-smp-halt 12 "$VMM" --kernel "$GUESTS/exit.elf" --cpus 2 --cmdline exit=halt --console none
# a disk attached (opened before the filters, closed after them)
truncate -s 8M "$T/disk.raw"
run seccomp-disk 1 "$VMM" --kernel "$GUESTS/hello.elf" --console none \
	--disk "path=$T/disk.raw,format=raw"

# -- as an ordinary user in group kvm
why=""
if [ "$(id -u)" -ne 0 ]; then
	why="not root: cannot switch to another user"
elif ! getent group kvm >/dev/null; then
	why="no group kvm on this host"
elif ! command -v setpriv >/dev/null; then
	why="setpriv missing (util-linux)"
elif perm=$(stat -c %a /dev/kvm 2>/dev/null); [ "$(stat -c %G /dev/kvm 2>/dev/null)" != kvm ] ||
	[ $(( ${perm: -2:1} & 6 )) -ne 6 ]; then
	why="/dev/kvm is not read/write for group kvm ($(ls -l /dev/kvm 2>&1))"
fi
# copies in the scratch directory: the build tree may not be searchable by nobody
install -m 755 "$VMM" "$T/vmm"
install -m 644 "$GUESTS/hello.elf" "$T/hello.elf"
if [ -z "$why" ] && ! setpriv --reuid=nobody --regid=kvm --clear-groups test -x "$T/vmm"; then
	why="user nobody cannot reach $T"
fi
if [ -n "$why" ]; then
	skip nonroot-guest "$why"
	skip setuid-refused "$why"
else
	as_nobody=(setpriv --reuid=nobody --regid=kvm --clear-groups)
	run nonroot-guest 1 "${as_nobody[@]}" "$T/vmm" --kernel "$T/hello.elf" --console none
	# and it really was not root: vmm cannot open a root-only file as a disk
	install -m 600 /dev/null "$T/root-only.raw"
	truncate -s 1M "$T/root-only.raw"
	timeout 60 "${as_nobody[@]}" "$T/vmm" --kernel "$T/hello.elf" --console none \
		--disk "path=$T/root-only.raw,format=raw" </dev/null >/dev/null 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 4 ] && grep -qi 'permission denied' "$T/err"; then
		pass nonroot-is-unprivileged
	else
		fail nonroot-is-unprivileged "status $rc: $(head -n 1 "$T/err")"
	fi
	# a setuid-root copy run by nobody: refused with one line, status 2
	install -m 4755 "$VMM" "$T/vmm-setuid"
	timeout 60 "${as_nobody[@]}" "$T/vmm-setuid" --kernel "$T/hello.elf" --console none \
		</dev/null >/dev/null 2>"$T/err"
	rc=$?
	if [ "$rc" -eq 2 ] && grep -q 'refuses to run setuid' "$T/err" && [ "$(wc -l <"$T/err")" -eq 1 ]; then
		pass setuid-refused
	else
		fail setuid-refused "status $rc: $(head -n 2 "$T/err" | tr '\n' ' ')"
	fi
fi

echo "sandbox-tests: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
