# SPDX-License-Identifier: MIT
# Sourced by the guest side of the virtio-blk tests (busybox ash).
# Every result line starts with "VMMTEST " for the host side (blk-lib.sh).

# blk_write DEV TAG: ext4 on DEV, files with known checksums, sync, unmount.
# Prints VMMTEST TAG-big=MD5, TAG-small=MD5, TAG-tree=MD5 and TAG-write=ok.
blk_write() {
	_dev=$1
	_tag=$2
	_mnt=/mnt/$_tag
	[ -b "$_dev" ] || { echo "VMMTEST $_tag-write=no-device"; return 1; }
	mkfs.ext4 -q -F "$_dev" || { echo "VMMTEST $_tag-write=mkfs-failed"; return 1; }
	mkdir -p "$_mnt"
	mount -t ext4 "$_dev" "$_mnt" || { echo "VMMTEST $_tag-write=mount-failed"; return 1; }
	dd if=/dev/urandom of="$_mnt/big" bs=1M count=8 2>/dev/null
	dd if=/dev/urandom of="$_mnt/small" bs=1k count=3 2>/dev/null
	mkdir "$_mnt/tree"
	_i=0
	while [ $_i -lt 50 ]; do
		echo "file $_i of $_tag $(cat /proc/sys/kernel/random/uuid)" >"$_mnt/tree/f$_i"
		_i=$((_i + 1))
	done
	sync
	echo "VMMTEST $_tag-big=$(md5sum <"$_mnt/big" | cut -d' ' -f1)"
	echo "VMMTEST $_tag-small=$(md5sum <"$_mnt/small" | cut -d' ' -f1)"
	echo "VMMTEST $_tag-tree=$(cat "$_mnt"/tree/f* | md5sum | cut -d' ' -f1)"
	umount "$_mnt" || { echo "VMMTEST $_tag-write=umount-failed"; return 1; }
	echo "VMMTEST $_tag-write=ok"
}

# blk_read DEV TAG: mounts DEV read-only, prints TAG-rbig/-rsmall/-rtree sums.
blk_read() {
	_dev=$1
	_tag=$2
	_mnt=/mnt/$_tag
	mkdir -p "$_mnt"
	mount -t ext4 -o ro "$_dev" "$_mnt" || { echo "VMMTEST $_tag-read=mount-failed"; return 1; }
	echo "VMMTEST $_tag-rbig=$(md5sum <"$_mnt/big" | cut -d' ' -f1)"
	echo "VMMTEST $_tag-rsmall=$(md5sum <"$_mnt/small" | cut -d' ' -f1)"
	echo "VMMTEST $_tag-rtree=$(cat "$_mnt"/tree/f* | md5sum | cut -d' ' -f1)"
	umount "$_mnt"
	echo "VMMTEST $_tag-read=ok"
}

# Kernel-reported block errors so far (0 expected).
blk_errors() {
	echo "VMMTEST blk-errors=$(dmesg | grep -ciE 'I/O error|blk_update_request|virtio_blk.*error')"
}
