# SPDX-License-Identifier: MIT
# virtio-net with user-mode networking (libslirp): DHCP, a fetch from a
# server on the testhost's loopback (10.0.2.2 in the guest), and the
# testhost fetching from a guest server through hostfwd.  Nothing leaves
# the testhost: slirp's network is internal, the servers listen on 127.0.0.1.
. "$LINUX_TESTS/lib.sh"
mb=8
ip link set lo up 2>/dev/null
rm -rf "$OUTDIR/uwww"
mkdir -p "$OUTDIR/uwww"
head -c 1048576 /dev/urandom >"$OUTDIR/r1m"
i=0
while [ $i -lt $mb ]; do
	cat "$OUTDIR/r1m" >>"$OUTDIR/uwww/data"
	i=$((i + 1))
done
rm -f "$OUTDIR/r1m"
host_md5=$(md5sum <"$OUTDIR/uwww/data" | cut -d' ' -f1)
httpd -f -p 127.0.0.1:8081 -h "$OUTDIR/uwww" &
srv=$!
(
	w=0
	while [ $w -lt 600 ]; do
		wget -q -O "$OUTDIR/user-guest.data" http://127.0.0.1:2222/data 2>/dev/null && break
		sleep 1
		w=$((w + 1))
	done
	md5sum <"$OUTDIR/user-guest.data" | cut -d' ' -f1 >"$OUTDIR/user-guest.md5"
	rm -f "$OUTDIR/user-guest.data"
	touch "$OUTDIR/uwww/done"
) &
helper=$!
GUEST_CMDLINE="$GUEST_CMDLINE vmmnet.mb=$mb" \
	vmm_boot net-user net-user --net user,hostfwd=tcp:127.0.0.1:2222-:8080
kill "$helper" "$srv" 2>/dev/null
wait "$srv" 2>/dev/null
sent=$(log_value sent-md5)
if [ "$rc" != 0 ] || ! log_has "VMMTEST script-exit=0"; then
	fail net-user "exit $rc; the guest script must exit 0"
elif [ "$(log_value dhcp-ip)" != 10.0.2.15 ]; then
	fail net-user "no DHCP lease 10.0.2.15 from slirp (got '$(log_value dhcp-ip)')"
elif [ "$(log_value recv-md5)" != "$host_md5" ]; then
	fail net-user "host->guest checksum differs"
elif [ -z "$sent" ] || [ "$(cat "$OUTDIR/user-guest.md5" 2>/dev/null)" != "$sent" ]; then
	fail net-user "guest->host (hostfwd) checksum differs"
else
	rm -rf "$OUTDIR/uwww"
	pass net-user
fi
