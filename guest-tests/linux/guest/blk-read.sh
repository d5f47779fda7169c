# SPDX-License-Identifier: MIT
# virtio-blk: second boot, reads back what blk-write.sh wrote.
. /tests/blk-common.sh
blk_read /dev/vda vda || exit 1
blk_errors
