# SPDX-License-Identifier: MIT
# Guest side of bench/blk: fio on /dev/vda (packed as /tests/blk-bench.sh).
. /tests/blk-bench-jobs.sh
echo "VMMTEST bench-queues=$(ls /sys/block/vda/mq 2>/dev/null | wc -l)"
blk_bench_jobs /dev/vda libaio "${BLK_BENCH_SECONDS:-10}"
