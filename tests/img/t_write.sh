# images written by vmm-img pass qemu-img check and compare
qemu_ok() {	# IMAGE REFERENCE
	qemu-img check -q "$1" && qemu-img compare -q "$2" "$1"
}
for cs in 512 4k 64k 2M; do
	"$VMM_IMG" convert -f raw -O qcow2 -o cluster_size=$cs base.raw w.qcow2 >/dev/null
	check "write-convert-cs$cs" qemu_ok w.qcow2 base.raw
done
"$VMM_IMG" convert -f raw -O qcow2 -o compat=0.10 base.raw wv2.qcow2 >/dev/null
check write-convert-v2 qemu_ok wv2.qcow2 base.raw
"$VMM_IMG" convert -c -p -f raw -O qcow2 base.raw wc.qcow2 >progress.txt
check write-convert-compressed qemu_ok wc.qcow2 base.raw
check write-compressed-is-compressed bash -c "qemu-img check wc.qcow2 | grep -q '[1-9][0-9.]*% compressed'"
check convert-progress grep -q '100.00/100%' progress.txt
# create with backing, then write through the crash writer for a moment
"$VMM_IMG" create -f qcow2 -b ch2.qcow2 -F qcow2 top.qcow2 >/dev/null
"$VMM_IMG" crash-writer top.qcow2 3 top.log 3000
check write-backing-overlay-qemu-check qemu-img check -q top.qcow2
qemu-img convert -O raw top.qcow2 top-ref.raw
check write-backing-overlay-readback bash -c "'$VMM_IMG' convert -O raw top.qcow2 top-got.raw && cmp top-ref.raw top-got.raw"
# 512-byte clusters over 20M forces refcount table growth
head -c 20M /dev/urandom > big.raw
"$VMM_IMG" convert -f raw -O qcow2 -o cluster_size=512 big.raw w512.qcow2 >/dev/null
check write-refcount-table-growth qemu_ok w512.qcow2 big.raw
check vmm-check-clean "$VMM_IMG" check w512.qcow2
# resize
"$VMM_IMG" convert -f raw -O qcow2 -o cluster_size=4k base.raw rs.qcow2 >/dev/null
"$VMM_IMG" resize rs.qcow2 +3G >/dev/null
check resize-size bash -c "qemu-img info --output=json rs.qcow2 | grep -q '\"virtual-size\": $((6*1048576 + 3*1073741824))'"
check resize-qemu-check qemu-img check -q rs.qcow2
qemu-io -c 'write -P 0x77 3G 64k' rs.qcow2 >/dev/null
check resize-qemu-writes-after qemu-img check -q rs.qcow2
# exit codes of check: leaks -> 3, repaired -> 0, corruption -> 2
cp w.qcow2 leak.qcow2
python3 - leak.qcow2 <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); h = f.read(112)
cb = struct.unpack('>I', h[20:24])[0]; rto = struct.unpack('>Q', h[48:56])[0]
f.seek(rto); rb = struct.unpack('>Q', f.read(8))[0]
f.seek(0, 2); n = (f.tell() + (1 << cb) - 1) >> cb; f.truncate((n + 1) << cb)
f.seek(rb + 2 * n); f.write(struct.pack('>H', 1))   # a refcount for an unused cluster in the file
PY
"$VMM_IMG" check leak.qcow2 >/dev/null 2>&1; rc=$?
[ $rc -eq 3 ] && pass check-exit-leaks || fail check-exit-leaks "exit $rc, want 3"
"$VMM_IMG" check -r leaks leak.qcow2 >/dev/null 2>&1; rc=$?
[ $rc -eq 0 ] && pass check-repair-leaks || fail check-repair-leaks "exit $rc, want 0"
check check-repaired-qemu qemu-img check -q leak.qcow2
cp w.qcow2 bad.qcow2
python3 - bad.qcow2 <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); h = f.read(112)
rto = struct.unpack('>Q', h[48:56])[0]
f.seek(rto); rb = struct.unpack('>Q', f.read(8))[0]
f.seek(rb + 2 * 0); f.write(struct.pack('>H', 0))   # header cluster refcount 0
PY
"$VMM_IMG" check bad.qcow2 >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass check-exit-corrupt || fail check-exit-corrupt "exit $rc, want 2"
"$VMM_IMG" check nonexistent.qcow2 >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && pass check-exit-error || fail check-exit-error "exit $rc, want 1"
check help "$VMM_IMG" --help
# dirty bit (lazy refcounts): refcounts rebuilt on a read-write open
qemu-img create -q -f qcow2 -o lazy_refcounts=on lazy.qcow2 4M
qemu-io -c 'write -P 3 0 256k' lazy.qcow2 >/dev/null
python3 - lazy.qcow2 <<'PY'
import struct, sys
f = open(sys.argv[1], 'r+b'); h = f.read(112)
inc = struct.unpack('>Q', h[72:80])[0]
f.seek(72); f.write(struct.pack('>Q', inc | 1))            # dirty
rto = struct.unpack('>Q', h[48:56])[0]
f.seek(rto); rb = struct.unpack('>Q', f.read(8))[0]
f.seek(rb + 2 * 5); f.write(struct.pack('>H', 0))          # a refcount lost
PY
"$VMM_IMG" resize lazy.qcow2 +1M >/dev/null 2>&1
check dirty-repaired-on-open qemu-img check -q lazy.qcow2
check dirty-cleared-lazy-kept bash -c "qemu-img info --output=json lazy.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"dirty-flag\"] is False and d[\"format-specific\"][\"data\"][\"lazy-refcounts\"] is True'"
check dirty-data-intact bash -c "qemu-io -c 'read -P 3 0 256k' lazy.qcow2 | grep -q 'read 262144'"
# refcount widths other than 16 bits: vmm-img writes, qemu-img checks and reads
for rb in 1 2 4 8 32 64; do
	qemu-img create -q -f qcow2 -o refcount_bits=$rb,cluster_size=4k rb$rb.qcow2 8M
	qemu-io -c 'write -P 9 0 64k' rb$rb.qcow2 >/dev/null
	"$VMM_IMG" crash-writer rb$rb.qcow2 $rb rb.log 3000
	qemu-img convert -O raw rb$rb.qcow2 rb-ref.raw
	check "refcount-bits-$rb" bash -c "qemu-img check -q rb$rb.qcow2 && '$VMM_IMG' convert -O raw rb$rb.qcow2 rb-got.raw && cmp rb-ref.raw rb-got.raw"
done
# convert is sparse at cluster granularity: 3 MiB of data + 9 bytes -> 49 clusters
"$VMM_IMG" convert -f raw -O qcow2 base.raw sparse.qcow2 >/dev/null
check convert-sparse bash -c "qemu-img check sparse.qcow2 | grep -q '^49/96 = '"
"$VMM_IMG" convert -f raw -O raw base.raw sparse.raw >/dev/null
check convert-sparse-raw bash -c "cmp base.raw sparse.raw && [ \$(du -k sparse.raw | cut -f1) -lt 3200 ]"
check info-backing-chain bash -c "'$VMM_IMG' info --backing-chain --output=json ch2.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [x[\"format\"] for x in d]==[\"qcow2\",\"qcow2\",\"raw\"]'"
