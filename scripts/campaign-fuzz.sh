#!/bin/bash
# The deep fuzzing campaign (issue 13, docs/reliability.md): every libFuzzer
# target for RUNS executions (default 10 million) or SECONDS_MAX seconds
# (default 3600), whichever comes first, growing a corpus kept under
# build-fuzz/campaign/<target>/corpus, then the line coverage of the
# target's parser measured on that corpus.
#   scripts/campaign-fuzz.sh [TARGET...]   (default: every fuzz/fuzz_*.c)
# TARGET is a name (fuzz_qcow2) or a binary (build-fuzz/fuzz_qcow2).
# Environment: RUNS, SECONDS_MAX, NICE (default 19), COVERAGE=0 to skip
# the coverage step.
#
# Per target it prints (and appends to build-fuzz/campaign/results.txt):
#   NAME: E executions in S s, exit R, C crash file(s), corpus N inputs,
#   parser line coverage P% (files...)
# Crashes are kept in build-fuzz/campaign/<target>/crashes/: each is to
# become a regression seed in fuzz/corpus/<target>/ with its fix.
#
# Coverage: the target is rebuilt without ASan, with
# -fprofile-instr-generate -fcoverage-mapping, into build-fuzzcov/; the
# corpus (campaign corpus + seeds) is replayed once (-runs=0), and
# `llvm-cov report` gives the line % of the parser's files (PARSER below).
set -u
cd "$(dirname "$0")/.."
RUNS=${RUNS:-10000000}
SECONDS_MAX=${SECONDS_MAX:-3600}
NICE=${NICE:-19}
COVERAGE=${COVERAGE:-1}
out=build-fuzz/campaign
cov=build-fuzzcov
mkdir -p "$out" "$cov"

# the files each target is there to test: its coverage is measured on these
parser_files() {
	case "$1" in
	fuzz_api) echo vmm/api/routes.c ;;
	fuzz_boot) echo vmm/boot/bzimage.c vmm/boot/elf.c vmm/boot/multiboot.c vmm/boot/pvh.c vmm/boot/unpack.c vmm/boot/boot.c ;;
	fuzz_config_json) echo vmm/config_json.c ;;
	fuzz_initrd) echo vmm/boot/initrd.c ;;
	fuzz_qcow2) echo vmm/block/qcow2_open.c vmm/block/qcow2_header.c vmm/block/qcow2_io.c vmm/block/qcow2_cluster.c vmm/block/qcow2_meta.c vmm/block/qcow2_refcount.c vmm/block/qcow2_cache.c vmm/block/qcow2_status.c vmm/block/qcow2_check.c vmm/block/qcow2_compress.c ;;
	fuzz_qcow2_repair) echo vmm/block/qcow2_check.c vmm/block/qcow2_repair.c ;;
	fuzz_qcow2_snapshot) echo vmm/block/qcow2_header.c ;;
	fuzz_state_stream) echo vmm/state/stream.c vmm/state/stream_io.c vmm/state/vcpu_saved.c vmm/state/vm_kvm_state.c vmm/state/cpu_compat.c ;;
	fuzz_testdev) echo vmm/devices/testdev.c ;;
	fuzz_uart) echo vmm/devices/uart.c vmm/devices/legacy.c vmm/devices/rtc.c vmm/devices/i8042.c vmm/devices/acpi_pm.c vmm/devices/fwcfg.c ;;
	fuzz_virtio_blk) echo vmm/virtio/virtqueue.c vmm/virtio/virtio_blk.c vmm/virtio/virtio_blk_req.c vmm/virtio/virtio_pci.c ;;
	fuzz_virtio_net) echo vmm/virtio/virtqueue.c vmm/virtio/virtio_net.c vmm/virtio/virtio_net_ctrl.c vmm/virtio/virtio_net_io.c vmm/virtio/virtio_net_rx.c vmm/virtio/virtio_net_tx.c ;;
	esac
}

names=()
if [ $# -eq 0 ]; then
	for f in fuzz/fuzz_*.c; do
		n=${f##*/}
		names+=("${n%.c}")
	done
else
	for a in "$@"; do
		n=${a##*/}
		names+=("${n%.c}")
	done
fi
nice -n "$NICE" make -s -j2 "${names[@]/#/build-fuzz/}" || exit 1

# the same sources and flags as the Makefile's fuzz rule, minus ASan/UBSan
# (coverage counters only), plus llvm's source-based coverage
covbuild() {
	local name=$1 srcs
	srcs=$(make -s --no-print-directory print-fuzz-srcs)
	# shellcheck disable=SC2086
	nice -n "$NICE" clang -std=gnu11 -g -O1 -D_GNU_SOURCE -Ivmm -Itests/unit \
		-fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping -pthread \
		-o "$cov/$name" "fuzz/$name.c" $srcs tests/unit/fake_vm.c \
		$(make -s --no-print-directory print-ldlibs)
}

for name in "${names[@]}"; do
	bin=build-fuzz/$name
	dir=$out/$name
	mkdir -p "$dir/corpus" "$dir/crashes"
	seeds=()
	[ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
	t0=$SECONDS
	nice -n "$NICE" "$bin" -runs="$RUNS" -max_total_time="$SECONDS_MAX" -rss_limit_mb=2048 \
		-timeout=10 -print_final_stats=1 -artifact_prefix="$dir/crashes/" \
		"$dir/corpus" "${seeds[@]}" >"$dir/log" 2>&1
	rc=$?
	wall=$((SECONDS - t0))
	execs=$(grep -a -o 'stat::number_of_executed_units: [0-9]*' "$dir/log" | tail -n1 | awk '{print $2}')
	crashes=$(find "$dir/crashes" -type f | wc -l)
	pct=skipped files=
	if [ "$COVERAGE" = 1 ]; then
		files=$(parser_files "$name")
		pct=?
		if covbuild "$name" >"$dir/covbuild.log" 2>&1; then
			rm -f "$dir"/cov.profraw
			# replay only: -runs=0 executes every corpus input once
			LLVM_PROFILE_FILE=$dir/cov.profraw nice -n "$NICE" "$cov/$name" -runs=0 \
				-rss_limit_mb=2048 -timeout=10 "$dir/corpus" "${seeds[@]}" >"$dir/cov.log" 2>&1
			if llvm-profdata merge -sparse "$dir/cov.profraw" -o "$dir/cov.profdata" 2>>"$dir/cov.log"; then
				# shellcheck disable=SC2086
				llvm-cov report "$cov/$name" -instr-profile="$dir/cov.profdata" $files \
					>"$dir/coverage.txt" 2>>"$dir/cov.log"
				# TOTAL line: ... Lines Missed Cover (line % is the 3rd percentage)
				pct=$(awk '/^TOTAL/ { n = 0; for (i = 2; i <= NF; i++) if ($i ~ /%$/) { n++; if (n == 3) print $i } }' "$dir/coverage.txt")
			fi
		fi
	fi
	line="$name: ${execs:-?} executions in $wall s, exit $rc, $crashes crash file(s), corpus $(find "$dir/corpus" -type f | wc -l) inputs, parser line coverage ${pct:-?} ($(echo $files))"
	echo "$line" | tee -a "$out/results.txt"
done
