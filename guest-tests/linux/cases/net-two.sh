# SPDX-License-Identifier: MIT
# Two virtio-net cards beside a virtio-blk disk: eth0 and eth1 each ping
# their tap and carry 16 MiB from the host, 16 MiB go the other way, md5
# checked; the disk is there too.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/net-lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
disk=$(blk_image net-two-disk 16)
net_host_start 16 vmmna0 vmmnb0
GUEST_CMDLINE="$GUEST_CMDLINE vmmnet.mb=16 vmmnet.nics=2" \
	vmm_boot net-two net-xfer --disk "path=$disk,format=raw" \
	--net tap=vmmna0,vhost=off --net tap=vmmnb0
net_host_stop
rm -f "$disk"
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-two "exit $rc; the guest script must exit 0"
elif ! log_has "VMMTEST vda=present"; then
	fail net-two "no /dev/vda in the guest"
elif [ "$(log_value eth0-mac)" = "$(log_value eth1-mac)" ]; then
	fail net-two "both cards have the MAC $(log_value eth0-mac)"
elif ! net_check net-two 2 1; then
	fail net-two "$net_why"
else
	pass net-two "${elapsed}s, $(log_value eth0-mac) $(log_value eth1-mac)"
fi
