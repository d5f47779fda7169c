#!/bin/bash
# SPDX-License-Identifier: MIT
# An uncompressed cpio with fio, its libraries (at their host paths) and the
# benchmark's guest scripts as /tests/blk-bench*.sh.  Appended to the guest
# test initrd it gives the guest fio; appended to the testhost's initrd it
# gives L1 fio.  Uncompressed: Debian's fio pulls in ~80 MB of libraries
# (ceph, gluster, ICU...), which an emulated CPU would take long to inflate.
# Cached on its inputs (OUT.key).
#   mk-fio-initrd.sh OUT.cpio [INITRD.gz BENCH-INITRD]
# With the two more arguments also writes BENCH-INITRD = INITRD.gz, zero
# padding to a multiple of 4 bytes, OUT.cpio: Linux reads an uncompressed
# archive after a compressed one only at a 4-byte aligned offset (it skips
# the zeros), else it stops with "invalid magic".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: mk-fio-initrd.sh OUT.cpio [INITRD.gz BENCH-INITRD]}

# concat_initrd: $2 + padding + $1 -> $3
concat_initrd() {
	local size
	size=$(stat -c %s "$2")
	{ cat "$2"; head -c $(((4 - size % 4) % 4)) /dev/zero; cat "$1"; } >"$3.tmp"
	mv "$3.tmp" "$3"
}
. "$top/guest-tests/testhost/initramfs-lib.sh"
fio=$(command -v fio) || die "fio is not installed (scripts/deps.d/virtio.txt: run scripts/install-deps.sh)"
key=$(inputs_key "$0" "$fio" "$here/guest-bench.sh" "$here/jobs.sh")
if [ ! -f "$out" ] || [ "$(cat "$out.key" 2>/dev/null)" != "$key" ]; then
	stage=$(mktemp -d)
	trap 'rm -rf "$stage"' EXIT
	stage_bin "$stage" "$fio"
	mkdir -p "$stage/tests"
	cp "$here/guest-bench.sh" "$stage/tests/blk-bench.sh"
	cp "$here/jobs.sh" "$stage/tests/blk-bench-jobs.sh"
	pack_cpio "$stage" "$out"
	echo "$key" >"$out.key"
	echo "  FIO     $out ($(du -h "$out" | cut -f1))"
fi
if [ $# -ge 3 ]; then
	concat_initrd "$out" "$2" "$3"
fi
