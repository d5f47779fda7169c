# halt -f in the guest: Linux stops every CPU with interrupts off ("reboot:
# System halted") and never powers off; vmm notices that no vCPU can run
# again and exits 12 instead of hanging (docs/exit-status.md).
. "$LINUX_TESTS/lib.sh"
case "$VMM_CMD" in
*qemu-as-vmm*)
	echo "VMMRESULT halt SKIP QEMU waits for a halted guest for ever"
	return 0 2>/dev/null || exit 0
	;;
esac
GUEST_CPUS=2
vmm_boot halt halt
expect_exit halt halt 12 "reboot: System halted"
