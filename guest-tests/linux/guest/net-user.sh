# SPDX-License-Identifier: MIT
# virtio-net with user-mode networking: address by DHCP from slirp, fetch
# the host's /data from 10.0.2.2:8081 (the testhost's loopback), serve our
# own /data on port 8080 (reached by the host through hostfwd), checksums
# printed.  vmmnet.mb=MiB (default 8).
mb=8
for arg in $(cat /proc/cmdline); do
	case "$arg" in vmmnet.mb=*) mb=${arg#vmmnet.mb=} ;; esac
done
ip link set lo up
cat >/tmp/udhcpc.sh <<'S'
#!/bin/sh
case "$1" in
bound|renew)
	ifconfig "$interface" "$ip" netmask "$subnet" up
	[ -n "$router" ] && route add default gw "$router" dev "$interface"
	echo "VMMTEST dhcp-ip=$ip"
	echo "VMMTEST dhcp-router=$router"
	;;
esac
S
chmod +x /tmp/udhcpc.sh
ip link set eth0 up
if ! udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/udhcpc.sh; then
	echo "VMMTEST dhcp=fail"
	exit 1
fi
# UDP through a host socket made at run time (slirp's DNS forwarding: with
# no /etc/resolv.conf in the testhost it goes to its 127.0.0.1:53, where
# nothing answers); only that vmm survives it matters (seccomp)
timeout 5 nslookup vmm-test.invalid 10.0.2.3 >/dev/null 2>&1
echo "VMMTEST dns-tried=$?"
mkdir -p /www
head -c 1048576 /dev/urandom >/tmp/r1m
: >/www/data
i=0
while [ $i -lt "$mb" ]; do
	cat /tmp/r1m >>/www/data
	i=$((i + 1))
done
echo "VMMTEST sent-md5=$(md5sum </www/data | cut -d' ' -f1)"
httpd -p 8080 -h /www
echo "VMMTEST recv-md5=$(wget -q -O - http://10.0.2.2:8081/data | md5sum | cut -d' ' -f1)"
i=0
while [ $i -lt 300 ]; do
	wget -q -O /dev/null http://10.0.2.2:8081/done 2>/dev/null && break
	sleep 1
	i=$((i + 1))
done
echo "VMMTEST net-done=$i"
