# poweroff -f in the guest: the VMM exits 0.
. "$LINUX_TESTS/lib.sh"
# -v: vmm says how it loaded the kernel and initrd; by default it unpacks
# a bzImage and a compressed initramfs on the host (see guest-unpack.sh for
# the other path)
case "$VMM_CMD" in
*qemu-as-vmm*) vmm_boot poweroff poweroff ;;
*) vmm_boot poweroff poweroff -v ;;
esac
case "$VMM_CMD" in
*qemu-as-vmm*) expect_exit poweroff poweroff 0 "reboot: Power down" ;;
*)
	if ! log_has "unpacked on the host"; then
		fail poweroff "vmm did not unpack the bzImage on the host (no 'unpacked on the host' from -v)"
	elif ! log_has "unpacked the gzip initramfs on the host"; then
		fail poweroff "vmm did not unpack the gzip initramfs on the host (no line saying so from -v)"
	else
		expect_exit poweroff poweroff 0 "reboot: Power down"
	fi
	;;
esac
