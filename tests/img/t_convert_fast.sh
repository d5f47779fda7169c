# convert reads only allocated data, keeps holes, flattens backing chains,
# syncs once, and prints qemu-img's progress (sourced by run.sh, runs in $T)

# bytes qemu-img map calls data in IMAGE
mapped_data() {
	qemu-img map --output=json "$1" | python3 -c '
import json, sys
print(sum(e["length"] for e in json.load(sys.stdin) if e["data"]))'
}
# st_blocks of FILE in KiB
du_k() { du -k "$1" | cut -f1; }

# an 8 GiB raw with 1 MiB of data: seconds before, milliseconds now
truncate -s 8G sp8.raw
head -c 1M /dev/urandom | dd of=sp8.raw bs=1M seek=3000 conv=notrunc status=none
check fast-sparse-raw-to-qcow2-time timeout 3 "$VMM_IMG" convert -f raw -O qcow2 sp8.raw sp8.qcow2
check fast-sparse-raw-to-qcow2-same qemu-img compare -q -f raw -F qcow2 sp8.raw sp8.qcow2
check fast-sparse-qcow2-only-data-clusters test "$(mapped_data sp8.qcow2)" -eq 1048576
check fast-sparse-qcow2-clean qemu-img check -q sp8.qcow2
qemu-img convert -f raw -O qcow2 sp8.raw sp8-q.qcow2
check fast-sparse-qcow2-to-raw-time timeout 3 "$VMM_IMG" convert -f qcow2 -O raw sp8-q.qcow2 sp8-out.raw
check fast-sparse-qcow2-to-raw-same qemu-img compare -q -f qcow2 -F raw sp8-q.qcow2 sp8-out.raw
check fast-sparse-raw-stays-sparse test "$(du_k sp8-out.raw)" -le 2048
check fast-sparse-raw-size test "$(stat -c %s sp8-out.raw)" -eq $((8 << 30))
rm -f sp8.raw sp8.qcow2 sp8-q.qcow2 sp8-out.raw

# zeros that are allocated (written, not holes) become holes / unallocated clusters
truncate -s 8M zd.raw
dd if=/dev/zero of=zd.raw bs=1M count=4 conv=notrunc status=none
head -c 64K /dev/urandom | dd of=zd.raw bs=64K seek=10 conv=notrunc status=none
"$VMM_IMG" convert -f raw -O qcow2 zd.raw zd.qcow2 >/dev/null
check fast-allocated-zeros-qcow2-same qemu-img compare -q -f raw -F qcow2 zd.raw zd.qcow2
check fast-allocated-zeros-not-allocated test "$(mapped_data zd.qcow2)" -eq 65536
# and in a qcow2 input: clusters written with zeros by qemu-io are data to qemu
qemu-img create -q -f qcow2 zq.qcow2 8M
qemu-io -c 'write -P 0 0 2M' -c 'write -P 0x5a 4M 64k' zq.qcow2 >/dev/null
"$VMM_IMG" convert -f qcow2 -O raw zq.qcow2 zq.raw
check fast-zero-clusters-raw-same qemu-img compare -q -f qcow2 -F raw zq.qcow2 zq.raw
check fast-zero-clusters-raw-holes test "$(du_k zq.raw)" -le 256
"$VMM_IMG" convert -f qcow2 -O qcow2 zq.qcow2 zq2.qcow2
check fast-zero-clusters-qcow2-same qemu-img compare -q zq.qcow2 zq2.qcow2
check fast-zero-clusters-qcow2-unallocated test "$(mapped_data zq2.qcow2)" -eq 65536
rm -f zd.raw zd.qcow2 zq.qcow2 zq.raw zq2.qcow2

# a backing chain (qcow2 over qcow2 over raw) is flattened
truncate -s 16M cb.raw
head -c 1M /dev/urandom | dd of=cb.raw bs=1M seek=1 conv=notrunc status=none
qemu-img create -q -f qcow2 -b cb.raw -F raw cm.qcow2 16M
qemu-io -c 'write -P 0x11 3M 1M' -c 'write -z 1M 512k' cm.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b cm.qcow2 -F qcow2 ct.qcow2 24M
qemu-io -c 'write -P 0x22 3M 64k' -c 'write -P 0x33 20M 64k' ct.qcow2 >/dev/null
"$VMM_IMG" convert -f qcow2 -O qcow2 ct.qcow2 cflat.qcow2
check fast-chain-to-qcow2-same qemu-img compare -q ct.qcow2 cflat.qcow2
check fast-chain-to-qcow2-no-backing bash -c "! qemu-img info cflat.qcow2 | grep -q backing"
check fast-chain-to-qcow2-clean qemu-img check -q cflat.qcow2
"$VMM_IMG" convert -f qcow2 -O raw ct.qcow2 cflat.raw
check fast-chain-to-raw-same qemu-img compare -q -f qcow2 -F raw ct.qcow2 cflat.raw
# data: 512k of the raw base + 1M + 64k + 64k of the overlays (the zeroed 512k is not)
check fast-chain-to-raw-sparse test "$(du_k cflat.raw)" -le 1800
rm -f cb.raw cm.qcow2 ct.qcow2 cflat.qcow2 cflat.raw

# -p: qemu-img's progress, on stdout, with \r; nothing on stderr
head -c 4M /dev/urandom > pr.raw
truncate -s 64M pr.raw
"$VMM_IMG" convert -p -f raw -O qcow2 pr.raw pr.qcow2 >prog.txt 2>prog.err
check fast-progress-stdout grep -q '    (100.00/100%)' prog.txt
check fast-progress-starts-at-0 grep -q '^    (0.00/100%)' prog.txt
check fast-progress-cr test "$(tr -cd '\r' <prog.txt | wc -c)" -ge 2
check fast-progress-ends-with-newline test "$(tail -c 1 prog.txt | od -An -c | tr -d ' ')" = '\n'
check fast-progress-not-stderr test ! -s prog.err
check fast-progress-same qemu-img compare -q -f raw -F qcow2 pr.raw pr.qcow2
rm -f pr.raw pr.qcow2 prog.txt prog.err

# one sync at the end, not one per allocation batch (-t unsafe: none)
if command -v strace >/dev/null; then
	head -c 32M /dev/urandom > sy.raw
	syncs() { strace -f -c -e trace=fdatasync,fsync "$@" 2>&1 >/dev/null |
		awk '$NF == "fdatasync" || $NF == "fsync" { n += $4 } END { print n + 0 }'; }
	n=$(syncs "$VMM_IMG" convert -f raw -O qcow2 -o cluster_size=4k sy.raw sy.qcow2)
	# (before: one per pool batch, over 100 here; now 4: create, flush, close)
	check fast-few-syncs-qcow2 test "$n" -ge 1 -a "$n" -le 8
	n=$(syncs "$VMM_IMG" convert -f qcow2 -O raw sy.qcow2 sy2.raw)
	check fast-few-syncs-raw test "$n" -ge 1 -a "$n" -le 3
	n=$(syncs "$VMM_IMG" convert -t unsafe -f qcow2 -O raw sy.qcow2 sy3.raw)
	check fast-no-sync-unsafe test "$n" -eq 0
	check fast-syncs-output-same qemu-img compare -q -f raw -F qcow2 sy.raw sy.qcow2
	check fast-unsafe-output-same cmp sy.raw sy3.raw
	rm -f sy.raw sy.qcow2 sy2.raw sy3.raw
else
	echo "SKIP fast-few-syncs: strace missing"
fi
check fast-bad-cache-mode bash -c "! '$VMM_IMG' convert -t none -O raw base.raw bad.raw 2>/dev/null && test ! -e bad.raw"
