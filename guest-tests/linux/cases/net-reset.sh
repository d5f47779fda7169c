# SPDX-License-Identifier: MIT
# virtio-net keeps its backend across a VM reset: the guest reboots once
# (--on-reboot restart rebuilds every device) and pings the testhost's tap
# address before and after.  vmm creates the tap (vhost=auto: vhost-net in
# the testhost) and the host configures it once, so the second ping fails
# if the reset closed the tap (a created tap vanishes with its address; a
# --net fd=N tap could not be reopened at all).  Link-local addresses only.
. "$LINUX_TESTS/lib.sh"
ip link set lo up 2>/dev/null
head -c 1048576 /dev/zero >"$OUTDIR/net-reset.img"
(
	w=0
	while [ ! -e /sys/class/net/vmmrs0 ] && [ $w -lt 600 ]; do
		sleep 0.2
		w=$((w + 1))
	done
	ip addr add 169.254.1.1/24 dev vmmrs0
	ip link set vmmrs0 up
) &
helper=$!
CASE_TIMEOUT=${NET_RESET_TIMEOUT:-300}
GUEST_CMDLINE="$GUEST_CMDLINE reboot=a" \
	vmm_boot net-reset net-reset -v --on-reboot restart \
	--disk path="$OUTDIR/net-reset.img",format=raw --net tap=vmmrs0
kill "$helper" 2>/dev/null
wait "$helper" 2>/dev/null
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-reset "exit $rc; the guest script must exit 0 on its second boot"
elif [ "$(grep -c "VMMTEST init-ready test=net-reset" "$log")" != 2 ]; then
	fail net-reset "the guest did not boot twice (no reset)"
elif [ "$(log_value boot1-ping)" != ok ]; then
	fail net-reset "first boot: ping failed"
elif [ "$(log_value boot2-ping)" != ok ]; then
	fail net-reset "after the reset: ping failed (the tap was not kept)"
else
	pass net-reset "${elapsed}s, two boots, ping ok before and after the reset; $(grep -c 'virtio-net eth0: tap vmmrs0' "$log") card creations, $(grep -o 'vhost-net, slot\|userspace backend, slot' "$log" | head -n 1 | cut -d, -f1)"
fi
rm -f "$OUTDIR/net-reset.img"
