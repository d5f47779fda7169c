# check and check -r all against qemu-img's verdicts on the same damaged files.
# Each damaged image: made by qemu-img + qemu-io, then bytes patched by qpatch.py.
# For each row, on separate copies:
#   1. `vmm-img check` exits as `qemu-img check` does (and, in JSON, finds the same
#      corruptions, leaks, check errors, allocated clusters and image end offset);
#   2. after `vmm-img check -r all`, `qemu-img check` exits as it does after
#      `qemu-img check -r all` (clean where qemu-img repairs, never "cleaner"
#      where qemu-img cannot), `vmm-img check` agrees with it, and where both
#      repairs end clean, both repaired images hold the same guest data.
# Column 3/4: "=" means as qemu-img; a number is vmm-img's own exit status,
# for the reason given in the comment above the row.
QP="python3 $HERE/qpatch.py"
qemu-img create -q -f qcow2 ck-g.qcow2 4M
qemu-io -c 'write -P 1 0 128k' -c 'write -P 2 1M 64k' ck-g.qcow2 >/dev/null
# with an internal snapshot: clusters shared between it and the active L1
qemu-img create -q -f qcow2 ck-s.qcow2 4M
qemu-io -c 'write -P 1 0 128k' ck-s.qcow2 >/dev/null
qemu-img snapshot -c s1 ck-s.qcow2
qemu-io -c 'write -P 3 0 64k' -c 'write -P 4 2M 64k' ck-s.qcow2 >/dev/null
# ck-g: header 0, refcount table 0x10000, refcount block 0x20000, L1 0x30000,
# L2 0x40000, data 0x50000 0x60000 0x70000 (L2 entries 0, 1, 16)
ckjson() {	# FILE TOOL...: "corruptions leaks check-errors allocated end"
	"${@:2}" check --output=json "$1" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("no-json"); sys.exit()
print(*(d.get(k, 0) for k in ("corruptions", "leaks", "check-errors",
      "allocated-clusters", "image-end-offset")))'
}
ckrow() {	# NAME BASE CHECK AFTER OPS...
	local n=$1 base=$2 want=$3 want0=$3 wafter=$4 q v qa va vv qj vj
	shift 4
	cp "ck-$base.qcow2" "ck-$n.qcow2"
	[ $# -eq 0 ] || $QP "ck-$n.qcow2" "$@" || { fail "check-$n" "qpatch $*"; return; }
	for s in q v qr vr; do cp "ck-$n.qcow2" "ck-$n.$s.qcow2"; done
	qemu-img check "ck-$n.q.qcow2" >/dev/null 2>&1; q=$?
	"$VMM_IMG" check "ck-$n.v.qcow2" >"$T/ck.out" 2>&1; v=$?
	[ "$want" = "=" ] && want=$q
	if [ "$v" != "$want" ]; then
		fail "check-$n" "vmm-img check exit $v, want $want (qemu-img $q): $(tail -c 300 "$T/ck.out")"
		return
	fi
	if [ "$want0" = "=" ] && [ "$v" != 1 ]; then
		qj=$(ckjson "ck-$n.q.qcow2" qemu-img)
		vj=$(ckjson "ck-$n.v.qcow2" "$VMM_IMG")
		if [ "$qj" != "$vj" ]; then
			fail "check-$n" "counts (corruptions leaks errors allocated end) qemu-img [$qj] vmm-img [$vj]"
			return
		fi
	fi
	qemu-img check -r all "ck-$n.qr.qcow2" >/dev/null 2>&1
	qemu-img check "ck-$n.qr.qcow2" >/dev/null 2>&1; qa=$?
	"$VMM_IMG" check -r all "ck-$n.vr.qcow2" >"$T/ck.out" 2>&1
	qemu-img check "ck-$n.vr.qcow2" >"$T/ck2.out" 2>&1; va=$?
	"$VMM_IMG" check "ck-$n.vr.qcow2" >/dev/null 2>&1; vv=$?
	[ "$wafter" = "=" ] && wafter=$qa
	if [ "$va" != "$wafter" ]; then
		fail "check-$n" "after vmm-img check -r all, qemu-img check exit $va, want $wafter (after qemu-img's own repair: $qa): $(grep -m3 -i error "$T/ck2.out" | tr '\n' ' ')"
		return
	fi
	if [ "$vv" != "$va" ] && [ "$want0" = "=" ]; then
		fail "check-$n" "repaired image: vmm-img check exit $vv, qemu-img check $va"
		return
	fi
	if [ "$va" = 0 ] && [ "$qa" = 0 ] && ! qemu-img compare -q "ck-$n.qr.qcow2" "ck-$n.vr.qcow2"; then
		fail "check-$n" "the two repairs left different guest data"
		return
	fi
	pass "check-$n"
	rm -f ck-"$n".*
}
ckrow clean	g = =
ckrow l1eof	g = =	l1=0:0x8000000010000000
ckrow l2eof	g = =	l2=0:0x8000000010000000
ckrow l1mis	g = =	l1=0:0x8000000000040200
ckrow l2mis	g = =	l2=0:0x8000000000050200
ckrow l2zmis	g = =	l2=2:0x8000000000090201
ckrow l2meta	g = =	l2=2:0x8000000000010000
ckrow l1meta	g = =	l1=0:0x8000000000020000
ckrow l2hdr	g = =	l2=2:0x8000000000000000
ckrow rclow	g = =	rb=5:0
ckrow rchigh	g = =	rb=5:2
ckrow leak	g = =	grow=65536 rb=8:1
ckrow rcpasteof	g = =	rb=9:1
ckrow shared	g = =	l2=1:0x8000000000050000
ckrow copiedl2	g = =	l2and=0:0x7fffffffffffffff
ckrow copiedl1	g = =	l1and=0:0x7fffffffffffffff
ckrow copiedset	g = =	l2=2:0x8000000000050000 rb=5:2
ckrow rtzero	g = =	rt=0:0
ckrow rteof	g = =	rt=0:0x10000000
# qemu-img cannot read refcounts through a misaligned block pointer (exit 1) and
# its rebuild then fails; vmm-img reports them as missing and rebuilds past EOF
ckrow rtmis	g 2 0	rt=0:0x20200
# qemu-img's rebuild trips over its own overlap check; vmm-img's writes past EOF
ckrow rtres	g = 0	rt=0:0x20001
ckrow rbzero	g = =	rbzero
ckrow rthdr	g = =	hdr=48:0000000010000000
ckrow l1hdr	g = =	hdr=40:0000000010000000
ckrow trunc	g = =	trunc=0x60000
ckrow truncmeta	g = =	trunc=0x38000
ckrow cbits	g = =	hdr=20:0000001e
ckrow l1small	g = =	hdr=36:00000000
ckrow l1res	g = =	l1or=0:0x2
ckrow l1res2	g = =	l1or=0:0x0100000000000000
ckrow l2res	g = =	l2or=0:0x100
ckrow corruptbit g = =	hdr=79:02
ckrow dirtybit	g = =	hdr=79:01
ckrow snclean	s = =
ckrow snl1eof	s = =	sn=l1off:0x10000000
ckrow snl1mis	s = =	sn=l1off:0x70200
ckrow snl1big	s = =	sn=l1size:0x10000000
ckrow snoffmis	s = =	hdr=64:0000000000080200
# -r all rewrites the snapshot table past EOF (incomplete entries completed,
# the entry with too much extra data dropped), as qemu-img does
ckrow snmany	s = =	hdr=60:00000009
ckrow snoffeof	s = =	hdr=64:0000000010000000
ckrow snextra	s = =	sn=extra:0x7fffffff
# tables on the header or on each other: the header parser of check's open lets
# them through (vmm's own open refuses them); qemu-img reads the header as a
# snapshot entry, refcount table or L1 table and reports corruption
ckrow snzero	s = =	hdr=64:0000000000000000
ckrow rtat0	g = =	hdr=48:0000000000000000
ckrow l1at0	g = =	hdr=40:0000000000000000
ckrow l1onrt	g = =	hdr=40:0000000000010000
ckrow l1onrb	g = =	hdr=40:0000000000020000
# the refcount table on the L1 table: its entry 0 (0x8000000000040000) points
# past anything qemu-img can read, so qemu-img cannot get refcounts (exit 1);
# vmm-img reports them missing (exit 2); both rebuilds end clean
ckrow rtonl1	g 2 =	hdr=48:0000000000030000

# a compressed cluster whose data reaches past the end of the file (read as
# zeros there, by both tools): -r all grows the file over it before it counts
# or writes anything, so the data stays readable and the cluster counted.
# qemu-img frees the cluster as a leak (data lost at the next allocation) or
# writes its rebuilt refcounts over it: still corrupt after its repair.
qemu-img create -q -f qcow2 -o cluster_size=512 ck-z.qcow2 4M
qemu-io -c 'write -P 1 0 8k' ck-z.qcow2 >/dev/null
ckrow cpast	z = 0	cpast=20
ckrow cpastrt	z = 0	cpast=20 rt=0:0
ckrow cpastrteof z = 0	cpast=20 rt=0:0x100000
qemu-img create -q -f qcow2 -o cluster_size=4k ck-z4.qcow2 4M
qemu-io -c 'write -P 1 0 64k' ck-z4.qcow2 >/dev/null
ckrow cpast4k	z4 = 0	cpast=20 rt=0:0
cp ck-z.qcow2 ck-cp.qcow2; $QP ck-cp.qcow2 cpast=20 rt=0:0
qemu-img convert -O raw ck-cp.qcow2 ck-cp.q.raw
"$VMM_IMG" convert -O raw ck-cp.qcow2 ck-cp.v.raw >"$T/ck.out" 2>&1 &&
	cmp -s ck-cp.q.raw ck-cp.v.raw && pass check-compressed-past-eof-read ||
	fail check-compressed-past-eof-read "vmm-img reads it otherwise than qemu-img: $(head -c 200 "$T/ck.out")"
"$VMM_IMG" check -r all ck-cp.qcow2 >/dev/null 2>&1
if qemu-io -c 'read -P 5 10240 1' -c 'read -P 0 10241 511' ck-cp.qcow2 2>&1 | grep -q -i -e fail -e error; then
	fail check-compressed-past-eof-kept "the cluster does not read back after check -r all"
else pass check-compressed-past-eof-kept; fi

# only check's open is that tolerant: info (and vmm, convert) still refuse
cp ck-g.qcow2 ck-no.qcow2; $QP ck-no.qcow2 hdr=48:0000000000000000
"$VMM_IMG" info ck-no.qcow2 >"$T/ck.out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'refcount table at 0x0' "$T/ck.out" && pass check-open-still-strict ||
	fail check-open-still-strict "info exit $rc: $(head -c 200 "$T/ck.out")"

# other layouts: compressed clusters, 512 B and 2 MiB clusters, 1- and
# 64-bit refcounts, v2
for o in cluster_size=512 cluster_size=2M refcount_bits=1 refcount_bits=64 compat=0.10; do
	b=${o//[=.]/}
	qemu-img create -q -f qcow2 -o "$o" ck-p.qcow2 8M
	qemu-io -c 'write -P 1 0 300k' -c 'write -P 2 5M 64k' ck-p.qcow2 >/dev/null
	qemu-img convert -c -O qcow2 -o "$o" ck-p.qcow2 "ck-$b.qcow2"
	ckrow "$b-clean"	"$b" = =
	ckrow "$b-rtzero"	"$b" = =	rt=0:0
	ckrow "$b-copied"	"$b" = =	l1and=0:0x7fffffffffffffff
	ckrow "$b-l2eof"	"$b" = =	l2=3:0x8000000010000000
done

# the corrupt bit: cleared by a repair that leaves the image clean
cp ck-g.qcow2 ck-cb.qcow2; $QP ck-cb.qcow2 hdr=79:02 rt=0:0
"$VMM_IMG" check -r all ck-cb.qcow2 >/dev/null 2>&1
if qemu-img info ck-cb.qcow2 | grep -q 'corrupt: false'; then pass check-clears-corrupt-bit
else fail check-clears-corrupt-bit "$(qemu-img info ck-cb.qcow2 | grep corrupt)"; fi
# -r leaks does not touch a structure that needs a rebuild (exit 1, like qemu-img)
cp ck-g.qcow2 ck-rl.qcow2; $QP ck-rl.qcow2 rt=0:0; cp ck-rl.qcow2 ck-rl0.qcow2
"$VMM_IMG" check -r leaks ck-rl.qcow2 >/dev/null 2>&1; rc=$?
qemu-img check -r leaks ck-rl0.qcow2 >/dev/null 2>&1; qrc=$?
if [ $rc = $qrc ] && cmp -s ck-rl.qcow2 ck-rl0.qcow2; then pass check-leaks-no-rebuild
else fail check-leaks-no-rebuild "exit $rc (qemu-img $qrc) or the file changed"; fi
# JSON: the fields qemu-img prints, on a repaired image too
cp ck-g.qcow2 ck-j.qcow2; $QP ck-j.qcow2 rt=0:0
"$VMM_IMG" check -r all --output=json ck-j.qcow2 >"$T/ck.json" 2>/dev/null
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["filename"] == "ck-j.qcow2" and d["format"] == "qcow2", d
assert d["corruptions-fixed"] > 0 and d["check-errors"] == 0 and "corruptions" not in d, d
assert d["total-clusters"] == 64 and d["allocated-clusters"] == 3 and d["image-end-offset"] > 0, d
' "$T/ck.json" 2>/dev/null; then pass check-json; else fail check-json "$(head -c 300 "$T/ck.json")"; fi
# exit 63 for raw, 1 for a missing file, 1 for a repair of an image in use
"$VMM_IMG" check base.raw >/dev/null 2>&1; rc=$?
[ $rc = 63 ] && pass check-raw-63 || fail check-raw-63 "exit $rc"
"$VMM_IMG" check ck-missing.qcow2 >/dev/null 2>&1; rc=$?
[ $rc = 1 ] && pass check-missing-1 || fail check-missing-1 "exit $rc"
cp ck-g.qcow2 ck-busy.qcow2
python3 -c 'import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK if hasattr(fcntl, "F_OFD_SETLK") else 37, __import__("struct").pack("hhqqii", fcntl.F_WRLCK, 0, 0, 0, 0, 0))
open(sys.argv[2], "w").close(); time.sleep(5)' ck-busy.qcow2 ck-busy.ready & lpid=$!
for _ in $(seq 50); do [ -f ck-busy.ready ] && break; sleep 0.1; done
"$VMM_IMG" check -r all ck-busy.qcow2 >"$T/ck.out" 2>&1; rc=$?
kill $lpid 2>/dev/null; wait $lpid 2>/dev/null
[ $rc = 1 ] && grep -q 'in use' "$T/ck.out" && pass check-repair-locked ||
	fail check-repair-locked "exit $rc: $(head -c 200 "$T/ck.out")"
rm -f ck-*
