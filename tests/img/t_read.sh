# images made by qemu-img read byte-for-byte like qemu-img convert -O raw
same_as_qemu() {	# IMAGE: vmm-img's raw conversion equals qemu-img's
	qemu-img convert -O raw "$1" ref.raw && "$VMM_IMG" convert -O raw "$1" got.raw && cmp ref.raw got.raw
}
for cs in 512 4k 64k 2M; do
	for compat in 0.10 1.1; do
		qemu-img convert -f raw -O qcow2 -o cluster_size=$cs,compat=$compat base.raw r.qcow2
		check "read-qemu-cs$cs-compat$compat" same_as_qemu r.qcow2
	done
done
qemu-img convert -c -f raw -O qcow2 base.raw rc.qcow2
check read-compressed-zlib same_as_qemu rc.qcow2
if qemu-img convert -c -f raw -O qcow2 -o compression_type=zstd base.raw rz.qcow2 2>/dev/null; then
	check read-compressed-zstd same_as_qemu rz.qcow2
fi
qemu-img create -q -f qcow2 -b base.raw -F raw ch1.qcow2
qemu-io -c 'write -P 0xab 1M 64k' -c 'write -P 0x11 4M 8k' ch1.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b ch1.qcow2 -F qcow2 ch2.qcow2
qemu-io -c 'write -P 0xcd 1100k 4k' -c 'write -z 0 64k' -c 'write -z 4M 64k' ch2.qcow2 >/dev/null
check read-backing-chain-depth2 same_as_qemu ch2.qcow2
qemu-img create -q -f qcow2 -o compat=0.10 -b ch1.qcow2 -F qcow2 ch2v2.qcow2
qemu-io -c 'write -z 0 64k' -c 'write -P 7 2M 512' ch2v2.qcow2 >/dev/null
check read-backing-v2-zero same_as_qemu ch2v2.qcow2
qemu-img convert -O qcow2 base.raw z.qcow2
qemu-io -c 'write -z 64k 128k' -c 'write -z -u 1M 1M' z.qcow2 >/dev/null
check read-zero-clusters same_as_qemu z.qcow2
qemu-img create -q -f qcow2 -o cluster_size=512 small.qcow2 20M
qemu-io -c 'write -P 0x5a 0 20M' small.qcow2 >/dev/null
check read-512-many-refblocks same_as_qemu small.qcow2
check info-human bash -c "'$VMM_IMG' info ch2.qcow2 | grep -q 'backing file: ch1.qcow2'"
check info-json bash -c "'$VMM_IMG' info --output=json ch2.qcow2 | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"virtual-size\"]==6291456 and d[\"format\"]==\"qcow2\" and d[\"cluster-size\"]==65536 and d[\"backing-filename\"]==\"ch1.qcow2\"'"
# internal snapshots: the active layer reads, check counts snapshot tables, writes refused
qemu-img convert -f raw -O qcow2 base.raw sn.qcow2
qemu-img snapshot -c s1 sn.qcow2
qemu-io -c 'write -P 9 0 1M' sn.qcow2 >/dev/null
qemu-img snapshot -c s2 sn.qcow2
qemu-io -c 'write -P 8 512k 1M' sn.qcow2 >/dev/null
check read-internal-snapshots same_as_qemu sn.qcow2
check check-internal-snapshots-clean "$VMM_IMG" check sn.qcow2
"$VMM_IMG" resize sn.qcow2 +1M >sn.out 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q 'sn.qcow2.*internal snapshots' sn.out; then
	pass snapshots-refuse-write
else
	fail snapshots-refuse-write "exit $rc: $(head -c 200 sn.out)"
fi
