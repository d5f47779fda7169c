# SPDX-License-Identifier: MIT
# virtio-blk: ext4 on /dev/vda with known files, synced; the host checks the image.
. /tests/blk-common.sh
echo "VMMTEST vda-serial=$(cat /sys/block/vda/serial 2>/dev/null)"
echo "VMMTEST vda-queues=$(ls /sys/block/vda/mq 2>/dev/null | wc -l)"
blk_write /dev/vda vda || exit 1
blk_errors
