# SPDX-License-Identifier: MIT
# Host side of the virtio-blk Linux tests, sourced after lib.sh by
# cases/blk-*.sh.  The guest side is guest/blk-*.sh.  POSIX sh.
#
# The image is checked twice: by the host with e2fsck -fn and debugfs dumps
# (so a lost write cannot hide in a guest's page cache), and by a second
# boot reading the files back.

# blk_image NAME MB: a fresh sparse raw image; prints its path.
blk_image() {
	_img=$OUTDIR/$1.img
	rm -f "$_img"
	dd if=/dev/zero of="$_img" bs=1M count=0 seek="$2" 2>/dev/null
	echo "$_img"
}

# blk_host_check IMG TAG LOGFILE: fsck and debugfs dumps of IMG match the
# sums the guest printed as TAG-big/TAG-small in LOGFILE.  Sets blk_why.
blk_host_check() {
	_img=$1
	_tag=$2
	_log=$3
	blk_why=
	if ! e2fsck -fn "$_img" >"$OUTDIR/$_tag.fsck" 2>&1; then
		blk_why="e2fsck -fn found errors in $_img: $(tail -n 3 "$OUTDIR/$_tag.fsck" | tr '\n' ' ')"
		return 1
	fi
	for _f in big small; do
		_want=$(tr -d '\r' <"$_log" | sed -n "s/^.*VMMTEST $_tag-$_f=\([0-9a-f]*\).*\$/\1/p" | head -n 1)
		rm -f "$OUTDIR/$_tag.$_f"
		debugfs -R "dump /$_f $OUTDIR/$_tag.$_f" "$_img" >/dev/null 2>&1
		_got=$(md5sum <"$OUTDIR/$_tag.$_f" 2>/dev/null | cut -d' ' -f1)
		if [ -z "$_want" ] || [ "$_want" != "$_got" ]; then
			blk_why="/$_f on the image: md5 '$_got', the guest wrote '$_want'"
			return 1
		fi
		rm -f "$OUTDIR/$_tag.$_f"
	done
	return 0
}

# blk_dio_ok DIR: a file in DIR can be opened with O_DIRECT.
blk_dio_ok() {
	_ok=1
	dd if=/dev/zero of="$1/.blk-dio" bs=4096 count=1 oflag=direct 2>/dev/null && _ok=0
	rm -f "$1/.blk-dio"
	return $_ok
}

# blk_dio_setup MB: sets blk_dio to a directory whose files take O_DIRECT:
# $OUTDIR itself, or else (the testhost: tmpfs has no O_DIRECT before Linux
# 6.6) a fresh MB-MiB ext4 on a loop device whose backing file is in
# $OUTDIR, mounted at $OUTDIR/dio.  Returns 1 with blk_dio_why set when
# neither works.  blk_dio_teardown undoes it.
blk_dio_setup() {
	blk_dio=
	blk_dio_why=
	blk_dio_loop=
	blk_dio_mb=$1
	if blk_dio_ok "$OUTDIR"; then
		blk_dio=$OUTDIR
		return 0
	fi
	_mnt=$OUTDIR/dio
	_back=$OUTDIR/.dio-ext4
	mkdir -p "$_mnt"
	rm -f "$_back"
	# e2fsprogs' mke2fs by path: busybox ash in the testhost runs its own
	# (older, ext2-only options) applet before searching PATH
	_mkfs=mke2fs
	for _p in /sbin/mke2fs /usr/sbin/mke2fs; do
		if [ -x "$_p" ] && [ ! -L "$_p" ]; then
			_mkfs=$_p
			break
		fi
	done
	# sparse backing file; no discard at mkfs, no journal: as little
	# work as possible for the emulated L1 (the TCG testhost)
	if ! dd if=/dev/zero of="$_back" bs=1M count=0 seek="$1" 2>/dev/null ||
	   ! "$_mkfs" -q -F -t ext4 -O ^has_journal -E nodiscard "$_back" >"$OUTDIR/dio-mkfs.log" 2>&1; then
		blk_dio_why="$OUTDIR has no O_DIRECT and mke2fs of a loop backing file failed: $(tail -n 2 "$OUTDIR/dio-mkfs.log" | tr '\n' ' ')"
		rm -f "$_back"
		return 1
	fi
	blk_dio_loop=$(losetup -f 2>/dev/null)
	if [ -z "$blk_dio_loop" ] || ! losetup "$blk_dio_loop" "$_back" 2>/dev/null; then
		blk_dio_why="$OUTDIR has no O_DIRECT and no loop device is free (loop module, root?)"
		blk_dio_loop=
		rm -f "$_back"
		return 1
	fi
	if ! mount -t ext4 "$blk_dio_loop" "$_mnt" 2>/dev/null || ! blk_dio_ok "$_mnt"; then
		blk_dio_why="$OUTDIR has no O_DIRECT and ext4 on $blk_dio_loop did not mount or take O_DIRECT"
		umount "$_mnt" 2>/dev/null
		blk_dio_teardown
		return 1
	fi
	blk_dio=$_mnt
	return 0
}

blk_dio_teardown() {
	if [ -n "${blk_dio_loop:-}" ]; then
		umount "$OUTDIR/dio" 2>/dev/null
		losetup -d "$blk_dio_loop" 2>/dev/null
		rm -f "$OUTDIR/.dio-ext4"
	fi
	blk_dio_loop=
}

# blk_roundtrip CASE DISKOPTS [direct]: write boot, host check, read-back boot.
# With "direct" the image lives where O_DIRECT works (blk_dio_setup).
blk_roundtrip() {
	_case=$1
	_opts=$2
	if [ "${3:-}" != direct ]; then
		_img=$(blk_image "$_case" 64)
		_blk_roundtrip "$_case" "$_opts" "$_img" "$_img"
		rm -f "$_img"
		return
	fi
	if ! blk_dio_setup 96; then
		echo "VMMRESULT $_case SKIP O_DIRECT impossible here: $blk_dio_why"
		return
	fi
	[ -n "$blk_dio_loop" ] &&
		echo "$_case: $OUTDIR has no O_DIRECT: image on a ${blk_dio_mb}M ext4 on $blk_dio_loop"
	_img=$blk_dio/$_case.img
	rm -f "$_img"
	dd if=/dev/zero of="$_img" bs=1M count=0 seek=64 2>/dev/null
	_blk_roundtrip "$_case" "$_opts" "$_img" "$_img"
	rm -f "$_img"
	blk_dio_teardown
}

_blk_roundtrip() {
	_case=$1
	_opts=$2
	_img=$3
	_path=$4
	vmm_boot "$_case-write" blk-write --disk "path=$_path,format=raw$_opts"
	_wlog=$log
	if [ "$rc" != 0 ] || ! log_has "VMMTEST vda-write=ok" || ! log_has "VMMTEST script-exit=0"; then
		fail "$_case" "write boot: exit $rc, guest did not report vda-write=ok"
		return
	fi
	if [ "$(log_value blk-errors)" != 0 ]; then
		fail "$_case" "the guest kernel logged block I/O errors"
		return
	fi
	[ "$_path" != "$_img" ] && sync
	if ! blk_host_check "$_img" vda "$_wlog"; then
		fail "$_case" "$blk_why"
		return
	fi
	_sums="$(log_value vda-big) $(log_value vda-small) $(log_value vda-tree)"
	vmm_boot "$_case-read" blk-read --disk "path=$_path,format=raw$_opts"
	_back="$(log_value vda-rbig) $(log_value vda-rsmall) $(log_value vda-rtree)"
	if [ "$rc" != 0 ] || ! log_has "VMMTEST vda-read=ok"; then
		fail "$_case" "read boot: exit $rc, guest did not report vda-read=ok"
	elif [ "$_sums" != "$_back" ]; then
		fail "$_case" "read back '$_back', wrote '$_sums'"
	else
		pass "$_case"
	fi
}
