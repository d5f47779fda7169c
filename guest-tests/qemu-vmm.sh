#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Stand-in for vmm built on QEMU TCG, to tell guest bugs from vmm bugs:
#   VMM=guest-tests/qemu-vmm.sh guest-tests/run.sh   (or: run.sh guest-tests/qemu-vmm.sh)
# Takes the vmm options the guests use and maps QEMU's exits onto vmm's
# exit-status contract as far as QEMU lets it:
#   debug-exit      QEMU already exits (v << 1) | 1
#   poweroff/reset  -no-reboot: 0
#   triple fault    0 from QEMU; "Triple fault" in the cpu_reset log -> 8
#   pvpanic         QEMU exits 1 (-action panic=exit-failure), the same as
#                   debug-exit 0, so for a guest whose cmdline has
#                   exit=pvpanic, 1 -> 6.  Approximate: only a dev aid.
# Not a test of anything by itself; QEMU's SeaBIOS lists one CPU per package
# in its MP table, so --cpus N is given as N sockets of one core.
set -u
kernel="" initrd="" cmdline="" cpus=1 mem=128M flat=0 testdev=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--cmdline) cmdline=$2; shift ;;
	--cpus) cpus=$2; shift ;;
	--memory) mem=$2; shift ;;
	--console) [ "$2" = stdio ] || { echo "qemu-vmm: only --console stdio" >&2; exit 2; }; shift ;;
	--flat) flat=1 ;;
	--testdev) testdev=1 ;;
	*) echo "qemu-vmm: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
[ -n "$kernel" ] || { echo "qemu-vmm: --kernel is required" >&2; exit 2; }

log=$(mktemp) || exit 4
trap 'rm -f "$log"' EXIT
smp="$cpus,sockets=$cpus,cores=1,threads=1"
# shellcheck disable=SC2054 # commas belong to QEMU option values
args=(-accel tcg -M pc -m "$mem" -smp "$smp"
	-display none -monitor none -serial stdio -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=4 -device pvpanic
	-action panic=exit-failure -d cpu_reset -D "$log")
[ "$testdev" = 1 ] && args+=(-device pc-testdev)
if [ "$flat" = 1 ]; then
	args+=(-drive "file=$kernel,format=raw,if=ide,snapshot=on")
else
	args+=(-kernel "$kernel" -append "$cmdline")
	[ -n "$initrd" ] && args+=(-initrd "$initrd")
fi
qemu-system-x86_64 "${args[@]}"
st=$?
if [ "$st" = 0 ] && grep -q 'Triple fault' "$log"; then
	st=8
elif [ "$st" = 1 ] && [[ " $cmdline " == *" exit=pvpanic "* ]]; then
	st=6
fi
exit "$st"
