# virtio-blk: ext4 written by the guest survives poweroff (host fsck + debugfs, second boot).
. "$LINUX_TESTS/lib.sh"
. "$LINUX_TESTS/blk-lib.sh"
blk_roundtrip blk-ext4 ",serial=vmm-disk-0"
