# SPDX-License-Identifier: MIT
# Guest side of bench/blk: fio on /dev/vda (packed as /tests/blk-bench.sh).
# Same engine choice as the host side: io_uring if it works, else libaio.
. /tests/blk-bench-jobs.sh
echo "VMMTEST bench-queues=$(ls /sys/block/vda/mq 2>/dev/null | wc -l)"
engine=$(blk_bench_engine /dev/vda)
echo "VMMTEST bench-engine=$engine"
blk_bench_jobs /dev/vda "$engine" "${BLK_BENCH_SECONDS:-8}"
