# SPDX-License-Identifier: MIT
# virtio-blk: two disks at once, written in parallel.
. /tests/blk-common.sh
blk_write /dev/vda vda >/tmp/vda.out 2>&1 &
a=$!
blk_write /dev/vdb vdb >/tmp/vdb.out 2>&1 &
b=$!
wait $a; ra=$?
wait $b; rb=$?
cat /tmp/vda.out /tmp/vdb.out
blk_errors
[ $ra -eq 0 ] && [ $rb -eq 0 ]
