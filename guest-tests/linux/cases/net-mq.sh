# SPDX-License-Identifier: MIT
# virtio-net with queues=2 (multi-queue tap created by vmm, 2 guest vCPUs):
# the guest shows two rx queues, and both queue pairs carry traffic
# (4 parallel fetches; interrupts counted per queue in /proc/interrupts).
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/net-lib.sh"
net_host_start 16 vmmnq0
GUEST_CPUS=2 GUEST_CMDLINE="$GUEST_CMDLINE vmmnet.mb=16 vmmnet.streams=4" \
	vmm_boot net-mq net-xfer --net tap=vmmnq0,queues=2,vhost=off
net_host_stop
# irq_count NAME: interrupts of the guest's virtio0-NAME over all CPUs
irq_count() {
	tr -d '\r' <"$log" | grep "VMMTEST irq " | grep -- "-$1\$" |
		awk '{ s = 0; for (i = 4; i < NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s; exit }'
}
in0=$(irq_count input.0)
in1=$(irq_count input.1)
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-mq "exit $rc; the guest script must exit 0"
elif [ "$(log_value eth0-rxq)" != 2 ]; then
	fail net-mq "the guest has $(log_value eth0-rxq) rx queues, want 2"
elif ! net_check net-mq 1 4; then
	fail net-mq "$net_why"
elif [ "${in0:-0}" -eq 0 ] || [ "${in1:-0}" -eq 0 ]; then
	fail net-mq "rx interrupts per queue: input.0=$in0 input.1=$in1 (both must carry traffic)"
else
	pass net-mq "${elapsed}s, rx interrupts input.0=$in0 input.1=$in1"
fi
