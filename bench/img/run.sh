#!/bin/bash
# SPDX-License-Identifier: MIT
# vmm-img convert vs qemu-img convert, side by side on the same files in one
# run (hyperfine, median of RUNS runs after a warm-up; files in TMPDIR or
# /var/tmp).  Prints a markdown table for docs/performance.md.
#   bench/img/run.sh [BUILD_DIR] [RUNS]        (defaults: build, 5; ~2 min)
# Also counts each tool's write system calls (pwrite64 + pwritev, strace -c)
# and syncs (fdatasync + fsync) per case, in the same run.
# Two pairs per case, each with the same durability on both sides:
#   synced:   vmm-img (its default: one fdatasync at the end) against
#             qemu-img -t writeback (one flush at the end);
#   unsynced: vmm-img -t unsafe against qemu-img's default (-t unsafe).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
runs=${2:-5}
cd "$top"
scripts/install-deps.sh bench/img/deps
make -s -j2 BUILD="$build" "$build/vmm-img"
vimg=$(cd "$build" && pwd)/vmm-img
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vmm-img-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cd "$dir"

# inputs: sparse 8 GiB raw (1 MiB of data) and its qcow2; 1 GiB qcow2 with
# 512 MiB of data (every other MiB); sparse 64 GiB raw (4 MiB of data)
truncate -s 8G sparse8.raw
head -c 1M /dev/urandom | dd of=sparse8.raw bs=1M seek=3000 conv=notrunc status=none
qemu-img convert -f raw -O qcow2 sparse8.raw sparse8.qcow2
truncate -s 1G half.raw
head -c 1M /dev/urandom > mib
for i in $(seq 0 2 1023); do
	dd if=mib of=half.raw bs=1M seek="$i" conv=notrunc status=none
done
qemu-img convert -f raw -O qcow2 half.raw half.qcow2
rm -f half.raw mib
truncate -s 64G sparse64.raw
for g in 1 17 33 63; do
	head -c 1M /dev/urandom | dd of=sparse64.raw bs=1M seek=$((g * 1024)) conv=notrunc status=none
done
sync

# NAME IFMT IN OFMT
cases=(
	"sparse 8 GiB raw -> qcow2|raw|sparse8.raw|qcow2"
	"sparse 8 GiB qcow2 -> raw|qcow2|sparse8.qcow2|raw"
	"1 GiB half-full qcow2 -> raw|qcow2|half.qcow2|raw"
	"1 GiB half-full qcow2 -> qcow2|qcow2|half.qcow2|qcow2"
	"sparse 64 GiB raw -> qcow2|raw|sparse64.raw|qcow2"
)
median() {	# hyperfine JSON -> median ms of each command, space separated
	python3 -c 'import json,sys; print(" ".join("%.0f" % (r["median"] * 1000) for r in json.load(open(sys.argv[1]))["results"]))' "$1"
}
writes() {	# CMD...: "W S": write and sync system calls of CMD, threads included
	strace -f -qq -c -o st.txt -e trace=pwrite64,pwritev,pwritev2,fdatasync,fsync "$@" \
		>/dev/null
	awk '$NF ~ /^pwrite/ { w += $4 } $NF ~ /sync$/ { s += $4 } END { print w + 0, s + 0 }' st.txt
}
echo "before: $(uptime)"
rows=()
wrows=()
for c in "${cases[@]}"; do
	IFS='|' read -r name ifmt in ofmt <<<"$c"
	out=out.$ofmt
	hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json h.json \
		--prepare "rm -f $out" \
		-n vmm-img "$vimg convert -f $ifmt -O $ofmt $in $out" \
		-n "qemu-img -t writeback" "qemu-img convert -t writeback -f $ifmt -O $ofmt $in $out" \
		-n "vmm-img -t unsafe" "$vimg convert -t unsafe -f $ifmt -O $ofmt $in $out" \
		-n qemu-img "qemu-img convert -f $ifmt -O $ofmt $in $out" >/dev/null
	read -r v q vu qu <<<"$(median h.json)"
	# the output is right, or the numbers mean nothing
	"$vimg" convert -f "$ifmt" -O "$ofmt" "$in" check.$ofmt
	qemu-img compare -q -f "$ifmt" -F "$ofmt" "$in" check.$ofmt
	rm -f check.$ofmt "$out"
	read -r vw vs <<<"$(writes "$vimg" convert -f "$ifmt" -O "$ofmt" "$in" "$out")"
	rm -f "$out"
	read -r qw qs <<<"$(writes qemu-img convert -t writeback -f "$ifmt" -O "$ofmt" "$in" "$out")"
	rm -f "$out" st.txt
	wrows+=("| $name | $vw | $vs | $qw | $qs |")
	rows+=("| $name | $v | $q | $(python3 -c "print('%.2f' % ($v / max($q, 1)))") | $vu | $qu | $(python3 -c "print('%.2f' % ($vu / max($qu, 1)))") |")
done
echo "after:  $(uptime)"
echo
echo "| case | vmm-img ms | qemu-img -t writeback ms | ratio | vmm-img -t unsafe ms | qemu-img ms | ratio |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| case | vmm-img writes | vmm-img syncs | qemu-img -t writeback writes | syncs |"
echo "|---|---|---|---|---|"
printf '%s\n' "${wrows[@]}"
