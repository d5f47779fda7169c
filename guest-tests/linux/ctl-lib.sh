# SPDX-License-Identifier: MIT
# Sourced by the control-socket cases (cases/ctl-*.sh) after lib.sh: VMs
# that run in the background while the case talks to them with vmmctl
# (beside vmm: /th/vmmctl in the testhost, $(BUILD)/vmmctl on a host) and
# curl.  POSIX sh, like lib.sh.

VMMCTL=${VMMCTL:-$(dirname "${VMM_CMD%% *}")/vmmctl}
# root's socket directory (/run/vmm): the testhost's initramfs has no /run
mkdir -p /run 2>/dev/null

# ctl_skip_qemu NAME: the QEMU stand-in has no control socket
ctl_skip_qemu() {
	case "$VMM_CMD" in
	*qemu-as-vmm*)
		echo "VMMRESULT $1 SKIP QEMU has no vmm control socket"
		exit 0
		;;
	esac
	if [ ! -x "$VMMCTL" ]; then
		echo "VMMRESULT $1 FAIL no vmmctl at $VMMCTL"
		exit 0
	fi
}

# ctl_start LOG [vmm args...]: starts vmm in the background (stdin from
# $VMM_STDIN, default /dev/null), output in LOG; sets bgpid.  The guest
# arguments are the caller's (an empty vmm has none).
ctl_start() {
	_log=$1
	shift
	rm -f "$_log"
	# shellcheck disable=SC2086
	timeout -k 10 "${CTL_TIMEOUT:-300}" $VMM_CMD "$@" \
		<"${VMM_STDIN:-/dev/null}" >"$_log" 2>&1 &
	bgpid=$!
}

# ctl_guest_args: kernel, initrd, vCPUs and memory as vmm_boot gives them
ctl_guest_args() {
	echo "--kernel $GUEST_KERNEL --initrd $GUEST_INITRD --cpus $GUEST_CPUS --memory $GUEST_MEMORY"
}

# wait_log LOG TEXT SECS [COUNT]: until LOG holds TEXT COUNT (1) times;
# 1 if SECS pass first or the process bgwait (if set) ended.
wait_log() {
	_w=0
	while [ "$_w" -lt "$3" ]; do
		if [ "$(tr -d '\r' <"$1" 2>/dev/null | grep -cF -- "$2")" -ge "${4:-1}" ]; then
			return 0
		fi
		if [ -n "${bgwait:-}" ] && ! kill -0 "$bgwait" 2>/dev/null; then
			return 1
		fi
		sleep 1
		_w=$((_w + 1))
	done
	return 1
}

# wait_exit PID SECS: waits for the vmm; sets rc (124 if killed at SECS).
wait_exit() {
	_w=0
	while kill -0 "$1" 2>/dev/null && [ "$_w" -lt "$2" ]; do
		sleep 1
		_w=$((_w + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		rc=124
		return 1
	fi
	wait "$1"
	rc=$?
}

# count_in LOG TEXT: how many lines of LOG hold TEXT
count_in() {
	tr -d '\r' <"$1" 2>/dev/null | grep -cF -- "$2"
}

# value_in LOG KEY: the last "VMMTEST KEY=VALUE" of LOG
value_in() {
	tr -d '\r' <"$1" | sed -n "s/^.*VMMTEST $2=\\([^ ]*\\).*\$/\\1/p" | tail -n 1
}
