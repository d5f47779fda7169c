#!/bin/bash
# SPDX-License-Identifier: MIT
# qcow2 vs raw through the block layer: builds bench_qcow2 against
# BUILD/libvmmcore.a and runs it (see bench_qcow2.c for how it stays fair).
#   bench/qcow2/run.sh [BUILD_DIR] [SIZE_MB] [SECONDS] [ROUNDS]
# Defaults (256 MiB, 2 s, 5 rounds): about 90 s.  BENCH_AA=1: raw vs raw (the noise);
# BENCH_ONLY=randread: one job (see bench_qcow2.c).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
size=${2:-256}
secs=${3:-2}
rounds=${4:-5}
cd "$top"
make -s BUILD="$build" "$build/libvmmcore.a"
cc -std=gnu11 -O2 -D_GNU_SOURCE -Ivmm -pthread -o "$build/bench_qcow2" bench/qcow2/bench_qcow2.c \
	"$build/libvmmcore.a" -luring -lz -lzstd -pthread
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vmm-qcow2-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
echo "before: $(uptime)"
"$build/bench_qcow2" "$dir" "$size" "$secs" "$rounds"
echo "after:  $(uptime)"
