# SPDX-License-Identifier: MIT
# virtio-net: configure eth0..eth(N-1) on 169.254.(i+1).2/24, ping the host
# side (.1), fetch its /data over HTTP and serve our own, checksums printed.
# Kernel command line: vmmnet.nics=N (default 1), vmmnet.mb=MiB (default 64),
# vmmnet.streams=S parallel fetches per NIC (default 1).
nics=1 mb=64 streams=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmmnet.nics=*) nics=${arg#vmmnet.nics=} ;;
	vmmnet.mb=*) mb=${arg#vmmnet.mb=} ;;
	vmmnet.streams=*) streams=${arg#vmmnet.streams=} ;;
	esac
done
ip link set lo up
i=0
while [ $i -lt "$nics" ]; do
	if ! ip addr add 169.254.$((i + 1)).2/24 dev eth$i || ! ip link set eth$i up; then
		echo "VMMTEST eth$i=missing"
		ls /sys/class/net
		exit 1
	fi
	echo "VMMTEST eth$i-mac=$(cat /sys/class/net/eth$i/address)"
	echo "VMMTEST eth$i-rxq=$(ls -d /sys/class/net/eth$i/queues/rx-* | wc -l)"
	i=$((i + 1))
done
i=0
while [ $i -lt "$nics" ]; do
	if ping -c 3 -W 5 169.254.$((i + 1)).1 >/dev/null 2>&1; then
		echo "VMMTEST eth$i-ping=ok"
	else
		echo "VMMTEST eth$i-ping=fail"
	fi
	i=$((i + 1))
done
# our data: 1 MiB of random bytes, mb times
mkdir -p /www
head -c 1048576 /dev/urandom >/tmp/r1m
: >/www/data
i=0
while [ $i -lt "$mb" ]; do
	cat /tmp/r1m >>/www/data
	i=$((i + 1))
done
rm -f /tmp/r1m
echo "VMMTEST sent-md5=$(md5sum </www/data | cut -d' ' -f1)"
httpd -p 8080 -h /www
i=0
while [ $i -lt "$nics" ]; do
	s=0
	while [ $s -lt "$streams" ]; do
		(wget -q -O - http://169.254.$((i + 1)).1:8080/data | md5sum | cut -d' ' -f1 \
			>/tmp/md5.$i.$s) &
		s=$((s + 1))
	done
	i=$((i + 1))
done
wait
i=0
while [ $i -lt "$nics" ]; do
	s=0
	while [ $s -lt "$streams" ]; do
		echo "VMMTEST eth$i-recv$s-md5=$(cat /tmp/md5.$i.$s)"
		s=$((s + 1))
	done
	i=$((i + 1))
done
[ -b /dev/vda ] && echo "VMMTEST vda=present"
grep virtio /proc/interrupts | tr -s ' ' | sed 's/^/VMMTEST irq /'
# stay up until the host has fetched ours (it then creates /done)
i=0
while [ $i -lt 300 ]; do
	wget -q -O /dev/null http://169.254.1.1:8080/done 2>/dev/null && break
	sleep 1
	i=$((i + 1))
done
echo "VMMTEST net-done=$i"
