#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot-time benchmark, run where KVM is real (inside the testhost, or on a
# host with hardware KVM): boots the guest (vmmtest=poweroff: /init prints
# "VMMTEST init-start" first thing, then powers off) N times with vmm and N
# times with QEMU (-accel kvm, -M pc and -M microvm), interleaved, and
# prints the median time from exec to the marker for each.
#   bench.sh N
# Environment: VMM_CMD, GUEST_KERNEL, GUEST_INITRD, BOOTSTAMP (the
# bench/boot/bootstamp binary), BENCH_CPUS (1), BENCH_MEMORY (512M).
n=${1:-5}
: "${VMM_CMD:?}" "${GUEST_KERNEL:?}" "${GUEST_INITRD:?}" "${BOOTSTAMP:?}"
cpus=${BENCH_CPUS:-1}
mem=${BENCH_MEMORY:-512M}
cmdline="console=ttyS0 quiet panic=-1 vmmtest=poweroff"
marker="VMMTEST init-start"
dir=${OUTDIR:-/tmp}/bench
mkdir -p "$dir"
qemu="qemu-system-x86_64 -accel kvm -cpu host -smp $cpus -m $mem -nodefaults"
qemu="$qemu -no-user-config -display none -serial stdio -monitor none -no-reboot"

echo "BENCH cmd vmm: $VMM_CMD --kernel $GUEST_KERNEL --initrd $GUEST_INITRD --cmdline '$cmdline' --cpus $cpus --memory $mem"
echo "BENCH cmd qemu-pc: $qemu -M pc -kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append '$cmdline'"
echo "BENCH cmd qemu-microvm: $qemu -M microvm,rtc=on -kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append '$cmdline'"

# one KIND: run once, append the marker time in ms to $dir/KIND
one() {
	kind=$1
	shift
	r=$(timeout -k 5 120 "$BOOTSTAMP" "$marker" "$@" </dev/null 2>"$dir/$kind.last")
	us=$(echo "$r" | sed -n 's/.*marker_us=\(-*[0-9]*\).*/\1/p')
	st=$(echo "$r" | sed -n 's/.* exit=\([0-9]*\).*/\1/p')
	if [ -n "$us" ] && [ "$us" -ge 0 ] && [ "$st" = 0 ]; then
		echo $((us / 1000)) >>"$dir/$kind"
		echo "BENCH run $kind ms=$((us / 1000)) exit=$st"
	else
		echo "BENCH run $kind failed: ${r:-no output} (console: $dir/$kind.last)"
		tail -n 5 "$dir/$kind.last" | sed 's/^/| /'
	fi
}

median() {
	[ -s "$dir/$1" ] || { echo none; return; }
	sort -n "$dir/$1" | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

rm -f "$dir/vmm" "$dir/qemu-pc" "$dir/qemu-microvm"
i=0
while [ "$i" -lt "$n" ]; do
	# shellcheck disable=SC2086
	one vmm $VMM_CMD --kernel "$GUEST_KERNEL" --initrd "$GUEST_INITRD" \
		--cmdline "$cmdline" --cpus "$cpus" --memory "$mem"
	# shellcheck disable=SC2086
	one qemu-pc $qemu -M pc -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$cmdline"
	# shellcheck disable=SC2086
	one qemu-microvm $qemu -M microvm,rtc=on -kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD" -append "$cmdline"
	i=$((i + 1))
done
v=$(median vmm)
p=$(median qemu-pc)
m=$(median qemu-microvm)
ratio=$(awk -v v="$v" -v p="$p" 'BEGIN { if (v ~ /^[0-9]+$/ && p ~ /^[0-9]+$/ && p > 0) printf "%.2f", v / p; else print "n/a" }')
echo "BENCH median n=$n vmm_ms=$v qemu_pc_ms=$p qemu_microvm_ms=$m ratio_vmm_qemu_pc=$ratio ok_vmm=$(wc -l <"$dir/vmm" 2>/dev/null || echo 0)"
