# SPDX-License-Identifier: MIT
# Pause, reset and reboot of a running Linux guest through vmmctl (docs/
# control.md), one vmm process (--name ctl-p --on-reboot restart) with the
# guest's shell on a FIFO:
#   * pause 3 s: a command sent meanwhile is not answered; after resume it
#     is, the guest's clock advanced with the host's, and no soft lockup
#     was reported (watchdog_thresh=1: it would fire after 2 s stopped,
#     unless KVM_KVMCLOCK_CTRL told the guest the host paused it);
#   * vmmctl reset: a second boot;
#   * reboot -f in the guest (reboot=a, the FADT reset register; see
#     reboot.sh): with --on-reboot restart a third boot;
#   * the user-network card: DHCP (udhcpc) before the pause and after it;
#     a lease before and none after fails;
#   * vm.counters: a disk read and the DHCP exchanges show in the
#     virtio-blk and virtio-net queue counters, MMIO exits in the vCPU's;
#   * exit: poweroff, vmm exits 0; vmmctl events saw it all.
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/ctl-lib.sh"
ctl_skip_qemu ctl-pause
log=$OUTDIR/ctl-pause.log
fifo=$OUTDIR/ctl-pause.in
evlog=$OUTDIR/ctl-pause.events
rc=-
t0=$(date +%s)
pid=
evpid=
rm -f "$fifo" "$evlog"
mkfifo "$fifo"

bad() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	[ -n "$evpid" ] && kill "$evpid" 2>/dev/null
	exec 3>&-
	elapsed=$(($(date +%s) - t0))
	{
		echo "== vmmctl events =="
		cat "$evlog" 2>/dev/null
	} >>"$log"
	fail ctl-pause "$@"
	exit 0
}

# say CMD: a line for the guest's shell.  Markers are printed as
# "VMM%s" TEST so that the echoed input never looks like the output.
say() {
	echo "$*" >&3
}

GUEST_CMDLINE="$GUEST_CMDLINE reboot=a"
truncate -s 16M "$OUTDIR/ctl-pause.img"
VMM_STDIN=$fifo ctl_start "$log" $(ctl_guest_args) \
	--cmdline "$GUEST_CMDLINE vmmtest=shell" --name ctl-p --on-reboot restart \
	--disk "path=$OUTDIR/ctl-pause.img,format=raw" --net user
pid=$bgpid
exec 3>"$fifo"
bgwait=$pid
i=0
while ! "$VMMCTL" ping ctl-p >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 30 ] || bad "vmm never answered vmmctl ping"
	sleep 1
done
"$VMMCTL" events ctl-p --json >"$evlog" 2>&1 &
evpid=$!

wait_log "$log" "VMMTEST shell-ready" 200 || bad "the guest's shell never came up"
sleep 2
# DHCP before the pause too: the network must work after resume as before
dhcp="udhcpc -i eth0 -n -q -t 5 -T 2 -s /bin/true >/dev/null 2>&1"
say "ip link set eth0 up; $dhcp; printf 'VMM%s dhcp0=%s\n' TEST \$?"
wait_log "$log" "VMMTEST dhcp0=" 60 || bad "the first DHCP did not finish"
say "echo 1 >/proc/sys/kernel/watchdog_thresh; printf 'VMM%s thresh=%s\nVMM%s t0=%s\n' TEST \"\$(cat /proc/sys/kernel/watchdog_thresh)\" TEST \"\$(date +%s)\""
wait_log "$log" "VMMTEST t0=" 60 || bad "the shell did not answer before the pause"
h0=$(date +%s)
g0=$(value_in "$log" t0)
[ "$(value_in "$log" thresh)" = 1 ] || bad "could not set watchdog_thresh=1"
sleep 2

"$VMMCTL" pause ctl-p || bad "vmmctl pause failed"
"$VMMCTL" info ctl-p >"$OUTDIR/ctl-pause.info" 2>&1
grep -q '^State: *Paused' "$OUTDIR/ctl-pause.info" || bad "vmmctl info does not say Paused: $(cat "$OUTDIR/ctl-pause.info")"
say "printf 'VMM%s during=%s\n' TEST \"\$(date +%s)\""
sleep 3
[ "$(count_in "$log" "VMMTEST during=")" = 0 ] || bad "the paused guest answered a command"
"$VMMCTL" resume ctl-p || bad "vmmctl resume failed"
wait_log "$log" "VMMTEST during=" 60 || bad "the shell did not answer after resume"
sleep 3
say "printf 'VMM%s lockups=%s\nVMM%s t1=%s\n' TEST \"\$(dmesg | grep -c 'soft lockup')\" TEST \"\$(date +%s)\""
wait_log "$log" "VMMTEST t1=" 60 || bad "the shell did not answer after resume"
h1=$(date +%s)
g1=$(value_in "$log" t1)
dg=$((g1 - g0))
dh=$((h1 - h0))
echo "pause: guest clock advanced ${dg}s, host ${dh}s"
[ "$dg" -ge 8 ] || bad "the guest's clock advanced ${dg}s across the pause, want >= 8 (host: ${dh}s)"
[ "$((dg - dh))" -le 2 ] && [ "$((dh - dg))" -le 2 ] ||
	bad "the guest's clock advanced ${dg}s, the host's ${dh}s"
[ "$(value_in "$log" lockups)" = 0 ] || bad "soft lockup after the pause: lockups=$(value_in "$log" lockups)"
! grep -q "soft lockup" "$log" || bad "soft lockup on the console"

# vm.counters: the disk's reads and the card's DHCP exchange, per queue
say "dd if=/dev/vda of=/dev/null bs=64k count=16 2>/dev/null; $dhcp; printf 'VMM%s dhcp1=%s\nVMM%s io-%s\n' TEST \$? TEST done"
wait_log "$log" "VMMTEST io-done" 60 || bad "the disk read and DHCP did not finish"
curl -s --max-time 30 --unix-socket /run/vmm/ctl-p.sock \
	http://localhost/api/v1/vm.counters >"$OUTDIR/ctl-pause.counters"
"$VMMCTL" info ctl-p >>"$OUTDIR/ctl-pause.info" 2>&1
cat "$OUTDIR/ctl-pause.info"
# the largest value of a counter over every queue
maxof() {
	grep -o "\"$1\":[0-9]*" "$OUTDIR/ctl-pause.counters" | cut -d: -f2 | sort -n | tail -n 1
}
[ "$(maxof read_bytes)" -ge 1048576 ] 2>/dev/null ||
	bad "vm.counters: virtio-blk read_bytes $(maxof read_bytes), want >= 1 MiB: $(cat "$OUTDIR/ctl-pause.counters")"
d0=$(value_in "$log" dhcp0)
d1=$(value_in "$log" dhcp1)
echo "counters: read_bytes $(maxof read_bytes), tx_packets $(maxof tx_packets), rx_packets $(maxof rx_packets); DHCP before the pause: $d0, after: $d1"
[ "$(maxof tx_packets)" -ge 1 ] 2>/dev/null ||
	bad "vm.counters: virtio-net tx_packets $(maxof tx_packets): $(cat "$OUTDIR/ctl-pause.counters")"
# a lease means packets came in (without one, slirp was slow under TCG: only tx is sure)
if [ "$d0" = 0 ] || [ "$d1" = 0 ]; then
	[ "$(maxof rx_packets)" -ge 1 ] 2>/dev/null ||
		bad "vm.counters: a DHCP lease but rx_packets $(maxof rx_packets): $(cat "$OUTDIR/ctl-pause.counters")"
fi
[ "$d0" != 0 ] || [ "$d1" = 0 ] || bad "DHCP worked before the pause (udhcpc 0) but not after it ($d1)"
[ "$(maxof mmio)" -ge 1 ] 2>/dev/null || bad "vm.counters: no MMIO exits counted"
grep -q '^  vCPU 0 (' "$OUTDIR/ctl-pause.info" || bad "vmmctl info shows no vCPU exits"

"$VMMCTL" reset ctl-p || bad "vmmctl reset failed"
wait_log "$log" "VMMTEST shell-ready" 200 2 || bad "no second boot after vmmctl reset"
sleep 2
say "reboot -f"
wait_log "$log" "VMMTEST shell-ready" 200 3 || bad "no third boot after reboot -f with --on-reboot restart"
grep -q "reboot: Restarting system" "$log" || bad "the guest did not say it was restarting"
sleep 2
say "exit"
wait_exit "$pid" 120
pid=
[ "$rc" = 0 ] || bad "exit status $rc after the guest's poweroff, want 0"
[ "$(count_in "$log" "VMMTEST init-start")" = 3 ] || bad "want exactly three boots"
exec 3>&-
rm -f "$OUTDIR/ctl-pause.img" "$fifo"
i=0
while kill -0 "$evpid" 2>/dev/null && [ "$i" -lt 10 ]; do
	sleep 1
	i=$((i + 1))
done
kill "$evpid" 2>/dev/null
evpid=
for e in paused resumed reset reboot shutdown; do
	grep -q "\"event\":\"$e\"" "$evlog" || bad "vmmctl events: no $e event"
done
[ "$(grep -c '"event":"booted"' "$evlog")" -ge 2 ] || bad "vmmctl events: want the booted events of the reset and the reboot"
grep -q '"event":"shutdown".*"status":0' "$evlog" || bad "vmmctl events: shutdown without status 0"
elapsed=$(($(date +%s) - t0))
pass ctl-pause
