#!/bin/bash
# The crash-consistency campaign (issue 13, docs/reliability.md):
#   scripts/campaign-crash.sh          (make campaign-crash)
# A Linux guest writes sequence-numbered records and fsyncs each one
# (guest-tests/linux/guest/crash-writer.sh) to a raw or qcow2 disk; vmm is
# SIGKILLed at a random moment; then qemu-img check must find no corruption
# (qcow2; leaks allowed) and every record whose fsync the guest reported
# complete must read back (tests/campaign/crash-l1.sh).  Mode "powercut"
# does the same under tests/campaign/powercut.c, which keeps only what vmm
# had fdatasync'd: a power cut below the block layer.
#
# Runs where /dev/kvm is real: directly on a host with hardware KVM, else
# in the testhost (docs/testhost.md), whose freezes are detected (silent
# console) and answered by booting a new testhost that resumes the plan.
# Environment:
#   N=100                       runs per mode, format and cache mode
#   MODES="kill powercut"       FORMATS="raw qcow2"
#   CACHES="writeback none writethrough unsafe"
#   KILL_MS=8000                the kill comes 0..KILL_MS ms after the writer starts
#   BUILD=build VMM=$BUILD/vmm  TESTHOST_BOOTS=30  NICE=19
#   TESTHOST_FREEZE=75 (s of console silence = frozen)
#   L1_KVM_AMD="vgif=0"         kvm-amd parameters in the testhost (freeze experiments)
#   L1_APPEND="..."             more testhost kernel parameters (freeze experiments)
# Results: one CRASHRUN line per run, a summary per configuration, the
# testhost boots and freezes, all in $BUILD/campaign-crash/results.txt.
#   START=R.I                   begin at configuration I of round R (resume)
#   DEADLINE=HH:MM              UTC: no testhost is started after it (the
#                               runs so far are summarised)
# scripts/campaign-crash.sh --summary   summarises the logs of the last run
# (e.g. after stopping it by hand).
# Exit status: 0 when every run passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$PWD
BUILD=${BUILD:-build}
VMM=${VMM:-$BUILD/vmm}
N=${N:-100}
MODES=${MODES:-kill powercut}
FORMATS=${FORMATS:-raw qcow2}
CACHES=${CACHES:-writeback none writethrough unsafe}
KILL_MS=${KILL_MS:-8000}
NICE=${NICE:-19}
START=${START:-1.1}
TESTHOST=${TESTHOST:-auto}
TESTHOST_BOOTS=${TESTHOST_BOOTS:-30}
TESTHOST_FREEZE=${TESTHOST_FREEZE:-75}
res=$BUILD/campaign-crash
mkdir -p "$res"
results=$res/results.txt

summary_only=0
[ "${1:-}" = --summary ] && summary_only=1
if [ "$summary_only" = 0 ]; then
nice -n "$NICE" make -s -j2 "$VMM" "$BUILD/vmm-img" || exit 1
out=$BUILD/testhost
mkdir -p "$out/campaign"
gcc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$out/campaign/powercut.so" \
	tests/campaign/powercut.c -ldl || exit 1
cp tests/campaign/crash-l1.sh "$out/campaign/"
fi
configs=()
for m in $MODES; do
	for f in $FORMATS; do
		for c in $CACHES; do
			configs+=("$m:$f:$c")
		done
	done
done
log=$res/console.log
boots=0 freezes=0
if [ "$summary_only" = 1 ]; then
	boots=$(ls "$res"/console.[0-9]*.log 2>/dev/null | wc -l)
	for i in $(seq "$boots"); do tr -d '\r' <"$res/console.$i.log"; done >"$log"
	freezes=$(grep -c 'froze' "$results")
else
echo "campaign-crash: $N round(s) of ${#configs[@]} configurations: ${configs[*]}" | tee "$results"
echo "campaign-crash: vmm $(git describe --always --dirty 2>/dev/null), started $(date -u '+%F %T') UTC" | tee -a "$results"

KVER=$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")
L1_KERNEL=/boot/vmlinuz-$KVER
. guest-tests/testhost/where.sh
: >"$log"
if [ "$where" = direct ]; then
	echo "campaign-crash: directly on this host (hardware KVM)" | tee -a "$results"
	guest-tests/testhost/mk-guest-initrd.sh "$out/guest-initrd.gz" || exit 1
	LINUX_TESTS=$top/guest-tests/linux VMM_CMD=$(readlink -f "$VMM") GUEST_KERNEL=$L1_KERNEL \
		GUEST_INITRD=$top/$out/guest-initrd.gz OUTDIR=$top/$res/out KILL_MS=$KILL_MS \
		nice -n "$NICE" sh tests/campaign/crash-l1.sh "$N" "${START%.*}" "${START#*.}" "${configs[@]}" | tee "$log"
else
	echo "campaign-crash: in the testhost (QEMU TCG + kvm-amd, $KVER)${L1_KVM_AMD:+, kvm-amd $L1_KVM_AMD}${L1_APPEND:+, L1 kernel $L1_APPEND}" | tee -a "$results"
	guest-tests/testhost/mk-l1-initrd.sh "$out" "$VMM" || exit 1
	. guest-tests/testhost/l1-qemu.sh
	l1_qemu_cmd 1
	l1_qemu=(nice -n "$NICE" "${l1_qemu[@]}")
	: >"$out/qemu.err"
	r=${START%.*} idx=${START#*.}
	while [ "$boots" -lt "$TESTHOST_BOOTS" ]; do
		if [ -n "${DEADLINE:-}" ] && [ "$(date -u +%H:%M)" \> "$DEADLINE" ]; then
			echo "campaign-crash: past the deadline $DEADLINE UTC: no new testhost" | tee -a "$results"
			break
		fi
		boots=$((boots + 1))
		plan=$(IFS=,; echo "$N,$r,$idx,${configs[*]}")
		append="console=ttyS0 panic=-1 quiet transparent_hugepage=never ${L1_APPEND:-} th.job=campaign-crash th.plan=$plan th.killms=$KILL_MS"
		[ -n "${L1_KVM_AMD:-}" ] && append="$append th.kvm_amd=$(echo "$L1_KVM_AMD" | tr ' ' ,)"
		left=$(( (N - r + 1) * ${#configs[@]} - idx + 1))
		l1_watched "$res/console.$boots.log" $((300 + 240 * left)) "$TESTHOST_FREEZE" "$append"
		tr -d '\r' <"$res/console.$boots.log" | tee -a "$log" | grep -a -e '^CRASHRUN' -e '^TESTHOST kvm' -e '^TESTHOST cpu'
		grep -q '^CRASHDONE' "$res/console.$boots.log" && break
		if [ "$froze" = 1 ]; then
			freezes=$((freezes + 1))
			echo "campaign-crash: testhost $boots froze (console silent ${TESTHOST_FREEZE}s) during: $(grep -a '^CRASHSTART' "$res/console.$boots.log" | tail -n 1)" | tee -a "$results"
		else
			echo "campaign-crash: testhost $boots ended without CRASHDONE (QEMU exit $qrc)" | tee -a "$results"
		fi
		# resume at the run that did not report (it is run again)
		last=$(tr -d '\r' <"$res/console.$boots.log" | grep -a '^CRASHSTART' | tail -n 1 | cut -d' ' -f2)
		if [ -n "$last" ]; then
			r=${last%.*} idx=${last#*.}
		fi
	done
fi

fi # summary_only

# the summary
{
	echo "== runs"
	tr -d '\r' <"$log" | grep -a '^CRASHRUN'
	echo "== per configuration: runs, PASS, FAIL, BOOTFAIL"
	for c in "${configs[@]}"; do
		IFS=: read -r m f k <<<"$c"
		lines=$(tr -d '\r' <"$log" | grep -a "^CRASHRUN $m $f $k ")
		n=$(grep -c . <<<"$lines")
		[ -z "$lines" ] && n=0
		echo "$m $f $k: $n runs, $(grep -c ' PASS ' <<<"$lines") PASS, $(grep -c ' FAIL ' <<<"$lines") FAIL, $(grep -c ' BOOTFAIL ' <<<"$lines") BOOTFAIL"
	done
	gb=$(tr -d '\r' <"$log" | grep -a -c '^CRASHSTART')
	echo "== guest boots started: $gb; testhost boots: $boots; testhost freezes: $freezes"
	echo "campaign-crash: ended $(date -u '+%F %T') UTC"
} | tee -a "$results"
! tr -d '\r' <"$log" | grep -a -q -e '^CRASHRUN .* FAIL ' -e '^CRASHRUN .* BOOTFAIL '
