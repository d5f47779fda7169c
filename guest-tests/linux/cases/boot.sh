# Boots to init with 2 vCPUs and 512M: the guest sees nproc 2, a
# MemTotal between 440M and 512M, and a CMOS RTC (rtc_cmos bound through
# the DSDT) whose clock is within two minutes of the host's, and the
# LAPIC timer in TSC-deadline mode (CPUID offers it; no calibration).
. "$LINUX_TESTS/lib.sh"
GUEST_CPUS=2
vmm_boot boot poweroff
n=$(log_value nproc)
mem=$(log_value memtotal_kb)
rtc=$(log_value rtc)
rtc_epoch=$(log_value rtc_epoch)
clockevent=$(log_value clockevent)
skew=$(($(date +%s) - ${rtc_epoch:-0}))
if [ -z "$n" ]; then
	fail boot "guest init never reported (exit status $rc)"
elif [ "$n" != 2 ]; then
	fail boot "nproc=$n, want 2"
elif [ -z "$mem" ] || [ "$mem" -lt $((440 * 1024)) ] || [ "$mem" -gt $((512 * 1024)) ]; then
	fail boot "memtotal_kb=$mem, want 450560..524288"
elif [ "${rtc#rtc_cmos}" = "$rtc" ]; then
	fail boot "the guest has no rtc_cmos RTC (rtc0 is '$rtc')"
elif [ "$skew" -lt -120 ] || [ "$skew" -gt 300 ]; then
	fail boot "guest RTC epoch $rtc_epoch is ${skew}s behind the host's clock"
elif [ "$clockevent" != lapic-deadline ]; then
	fail boot "the guest's tick is '$clockevent', want lapic-deadline (CPUID's TSC-deadline bit)"
elif [ "$rc" != 0 ]; then
	fail boot "exit status $rc after a poweroff, want 0"
else
	pass boot "nproc=$n memtotal_kb=$mem rtc=$rtc clockevent=$clockevent ${elapsed}s"
fi
