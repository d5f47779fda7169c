#!/bin/bash
# SPDX-License-Identifier: MIT
# qcow2 vs raw through the block layer: builds bench_qcow2 against
# BUILD/libvmmcore.a and runs it.
#   bench/qcow2/run.sh [BUILD_DIR] [SIZE_MB] [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
size=${2:-256}
secs=${3:-5}
cd "$top"
make -s BUILD="$build" "$build/libvmmcore.a"
cc -std=gnu11 -O2 -D_GNU_SOURCE -Ivmm -pthread -o "$build/bench_qcow2" bench/qcow2/bench_qcow2.c \
	"$build/libvmmcore.a" -luring -lz -lzstd -pthread
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vmm-qcow2-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$build/bench_qcow2" "$dir" "$size" "$secs"
