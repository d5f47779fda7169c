# SPDX-License-Identifier: MIT
# The guest side of the crash-consistency campaign (tests/campaign/,
# docs/reliability.md): sequence-numbered records written to /dev/vda and
# fsync'd one by one until the host kills the VMM.
#
# Record SEQ is 4 KiB at byte SEQ * 64 KiB (one qcow2 cluster each, so
# every record also allocates): 64 lines of 64 bytes
#   "vmmcrash run=RUN seq=SEQ(8 digits)" padded with spaces + "\n"
# RUN comes from the kernel command line (crashrun=...), so a record of
# another run cannot pass for this one.  After the fsync of record SEQ
# returns -- i.e. the flush completed -- the guest prints
#   VMMTEST durable=SEQ
# and the host requires every record up to the last such line to be in
# the image.  Every third record is followed by an unsynced 4 KiB write
# in the upper half of the disk (noise the page cache writes back
# whenever), so that flushes have other dirty data around them.
run=
for arg in $(cat /proc/cmdline); do
	case "$arg" in crashrun=*) run=${arg#crashrun=} ;; esac
done
dev=/dev/vda
if [ -z "$run" ] || [ ! -b "$dev" ]; then
	echo "VMMTEST crash-setup=bad run='$run' dev=$(ls /dev/vd* 2>/dev/null)"
	exit 1
fi
sectors=$(cat /sys/block/vda/size)
slots=$((sectors * 512 / 65536 / 2))
echo "VMMTEST crash-ready slots=$slots"
i=0
while [ "$i" -lt "$slots" ]; do
	line=$(printf 'vmmcrash run=%s seq=%08d' "$run" "$i")
	line=$(printf '%-63s' "$line")
	if ! yes "$line" | head -n 64 | dd of="$dev" bs=4096 count=1 seek=$((i * 16)) \
		iflag=fullblock conv=notrunc,fsync 2>/dev/null; then
		echo "VMMTEST crash-write-failed=$i"
		exit 1
	fi
	echo "VMMTEST durable=$i"
	if [ $((i % 3)) = 2 ]; then
		yes "noise $i" | head -c 4096 | dd of="$dev" bs=4096 count=1 \
			seek=$(((slots + i) * 16)) iflag=fullblock conv=notrunc 2>/dev/null
	fi
	i=$((i + 1))
done
echo "VMMTEST crash-disk-full"
