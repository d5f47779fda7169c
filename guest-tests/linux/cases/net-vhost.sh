# SPDX-License-Identifier: MIT
# virtio-net over a tap with vhost-net (vhost=on: fails if vhost-net cannot
# be had): eth0 configured, ping the host side, 64 MiB each way over TCP,
# md5 checked at both ends.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/net-lib.sh"
net_host_start 64 vmmnv0
GUEST_CMDLINE="$GUEST_CMDLINE vmmnet.mb=64" \
	vmm_boot net-vhost net-xfer --net tap=vmmnv0,vhost=on -v
net_host_stop
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-vhost "exit $rc; the guest script must exit 0"
elif ! log_has "vhost-net, slot"; then
	fail net-vhost "vmm did not say it runs vhost-net"
elif ! net_check net-vhost 1 1; then
	fail net-vhost "$net_why"
else
	pass net-vhost "${elapsed}s"
fi
