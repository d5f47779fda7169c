# The rest of what the new-user trial of issue 12 found, one test each:
# probing, sizes, small-cluster resize, create 0, option errors, --version,
# CMD --help, info's snapshot list, and --help / man page / code agreeing.
# Files are named tr-*.
MAN=$HERE/../../docs/man/vmm-img.1
# exits NAME STATUS PATTERN CMD...: CMD exits STATUS and its output holds PATTERN
exits() {
	local n=$1 want=$2 pat=$3 rc
	shift 3
	"$@" >"$T/exits.out" 2>&1; rc=$?
	if [ $rc -ne "$want" ]; then
		fail "$n" "exit $rc, want $want: $(head -c 300 "$T/exits.out")"
	elif ! grep -qi -- "$pat" "$T/exits.out"; then
		fail "$n" "output lacks '$pat': $(head -c 300 "$T/exits.out")"
	else
		pass "$n"
	fi
}

# probing never calls a known magic raw (vmm-img and vmm share the probe)
qemu-img create -q -f qcow2 tr-v4.qcow2 1M
poke tr-v4.qcow2 4 00000004
exits probe-qcow2-v4 1 'version 4' "$VMM_IMG" info tr-v4.qcow2
cp tr-v4.qcow2 tr-v1.qcow2; poke tr-v1.qcow2 4 00000001
exits probe-qcow-v1 1 'qcow version 1' "$VMM_IMG" convert -O raw tr-v1.qcow2 tr-out.raw
[ ! -e tr-out.raw ] && pass probe-qcow-v1-no-output || fail probe-qcow-v1-no-output "tr-out.raw exists"
cp tr-v4.qcow2 tr-bad.qcow2; poke tr-bad.qcow2 4 00000003; poke tr-bad.qcow2 20 00000030
exits probe-qcow2-broken 1 'cluster_bits' "$VMM_IMG" info tr-bad.qcow2
qemu-img create -q -f vmdk tr.vmdk 1M
exits probe-vmdk 1 'vmdk' "$VMM_IMG" info tr.vmdk
truncate -s 1M tr-plain.raw
exits probe-raw-warns-f-raw 0 'add -f raw' "$VMM_IMG" info tr-plain.raw
exits probe-raw-not-vmm-syntax 0 'fmt' bash -c "! '$VMM_IMG' info tr-plain.raw 2>&1 | grep -q format=raw && echo fmt"

# sizes are whole sectors, as with qemu-img, and both tools read them alike
"$VMM_IMG" create -f raw tr-1000.raw 1000 >/dev/null
[ "$(stat -c %s tr-1000.raw)" = 1024 ] && pass size-raw-rounded ||
	fail size-raw-rounded "size $(stat -c %s tr-1000.raw), want 1024"
"$VMM_IMG" create -f qcow2 tr-1000.qcow2 1000 >/dev/null
exits size-qcow2-rounded 0 '"virtual-size": 1024' qemu-img info --output=json tr-1000.qcow2
qemu-img create -q -f qcow2 tr-odd.qcow2 1M
poke tr-odd.qcow2 24 00000000000007d0		# virtual size 2000, as another tool might write
exits size-odd-read-like-qemu 0 '"virtual-size": 1536' "$VMM_IMG" info --output=json tr-odd.qcow2
exits size-odd-qemu-agrees 0 '"virtual-size": 1536' qemu-img info --output=json tr-odd.qcow2

# create ... 0: nothing leaked, and it can grow later
"$VMM_IMG" create -f qcow2 tr-zero.qcow2 0 >/dev/null
check create-zero-no-leak qemu-img check tr-zero.qcow2
"$VMM_IMG" resize tr-zero.qcow2 1M >/dev/null
check create-zero-then-resize qemu-img check tr-zero.qcow2

# resize of 512 B and 1 KiB cluster images
for cs in 512 1k; do
	"$VMM_IMG" create -f qcow2 -o cluster_size=$cs tr-rs$cs.qcow2 1M >/dev/null
	qemu-io -c 'write -P 5 0 256k' tr-rs$cs.qcow2 >/dev/null
	exits "resize-cs$cs" 0 'resized' "$VMM_IMG" resize tr-rs$cs.qcow2 10G
	check "resize-cs$cs-qemu-check" qemu-img check -q tr-rs$cs.qcow2
	check "resize-cs$cs-data" bash -c "qemu-io -c 'read -P 5 0 256k' tr-rs$cs.qcow2 | grep -q 'read 262144'"
	[ "$(stat -c %s tr-rs$cs.qcow2)" -lt $((8 << 20)) ] && pass "resize-cs$cs-small" ||
		fail "resize-cs$cs-small" "file is $(stat -c %s tr-rs$cs.qcow2) bytes"
done
before=$(stat -c %s tr-rs512.qcow2)
exits resize-too-large-says-why 1 'cluster_size' "$VMM_IMG" resize tr-rs512.qcow2 1T
[ "$(stat -c %s tr-rs512.qcow2)" = "$before" ] && pass resize-failure-no-growth ||
	fail resize-failure-no-growth "grew from $before to $(stat -c %s tr-rs512.qcow2)"

# option errors
for cs in 256 4M 3000; do
	exits "cluster-size-$cs-refused" 1 'cluster_size' "$VMM_IMG" create -f qcow2 -o cluster_size=$cs tr-cs.qcow2 1M
done
[ ! -e tr-cs.qcow2 ] && pass cluster-size-no-file || fail cluster-size-no-file "tr-cs.qcow2 created"
exits extra-arg-create 1 'unexpected argument' "$VMM_IMG" create -f raw tr-x.raw 1M junk
exits extra-arg-info 1 'unexpected argument' "$VMM_IMG" info tr-1000.raw junk
exits extra-arg-convert 1 'usage' "$VMM_IMG" convert -O raw tr-1000.raw tr-x.raw junk
exits extra-arg-resize 1 'usage' "$VMM_IMG" resize tr-1000.raw 2M junk
[ ! -e tr-x.raw ] && pass extra-arg-no-file || fail extra-arg-no-file "tr-x.raw created"

# --version, CMD --help
exits version 0 '^vmm-img [0-9]' "$VMM_IMG" --version
for c in create info check convert resize; do
	exits "help-$c" 0 "^usage: vmm-img $c " "$VMM_IMG" $c --help
done

# info lists internal snapshots as qemu-img info does
qemu-img create -q -f qcow2 tr-snap.qcow2 1M
qemu-img snapshot -c first tr-snap.qcow2
qemu-img snapshot -c second tr-snap.qcow2
qemu-img snapshot -c a-name-longer-than-its-column tr-snap.qcow2
qemu-img info tr-snap.qcow2 | sed -n '/^Snapshot list:/,/^Format/p' | grep -v '^Format' > "$T/snap.want"
"$VMM_IMG" info tr-snap.qcow2 | sed -n '/^Snapshot list:/,/^Format/p' | grep -v '^Format' > "$T/snap.got"
[ -s "$T/snap.want" ] && cmp -s "$T/snap.want" "$T/snap.got" && pass info-snapshots ||
	fail info-snapshots "$(diff "$T/snap.want" "$T/snap.got" | head -4 | tr '\n' ' ')"
check info-snapshots-json bash -c "'$VMM_IMG' info --output=json tr-snap.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [s[\"name\"] for s in d[\"snapshots\"]]==[\"first\",\"second\",\"a-name-longer-than-its-column\"]'"

# --help, the man page and the code agree: every option of every command's
# usage line is in the man page's synopsis, and the code takes it
MANTXT=$(sed 's/\\f[BRI]//g; s/\\-/-/g' "$MAN")
for c in create info check convert resize; do
	syn=$(grep -A1 "^\.B vmm-img $c\$" <<<"$MANTXT" | tail -1)
	miss=
	for o in $("$VMM_IMG" $c --help | grep -o -- '-\{1,2\}[a-zA-Z][a-zA-Z_-]*' | grep -v '^-img$'); do
		[[ $syn == *"$o"* ]] || miss="$miss $o"
	done
	[ -n "$syn" ] && [ -z "$miss" ] && pass "man-synopsis-$c" ||
		fail "man-synopsis-$c" "man page lacks:$miss (synopsis: $syn)"
done
qemu-img create -q -f qcow2 tr-chk.qcow2 1M
exits code-check-r-all 0 'No errors' "$VMM_IMG" check -r all tr-chk.qcow2
exits code-check-f 0 'No errors' "$VMM_IMG" check -f qcow2 tr-chk.qcow2
exits code-info-f 0 'file format: qcow2' "$VMM_IMG" info -f qcow2 tr-chk.qcow2
exits code-check-raw-63 63 'does not support checks' "$VMM_IMG" check -f raw tr-1000.raw
for s in '-r leaks|all' '^\.B 63$'; do
	grep -q -- "$s" <<<"$MANTXT" && pass "man-mentions-$(echo "$s" | tr -cd 'a-z0-9')" ||
		fail "man-mentions-$(echo "$s" | tr -cd 'a-z0-9')" "'$s' not in $MAN"
done
exits help-mentions-63 0 '63' "$VMM_IMG" --help
