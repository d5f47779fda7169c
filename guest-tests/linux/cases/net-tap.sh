# SPDX-License-Identifier: MIT
# virtio-net over a tap, userspace backend (vhost=off): eth0 configured,
# ping the host side, 64 MiB each way over TCP, md5 checked at both ends.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/net-lib.sh"
net_host_start 64 vmmnt0
GUEST_CMDLINE="$GUEST_CMDLINE vmmnet.mb=64" \
	vmm_boot net-tap net-xfer --net tap=vmmnt0,vhost=off
net_host_stop
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-tap "exit $rc; the guest script must exit 0"
elif ! net_check net-tap 1 1; then
	fail net-tap "$net_why"
else
	pass net-tap "${elapsed}s, $(log_value eth0-mac)"
fi
