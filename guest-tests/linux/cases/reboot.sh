# reboot -f in the guest: the VMM exits 0.
. "$LINUX_TESTS/lib.sh"
vmm_boot reboot reboot
expect_exit reboot reboot 0 "reboot: Restarting system"
