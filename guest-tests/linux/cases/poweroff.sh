# poweroff -f in the guest: the VMM exits 0.
. "$LINUX_TESTS/lib.sh"
vmm_boot poweroff poweroff
expect_exit poweroff poweroff 0 "reboot: Power down"
