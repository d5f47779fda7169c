# qcow2 written by a Linux guest through vmm: vmm-img makes the image, the
# guest makes ext4 and writes files on it (format probed from the header),
# then qemu-img check finds no corruption, the raw conversion passes e2fsck
# and holds the guest's checksums, and a second boot reads them back.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
: "${VMM_IMG:?}"
img=$OUTDIR/blk-qcow2.qcow2
raw=$OUTDIR/blk-qcow2.raw
rm -f "$img" "$raw"
if ! "$VMM_IMG" create -f qcow2 "$img" 64M >"$OUTDIR/blk-qcow2.create" 2>&1; then
	rc=- elapsed=0
	fail blk-qcow2 "vmm-img create failed: $(cat "$OUTDIR/blk-qcow2.create")"
	exit 0
fi
vmm_boot blk-qcow2-write blk-write --disk "path=$img"
wlog=$log
if [ "$rc" != 0 ] || ! log_has "VMMTEST vda-write=ok"; then
	fail blk-qcow2 "write boot: exit $rc, guest did not report vda-write=ok"
elif ! qemu-img check "$img" >"$OUTDIR/blk-qcow2.check" 2>&1; then
	fail blk-qcow2 "qemu-img check: $(tail -n 5 "$OUTDIR/blk-qcow2.check" | tr '\n' ' ')"
elif ! "$VMM_IMG" convert -f qcow2 -O raw "$img" "$raw" >/dev/null 2>&1; then
	fail blk-qcow2 "vmm-img convert -O raw failed"
elif ! qemu-img compare -f qcow2 -F raw "$img" "$raw" >/dev/null 2>&1; then
	fail blk-qcow2 "qemu-img compare: the qcow2 and vmm-img's raw conversion differ"
elif ! blk_host_check "$raw" vda "$wlog"; then
	fail blk-qcow2 "$blk_why"
else
	sums="$(log_value vda-big) $(log_value vda-small) $(log_value vda-tree)"
	vmm_boot blk-qcow2-read blk-read --disk "path=$img,format=qcow2"
	back="$(log_value vda-rbig) $(log_value vda-rsmall) $(log_value vda-rtree)"
	if [ "$rc" != 0 ] || ! log_has "VMMTEST vda-read=ok"; then
		fail blk-qcow2 "read boot: exit $rc, guest did not report vda-read=ok"
	elif [ "$sums" != "$back" ]; then
		fail blk-qcow2 "read back '$back', wrote '$sums'"
	else
		pass blk-qcow2
	fi
fi
rm -f "$img" "$raw"
