# Tiny guests (build/guest-tests/*.elf, copied into L1 as /th/guest-tests by
# mk-l1-initrd.sh; TINY_GUESTS=dir overrides) on real KVM, under vmm and then under QEMU -accel kvm in
# the same testhost:
#   kvmclock on 2 vCPUs for th.kvmclock_secs (kernel argument of L1, default
#     5; TESTHOST_LOGLEVEL="quiet th.kvmclock_secs=40" for a long run): no
#     warp across vCPUs; with stable=1 (every vCPU's pvclock has
#     PVCLOCK_TSC_STABLE_BIT) when L1's clocksource is tsc, and vmm -v must
#     then log KVM_CLOCK_TSC_STABLE;
#   ioapic (--testdev / -device pc-testdev): level-triggered IOAPIC;
#   realmode: a multiboot image at 0x8000.
# One result line for all of them.  The vCPUs of kvmclock spin: see
# docs/testhost.md on spinning guests in the one-CPU testhost.
. "$LINUX_TESTS/lib.sh"
case "$VMM_CMD" in
*qemu-as-vmm*)
	echo "VMMRESULT tiny-guests SKIP runs QEMU itself after vmm"
	return 0 2>/dev/null || exit 0
	;;
esac
# in L1: /th/guest-tests; on a host with hardware KVM: $BUILD/guest-tests
dir=$LINUX_TESTS/../guest-tests
for d in "${TINY_GUESTS:-}" "$LINUX_TESTS/../guest-tests" "${BUILD:-build}/guest-tests"; do
	if [ -n "$d" ] && [ -f "$d/kvmclock.elf" ]; then
		dir=$d
		break
	fi
done
secs=$(sed -n 's/.*th\.kvmclock_secs=\([0-9][0-9]*\).*/\1/p' /proc/cmdline 2>/dev/null)
secs=${secs:-5}
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
stable=0
[ "$cs" = tsc ] && stable=1
done_list=""
rc=0 elapsed=0 timed_out=0

# tiny NAME ELF VMM-ARGS -- QEMU-ARGS -- CMDLINE: runs ELF under vmm, then
# under QEMU; both must exit 1 (debug-exit 0) after SUCCESS with no FAIL line.
tiny() {
	_n=$1 _elf=$dir/$2 _vargs=$3 _qargs=$4 _cmd=$5
	if [ ! -f "$_elf" ]; then
		log=/dev/null
		fail tiny-guests "$_elf is missing (make guest-tests before make test-linux)"
		return 1
	fi
	for _who in vmm qemu; do
		log=$OUTDIR/tiny-$_n-$_who.log
		_start=$(date +%s)
		if [ $_who = vmm ]; then
			# shellcheck disable=SC2086
			timeout -k 10 "$CASE_TIMEOUT" $VMM_CMD -v --kernel "$_elf" --console stdio \
				$_vargs --cmdline "$_cmd" </dev/null >"$log" 2>&1
		else
			# shellcheck disable=SC2086
			timeout -k 10 "$CASE_TIMEOUT" qemu-system-x86_64 -accel kvm -cpu host -M pc \
				-m 256M -nodefaults -no-user-config -display none -monitor none \
				-serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4 \
				$_qargs -kernel "$_elf" -append "$_cmd" </dev/null >"$log" 2>&1
		fi
		rc=$?
		elapsed=$(($(date +%s) - _start))
		timed_out=0
		# shellcheck disable=SC2034 # read by fail() in lib.sh
		[ "$elapsed" -ge "$CASE_TIMEOUT" ] && timed_out=1
		if [ "$rc" != 1 ] || ! log_has SUCCESS || grep -q '^FAIL' "$log"; then
			fail tiny-guests "$_n under $_who: exit status $rc, want 1 after SUCCESS"
			return 1
		fi
		done_list="$done_list $_n/$_who=${elapsed}s"
	done
}

tiny kvmclock-2 kvmclock.elf "--cpus 2" "-smp 2" "cpus=2 secs=$secs stable=$stable" || exit 0
if [ $stable = 1 ] && ! grep -q 'stable KVM master clock (KVM_CLOCK_TSC_STABLE)' "$OUTDIR/tiny-kvmclock-2-vmm.log"; then
	log=$OUTDIR/tiny-kvmclock-2-vmm.log
	fail tiny-guests "L1's clocksource is tsc but vmm did not log KVM_CLOCK_TSC_STABLE"
	exit 0
fi
tiny ioapic ioapic.elf "--testdev" "-device pc-testdev" "" || exit 0
tiny realmode realmode.elf "" "" "" || exit 0
reads=$(sed -n 's/^no warp in \([0-9]*\) reads.*/\1/p' "$OUTDIR/tiny-kvmclock-2-vmm.log" | tr -d '\r')
qreads=$(sed -n 's/^no warp in \([0-9]*\) reads.*/\1/p' "$OUTDIR/tiny-kvmclock-2-qemu.log" | tr -d '\r')
pass tiny-guests "L1 clocksource=$cs kvmclock ${secs}s: vmm $reads reads, QEMU $qreads reads, no warp;$done_list"
