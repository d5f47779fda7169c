#!/bin/bash
# SPDX-License-Identifier: MIT
# Snapshot and restore end to end on /dev/kvm (docs/snapshot.md), with
# ticks.elf: it prints "tick N" every 100 ms and a "ticks: boot" banner
# only when it boots, and answers "pong" to "p" on the serial console
# (through its RX interrupt, so the UART's state must come back).
#
#   tests/state/run.sh [BUILD_DIR]     (default build)
#
# Prints PASS/FAIL per case and ends with "state-tests: N passed, M failed".
set -u
cd "$(dirname "$0")/../.."
B=${1:-build}
VMM=$B/vmm
CTL=$B/vmmctl
GUESTS=${GUESTS:-build/guest-tests}
TICKS=$GUESTS/ticks.elf
pass=0 fail=0
work=$(mktemp -d /tmp/state-tests.XXXXXX)
pids=()

cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

for f in "$VMM" "$CTL" "$TICKS"; do
	if [ ! -e "$f" ]; then
		echo "state-tests: $f missing (make all guest-tests)"
		echo "state-tests: 0 passed, 1 failed"
		exit 1
	fi
done

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

api() {	# api SOCK METHOD ENDPOINT [BODY]: prints "BODY STATUS"
	local args=(-s -m 30 --unix-socket "$1" -X "$2" -w ' %{http_code}')
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl "${args[@]}" "http://localhost/api/v1/$3"
}

state_of() {	# state_of SOCK: Running, Paused, ...
	curl -s -m 5 --unix-socket "$1" http://localhost/api/v1/vm.info |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])' 2>/dev/null
}

wait_state() {	# wait_state SOCK STATE: at most 5 s
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && [ "$(state_of "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

wait_grep() {	# wait_grep FILE PATTERN [TENTHS]: until a line matches (default 10 s)
	local i
	for i in $(seq "${3:-100}"); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

vm_wait() {	# vm_wait PID: at most 10 s, then killed; sets st
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
	st=$?
}

last_tick() { grep -a -o 'tick [0-9]*' "$1" | tail -n 1 | cut -d' ' -f2; }
first_tick() { grep -a -o 'tick [0-9]*' "$1" | head -n 1 | cut -d' ' -f2; }
banners() { grep -a -c 'ticks: boot' "$1"; }

# ---- snapshot at tick ~5 ----
S=$work/a.sock
"$VMM" --kernel "$TICKS" --console "file:$work/a.console" --api-socket "$S" \
	</dev/null >"$work/a.out" 2>&1 &
A=$!
pids+=("$A")
SNAP=$work/snap
if wait_state "$S" Running && wait_grep "$work/a.console" 'tick 5'; then
	out=$("$CTL" snapshot --socket "$S" "$SNAP" 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ -s "$SNAP/state" ] && ls "$SNAP"/memory-?????? >/dev/null 2>&1; then
		ok "vmmctl snapshot: $out"
	else
		bad "vmmctl snapshot" "status $rc: $out $(cat "$work/a.out")"
	fi
	[ "$(state_of "$S")" = Paused ] && ok "the VM stays paused after the snapshot" ||
		bad "paused after snapshot" "state $(state_of "$S")"
	saved=$(last_tick "$work/a.console")
	sleep 0.4
	[ "$(last_tick "$work/a.console")" = "$saved" ] && ok "no tick while paused (tick $saved)" ||
		bad "paused" "ticks went on: $saved -> $(last_tick "$work/a.console")"
	mem=$(ls "$SNAP"/memory-* 2>/dev/null | head -n 1)
	used=$(du -k "$mem" 2>/dev/null | cut -f1)
	[ -n "$used" ] && [ "$used" -lt 16384 ] && ok "the 256 MiB memory file is sparse (${used} KiB used)" ||
		bad "sparse memory file" "${used:-none} KiB used"
	# a snapshot with --resume into the same directory replaces the first
	out=$("$CTL" snapshot --socket "$S" "$SNAP.2" --resume 2>&1) &&
		wait_state "$S" Running && ok "snapshot --resume: running again" ||
		bad "snapshot --resume" "$out / state $(state_of "$S")"
	out=$("$CTL" snapshot --socket "$S" /proc/no/such/dir 2>&1)
	[ $? != 0 ] && [ "$(state_of "$S")" = Running ] &&
		ok "a snapshot that cannot be written: refused, the VM runs on" ||
		bad "failed snapshot" "$out / state $(state_of "$S")"
	r=$(api "$S" PUT vm.snapshot '{"destination_url":"relative/dir"}')
	[ "${r##* }" = 400 ] && ok "vm.snapshot with a bad URL: 400" || bad "bad URL" "$r"
	"$CTL" quit --socket "$S" >/dev/null 2>&1
	vm_wait "$A"
else
	bad "snapshot" "ticks.elf did not reach tick 5: $(cat "$work/a.out")"
	saved=
fi

# ---- restore: ticks continue, no second boot, the console answers ----
if [ -n "$saved" ]; then
	R=$work/r.sock
	{ sleep 1.5; printf p; sleep 2; } |
		"$VMM" --restore "file://$SNAP" --resume --api-socket "$R" \
			>"$work/r.console" 2>"$work/r.err" &
	RP=$!
	pids+=("$RP")
	if wait_grep "$work/r.console" 'tick' 50; then
		first=$(first_tick "$work/r.console")
		[ "$first" = $((saved + 1)) ] && ok "restore --resume: ticks go on at $first (saved at $saved)" ||
			bad "ticks continue" "saved at $saved, restored VM printed tick $first first"
		[ "$(banners "$work/r.console")" = 0 ] && ok "no boot banner after the restore" ||
			bad "no boot banner" "$(grep -a 'ticks: boot' "$work/r.console")"
		wait_grep "$work/r.console" pong 40 && ok "console input works: p -> pong" ||
			bad "console input" "no pong (the UART's state did not come back?)"
	else
		bad "restore --resume" "no tick: $(cat "$work/r.err")"
	fi
	"$CTL" quit --socket "$R" >/dev/null 2>&1
	vm_wait "$RP"
	[ "$st" = 14 ] && ok "restored VM quits with 14" || bad "quit" "status $st"

	# paused restore, memory=copy, then resume from the control socket
	P=$work/p.sock
	"$VMM" --restore "file://$SNAP,memory=copy,clock=wall" --console "file:$work/p.console" \
		--api-socket "$P" </dev/null >"$work/p.out" 2>&1 &
	PP=$!
	pids+=("$PP")
	if wait_state "$P" Paused; then
		sleep 0.4
		[ ! -s "$work/p.console" ] && ok "restore without --resume stays paused" ||
			bad "paused restore" "$(head -c 200 "$work/p.console")"
		"$CTL" resume --socket "$P" >/dev/null 2>&1
		wait_grep "$work/p.console" "tick $((saved + 2))" 30 &&
			ok "memory=copy,clock=wall restore, resumed: tick $((saved + 2))" ||
			bad "resume after restore" "$(head -c 200 "$work/p.console") $(cat "$work/p.out")"
	else
		bad "paused restore" "state $(state_of "$P"): $(cat "$work/p.out")"
	fi
	"$CTL" quit --socket "$P" >/dev/null 2>&1
	vm_wait "$PP"

	# an empty vmm restores through the API
	E=$work/e.sock
	"$VMM" --api-socket "$E" </dev/null >"$work/e.console" 2>"$work/e.out" &
	EP=$!
	pids+=("$EP")
	wait_state "$E" Created
	r=$(api "$E" PUT vm.restore "{\"source_url\":\"file://$SNAP\",\"resume\":true}")
	if [ "${r##* }" = 204 ] && wait_grep "$work/e.console" "tick $((saved + 1))" 30; then
		ok "vm.restore on an empty vmm: 204, ticks go on"
	else
		bad "vm.restore" "$r: $(cat "$work/e.out")"
	fi
	"$CTL" quit --socket "$E" >/dev/null 2>&1
	vm_wait "$EP"
fi

# ---- live migration between two vmm processes over a Unix socket ----
M=$work/m.sock
"$VMM" --kernel "$TICKS" --console "file:$work/m1.console" --api-socket "$M" \
	</dev/null >"$work/m1.out" 2>&1 &
M1=$!
pids+=("$M1")
"$VMM" --incoming "unix:$work/mig.sock" --console "file:$work/m2.console" \
	--api-socket "$work/m2.sock" </dev/null >"$work/m2.out" 2>&1 &
M2=$!
pids+=("$M2")
if wait_state "$M" Running && wait_grep "$work/m1.console" 'tick 3' && [ -S "$work/mig.sock" ]; then
	out=$("$CTL" migrate --socket "$M" "unix:$work/mig.sock" 2>&1)
	rc=$?
	vm_wait "$M1"
	if [ $rc = 0 ] && [ "$st" = 0 ] && grep -q "migrated to unix:" "$work/m1.out"; then
		ok "migrate: $out; the source exits 0: $(grep -o 'downtime.*' "$work/m1.out")"
	else
		bad "migrate" "vmmctl $rc, source status $st: $out $(cat "$work/m1.out" "$work/m2.out")"
	fi
	last=$(last_tick "$work/m1.console")
	if wait_grep "$work/m2.console" 'tick' 30; then
		first=$(first_tick "$work/m2.console")
		[ "$first" = $((last + 1)) ] && [ "$(banners "$work/m2.console")" = 0 ] &&
			ok "the destination goes on at tick $first (source stopped at $last), no boot" ||
			bad "destination ticks" "source stopped at $last, destination began at $first"
	else
		bad "destination runs" "no tick: $(cat "$work/m2.out")"
	fi
	"$CTL" quit --socket "$work/m2.sock" >/dev/null 2>&1
	vm_wait "$M2"
else
	bad "migrate" "setup: $(cat "$work/m1.out" "$work/m2.out")"
fi

# over TCP, inside a network namespace of our own (loopback only, nothing leaves it)
if unshare -n true 2>/dev/null; then
	out=$(timeout 60 unshare -n bash -c '
		ip link set lo up || exit 1
		"$1" --kernel "$3" --console "file:$4/t1.console" --api-socket "$4/t1.sock" \
			</dev/null >"$4/t1.out" 2>&1 &
		a=$!
		"$1" --incoming tcp:127.0.0.1:4444 --console "file:$4/t2.console" \
			--api-socket "$4/t2.sock" </dev/null >"$4/t2.out" 2>&1 &
		b=$!
		for i in $(seq 100); do
			grep -q "tick 2" "$4/t1.console" 2>/dev/null && [ -S "$4/t2.sock" ] && break
			sleep 0.05
		done
		"$2" migrate --socket "$4/t1.sock" tcp:127.0.0.1:4444; rc=$?
		wait $a; sa=$?
		for i in $(seq 50); do grep -q tick "$4/t2.console" 2>/dev/null && break; sleep 0.1; done
		"$2" quit --socket "$4/t2.sock" >/dev/null
		wait $b
		echo "rc=$rc source=$sa"' _ "$VMM" "$CTL" "$TICKS" "$work" 2>&1)
	if echo "$out" | grep -q "rc=0 source=0" && grep -q tick "$work/t2.console" &&
	   [ "$(banners "$work/t2.console")" = 0 ]; then
		ok "migrate over TCP (private network namespace): the destination goes on"
	else
		bad "migrate over TCP" "$out $(cat "$work/t1.out" "$work/t2.out" 2>/dev/null)"
	fi
else
	echo "SKIP migrate over TCP: cannot create a network namespace (needs root)"
fi

# an empty vmm receives through vm.receive-migration
"$VMM" --kernel "$TICKS" --console "file:$work/r1.console" --api-socket "$work/r1.sock" \
	</dev/null >"$work/r1.out" 2>&1 &
R1=$!
pids+=("$R1")
"$VMM" --api-socket "$work/r2.sock" </dev/null >"$work/r2.console" 2>"$work/r2.out" &
R2=$!
pids+=("$R2")
if wait_state "$work/r1.sock" Running && wait_state "$work/r2.sock" Created &&
   wait_grep "$work/r1.console" 'tick 2'; then
	api "$work/r2.sock" PUT vm.receive-migration \
		"{\"receiver_url\":\"unix:$work/r.mig\"}" >"$work/r2.api" &
	RA=$!
	for i in $(seq 50); do [ -S "$work/r.mig" ] && break; sleep 0.1; done
	out=$("$CTL" migrate --socket "$work/r1.sock" "unix:$work/r.mig" 2>&1)
	rc=$?
	wait "$RA"
	last=$(last_tick "$work/r1.console")
	if [ $rc = 0 ] && grep -q ' 204$' "$work/r2.api" &&
	   wait_grep "$work/r2.console" "tick $((last + 1))" 30; then
		ok "vm.receive-migration on an empty vmm: 204, the guest goes on at tick $((last + 1))"
	else
		bad "vm.receive-migration" "migrate $rc: $out; $(cat "$work/r2.api" "$work/r2.out")"
	fi
else
	bad "vm.receive-migration" "setup: $(cat "$work/r1.out" "$work/r2.out")"
fi
"$CTL" quit --socket "$work/r1.sock" >/dev/null 2>&1
"$CTL" quit --socket "$work/r2.sock" >/dev/null 2>&1
vm_wait "$R1"
vm_wait "$R2"

# a destination that hangs up halfway: the source goes on as if nothing happened
F=$work/f.sock
"$VMM" --kernel "$TICKS" --console "file:$work/f.console" --api-socket "$F" \
	</dev/null >"$work/f.out" 2>&1 &
FP=$!
pids+=("$FP")
python3 - "$work/cut.sock" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept(); c.recv(3000); c.close()
PYEOF
CUT=$!
if wait_state "$F" Running && wait_grep "$work/f.console" 'tick 2'; then
	for i in $(seq 50); do [ -S "$work/cut.sock" ] && break; sleep 0.1; done
	out=$("$CTL" migrate --socket "$F" "unix:$work/cut.sock" 2>&1)
	rc=$?
	n=$(last_tick "$work/f.console")
	sleep 0.5
	if [ $rc != 0 ] && [ "$(state_of "$F")" = Running ] &&
	   [ "$(last_tick "$work/f.console")" -gt "$n" ]; then
		ok "a cut stream: vmmctl $rc, the source runs on ($(echo "$out" | head -c 100))"
	else
		bad "cut stream" "vmmctl $rc, state $(state_of "$F"): $out"
	fi
	out=$("$CTL" migrate --socket "$F" "unix:$work/nobody.sock" 2>&1)
	[ $? != 0 ] && [ "$(state_of "$F")" = Running ] &&
		ok "no destination: refused, the source runs on" || bad "no destination" "$out"
	# one that takes the whole stream, then hangs up without its answer
	python3 - "$work/noack.sock" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
while c.recv(65536):
    pass
c.close()
PYEOF
	NOACK=$!
	for i in $(seq 50); do [ -S "$work/noack.sock" ] && break; sleep 0.1; done
	out=$("$CTL" migrate --socket "$F" "unix:$work/noack.sock" 2>&1)
	rc=$?
	n=$(last_tick "$work/f.console")
	sleep 0.5
	if [ $rc != 0 ] && [ "$(state_of "$F")" = Running ] &&
	   [ "$(last_tick "$work/f.console")" -gt "$n" ]; then
		ok "no answer after the last byte: the paused source resumes ($(echo "$out" | head -c 90))"
	else
		bad "no answer" "vmmctl $rc, state $(state_of "$F"): $out"
	fi
	kill "$NOACK" 2>/dev/null

	# vmmctl migrate --cancel while the destination says nothing
	python3 - "$work/stall.sock" <<'PYEOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
time.sleep(60)
PYEOF
	STALL=$!
	for i in $(seq 50); do [ -S "$work/stall.sock" ] && break; sleep 0.1; done
	"$CTL" migrate --socket "$F" "unix:$work/stall.sock" >"$work/stall.out" 2>&1 &
	MIGP=$!
	sleep 1
	out=$("$CTL" migrate --socket "$F" --cancel 2>&1)
	rc=$?
	wait "$MIGP"
	mrc=$?
	n=$(last_tick "$work/f.console")
	sleep 0.5
	if [ $rc = 0 ] && [ $mrc != 0 ] && [ "$(state_of "$F")" = Running ] &&
	   [ "$(last_tick "$work/f.console")" -gt "$n" ]; then
		ok "migrate --cancel: $out; the VM runs on ($(head -c 80 "$work/stall.out"))"
	else
		bad "migrate --cancel" "cancel $rc ($out), migrate $mrc: $(cat "$work/stall.out")"
	fi
	out=$("$CTL" migrate --socket "$F" --cancel 2>&1)
	[ $? = 4 ] && ok "--cancel with no migration: refused (4)" || bad "cancel, none" "$out"
	kill "$STALL" 2>/dev/null
else
	bad "cut stream" "setup: $(cat "$work/f.out")"
fi
kill "$CUT" 2>/dev/null
"$CTL" quit --socket "$F" >/dev/null 2>&1
vm_wait "$FP"

# ---- 2 vCPUs reading kvmclock in a tight loop, saved and restored mid-run ----
# kvmclock.elf fails at once on a clock that goes backwards across vCPUs
KC=$GUESTS/kvmclock.elf
if [ -e "$KC" ]; then
	K=$work/k.sock
	"$VMM" --kernel "$KC" --cpus 2 --cmdline "cpus=2 secs=3 stable=1" \
		--console "file:$work/k1.console" --api-socket "$K" </dev/null >"$work/k1.out" 2>&1 &
	KP=$!
	pids+=("$KP")
	if wait_state "$K" Running && wait_grep "$work/k1.console" 'kvmclock on 2 CPUs' &&
	   sleep 1 && "$CTL" snapshot --socket "$K" "$work/ksnap" >/dev/null 2>&1; then
		"$CTL" quit --socket "$K" >/dev/null 2>&1
		vm_wait "$KP"
		timeout 30 "$VMM" --restore "file://$work/ksnap" --resume \
			--console "file:$work/k2.console" </dev/null >"$work/k2.out" 2>&1
		st=$?
		if [ $st = 1 ] && grep -q "no warp in" "$work/k2.console" &&
		   grep -q SUCCESS "$work/k2.console" && ! grep -q SUCCESS "$work/k1.console"; then
			ok "kvmclock on 2 vCPUs, snapshotted mid-run: restored, no warp, SUCCESS"
		else
			bad "kvmclock restore" "status $st: $(cat "$work/k2.console" "$work/k2.out")"
		fi
	else
		bad "kvmclock snapshot" "$(cat "$work/k1.out")"
		"$CTL" quit --socket "$K" >/dev/null 2>&1
		vm_wait "$KP"
	fi
	# the same guest migrated while its vCPUs write memory all the time
	"$VMM" --kernel "$KC" --cpus 2 --cmdline "cpus=2 secs=3 stable=1" \
		--console "file:$work/k3.console" --api-socket "$K" </dev/null >"$work/k3.out" 2>&1 &
	KP=$!
	pids+=("$KP")
	"$VMM" --incoming "unix:$work/k.mig" --console "file:$work/k4.console" \
		</dev/null >"$work/k4.out" 2>&1 &
	KD=$!
	pids+=("$KD")
	if wait_state "$K" Running && wait_grep "$work/k3.console" 'kvmclock on 2 CPUs' &&
	   [ -S "$work/k.mig" ] && sleep 1 &&
	   "$CTL" migrate --socket "$K" "unix:$work/k.mig" >/dev/null 2>&1; then
		vm_wait "$KP"
		vm_wait "$KD"
		if [ "$st" = 1 ] && grep -q "no warp in" "$work/k4.console" &&
		   grep -q SUCCESS "$work/k4.console"; then
			ok "kvmclock on 2 vCPUs, migrated mid-run: no warp, SUCCESS ($(grep -o 'downtime.*' "$work/k3.out"))"
		else
			bad "kvmclock migration" "status $st: $(cat "$work/k4.console" "$work/k4.out")"
		fi
	else
		bad "kvmclock migration" "$(cat "$work/k3.out" "$work/k4.out")"
		"$CTL" quit --socket "$K" >/dev/null 2>&1
		vm_wait "$KP"
		kill "$KD" 2>/dev/null
	fi
fi

# ---- refusals: one line, exit status 20, before anything runs ----
refused() {	# refused NAME PATTERN DIR: vmm --restore DIR must exit 20 with PATTERN
	local name=$1 pat=$2 dir=$3 out rc
	out=$(timeout 20 "$VMM" --restore "file://$dir" --console none </dev/null 2>&1)
	rc=$?
	if [ $rc = 20 ] && echo "$out" | grep -q -- "$pat"; then
		ok "$name: status 20, $(echo "$out" | grep -- "$pat" | head -n 1 | cut -c1-110)"
	else
		bad "$name" "status $rc (want 20), output: $out"
	fi
}
copy() { rm -rf "$work/$1"; cp -a --sparse=always "$SNAP" "$work/$1"; echo "$work/$1"; }
if [ -s "$SNAP/state" ]; then
	d=$(copy trunc); sz=$(stat -c %s "$d/state"); truncate -s $((sz / 2)) "$d/state"
	refused "truncated state file" "truncated\|ends early" "$d"
	d=$(copy flip); python3 tests/state/tamper.py "$d/state" flipbyte
	refused "corrupt state file" "CRC" "$d"
	d=$(copy vers); python3 tests/state/tamper.py "$d/state" version
	refused "newer format version" "format version 2" "$d"
	d=$(copy mem); m=$(ls "$d"/memory-*); truncate -s 128M "$m"
	refused "memory file of the wrong size" "memory file .* holds 134217728 bytes" "$d"
	d=$(copy cpu); python3 tests/state/tamper.py "$d/state" cpuid
	refused "a CPU feature this host lacks" "CPU cannot run the saved VM" "$d"
	d=$(copy empty); : >"$d/state"
	refused "empty state file" "state file" "$d"
	out=$("$VMM" --restore "file://$SNAP" --kernel "$TICKS" 2>&1)
	[ $? = 2 ] && ok "--restore with --kernel: status 2" || bad "--restore --kernel" "$out"
	out=$("$VMM" --restore "file://$SNAP,memory=lazy" --console none 2>&1)
	[ $? = 2 ] && ok "--restore with an unknown option: status 2" || bad "bad option" "$out"
	out=$("$VMM" --restore "file://$work/nothing" --console none 2>&1)
	[ $? = 4 ] && ok "--restore of a missing directory: status 4" || bad "missing dir" "$out"
fi

# ---- a VM with a disk: the image must be the one that was saved ----
truncate -s 1M "$work/d.raw"
D=$work/d.sock
"$VMM" --kernel "$TICKS" --disk "path=$work/d.raw,format=raw" --console "file:$work/d.console" \
	--api-socket "$D" </dev/null >"$work/d.out" 2>&1 &
DP=$!
pids+=("$DP")
if wait_state "$D" Running && wait_grep "$work/d.console" 'tick 2' &&
   "$CTL" snapshot --socket "$D" "$work/dsnap" >/dev/null 2>&1; then
	"$CTL" quit --socket "$D" >/dev/null 2>&1
	vm_wait "$DP"
	"$VMM" --restore "file://$work/dsnap" --resume --console "file:$work/d2.console" \
		--api-socket "$work/d2.sock" </dev/null >"$work/d2.out" 2>&1 &
	D2=$!
	pids+=("$D2")
	wait_state "$work/d2.sock" Running && wait_grep "$work/d2.console" tick 30 &&
		ok "restore of a VM with a virtio-blk disk: it runs" ||
		bad "restore with a disk" "$(cat "$work/d2.out")"
	"$CTL" quit --socket "$work/d2.sock" >/dev/null 2>&1
	vm_wait "$D2"
	truncate -s 2M "$work/d.raw"
	refused "a disk image resized since the snapshot" "disk 0 .* was resized" "$work/dsnap"
else
	bad "snapshot with a disk" "$(cat "$work/d.out")"
	"$CTL" quit --socket "$D" >/dev/null 2>&1
	vm_wait "$DP"
fi

echo "state-tests: $pass passed, $fail failed"
[ "$fail" = 0 ]
