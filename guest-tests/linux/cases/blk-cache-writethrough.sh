# virtio-blk: the ext4 round trip with cache=writethrough (O_DSYNC).
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
blk_roundtrip blk-cache-writethrough ",cache=writethrough"
