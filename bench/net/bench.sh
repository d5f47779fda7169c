#!/bin/sh
# SPDX-License-Identifier: MIT
# The virtio-net benchmark proper (POSIX sh, busybox ash in the testhost L1;
# shipped as /th/linux/cases/bench-net.sh by bench/net/run.sh and started
# like a Linux case).  One guest boot per configuration, vmm and QEMU
# -accel kvm side by side on the same kernel and initramfs:
#   tap + vhost-net      vmm --net tap=T,vhost=on    QEMU -netdev tap,vhost=on
#   tap, userspace       vmm --net tap=T,vhost=off   QEMU -netdev tap,vhost=off
#   user (libslirp)      vmm --net user,hostfwd=...  QEMU -netdev user,hostfwd=...
# In each: the guest pings its peer (round trip), then L1 runs iperf3
# against the guest's server: host->guest and guest->host (-R), 1 and 4
# streams.  Only link-local addresses (169.254.1.0/24 on the tap) and
# slirp's own network with a forward from L1's 127.0.0.1: nothing leaves L1.
# Prints a markdown table, each line prefixed "BENCHNET ".
# Environment: VMM_CMD GUEST_KERNEL OUTDIR LINUX_TESTS as for the Linux
#   cases; NET_BENCH_INITRD (/guest/net-bench-initrd: guest initramfs +
#   iperf3 + the guest script), NET_BENCH_SECONDS (5) per iperf3 run
#   (netbench.secs=N on L1's command line wins), NET_BENCH_ONLY (or
#   netbench.only=a,b): run only these of the six runs (vmm_vhost ...).
: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${OUTDIR:?}"
initrd=${NET_BENCH_INITRD:-/guest/net-bench-initrd}
secs=${NET_BENCH_SECONDS:-5}
# in the testhost: from L1's kernel command line (bench/net/run.sh)
only=${NET_BENCH_ONLY:-}
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	netbench.secs=*) secs=${arg#netbench.secs=} ;;
	netbench.only=*) only=$(echo "${arg#netbench.only=}" | tr , ' ') ;;
	esac
done
tap=vmmbn0
port=5201
mkdir -p "$OUTDIR"
rm -f "$OUTDIR/diag.txt"
ip link set lo up 2>/dev/null
cmdline="console=ttyS0 panic=-1 quiet"
runs="1:fwd 4:fwd 1:rev 4:rev"

# tap_config: configures the tap as soon as the VMM has created it
tap_config() {
	(
		w=0
		while [ ! -e /sys/class/net/$tap ] && [ $w -lt 900 ]; do
			sleep 0.2
			w=$((w + 1))
		done
		ip addr add 169.254.1.1/24 dev $tap
		ip link set $tap up
	) &
	tap_pid=$!
}

# iperf_run ADDR PORT STREAMS fwd|rev: Mbit/s at the receiver, or "fail"
iperf_run() {
	_r=
	[ "$4" = rev ] && _r=-R
	_t=0
	while [ $_t -lt 30 ]; do
		# the guest restarts its one-off server between runs
		# a stalled connection must not hang the run for TCP's timeouts
		if timeout -k 5 $((secs + 40)) iperf3 -c "$1" -p "$2" -t "$secs" -P "$3" $_r -f m \
			--connect-timeout 10000 >"$OUTDIR/iperf.out" 2>&1; then
			awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
			     END { print v == "" ? "fail" : v }' "$OUTDIR/iperf.out"
			return
		fi
		sleep 1
		_t=$((_t + 10))
	done
	echo fail
}

# one LABEL MODE ADDR CMD...: boots CMD (console in $OUTDIR/LABEL.log),
# waits for the guest's server, runs the iperf3 runs; sets res_LABEL_*
one() {
	_label=$1 _mode=$2 _addr=$3
	shift 3
	if [ -n "$only" ] && ! echo " $only " | grep -q " $_label "; then
		eval "info_$_label=skipped"
		return
	fi
	_log=$OUTDIR/bench-$_label.log
	[ "$_mode" = tap ] && tap_config
	_start=$(date +%s)
	("$@") </dev/null >"$_log" 2>&1 &
	_vm=$!
	_w=0
	while ! grep -q "VMMTEST bench-ready=1" "$_log" 2>/dev/null && [ $_w -lt 300 ] &&
	      kill -0 $_vm 2>/dev/null; do
		sleep 1
		_w=$((_w + 1))
	done
	_rtt=$(tr -d '\r' <"$_log" | sed -n 's/^.*VMMTEST bench-rtt=\([^ ]*\).*$/\1/p' | head -n 1)
	eval "rtt_$_label=\$_rtt"
	_failed=0
	for _run in $runs; do
		if [ $_failed = 1 ]; then
			_v=skipped
		elif grep -q "VMMTEST bench-ready=1" "$_log"; then
			_v=$(iperf_run "$_addr" $port "${_run%%:*}" "${_run#*:}")
		else
			_v=fail
		fi
		if [ "$_v" = fail ] && [ $_failed = 0 ]; then
			# the guest's one-off server may be stuck: say what the VMM
			# and the tap were doing, then skip the rest of this run
			_failed=1
			{
				echo "diag $_label: iperf3 said: $(tail -n 2 "$OUTDIR/iperf.out" | tr '\n' ' ')"
				top -b -n 1 | head -n 12 | sed "s/^/diag $_label top: /"
				if [ "$_mode" = tap ]; then
					_st=/sys/class/net/$tap/statistics
					for _i in 1 2; do
						echo "diag $_label tap (host side): tx=$(cat $_st/tx_packets) tx_dropped=$(cat $_st/tx_dropped) rx=$(cat $_st/rx_packets) carrier=$(cat /sys/class/net/$tap/carrier)"
						ping -c 2 -W 1 169.254.1.2 >/dev/null 2>&1
					done
					ip neigh show dev $tap | sed "s/^/diag $_label neigh: /"
				fi
			} >>"$OUTDIR/diag.txt" 2>&1
		fi
		eval "res_${_label}_${_run%%:*}_${_run#*:}=\$_v"
	done
	# the guest exits after its last one-off server; a stuck one is killed
	_w=0
	while kill -0 $_vm 2>/dev/null && [ $_w -lt 120 ]; do
		sleep 1
		_w=$((_w + 1))
	done
	kill $_vm 2>/dev/null
	wait $_vm
	_rc=$?
	[ "$_mode" = tap ] && { kill $tap_pid 2>/dev/null; wait $tap_pid 2>/dev/null; }
	eval "info_$_label=\"exit $_rc, $(($(date +%s) - _start))s\""
}

vmm() {
	_mode=$1
	shift
	echo "$VMM_CMD --kernel $GUEST_KERNEL --initrd $initrd --cpus 1 --memory 512M" \
		>"$OUTDIR/cmd-vmm"
	exec $VMM_CMD --kernel "$GUEST_KERNEL" --initrd "$initrd" --cpus 1 --memory 512M \
		--cmdline "$cmdline vmmtest=net-bench vmmnet.mode=$_mode" "$@"
}

qemu() {
	_mode=$1
	shift
	exec qemu-system-x86_64 -accel kvm -cpu host -M pc -smp 1 -m 512M -nodefaults \
		-no-user-config -display none -serial stdio -monitor none -no-reboot \
		-kernel "$GUEST_KERNEL" -initrd "$initrd" \
		-append "$cmdline vmmtest=net-bench vmmnet.mode=$_mode" \
		"$@" -device virtio-net-pci,netdev=n0,romfile=
}

fwd=hostfwd=tcp:127.0.0.1:$port-:$port
start=$(date +%s)
one vmm_vhost tap 169.254.1.2 vmm tap --net tap=$tap,vhost=on
one qemu_vhost tap 169.254.1.2 qemu tap -netdev tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on
one vmm_user_space tap 169.254.1.2 vmm tap --net tap=$tap,vhost=off
one qemu_user_space tap 169.254.1.2 qemu tap -netdev tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=off
one vmm_slirp user 127.0.0.1 vmm user --net user,$fwd
one qemu_slirp user 127.0.0.1 qemu user -netdev user,id=n0,$fwd

ratio() {
	echo "$1 $2" | awk '{ if ($1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ && $2 > 0)
		printf "%.2f", $1 / $2; else printf "-" }'
}
echo "BENCHNET | backend | test | vmm | QEMU | vmm/QEMU |"
echo "BENCHNET |---|---|---:|---:|---:|"
for b in vhost:"tap + vhost-net" user_space:"tap, userspace" slirp:"user (libslirp)"; do
	k=${b%%:*}
	name=${b#*:}
	for r in $runs; do
		s=${r%%:*}
		d=${r#*:}
		eval "v=\$res_vmm_${k}_${s}_${d} q=\$res_qemu_${k}_${s}_${d}"
		if [ "$d" = fwd ]; then t="host->guest TCP, $s stream(s), Mbit/s"; else t="guest->host TCP, $s stream(s), Mbit/s"; fi
		echo "BENCHNET | $name | $t | $v | $q | $(ratio "$v" "$q") |"
	done
	eval "v=\$rtt_vmm_$k q=\$rtt_qemu_$k"
	# latency: lower is better, so the ratio is QEMU/vmm (>= 1: vmm as fast or faster)
	echo "BENCHNET | $name | ping round trip, ms (ratio QEMU/vmm) | ${v:-fail} | ${q:-fail} | $(ratio "$q" "$v") |"
done
echo "BENCHNET "
echo "BENCHNET $(uname -r) L1 (testhost), 1 guest vCPU, 512 MiB; iperf3 $(iperf3 --version | head -n 1 | cut -d' ' -f2) -t $secs -f m; ping -c 20 -i 0.2 from the guest (tap: to L1's 169.254.1.1; user: to slirp's 10.0.2.2)"
echo "BENCHNET vmm: $(cat "$OUTDIR/cmd-vmm" 2>/dev/null) --net tap=$tap,vhost=on|off / --net user,$fwd"
echo "BENCHNET QEMU: $(qemu-system-x86_64 --version | head -n 1 | cut -d'(' -f1)-accel kvm -cpu host -M pc -smp 1 -m 512M, -device virtio-net-pci,romfile= with -netdev tap,vhost=on|off / -netdev user,$fwd"
for l in vmm_vhost qemu_vhost vmm_user_space qemu_user_space vmm_slirp qemu_slirp; do
	eval "i=\$info_$l"
	echo "BENCHNET run $l: $i"
	case "$i" in
	"exit 0,"* | skipped) ;;
	*) tr -d '\r' <"$OUTDIR/bench-$l.log" | tail -n 14 | sed 's/^/BENCHNET     /' ;;
	esac
done
[ -s "$OUTDIR/diag.txt" ] && sed 's/^/BENCHNET     /' "$OUTDIR/diag.txt"
echo "BENCHNET total $(($(date +%s) - start))s"
echo "VMMRESULT bench-net PASS $(($(date +%s) - start))s"
