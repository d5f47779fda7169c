#!/bin/bash
# SPDX-License-Identifier: MIT
# Boot-time benchmark: vmm vs QEMU, both on real KVM (in the testhost
# unless /dev/kvm here is hardware KVM).  Median exec -> "VMMTEST
# init-start" (the guest's /init first line) over N boots each.
#   bench/boot/run.sh [N]          (default 5)
# Environment: VMM (build/vmm), BUILD (build), TESTHOST=auto|always|never,
# TESTHOST_SMP (1), TESTHOST_THP (madvise: transparent huge pages in L1 as
# Debian ships them; "never" is what the Linux tests use), TESTHOST_ICOUNT
# (unset; SHIFT: time counted in instructions, 2^SHIFT ns each, see
# guest-tests/testhost/l1-qemu.sh), BENCH_KERNEL (debian: the cloud kernel
# the Linux tests boot; mini: a minimal 6.1 kernel built by
# bench/boot/mini-kernel.sh, the kind kernel developers boot in a loop),
# BENCH_DOC_ONLY=1 (only rewrite the doc from the last log), TESTHOST_FREEZE
# (75: seconds of console silence that mean the TCG testhost froze; it is
# restarted, at most BENCH_BOOTS=3 times).  Writes the result and the commands into the "Boot
# time" section of docs/performance.md.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
n=${1:-5}
BUILD=${BUILD:-build}
VMM=${VMM:-$BUILD/vmm}
TESTHOST=${TESTHOST:-auto}
TESTHOST_SMP=${TESTHOST_SMP:-1}
thp=${TESTHOST_THP:-madvise}
KVER=$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")
L1_KERNEL=/boot/vmlinuz-$KVER
out=$BUILD/testhost
mkdir -p "$out"
log=$out/bench-boot.log
case "${BENCH_KERNEL:=debian}" in
debian)
	GUEST_KERNEL=$L1_KERNEL
	kernel_txt="Debian cloud kernel $KVER"
	;;
mini)
	bench/boot/mini-kernel.sh "$BUILD/mini-kernel" || exit 1
	GUEST_KERNEL=$top/$BUILD/mini-kernel/bzImage
	kernel_txt="a minimal 6.1 kernel ($(du -h "$GUEST_KERNEL" | cut -f1) bzImage from bench/boot/mini-kernel.sh: tinyconfig + serial console, initramfs, ACPI, KVM guest)"
	;;
*)
	echo "bench-boot: BENCH_KERNEL=$BENCH_KERNEL: want debian or mini" >&2
	exit 2
	;;
esac
export GUEST_KERNEL

gcc -std=gnu11 -O2 -Wall -Wextra -Wformat=2 -Wmissing-prototypes \
	-Wstrict-prototypes -Werror -static -o "$out/bootstamp" bench/boot/bootstamp.c || exit 1

. guest-tests/testhost/where.sh

start=$(date +%s)
if [ "$where" = direct ]; then
	where_txt="directly on the host (hardware KVM)"
else
	where_txt="in the testhost (QEMU $(qemu-system-x86_64 --version | head -1 | awk '{print $4}') TCG -cpu EPYC -smp $TESTHOST_SMP${TESTHOST_ICOUNT:+ -icount shift=$TESTHOST_ICOUNT}, nested kvm-amd, $KVER, L1 transparent_hugepage=$thp) on $(nproc) host cores"
fi
if [ "${BENCH_DOC_ONLY:-0}" = 1 ]; then
	# rewrite docs/performance.md from the last run's log, without running
	# (give the same BENCH_KERNEL/TESTHOST_* as that run)
	n=$(tr -d '\r' <"$log" | sed -n 's/^BENCH median n=\([0-9]*\).*/\1/p' | tail -1)
elif [ "$where" = direct ]; then
	echo "bench-boot: running directly on this host (/dev/kvm is hardware KVM)"
	guest-tests/testhost/mk-guest-initrd.sh "$out/guest-initrd.gz" || exit 1
	VMM_CMD=$(readlink -f "$VMM") \
		GUEST_INITRD=$top/$out/guest-initrd.gz BOOTSTAMP=$top/$out/bootstamp \
		OUTDIR=$top/$out/out sh bench/boot/bench.sh "$n" 2>&1 | tee "$log"
else
	echo "bench-boot: running in the testhost (QEMU TCG -cpu EPYC -smp $TESTHOST_SMP + kvm-amd): /dev/kvm here is not hardware KVM"
	guest-tests/testhost/mk-l1-initrd.sh "$out" "$VMM" || exit 1
	. guest-tests/testhost/l1-qemu.sh
	l1_qemu_cmd "$TESTHOST_SMP"
	# a frozen TCG testhost (docs/testhost.md) is restarted, at most BENCH_BOOTS times
	freeze=${TESTHOST_FREEZE:-75}
	: >"$out/qemu.err"
	for attempt in $(seq 1 "${BENCH_BOOTS:-3}"); do
		l1_watched "$log" 1800 "$freeze" \
			"console=ttyS0 panic=-1 quiet transparent_hugepage=$thp th.job=bench th.n=$n"
		[ "$froze" = 0 ] && break
		echo "bench-boot: the testhost froze (console silent ${freeze}s), attempt $attempt"
	done
	tr -d '\r' <"$log" | grep '^BENCH'
fi
result=$(tr -d '\r' <"$log" | grep '^BENCH median' | tail -1)
if [ -z "$result" ]; then
	echo "bench-boot: no result; console in $log"
	exit 1
fi
echo "bench-boot: ${result#BENCH median } ($(($(date +%s) - start))s)"

# rewrite this benchmark's section of docs/performance.md
doc=docs/performance.md
[ -f "$doc" ] || printf '# Performance\n\nOne section per benchmark; each is rewritten by its own script.\n' >"$doc"
v=$(sed -n 's/.*vmm_ms=\([^ ]*\).*/\1/p' <<<"$result")
p=$(sed -n 's/.*qemu_pc_ms=\([^ ]*\).*/\1/p' <<<"$result")
m=$(sed -n 's/.*qemu_microvm_ms=\([^ ]*\).*/\1/p' <<<"$result")
r=$(sed -n 's/.*ratio_vmm_qemu_pc=\([^ ]*\).*/\1/p' <<<"$result")
cmds=$(tr -d '\r' <"$log" | sed -n 's/^BENCH cmd \([^:]*\): /\1: /p')
runs=$(for k in vmm qemu-pc qemu-microvm; do
	echo "$k: $(tr -d '\r' <"$log" | sed -n "s/^BENCH run $k ms=\([0-9]*\).*/\1/p" | tr '\n' ' ')"
done)
runs="$runs
vmm/qemu-pc per round: $(echo "$runs" | awk '/^vmm:/ { for (i = 2; i <= NF; i++) v[i] = $i }
	/^qemu-pc:/ { for (i = 2; i <= NF; i++) if (v[i]) printf "%.2f ", v[i] / $i }')"
base="## Boot time"
knob=
if [ "$BENCH_KERNEL" = mini ]; then
	base="$base, minimal kernel"
	knob="BENCH_KERNEL=mini "
fi
if [ -n "${TESTHOST_ICOUNT:-}" ] && [ "$where" != direct ]; then
	title="$base, counted in instructions (bench/boot, ${knob}TESTHOST_ICOUNT=$TESTHOST_ICOUNT)"
	clock="the testhost's clock, which TCG advances $((1 << TESTHOST_ICOUNT)) ns per instruction executed (\`-icount shift=$TESTHOST_ICOUNT\`): a count of the work L1 and the guest do, identical run after run"
	repro="${knob}TESTHOST_ICOUNT=$TESTHOST_ICOUNT make bench-boot BENCH_N=$n"
else
	title="$base (bench/boot${knob:+, ${knob% }})"
	clock="wall-clock time"
	[ "$where" = direct ] || clock="wall-clock time; inside the testhost every number is dominated by TCG emulation of nested SVM (exits are costly there), and the two host cores are shared with whatever else runs, so compare ratios measured in the same round"
	repro="${knob}make bench-boot BENCH_N=$n"
fi
rr=$(echo "$runs" | sed -n 's/^vmm\/qemu-pc per round: //p' | tr ' ' '\n' | grep . | sort -n |
	awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
section=$(cat <<EOT
$title

Median time from exec of the VMM to the guest's first /init line
("VMMTEST init-start"), $kernel_txt + the test initramfs,
$n boots each, interleaved; measured $(date -u -r "$log" '+%Y-%m-%d %H:%M UTC') $where_txt.
Time is $clock.
Written by bench/boot/run.sh; what it means: "Boot time: where it goes".

| VMM | median ms |
|---|---|
| vmm | $v |
| QEMU -M pc | $p |
| QEMU -M microvm | $m |

vmm / QEMU pc: **$r** (ratio of the medians; median of the per-round ratios: $rr)

Every run (ms, in order):

\`\`\`
$runs
\`\`\`

Reproduce: \`$repro\` (the make target runs bench/boot/run.sh $n). Commands run
in the testhost (output console at $log):

\`\`\`
$cmds
\`\`\`
EOT
)
awk -v sec="$section" -v title="$title" '
	/^## / { if (skip) skip = 0 }
	$0 == title { print sec; print ""; done = 1; skip = 1; next }
	$0 == "## Boot time: where it goes" && !done { print sec; print ""; done = 1 }
	!skip { print }
	END { if (!done) { print ""; print sec } }
' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
echo "bench-boot: wrote the section '${title#\#\# }' of $doc"
