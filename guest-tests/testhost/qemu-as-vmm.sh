#!/bin/sh
# SPDX-License-Identifier: MIT
# A stand-in for vmm built from QEMU, to prove the test harness before vmm
# boots Linux: takes vmm's options (--kernel --initrd --cmdline --cpus
# --memory) and maps QEMU's exit to vmm's exit-status contract
# (vmm/exitcode.h): poweroff/reboot 0, guest panic (pvpanic) 6.
# Use: VMM_CMD=guest-tests/testhost/qemu-as-vmm.sh (QEMU_MACHINE=pc|microvm).
kernel='' initrd='' cmdline=console=ttyS0 cpus=1 mem=256M
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--cmdline) cmdline=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--memory) mem=$2; shift 2 ;;
	*) echo "qemu-as-vmm: unsupported option $1" >&2; exit 2 ;;
	esac
done
[ -n "$kernel" ] || { echo "qemu-as-vmm: --kernel is required" >&2; exit 2; }
case "${QEMU_MACHINE:-pc}" in
microvm)
	machine="-M microvm,rtc=on -device pvpanic"
	;;
*)
	machine="-M pc -device pvpanic"
	;;
esac
set -- ${QEMU:-qemu-system-x86_64} -accel kvm -cpu host $machine \
	-smp "$cpus" -m "$mem" -nodefaults -no-user-config -display none \
	-serial stdio -monitor none -no-reboot -action panic=exit-failure \
	-kernel "$kernel" -append "$cmdline"
[ -n "$initrd" ] && set -- "$@" -initrd "$initrd"
# an asynchronous command gets /dev/null as stdin unless redirected: keep ours
exec 3<&0
"$@" <&3 3<&- &
child=$!
trap 'kill $child 2>/dev/null' TERM INT HUP
wait $child
rc=$?
# a trapped signal interrupts wait: wait again for the real status
if [ $rc -gt 128 ] && kill -0 $child 2>/dev/null; then
	wait $child
	rc=143
fi
case $rc in
0) exit 0 ;;
1) exit 6 ;;	# -action panic=exit-failure (or a QEMU error: see its stderr)
*) exit $rc ;;
esac
