# virtio-blk: the ext4 round trip with cache=none (O_DIRECT).
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
blk_roundtrip blk-cache-none ",cache=none" direct
