#!/bin/bash
# SPDX-License-Identifier: MIT
# The control socket and vmmctl against real vmm processes running tiny
# guests on /dev/kvm (docs/control.md).  serial.elf waits up to 20 s for a
# line on COM1, which is long enough to talk to it; hello.elf ends at once.
#
#   tests/ctl/run.sh [BUILD_DIR]     (default build)
#
# Prints PASS/FAIL per case and ends with "ctl-tests: N passed, M failed".
# Cases marked "(runtime)" drive the runtime (pause, resume, power
# button, reset).
set -u
cd "$(dirname "$0")/../.."
B=${1:-build}
VMM=$B/vmm
CTL=$B/vmmctl
GUESTS=${GUESTS:-build/guest-tests}	# the guests are the same in every build
pass=0 fail=0
work=$(mktemp -d /tmp/ctl-tests.XXXXXX)
names=()
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

for f in "$VMM" "$CTL" "$GUESTS/serial.elf" "$GUESTS/hello.elf"; do
	if [ ! -e "$f" ]; then
		echo "ctl-tests: $f missing (make all guest-tests)"
		echo "ctl-tests: 0 passed, 1 failed"
		exit 1
	fi
done

ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

# start_vm TAG [vmm args...]: a waiting guest with its socket at $work/TAG.sock;
# sets VM_PID.  The guest's console goes to $work/TAG.console.
start_vm() {
	local tag=$1 i
	shift
	"$VMM" --kernel "$GUESTS/serial.elf" --console "file:$work/$tag.console" \
		--api-socket "$work/$tag.sock" "$@" </dev/null >"$work/$tag.out" 2>&1 &
	VM_PID=$!
	pids+=("$VM_PID")
	wait_running "$work/$tag.sock"
}

# wait_running SOCK: until the VM behind SOCK reports Running (at most 5 s)
wait_running() {
	local i
	for i in $(seq 100); do
		[ -S "$1" ] && curl -s -m 2 --unix-socket "$1" http://localhost/api/v1/vm.info |
			grep -q '"state":"Running"' && return 0
		sleep 0.05
	done
	return 1
}

# vm_wait PID: waits for it (at most 30 s; then kills it) and sets st to its exit status
vm_wait() {
	local i
	for i in $(seq 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && kill -KILL "$1"
	wait "$1"
	st=$?
}

api() {	# api SOCK METHOD ENDPOINT [BODY]: prints "BODY STATUS"
	local args=(-s -m 10 --unix-socket "$1" -X "$2" -w ' %{http_code}')
	[ $# -ge 4 ] && args+=(-H 'Content-Type: application/json' --data-binary "$4")
	curl "${args[@]}" "http://localhost/api/v1/$3"
}

json_get() {	# json_get KEY.PATH < json
	python3 -c 'import json,sys
v=json.load(sys.stdin)
for k in sys.argv[1].split("."): v=v[k]
print(v)' "$1"
}

# ---- the documented API: every endpoint answers, every answer parses ----
truncate -s 1M "$work/spec.img"
# --net user: slirp's internal network only; serial.elf never touches the card
if start_vm spec --cpus 2 --disk "path=$work/spec.img,format=raw,num-queues=2" \
	--net user,mac=02:00:00:00:00:2a; then
	out=$(python3 tests/ctl/openapi_check.py docs/openapi.yaml "$work/spec.sock" 2>&1)
	if echo "$out" | grep -q '^[0-9]* passed, 0 failed'; then
		ok "openapi: $(echo "$out" | tail -n1)"
	else
		bad openapi "$(echo "$out" | grep FAIL | head -5)"
	fi
	r=$(curl -s --unix-socket "$work/spec.sock" http://localhost/api/v1/vmm.ping)
	[ "$(echo "$r" | json_get pid)" = "$VM_PID" ] && ok "curl vmm.ping" || bad "curl vmm.ping" "$r"
	# vm.counters: each vCPU's exits by reason, each device's queues
	r=$(curl -s --unix-socket "$work/spec.sock" http://localhost/api/v1/vm.counters)
	out=$(echo "$r" | python3 -c 'import json,sys
c=json.load(sys.stdin); v=c["vcpus"]; d=c["devices"]
print(len(v), v[0]["exits"] > 0, v[0]["exits_by_reason"]["io"] > 0 and v[0].get("kvm", {"exits": 1})["exits"] > 0,
      [x["id"] for x in d], len(d[0]["queues"]), d[0]["queues"][1]["requests"])' 2>&1)
	[ "$out" = "2 True True ['virtio-blk0', 'virtio-net0'] 2 0" ] &&
		ok "vm.counters: vCPU exits, disk and net queues" ||
		bad "vm.counters" "$out: $r"
	out=$("$CTL" --socket "$work/spec.sock" info --json | python3 -c 'import json,sys
o=json.load(sys.stdin); print(o["state"], len(o["counters"]["vcpus"]), o["counters"]["devices"][1]["id"])' 2>&1)
	[ "$out" = "Running 2 virtio-net0" ] && ok "vmmctl info --json: counters" ||
		bad "vmmctl info --json: counters" "$out"
	out=$("$CTL" --socket "$work/spec.sock" config --json)
	[[ "$out" == *'"nets":[{"user":true,"mac":"02:00:00:00:00:2a","num_queues":2,'* ]] &&
		ok "vm.config: nets" || bad "vm.config: nets" "$out"
	out=$("$CTL" --socket "$work/spec.sock" info)
	[[ "$out" == *"vCPU 0 ("*"io="* && "$out" == *"virtio-blk0"*"queue 1:"* && "$out" == *"Net 0:    user, mac 02:00:00:00:00:2a, 2 queues"* ]] &&
		ok "vmmctl info: counters" || bad "vmmctl info: counters" "$out"
	mode=$(stat -c %a "$work/spec.sock")
	[ "$mode" = 600 ] && ok "socket mode 0600" || bad "socket mode" "$mode"
	api "$work/spec.sock" PUT vm.shutdown >/dev/null
	vm_wait "$VM_PID"
	[ "$st" = 14 ] && ok "vm.shutdown: exit status 14" || bad "vm.shutdown" "status $st"
	[ -e "$work/spec.sock" ] && bad "socket removed at exit" "still there" ||
		ok "socket removed at exit"
else
	bad openapi "vmm did not open its socket: $(cat "$work/spec.out")"
fi

# ---- bad input gets a clear 4xx and the VM keeps running ----
if start_vm bad; then
	S=$work/bad.sock
	check4xx() {	# NAME WANT METHOD ENDPOINT [BODY]
		local name=$1 want=$2 r
		shift 2
		r=$(api "$S" "$@")
		if [ "${r##* }" = "$want" ] && echo "${r% *}" | json_get error >/dev/null 2>&1; then
			ok "$name: $want"
		else
			bad "$name" "want $want with a JSON error, got: $r"
		fi
	}
	check4xx "invalid JSON" 400 PUT vm.pause '{"a":'
	check4xx "unknown field" 400 PUT vm.pause '{"force":true}'
	check4xx "wrong type" 400 PUT vm.power-button '{"timeout_s":"soon"}'
	check4xx "unknown endpoint" 404 GET vm.nothing
	check4xx "wrong method" 405 GET vm.pause
	check4xx "create when a VM exists" 409 PUT vm.create '{"payload":{"kernel":"/k"}}'
	check4xx "resume while running" 409 PUT vm.resume
	r=$(head -c 2000000 /dev/zero | tr '\0' ' ' |
		curl -s -m 10 --unix-socket "$S" -X PUT --data-binary @- -w ' %{http_code}' \
			http://localhost/api/v1/vm.create)
	[ "${r##* }" = 413 ] && ok "huge body: 413" || bad "huge body" "$r"
	r=$(python3 - "$S" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"THIS IS NOT HTTP\r\n\x00\x01\x02\r\n\r\n")
print(s.recv(100).split(b"\r\n")[0].decode())
EOF
)
	[[ "$r" == "HTTP/1.1 4"* ]] && ok "malformed HTTP: ${r#HTTP/1.1 }" || bad "malformed HTTP" "$r"
	r=$(api "$S" GET vm.info)
	[ "${r##* }" = 200 ] && [ "$(echo "${r% *}" | json_get state)" = Running ] &&
		ok "VM still running after bad input" || bad "VM still running" "$r"
	"$CTL" --socket "$S" quit >/dev/null
	vm_wait "$VM_PID"
fi

# ---- many clients at once, and one that connects and never sends ----
# (a VM of its own: serial.elf ends after 20 s of guest time)
if start_vm many; then
	S=$work/many.sock
	# a client that connects and never sends is dropped; others are served meanwhile
	python3 - "$S" >"$work/idle.txt" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
t = time.time()
try:
    d = s.recv(100)
except OSError:
    d = b""
print("closed after %.0f s" % (time.time() - t) if not d else "got %r" % d)
EOF
	idle=$!
	# many clients at once
	for i in $(seq 30); do
		curl -s -m 10 -o /dev/null -w '%{http_code}\n' --unix-socket "$S" \
			http://localhost/api/v1/vm.info &
	done >"$work/many.txt"
	wait $(jobs -p | grep -v -e "^$VM_PID\$" -e "^$idle\$") 2>/dev/null
	n=$(grep -c '^200$' "$work/many.txt")
	[ "$n" = 30 ] && ok "30 clients at once" || bad "30 clients at once" "$n of 30 answered 200"
	# libmicrohttpd's threads (the listener; connections still open) run under
	# the control socket's seccomp filter (on by default; docs/sandbox.md)
	nm=0 unf=
	for t in /proc/$VM_PID/task/*; do
		case $(cat "$t/comm" 2>/dev/null) in
		MHD*)	nm=$((nm + 1))
			grep -q '^Seccomp:[[:space:]]*2' "$t/status" || unf="$unf $(cat "$t/comm")" ;;
		esac
	done
	grep -qx MHD-listen /proc/$VM_PID/task/*/comm && [ -z "$unf" ] && ok "control socket threads under seccomp ($nm)" ||
		bad "control socket threads under seccomp" "$nm MHD threads, unfiltered:${unf:- none}"
	wait "$idle"
	r=$(cat "$work/idle.txt")
	[[ "$r" == "closed after "* ]] && ok "idle client dropped: $r" || bad "idle client" "$r"
	r=$(api "$S" GET vmm.ping)
	[ "${r##* }" = 200 ] && ok "still answering after them" || bad "still answering" "$r"
	"$CTL" --socket "$S" quit >/dev/null
	vm_wait "$VM_PID"
fi

# ---- vmmctl ----
if start_vm ctl --cpus 2 --memory 64M --event-monitor "path=$work/ctl.events"; then
	S=$work/ctl.sock
	"$CTL" --socket "$S" events --json >"$work/ctl.stream" 2>&1 &
	evpid=$!
	out=$("$CTL" --socket "$S" ping) && [[ "$out" == *"pid $VM_PID"* ]] &&
		ok "vmmctl ping" || bad "vmmctl ping" "$out"
	out=$("$CTL" --socket "$S" info)
	[[ "$out" == *"State:    Running"* && "$out" == *"vCPUs:    2"* && "$out" == *"64 MiB"* ]] &&
		ok "vmmctl info" || bad "vmmctl info" "$out"
	out=$("$CTL" --socket "$S" info --json | json_get config.cpus.boot_vcpus)
	[ "$out" = 2 ] && ok "vmmctl info --json" || bad "vmmctl info --json" "$out"
	"$CTL" --socket "$S" resume 2>/dev/null
	st=$?
	[ "$st" = 4 ] && ok "vmmctl resume while running: exit 4" || bad "vmmctl resume" "exit $st"
	"$CTL" --socket "$work/none.sock" ping 2>/dev/null
	st=$?
	[ "$st" = 3 ] && ok "vmmctl no such VM: exit 3" || bad "vmmctl no such VM" "exit $st"
	"$CTL" frobnicate x 2>/dev/null
	st=$?
	[ "$st" = 2 ] && ok "vmmctl bad verb: exit 2" || bad "vmmctl bad verb" "exit $st"
	"$CTL" --help | grep -q powerdown && ok "vmmctl --help" || bad "vmmctl --help" "no verbs"
	# the configuration starts the same VM again (hello.elf ends at once: status 1)
	"$CTL" --socket "$S" config >"$work/ctl.json"
	python3 - "$work/ctl.json" "$GUESTS/hello.elf" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["payload"]["kernel"] = sys.argv[2]
c["console"] = {"mode": "none"}
json.dump(c, open(sys.argv[1], "w"))
EOF
	timeout 30 "$VMM" --config "$work/ctl.json" >/dev/null 2>&1
	st=$?
	[ "$st" = 1 ] && ok "vmm --config from vmmctl config" || bad "vmm --config" "status $st"
	# (runtime) pause and resume
	if "$CTL" --socket "$S" pause >/dev/null 2>"$work/err" &&
	   [ "$("$CTL" --socket "$S" info --json | json_get state)" = Paused ] &&
	   "$CTL" --socket "$S" resume >/dev/null 2>>"$work/err" &&
	   [ "$("$CTL" --socket "$S" info --json | json_get state)" = Running ]; then
		ok "(runtime) pause and resume"
	else
		bad "(runtime) pause and resume" "$(cat "$work/err")"
	fi
	"$CTL" --socket "$S" quit >/dev/null
	vm_wait "$VM_PID"
	[ "$st" = 14 ] && ok "vmmctl quit: exit status 14" || bad "vmmctl quit" "status $st"
	for i in $(seq 30); do kill -0 "$evpid" 2>/dev/null || break; sleep 0.1; done
	grep -q '"event":"shutdown".*"status":14' "$work/ctl.stream" &&
		ok "vmmctl events: shutdown line" || bad "vmmctl events" "$(cat "$work/ctl.stream")"
	grep -q '"timestamp":{"secs":[0-9]*,"nanos":[0-9]*}' "$work/ctl.events" &&
		grep -q '"event":"shutdown"' "$work/ctl.events" &&
		ok "--event-monitor path=FILE" || bad "--event-monitor" "$(cat "$work/ctl.events")"
fi

# ---- (runtime) a paused guest makes no progress, and continues after resume ----
# serial.elf answers "pong" to a line on COM1: while paused it cannot.
mkfifo "$work/pp.in"
"$VMM" --kernel "$GUESTS/serial.elf" --console stdio --api-socket "$work/pp.sock" \
	<"$work/pp.in" >"$work/pp.console" 2>"$work/pp.out" &
VM_PID=$!
pids+=("$VM_PID")
exec 7>"$work/pp.in"
wait_running "$work/pp.sock"
for i in $(seq 50); do grep -q waiting "$work/pp.console" && break; sleep 0.05; done
if "$CTL" --socket "$work/pp.sock" pause >/dev/null 2>"$work/err"; then
	printf 'ping\n' >&7
	sleep 1
	grep -q pong "$work/pp.console" && early=yes || early=no
	"$CTL" --socket "$work/pp.sock" resume >/dev/null 2>>"$work/err"
	for i in $(seq 50); do grep -q pong "$work/pp.console" && break; sleep 0.05; done
	grep -q pong "$work/pp.console" && late=yes || late=no
	[ $early = no ] && [ $late = yes ] && ok "(runtime) no progress while paused, progress after" ||
		bad "(runtime) paused guest" "pong while paused: $early, after resume: $late"
else
	bad "(runtime) paused guest" "$(cat "$work/err")"
fi
exec 7>&-
vm_wait "$VM_PID"

# ---- (runtime) powerdown --timeout: serial.elf ignores the button ----
if start_vm pd; then
	"$CTL" --socket "$work/pd.sock" powerdown --timeout 1 >/dev/null 2>"$work/err"
	vm_wait "$VM_PID"
	[ "$st" = 16 ] && ok "(runtime) powerdown --timeout: status 16" ||
		bad "(runtime) powerdown --timeout" "status $st $(cat "$work/err")"
fi

# ---- (runtime) reset: the guest boots a second time ----
if start_vm rst; then
	"$CTL" --socket "$work/rst.sock" reset >/dev/null 2>"$work/err"
	sleep 1
	n=$(grep -c 'serial' "$work/rst.console" 2>/dev/null)
	"$CTL" --socket "$work/rst.sock" quit >/dev/null 2>&1
	vm_wait "$VM_PID"
	first=$(head -n1 "$work/rst.console" 2>/dev/null)
	boots=$(grep -c -x -F "$first" "$work/rst.console" 2>/dev/null)
	[ "${boots:-0}" -ge 2 ] && ok "(runtime) reset: second boot" ||
		bad "(runtime) reset" "banner seen ${boots:-0} times $(cat "$work/err")"
fi

# ---- an empty vmm: vm.create then vm.boot ----
S=$work/empty.sock
"$VMM" --api-socket "$S" </dev/null >"$work/empty.out" 2>&1 &
VM_PID=$!
pids+=("$VM_PID")
for i in $(seq 100); do [ -S "$S" ] && break; sleep 0.05; done
r=$(api "$S" GET vm.info)
[ "$(echo "${r% *}" | json_get state)" = Created ] && ok "empty vmm: state Created" ||
	bad "empty vmm: state" "$r"
r=$(api "$S" PUT vm.boot)
[ "${r##* }" = 409 ] && ok "empty vmm: boot before create: 409" || bad "empty vmm: boot" "$r"
r=$(api "$S" PUT vm.create "{\"payload\":{\"kernel\":\"$PWD/$GUESTS/hello.elf\"},\"console\":{\"mode\":\"none\"}}")
[ "${r##* }" = 204 ] && ok "empty vmm: vm.create" || bad "empty vmm: vm.create" "$r"
r=$(api "$S" PUT vm.boot)
vm_wait "$VM_PID"
[ "${r##* }" = 204 ] && [ "$st" = 1 ] && ok "empty vmm: vm.boot ran the guest" ||
	bad "empty vmm: vm.boot" "$r, status $st"

# ---- --name: the socket directory, a live name refused, a stale one replaced ----
dir=/run/vmm
[ "$(id -u)" != 0 ] && dir=${XDG_RUNTIME_DIR:-/nonexistent}/vmm
name=ctl-test-$$
"$VMM" --kernel "$GUESTS/serial.elf" --console none --name "$name" \
	</dev/null >"$work/name.out" 2>&1 &
VM_PID=$!
pids+=("$VM_PID")
"$VMM" --kernel "$GUESTS/serial.elf" --console none --name "$name-b" --cpus 2 --memory 32M \
	</dev/null >"$work/name-b.out" 2>&1 &
pid_b=$!
pids+=("$pid_b")
wait_running "$dir/$name.sock"
wait_running "$dir/$name-b.sock"
list=$("$CTL" list)
echo "$list" | grep -q "^$name  *$VM_PID  *Running  *1  *256M" &&
	echo "$list" | grep -q "^$name-b  *$pid_b  *Running  *2  *32M" &&
	ok "vmmctl list: two VMs" || bad "vmmctl list" "$list"
"$CTL" quit "$name-b" >/dev/null
vm_wait "$pid_b"
rm -f "$dir/$name-b.sock.lock"
"$VMM" --kernel "$GUESTS/hello.elf" --console none --name "$name" >/dev/null 2>"$work/dup.err"
st=$?
[ "$st" = 4 ] && grep -q "in use" "$work/dup.err" && ok "live name refused" ||
	bad "live name refused" "status $st: $(cat "$work/dup.err")"
"$CTL" quit "$name" >/dev/null
vm_wait "$VM_PID"
python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$dir/$name.sock"
timeout 30 "$VMM" --kernel "$GUESTS/hello.elf" --console none --name "$name" >/dev/null 2>&1
st=$?
[ "$st" = 1 ] && [ ! -e "$dir/$name.sock" ] && ok "stale socket replaced" ||
	bad "stale socket replaced" "status $st"
rm -f "$dir/$name.sock" "$dir/$name.sock.lock"

echo "ctl-tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
