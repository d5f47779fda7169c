#!/bin/bash
# SPDX-License-Identifier: MIT
# A cpio to append to the guest test initrd: fio with its libraries, and the
# benchmark's guest scripts as /tests/blk-bench*.sh.
#   mk-fio-initrd.sh OUT.cpio.gz
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${1:?usage: mk-fio-initrd.sh OUT.cpio.gz}
KVER=${KVER:-$(uname -r)}
. "$top/guest-tests/testhost/initramfs-lib.sh"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
stage_bin "$stage" "$(command -v fio)"
mkdir -p "$stage/tests"
cp "$here/guest-bench.sh" "$stage/tests/blk-bench.sh"
cp "$here/jobs.sh" "$stage/tests/blk-bench-jobs.sh"
pack_cpio "$stage" "$out" gzip
