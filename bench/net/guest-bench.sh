# SPDX-License-Identifier: MIT
# Guest side of bench/net (shipped as /tests/net-bench.sh): brings eth0 up
# (vmmnet.mode=tap: 169.254.1.2/24, peer .1; user: DHCP from slirp, peer
# 10.0.2.2), measures the round trip to the peer with ping, then serves
# iperf3 for exactly vmmnet.runs client runs (one-off servers) and exits.
mode=tap runs=4 pings=20
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmmnet.mode=*) mode=${arg#vmmnet.mode=} ;;
	vmmnet.runs=*) runs=${arg#vmmnet.runs=} ;;
	vmmnet.pings=*) pings=${arg#vmmnet.pings=} ;;
	esac
done
ip link set lo up
if [ "$mode" = user ]; then
	cat >/tmp/udhcpc.sh <<'S'
#!/bin/sh
case "$1" in
bound|renew)
	ifconfig "$interface" "$ip" netmask "$subnet" up
	[ -n "$router" ] && route add default gw "$router" dev "$interface"
	;;
esac
S
	chmod +x /tmp/udhcpc.sh
	ip link set eth0 up
	udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/udhcpc.sh >/dev/null 2>&1 || {
		echo "VMMTEST bench-error=dhcp"
		exit 1
	}
	peer=10.0.2.2
else
	ip addr add 169.254.1.2/24 dev eth0 && ip link set eth0 up || {
		echo "VMMTEST bench-error=eth0"
		exit 1
	}
	peer=169.254.1.1
	# the host configures its side when the tap appears: wait for it
	i=0
	while ! ping -c 1 -W 1 $peer >/dev/null 2>&1 && [ $i -lt 60 ]; do
		i=$((i + 1))
	done
fi
rtt=$(ping -c "$pings" -i 0.2 $peer 2>/dev/null | sed -n 's|^round-trip min/avg/max = [^/]*/\([^/]*\)/.*$|\1|p')
echo "VMMTEST bench-rtt=${rtt:-fail}"
echo "VMMTEST bench-ready=1"
# eth0's counters every 10 s on the console: when a run fails, they tell a
# stalled receive from a stalled send (bench.sh prints the log's tail)
s=/sys/class/net/eth0/statistics
(while sleep 10; do
	echo "VMMTEST eth0-stats rx=$(cat $s/rx_packets) tx=$(cat $s/tx_packets) rxdrop=$(cat $s/rx_dropped)"
done) &
i=0
while [ $i -lt "$runs" ]; do
	iperf3 -s -1 >/dev/null 2>&1
	i=$((i + 1))
done
echo "VMMTEST bench-served=$i"
