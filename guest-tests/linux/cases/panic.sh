# A forced kernel panic with pvpanic-mmio loaded: the VMM exits 6
# (VMM_EXIT_PANIC in vmm/exitcode.h).
. "$LINUX_TESTS/lib.sh"
vmm_boot panic panic
expect_exit panic panic 6 "Kernel panic"
