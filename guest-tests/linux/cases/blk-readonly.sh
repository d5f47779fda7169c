# virtio-blk: readonly=on is visible to the guest, writes are refused, the image is unchanged.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
img=$(blk_image blk-readonly 16)
printf 'vmm readonly disk test pattern' | dd of="$img" bs=512 seek=1 conv=notrunc 2>/dev/null
before=$(md5sum <"$img" | cut -d' ' -f1)
vmm_boot blk-readonly blk-readonly --disk "path=$img,format=raw,readonly=on"
after=$(md5sum <"$img" | cut -d' ' -f1)
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail blk-readonly "exit $rc"
elif [ "$(log_value ro-flag)" != 1 ]; then
	fail blk-readonly "/sys/block/vda/ro is '$(log_value ro-flag)', want 1"
elif [ "$(log_value ro-write)" != refused ] || [ "$(log_value ro-write2)" != refused ]; then
	fail blk-readonly "a write was accepted"
elif [ "$before" != "$after" ] || [ "$(log_value ro-unchanged)" != yes ]; then
	fail blk-readonly "the image changed"
else
	rm -f "$img"
	pass blk-readonly
fi
