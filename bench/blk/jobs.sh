# SPDX-License-Identifier: MIT
# The fio workloads of the virtio-blk benchmark, shared by the host run and
# the guest run so both measure the same thing.  POSIX sh (busybox ash too).
#   blk_bench_engine TARGET              io_uring if fio can use it, else libaio
#   blk_bench_jobs TARGET ENGINE SECONDS prints "VMMTEST fio-NAME=IOPS,KiB/s"
# BLK_BENCH_SIZE (default: all of TARGET) bounds the region fio touches.
BLK_BENCH_JOBS="randread-4k-qd1:randread:4k:1 randread-4k-qd32:randread:4k:32
randwrite-4k-qd1:randwrite:4k:1 randwrite-4k-qd32:randwrite:4k:32
read-1m-qd8:read:1m:8 write-1m-qd8:write:1m:8"

blk_bench_engine() {
	if fio --name=probe --filename="$1" --ioengine=io_uring --rw=read --size=4k \
		--direct=1 --thread --minimal >/dev/null 2>&1; then
		echo io_uring
	else
		echo libaio
	fi
}

blk_bench_jobs() {
	_target=$1
	_engine=$2
	_secs=$3
	_size=
	[ -n "${BLK_BENCH_SIZE:-}" ] && _size=--size=$BLK_BENCH_SIZE
	for _j in $BLK_BENCH_JOBS; do
		_name=${_j%%:*}
		_rest=${_j#*:}
		_rw=${_rest%%:*}
		_rest=${_rest#*:}
		_bs=${_rest%%:*}
		_qd=${_rest#*:}
		# terse v3: read bw/iops are fields 7/8, write bw/iops 48/49
		# shellcheck disable=SC2086
		_t=$(fio --name="$_name" --filename="$_target" --rw="$_rw" --bs="$_bs" \
			--iodepth="$_qd" --ioengine="$_engine" --direct=1 $_size --thread \
			--runtime="$_secs" --time_based --randrepeat=0 --norandommap \
			--minimal 2>/dev/null)
		case "$_rw" in
		*read) _v=$(echo "$_t" | awk -F';' 'NF > 49 { printf "%d,%d", $8, $7 }') ;;
		*) _v=$(echo "$_t" | awk -F';' 'NF > 49 { printf "%d,%d", $49, $48 }') ;;
		esac
		echo "VMMTEST fio-$_name=${_v:-failed}"
	done
}
