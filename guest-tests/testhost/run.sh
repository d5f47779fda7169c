#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the Linux boot tests of vmm (guest-tests/linux/cases/*.sh).
#   run.sh [CASE...]           every case, or the ones named
#   run.sh --shell             boot the testhost with a shell on this terminal
# Where: directly on this host if /dev/kvm is hardware KVM (cpu flag vmx or
# svm, and no kvm_pvm module); otherwise inside the "testhost": QEMU TCG
# -cpu EPYC booting Debian's cloud kernel with kvm-amd, i.e. real (nested)
# KVM one level down.  The first output line says which.
# Environment:
#   VMM=build/vmm          the binary under test
#   VMM_CMD=qemu           use QEMU (qemu-as-vmm.sh) in place of vmm
#   BUILD=build            build directory (products under $BUILD/testhost)
#   TESTHOST=auto|always|never   where to run (default auto)
#   TESTHOST_SMP=1         vCPUs of the testhost (TCG)
#   TESTHOST_TIMEOUT       seconds for the whole testhost run (120 + 200/case)
#   TESTHOST_FREEZE=75     seconds of console silence that mean a frozen testhost
#   TESTHOST_BOOTS=20      testhost boots at most (a frozen one is restarted)
#   FREEZES_PER_CASE=5     a case during which it froze this often fails
#   TESTHOST_L1_APPEND     more testhost kernel parameters (docs/testhost.md:
#                          the freeze experiments, e.g. th.kvm_amd=...)
# Prints "PASS name ..." / "FAIL name ..." per case and, last,
# "linux-tests: N passed, M failed"; exits non-zero on any failure or on a
# case that never reported.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top" || exit 1
BUILD=${BUILD:-build}
VMM=${VMM:-$BUILD/vmm}
VMM_CMD=${VMM_CMD:-}
TESTHOST=${TESTHOST:-auto}
TESTHOST_SMP=${TESTHOST_SMP:-1}
KVER=$(basename "$(ls -d /lib/modules/*-cloud-amd64 2>/dev/null | sort -V | tail -1)")
L1_KERNEL=/boot/vmlinuz-$KVER
out=$BUILD/testhost
mkdir -p "$out"

shell=0
if [ "${1:-}" = --shell ]; then
	shell=1
	shift
fi

for tool in qemu-system-x86_64 busybox cpio modinfo mke2fs; do
	if ! command -v "$tool" >/dev/null; then
		echo "linux-tests: $tool missing: run scripts/install-deps.sh" >&2
		exit 1
	fi
done
if [ -z "$KVER" ] || [ ! -f "$L1_KERNEL" ]; then
	echo "linux-tests: no Debian cloud kernel (linux-image-cloud-amd64): run scripts/install-deps.sh" >&2
	exit 1
fi

. "$here/where.sh"
if [ "$where" = direct ]; then
	echo "linux-tests: running directly on this host (/dev/kvm is hardware KVM)"
else
	why="/dev/kvm is not hardware KVM (no vmx/svm flag, or kvm_pvm loaded)"
	[ "$TESTHOST" = always ] && why="TESTHOST=always"
	echo "linux-tests: running in the testhost (QEMU TCG -cpu EPYC + kvm-amd, $KVER): $why"
fi

# the cases expected to report
if [ $# -gt 0 ]; then
	cases=("$@")
else
	cases=()
	for f in guest-tests/linux/cases/*.sh; do
		n=${f##*/}
		cases+=("${n%.sh}")
	done
fi

# a hung case is bounded by CASE_TIMEOUT inside L1; this bounds a hung L1
TESTHOST_TIMEOUT=${TESTHOST_TIMEOUT:-$((120 + 200 * ${#cases[@]}))}
TESTHOST_FREEZE=${TESTHOST_FREEZE:-75}
TESTHOST_BOOTS=${TESTHOST_BOOTS:-20}
FREEZES_PER_CASE=${FREEZES_PER_CASE:-5}

if [ -z "$VMM_CMD" ] && [ ! -x "$VMM" ]; then
	echo "linux-tests: $VMM does not exist: every case will fail (build it, or VMM_CMD=qemu to test the harness)"
fi

results=$out/results.log
: >"$results"
if [ "$where" = direct ]; then
	guest-tests/testhost/mk-guest-initrd.sh "$out/guest-initrd.gz" || exit 1
	if [ "$VMM_CMD" = qemu ]; then
		VMM_CMD=$top/guest-tests/testhost/qemu-as-vmm.sh
	fi
	[ -n "$VMM_CMD" ] || VMM_CMD=$(readlink -f "$VMM")
	if [ "$shell" = 1 ]; then
		echo "linux-tests: --shell is for the testhost; here run guest-tests/linux/run-cases.sh directly" >&2
		exit 2
	fi
	VMM_IMG=$top/$BUILD/vmm-img VMM_SHOW_CONSOLE=${DEMO:+1} \
	VMM_CMD=$VMM_CMD GUEST_KERNEL=$L1_KERNEL GUEST_INITRD=$top/$out/guest-initrd.gz \
		OUTDIR=$top/$out/out sh guest-tests/linux/run-cases.sh "${cases[@]}" \
		>"$results" 2>&1
else
	guest-tests/testhost/mk-l1-initrd.sh "$out" "$VMM" || exit 1
	# khugepaged was seen to lock up the TCG testhost while nested guests ran
	append="console=ttyS0 panic=-1 ${TESTHOST_LOGLEVEL:-quiet} transparent_hugepage=never ${TESTHOST_L1_APPEND:-}"
	[ "$VMM_CMD" = qemu ] && append="$append th.vmm=qemu"
	. "$here/l1-qemu.sh"
	l1_qemu_cmd "$TESTHOST_SMP"
	if [ "$shell" = 1 ]; then
		echo "linux-tests: testhost shell; 'exit' powers it off (Ctrl-A x quits QEMU)"
		exec "${l1_qemu[@]}" -serial mon:stdio -append "$append th.job=shell"
	fi
	# One testhost run for the cases in $@; its console goes to $1.  The
	# watchdog (l1-qemu.sh) kills a testhost whose console was silent for
	# TESTHOST_FREEZE s (seen now and then with nested SVM); a hung case is
	# bounded by CASE_TIMEOUT inside.
	run_l1() {
		local log=$1 sel start
		shift
		sel=$(IFS=,; echo "$*")
		start=$(date +%s)
		l1_watched "$log" "$TESTHOST_TIMEOUT" "$TESTHOST_FREEZE" \
			"$append th.job=tests th.cases=$sel${DEMO:+ th.show=1}"
		echo "linux-tests: testhost ran $(($(date +%s) - start))s (QEMU exit $qrc; console $log)"
		if [ "$froze" = 1 ]; then
			echo "linux-tests: the testhost froze (console silent ${TESTHOST_FREEZE}s)"
		elif [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
			echo "linux-tests: the testhost hit its ${TESTHOST_TIMEOUT}s timeout"
		fi
	}
	# Restart a frozen testhost for the cases left; a case during which it
	# froze FREEZES_PER_CASE times fails.
	: >"$out/qemu.err"
	left=("${cases[@]}")
	froze_in=" "
	attempt=0
	while [ "${#left[@]}" -gt 0 ] && [ "$attempt" -lt "$TESTHOST_BOOTS" ]; do
		attempt=$((attempt + 1))
		run_l1 "$out/console.$attempt.log" "${left[@]}"
		tr -d '\r' <"$out/console.$attempt.log" >>"$results"
		[ "$froze" = 1 ] || break
		cur=$(tr -d '\r' <"$out/console.$attempt.log" | sed -n 's/^VMMSTART //p' | tail -n 1)
		if [ -n "$cur" ] && ! grep -q "^VMMRESULT $cur " "$out/console.$attempt.log"; then
			froze_in="$froze_in$cur "
			n=$(printf '%s\n' $froze_in | grep -c -x -F "$cur")
			if [ "$n" -ge "$FREEZES_PER_CASE" ]; then
				echo "VMMRESULT $cur FAIL the testhost froze $n times during this case" >>"$results"
			fi
		fi
		next=()
		for c in "${left[@]}"; do
			grep -q "^VMMRESULT $c " "$results" || next+=("$c")
		done
		left=("${next[@]}")
		[ "${#left[@]}" -gt 0 ] && echo "linux-tests: restarting the testhost for: ${left[*]}"
	done
	true
fi

pass=0
failed=0
missing=0
failed_names=()
skipped=0
clean=$(tr -d '\r' <"$results")
for c in "${cases[@]}"; do
	line=$(grep -m1 "^VMMRESULT $c " <<<"$clean")
	if [ -z "$line" ]; then
		echo "FAIL $c (no result: the case never reported)"
		missing=1
		failed=$((failed + 1))
		failed_names+=("$c")
		continue
	fi
	rest=${line#VMMRESULT "$c" }
	verdict=${rest%% *}
	note=${rest#"$verdict"}
	if [ "$verdict" = PASS ]; then
		echo "PASS $c$note"
		pass=$((pass + 1))
	elif [ "$verdict" = SKIP ]; then
		echo "SKIP $c$note"
		skipped=$((skipped + 1))
	else
		echo "FAIL $c$note"
		failed=$((failed + 1))
		failed_names+=("$c")
	fi
done
if [ "$failed" -gt 0 ]; then
	for c in "${failed_names[@]}"; do
		sed -n "/^---- $c: /,/^---- end of $c ----/p" <<<"$clean"
	done
	if [ "$missing" = 1 ]; then
		echo "---- the run did not finish; last lines of $results ----"
		tail -n 40 <<<"$clean"
		[ -s "$out/qemu.err" ] && grep -v 'TCG doesn.t support' "$out/qemu.err" | tail -n 10
	fi
fi
echo "linux-tests: $pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((pass + skipped)) -eq "${#cases[@]}" ]
