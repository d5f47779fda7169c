# malformed images: exit 1 with one clear error naming the image, never a crash
qemu-img create -q -f qcow2 good.qcow2 1M
qemu-io -c 'write -P 1 0 64k' good.qcow2 >/dev/null
mal() {	# NAME PATTERN: make m-NAME.qcow2 before calling
	local img=m-$1.qcow2 bin rc
	for bin in "$VMM_IMG" ${VMM_IMG_SAN:+$VMM_IMG_SAN/vmm-img}; do
		"$bin" convert -f qcow2 -O raw "$img" m.raw >"$T/mal.out" 2>&1; rc=$?
		if [ $rc -ne 1 ]; then
			fail "malformed-$1" "$bin exit $rc, want 1: $(head -c 300 "$T/mal.out")"
			return
		fi
		if ! grep -q "$img" "$T/mal.out" || ! grep -qi "$2" "$T/mal.out"; then
			fail "malformed-$1" "error does not name the image/defect: $(head -c 300 "$T/mal.out")"
			return
		fi
	done
	pass "malformed-$1"
}
head -c 50 good.qcow2 > m-truncated.qcow2;				mal truncated 'truncated'
cp good.qcow2 m-l1eof.qcow2; poke m-l1eof.qcow2 40 0000000010000000;	mal l1eof 'L1 table.*past end of file'
cp good.qcow2 m-rteof.qcow2; poke m-rteof.qcow2 48 0000000010000000;	mal rteof 'refcount table.*past end of file'
cp good.qcow2 m-overlap.qcow2; poke m-overlap.qcow2 40 0000000000010000; mal overlap 'overlaps'
cp good.qcow2 m-cbits.qcow2; poke m-cbits.qcow2 20 0000001e;		mal cbits 'cluster_bits'
cp good.qcow2 m-size.qcow2; poke m-size.qcow2 24 7fffffffffffffff;	mal size 'virtual size'
cp good.qcow2 m-incompat.qcow2; poke m-incompat.qcow2 72 0000000000000020; mal incompat 'incompatible feature'
cp good.qcow2 m-extl2.qcow2; poke m-extl2.qcow2 72 0000000000000010;	mal extl2 'extended L2'
cp good.qcow2 m-datafile.qcow2; poke m-datafile.qcow2 72 0000000000000004; mal datafile 'external data'
cp good.qcow2 m-rorder.qcow2; poke m-rorder.qcow2 96 00000007;		mal rorder 'refcount_order'
cp good.qcow2 m-version.qcow2; poke m-version.qcow2 4 00000009;		mal version 'version'
cp good.qcow2 m-l2eof.qcow2
l1=$(python3 -c "import struct;print(struct.unpack('>Q',open('good.qcow2','rb').read()[40:48])[0])")
poke m-l2eof.qcow2 "$l1" 8000000040000000;				mal l2eof 'L2 table'
qemu-img create -q -f qcow2 -u -b m-loop2.qcow2 -F qcow2 m-loop.qcow2 1M
qemu-img create -q -f qcow2 -u -b m-loop.qcow2 -F qcow2 m-loop2.qcow2 1M
mal loop 'loops'
qemu-img create -q -f qcow2 -u -b m-self.qcow2 -F qcow2 m-self.qcow2 1M 2>/dev/null || true
[ -f m-self.qcow2 ] && mal self 'loops'
qemu-img create -q -f qcow2 -u -b missing.qcow2 -F qcow2 m-nobacking.qcow2 1M
mal nobacking 'backing'
# refcount overflow: a cluster at the 16-bit maximum cannot be referenced once more
