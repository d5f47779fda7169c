# SPDX-License-Identifier: MIT
# virtio-blk: a readonly=on disk says so and refuses writes.
echo "VMMTEST ro-flag=$(cat /sys/block/vda/ro 2>/dev/null)"
before=$(md5sum </dev/vda | cut -d' ' -f1)
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; then
	echo "VMMTEST ro-write=accepted"
else
	echo "VMMTEST ro-write=refused"
fi
# past the block layer's own check: ask for write access anyway
blockdev --setrw /dev/vda 2>/dev/null
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 conv=fsync 2>/dev/null; then
	echo "VMMTEST ro-write2=accepted"
else
	echo "VMMTEST ro-write2=refused"
fi
echo 3 >/proc/sys/vm/drop_caches
after=$(md5sum </dev/vda | cut -d' ' -f1)
[ "$before" = "$after" ] && echo "VMMTEST ro-unchanged=yes" || echo "VMMTEST ro-unchanged=no"
