# Boots to init with 2 vCPUs and 512M: the guest sees nproc 2 and a
# MemTotal between 440M and 512M.
. "$LINUX_TESTS/lib.sh"
GUEST_CPUS=2
vmm_boot boot poweroff
n=$(log_value nproc)
mem=$(log_value memtotal_kb)
if [ -z "$n" ]; then
	fail boot "guest init never reported (exit status $rc)"
elif [ "$n" != 2 ]; then
	fail boot "nproc=$n, want 2"
elif [ -z "$mem" ] || [ "$mem" -lt $((440 * 1024)) ] || [ "$mem" -gt $((512 * 1024)) ]; then
	fail boot "memtotal_kb=$mem, want 450560..524288"
elif [ "$rc" != 0 ]; then
	fail boot "exit status $rc after a poweroff, want 0"
else
	pass boot "nproc=$n memtotal_kb=$mem ${elapsed}s"
fi
