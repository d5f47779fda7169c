# No vmm-img command destroys data it was not asked to destroy (issue 12):
# an output that is an input, in an input's backing chain, or in use by a
# running vmm/QEMU is refused with exit 1 and left byte for byte as it was.
# Files are named s-* so they do not meet the other t_*.sh files' images.

# refused NAME FILE PATTERN CMD...: CMD exits 1, prints PATTERN, FILE is unchanged
refused() {
	local n=$1 f=$2 pat=$3 rc
	shift 3
	cp -p "$f" "$T/refused.orig"
	"$@" >"$T/refused.out" 2>&1; rc=$?
	if [ $rc -ne 1 ]; then
		fail "$n" "exit $rc, want 1: $(head -c 300 "$T/refused.out")"
	elif ! cmp -s "$f" "$T/refused.orig"; then
		fail "$n" "$f was changed"
	elif ! grep -qi -- "$pat" "$T/refused.out"; then
		fail "$n" "message lacks '$pat': $(head -c 300 "$T/refused.out")"
	elif [ "$(grep -c . "$T/refused.out")" -ne 1 ]; then
		fail "$n" "want one line: $(head -c 300 "$T/refused.out")"
	else
		pass "$n"
	fi
}
# hold KIND FILE: a process holding FILE's lock the way a running vmm (OFD,
# whole file, write or read) or QEMU (qemu-io: its lock bytes) does; sets HOLDER
hold() {
	case $1 in
	vmm-rw|vmm-ro)
		python3 - "$2" "$1" >/dev/null <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR if sys.argv[2] == 'vmm-rw' else os.O_RDONLY)
kind = fcntl.F_WRLCK if sys.argv[2] == 'vmm-rw' else fcntl.F_RDLCK
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack('hhxxxxqqixxxx', kind, 0, 0, 0, 0))
print('locked', flush=True)
time.sleep(60)
PY
		HOLDER=$! ;;
	qemu) qemu-io -c 'sleep 60000' "$2" >/dev/null 2>&1 & HOLDER=$! ;;
	esac
	# wait until the lock shows in /proc/locks
	local ino i
	ino=$(stat -c %i "$2")
	for i in $(seq 1 50); do
		grep -q ":$ino " /proc/locks && return 0
		sleep 0.1
	done
}
unhold() { kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }

head -c 1M /dev/urandom > s-in.raw
qemu-img convert -f raw -O qcow2 s-in.raw s-in.qcow2

# 1, 2: output == input (and a symlink or hard link to it)
refused safety-convert-raw-same s-in.raw 'same file' "$VMM_IMG" convert -f raw -O raw s-in.raw s-in.raw
refused safety-convert-qcow2-same s-in.qcow2 'same file' "$VMM_IMG" convert -O qcow2 s-in.qcow2 s-in.qcow2
ln -sf s-in.qcow2 s-link.qcow2
refused safety-convert-symlink s-in.qcow2 'same file' "$VMM_IMG" convert -O raw s-in.qcow2 s-link.qcow2
ln -f s-in.raw s-hard.raw
refused safety-convert-hardlink s-in.raw 'same file' "$VMM_IMG" convert -f raw -O qcow2 s-in.raw s-hard.raw

# 3: the output is a backing file of the input, directly or further down the chain
qemu-img create -q -f qcow2 -b s-in.qcow2 -F qcow2 s-mid.qcow2
qemu-img create -q -f qcow2 -b s-mid.qcow2 -F qcow2 s-top.qcow2
qemu-io -c 'write -P 7 0 64k' s-top.qcow2 >/dev/null
refused safety-convert-into-backing s-mid.qcow2 'backing chain' "$VMM_IMG" convert -O qcow2 s-top.qcow2 s-mid.qcow2
refused safety-convert-into-backing-deep s-in.qcow2 'backing chain' "$VMM_IMG" convert -O raw s-top.qcow2 s-in.qcow2
refused safety-convert-into-backing-link s-in.qcow2 'backing chain' "$VMM_IMG" convert -O raw s-top.qcow2 s-link.qcow2
check safety-overlay-intact qemu-img check -q s-top.qcow2

# 4: an image in use by a running vmm (its OFD lock, read-write or read-only) or by QEMU
qemu-img create -q -f qcow2 s-busy.qcow2 1M
for who in vmm-rw vmm-ro qemu; do
	hold $who s-busy.qcow2
	refused "safety-create-over-busy-$who" s-busy.qcow2 'in use' "$VMM_IMG" create -f qcow2 s-busy.qcow2 2M
	refused "safety-convert-over-busy-$who" s-busy.qcow2 'in use' "$VMM_IMG" convert -f raw -O raw s-in.raw s-busy.qcow2
	unhold
done
hold qemu s-busy.qcow2
refused safety-busy-names-qemu s-busy.qcow2 'QEMU' "$VMM_IMG" create -f raw s-busy.qcow2 1M
unhold
cp s-in.raw s-busy.raw
hold vmm-rw s-busy.raw
refused safety-resize-raw-busy s-busy.raw 'in use' "$VMM_IMG" resize -f raw s-busy.raw 2M
unhold
# vmm's own block layer holding it: a writer (crash-writer opens it like vmm does)
"$VMM_IMG" create -f qcow2 s-cw.qcow2 4M >/dev/null
"$VMM_IMG" crash-writer s-cw.qcow2 1 s-cw.log & cw=$!
for _ in $(seq 1 50); do [ -s s-cw.log ] && break; sleep 0.1; done
"$VMM_IMG" create -f qcow2 s-cw.qcow2 1M >"$T/out" 2>&1; rc=$?
kill -9 $cw; wait $cw 2>/dev/null
qemu-img check -q s-cw.qcow2 >/dev/null 2>&1; qrc=$?
if [ $rc -eq 1 ] && grep -q 'in use' "$T/out" && { [ $qrc -eq 0 ] || [ $qrc -eq 3 ]; }; then
	pass safety-create-over-running-writer
else
	fail safety-create-over-running-writer "exit $rc, qemu-img check $qrc: $(head -c 200 "$T/out")"
fi

# 5: an image backed by itself, or by a chain that loops, is refused at create
qemu-img create -q -f qcow2 s-self.qcow2 1M
refused safety-create-self-backing s-self.qcow2 'same file' "$VMM_IMG" create -f qcow2 -b s-self.qcow2 -F qcow2 s-self.qcow2
ln -sf s-self.qcow2 s-selflink.qcow2
refused safety-create-self-backing-link s-self.qcow2 'same file' "$VMM_IMG" create -f qcow2 -b s-selflink.qcow2 s-self.qcow2
refused safety-create-backing-chain s-in.qcow2 'backing chain' "$VMM_IMG" create -f qcow2 -b s-top.qcow2 s-in.qcow2
qemu-img create -q -f qcow2 s-la.qcow2 1M
qemu-img create -q -f qcow2 -b s-la.qcow2 -F qcow2 s-lb.qcow2
qemu-img rebase -u -f qcow2 -b s-lb.qcow2 -F qcow2 s-la.qcow2
"$VMM_IMG" create -f qcow2 -b s-la.qcow2 s-lc.qcow2 >"$T/out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q 'loops' "$T/out" && [ ! -e s-lc.qcow2 ] && pass safety-create-loop ||
	fail safety-create-loop "exit $rc: $(head -c 200 "$T/out")"

# an interrupted convert leaves the user's name untouched (new: absent; old: as it was):
# stopped (SIGSTOP) as soon as it has started writing, looked at, then killed
head -c 48M /dev/urandom > s-big.raw
interrupted() {	# OUT FMT CHECK...: CHECK runs while the convert is stopped mid-way
	local out=$1 fmt=$2 pid i
	shift 2
	"$VMM_IMG" convert -f raw -O "$fmt" s-big.raw "$out" >/dev/null 2>&1 & pid=$!
	for i in $(seq 1 1000); do
		# started writing: its temporary file (new code) or the output itself (old code)
		ls -a | grep -q "^\.$out\.vmm-img-" && break
		[ "$(stat -c %Y%s "$out" 2>/dev/null)" != "$(stat -c %Y%s "$T/int.orig" 2>/dev/null)" ] && break
		sleep 0.002
	done
	kill -STOP $pid
	"$@"; local rc=$?
	kill -9 $pid; wait $pid 2>/dev/null
	rm -f .s-int*.vmm-img-*
	return $rc
}
rm -f "$T/int.orig"
interrupted s-int.qcow2 qcow2 test ! -e s-int.qcow2 && pass safety-interrupted-new ||
	fail safety-interrupted-new "a half-written s-int.qcow2 exists"
cp -p s-in.raw s-int.raw; cp -p s-in.raw "$T/int.orig"
interrupted s-int.raw raw cmp -s s-int.raw "$T/int.orig" && pass safety-interrupted-old ||
	fail safety-interrupted-old "s-int.raw was changed"

# overwriting a file nobody uses works, keeps its mode, leaves no temporary file
cp s-in.raw s-over.raw; chmod 640 s-over.raw
check safety-overwrite-idle "$VMM_IMG" convert -f raw -O qcow2 s-big.raw s-over.raw
check safety-overwrite-result qemu-img compare -q -f raw s-big.raw s-over.raw
[ "$(stat -c %a s-over.raw)" = 640 ] && pass safety-overwrite-mode ||
	fail safety-overwrite-mode "mode $(stat -c %a s-over.raw), want 640"
[ -z "$(ls -a | grep 'vmm-img-')" ] && pass safety-no-temp-left ||
	fail safety-no-temp-left "$(ls -a | grep 'vmm-img-')"
rm -f s-big.raw
# careless names: a directory, a device, no name, a dangling link: refused, nothing created
mkdir -p s-dir
exits_1() { local n=$1; shift; "$@" >"$T/out" 2>&1 && fail "$n" "accepted" || { [ -z "$(ls -a | grep 'vmm-img-')" ] && pass "$n" || fail "$n" "temporary file left"; }; }
exits_1 safety-out-directory "$VMM_IMG" convert -f raw -O raw s-in.raw s-dir
exits_1 safety-out-device "$VMM_IMG" convert -f raw -O raw s-in.raw /dev/null
exits_1 safety-out-empty-name "$VMM_IMG" create -f raw "" 1M
ln -sf s-nothere.raw s-dangling.raw
exits_1 safety-out-dangling-link "$VMM_IMG" create -f raw s-dangling.raw 1M
[ ! -e s-nothere.raw ] && pass safety-dangling-target-not-created || fail safety-dangling-target-not-created "created"
