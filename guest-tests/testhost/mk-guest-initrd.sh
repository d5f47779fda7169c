#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the guest initramfs of the Linux tests:
#   mk-guest-initrd.sh OUT.gz
# busybox-static, the virtio and pvpanic modules (load order in
# /lib/modules/order), e2fsprogs, /init (guest-init) and every
# guest-tests/linux/guest/NAME.sh as /tests/NAME.sh.  Cached: rebuilt only
# when an input changes (key in OUT.gz.key).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/initramfs-lib.sh"
out=${1:?usage: mk-guest-initrd.sh OUT.gz}

GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
	virtio_pci virtio_mmio virtio_blk failover net_failover virtio_net
	pvpanic pvpanic_mmio button evdev"
GUEST_TOOLS="/sbin/mke2fs /sbin/e2fsck /sbin/debugfs /sbin/tune2fs"

key=$(inputs_key "$here/guest-init" "$0" "$here/initramfs-lib.sh" /bin/busybox \
	$(ls "$top"/guest-tests/linux/guest/*.sh 2>/dev/null) $GUEST_TOOLS)
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
stage_busybox "$stage"
stage_modules "$stage" $GUEST_MODULES
stage_bin "$stage" $GUEST_TOOLS
ln -s mke2fs "$stage"/sbin/mkfs.ext4
mkdir -p "$stage"/tests
for f in "$top"/guest-tests/linux/guest/*.sh; do
	[ -e "$f" ] && cp "$f" "$stage"/tests/
done
install -m 755 "$here/guest-init" "$stage"/init
mkdir -p "$(dirname "$out")"
pack_cpio "$stage" "$out" gzip
echo "$key" >"$out.key"
echo "  GUEST   $out ($(du -h "$out" | cut -f1))"
