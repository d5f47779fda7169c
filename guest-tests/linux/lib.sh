# SPDX-License-Identifier: MIT
# Sourced by every Linux test case (POSIX sh: runs under busybox ash in the
# testhost and under bash/dash on a host with hardware KVM).
#
# Inputs (environment, set by run-cases.sh):
#   VMM_CMD        the VMM to run, word-split (e.g. /th/vmm, or the QEMU stand-in)
#   GUEST_KERNEL   guest bzImage
#   GUEST_INITRD   guest initramfs (guest-tests/testhost/mk-guest-initrd.sh)
#   OUTDIR         scratch directory for logs and images
#   CASE_TIMEOUT   seconds one VMM run may take (default 150)
#   GUEST_CMDLINE  base guest command line (default below)

: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}" "${OUTDIR:?}"
CASE_TIMEOUT=${CASE_TIMEOUT:-150}
GUEST_CMDLINE=${GUEST_CMDLINE:-console=ttyS0 panic=-1}
# One vCPU unless a case needs more (boot.sh asks for 2): in the TCG
# testhost, a guest vCPU that spins with interrupts off waiting for its
# sibling (AP bring-up, stop_machine, panic) can starve the one L1 CPU the
# sibling needs -- QEMU TCG's nested SVM then stops taking L1 interrupts
# and the testhost freezes (docs/testhost.md).
GUEST_CPUS=${GUEST_CPUS:-1}
GUEST_MEMORY=${GUEST_MEMORY:-512M}

# vmm_boot NAME TEST [vmm args...]
#   Boots the guest with vmmtest=TEST under a timeout; stdin from $VMM_STDIN
#   (default /dev/null), stdout+stderr to $OUTDIR/NAME.log.
#   Sets: log, rc (exit status), elapsed (s), timed_out (0/1).
vmm_boot() {
	_name=$1
	_test=$2
	shift 2
	log=$OUTDIR/$_name.log
	rm -f "$log"
	_start=$(date +%s)
	# shellcheck disable=SC2086
	timeout -k 10 "$CASE_TIMEOUT" $VMM_CMD --kernel "$GUEST_KERNEL" \
		--initrd "$GUEST_INITRD" --cmdline "$GUEST_CMDLINE vmmtest=$_test" \
		--cpus "$GUEST_CPUS" --memory "$GUEST_MEMORY" "$@" \
		<"${VMM_STDIN:-/dev/null}" >"$log" 2>&1
	rc=$?
	elapsed=$(($(date +%s) - _start))
	timed_out=0
	if [ "$elapsed" -ge "$CASE_TIMEOUT" ]; then
		timed_out=1
	fi
}

# log_has TEXT: the console output holds TEXT (fixed string)
log_has() {
	grep -qF -- "$1" "$log"
}

# log_value KEY: the value of the guest's "VMMTEST KEY=VALUE" line
log_value() {
	tr -d '\r' <"$log" | sed -n "s/^.*VMMTEST $1=\\([^ ]*\\).*\$/\\1/p" | head -n 1
}

# pass NAME [note]
pass() {
	echo "VMMRESULT $1 PASS ${2:-${elapsed}s}"
	# make demo: show what the guest printed
	if [ "${VMM_SHOW_CONSOLE:-0}" = 1 ] && [ -f "${log:-}" ]; then
		tr -d '\r' <"$log" | sed 's/^/| /'
	fi
}

# fail NAME REASON...: result line, then the console output of the run
fail() {
	_n=$1
	shift
	if [ "${timed_out:-0}" = 1 ]; then
		set -- "$@" "(timed out after ${CASE_TIMEOUT}s)"
	fi
	echo "VMMRESULT $_n FAIL $*"
	echo "---- $_n: exit status $rc, ${elapsed}s, console output $log ----"
	if [ -f "$log" ]; then
		tr -d '\r' <"$log" | tail -n 300 | sed 's/^/| /'
	fi
	echo "---- end of $_n ----"
}

# expect_clean_exit NAME TEST WANT_RC KERNEL_MESSAGE: the common shape of a
# case: the run exits WANT_RC, init got as far as running TEST, and the
# kernel said KERNEL_MESSAGE (so a zero exit was for the right reason).
expect_exit() {
	_n=$1
	_t=$2
	_want=$3
	_msg=$4
	if [ "$rc" != "$_want" ]; then
		fail "$_n" "exit status $rc, want $_want"
	elif ! log_has "VMMTEST init-ready test=$_t"; then
		fail "$_n" "guest init never ran (no 'VMMTEST init-ready test=$_t')"
	elif ! log_has "$_msg"; then
		fail "$_n" "no '$_msg' in the console output"
	else
		pass "$_n"
	fi
}
