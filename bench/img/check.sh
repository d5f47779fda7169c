#!/bin/bash
# SPDX-License-Identifier: MIT
# vmm-img check against qemu-img check, side by side in one run, on a 1 GiB
# qcow2 (64 KiB clusters) with 512 MiB of data written by qemu-io in 4 MiB
# chunks at every other 4 MiB, so half the L2 entries are allocated.
#   bench/img/check.sh [BUILD_DIR] [RUNS]
# Needs qemu-img, qemu-io and hyperfine; about 30 s.  The image lives in
# ${TMPDIR:-/var/tmp}; both tools read it through the page cache (warmed up).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
runs=${2:-20}
cd "$top"
make -s BUILD="$build" "$build/vmm-img"
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vmm-img-check-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
img=$dir/half.qcow2
qemu-img create -q -f qcow2 "$img" 1G
cmds=()
for ((off = 0; off < 1024; off += 8)); do
	cmds+=(-c "write -P $((off % 251)) ${off}M 4M")
done
qemu-io "${cmds[@]}" "$img" >/dev/null
qemu-img check "$img" | tail -2
"$build/vmm-img" check "$img" | tail -2
echo "before: $(uptime)"
hyperfine -N --warmup 3 --runs "$runs" \
	-n qemu-img "qemu-img check $img" \
	-n vmm-img "$build/vmm-img check $img"
echo "after:  $(uptime)"
