# --guest-unpack: the bzImage's own decompressor runs in the guest (the path
# QEMU takes, and vmm's fallback when it cannot unpack a kernel); poweroff
# still ends the VMM with 0, and the guest unpacks the initrd itself.  The other cases cover vmm's default, the
# kernel unpacked on the host: -v makes both say which path they took.
. "$LINUX_TESTS/lib.sh"
case "$VMM_CMD" in
*qemu-as-vmm*)
	echo "VMMRESULT guest-unpack SKIP --guest-unpack is a vmm option"
	return 0 2>/dev/null || exit 0
	;;
esac
vmm_boot guest-unpack poweroff --guest-unpack -v
if log_has "unpacked on the host"; then
	fail guest-unpack "vmm unpacked the kernel or initrd despite --guest-unpack"
elif ! log_has "(bzImage, "; then
	fail guest-unpack "no 'loaded ... (bzImage, ...)' line from vmm -v"
else
	expect_exit guest-unpack poweroff 0 "reboot: Power down"
fi
