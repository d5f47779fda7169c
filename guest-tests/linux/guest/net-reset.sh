# SPDX-License-Identifier: MIT
# virtio-net across a VM reset (vmm --on-reboot restart): eth0 on
# 169.254.1.2/24 pings the host side (.1) on the first boot, marks the disk
# and reboots; on the second boot (marker found) it pings again and exits.
# The host configured its tap once: the second ping only answers if the
# reset kept the same tap (and vhost-net) open.
ip link set lo up
if ! ip addr add 169.254.1.2/24 dev eth0 || ! ip link set eth0 up; then
	echo "VMMTEST eth0=missing"
	exit 1
fi
boot=1
[ "$(head -c 8 /dev/vda)" = VMMRESET ] && boot=2
if ping -c 3 -W 5 169.254.1.1 >/dev/null 2>&1; then
	echo "VMMTEST boot$boot-ping=ok"
else
	echo "VMMTEST boot$boot-ping=fail"
fi
if [ $boot = 1 ]; then
	printf VMMRESET | dd of=/dev/vda bs=8 count=1 conv=fsync 2>/dev/null
	sync
	echo "VMMTEST rebooting"
	reboot -f
	sleep 60
	exit 1
fi
exit 0
