#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the testhost (L1) initramfs:
#   mk-l1-initrd.sh OUTDIR VMM
# writes OUTDIR/l1.cpio: an uncompressed newc archive (TCG would spend
# seconds inflating it) made of two concatenated parts:
#   OUTDIR/l1-base.cpio    busybox, kvm/tun/vhost/loop modules, the guest kernel,
#                          QEMU (+ libraries, firmware), e2fsprogs: cached,
#                          rebuilt when its inputs change
#   OUTDIR/l1-top.cpio     VMM (+ libraries), vmmctl + curl, the guest initramfs, the test
#                          cases, bench/boot, bench/blk, /init: rebuilt every run
# With L1_FIO=1 (bench/blk/run.sh) also OUTDIR/fio.cpio (fio + libraries,
# bench/blk/mk-fio-initrd.sh, ~80 MB): appended, so L1 has fio, and the
# guest gets /guest/blk-bench-initrd = guest initramfs + fio.cpio.  The
# Linux tests leave it out: it would slow every testhost boot.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
. "$here/initramfs-lib.sh"
out=${1:?usage: mk-l1-initrd.sh OUTDIR VMM}
vmm=${2:?usage: mk-l1-initrd.sh OUTDIR VMM}
mkdir -p "$out"

L1_MODULES="irqbypass kvm kvm_amd tun tap vhost_iotlb vhost vhost_net loop"
L1_TOOLS="/usr/bin/qemu-system-x86_64 /usr/bin/qemu-img /sbin/mke2fs /sbin/e2fsck /sbin/debugfs /sbin/tune2fs"
QEMU_FW="/usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin
	/usr/share/qemu/kvmvapic.bin /usr/share/qemu/pvh.bin /usr/share/qemu/qboot.rom
	/usr/share/qemu/bios-microvm.bin /usr/share/qemu/multiboot_dma.bin"
GUEST_KERNEL=${GUEST_KERNEL:-/boot/vmlinuz-$KVER}

# -- base: cached --
key=$(inputs_key "$0" "$here/initramfs-lib.sh" /bin/busybox "$GUEST_KERNEL" $L1_TOOLS)
if [ ! -f "$out/l1-base.cpio" ] || [ "$(cat "$out/l1-base.cpio.key" 2>/dev/null)" != "$key" ]; then
	stage=$(mktemp -d)
	stage_busybox "$stage"
	stage_modules "$stage" $L1_MODULES
	stage_bin "$stage" $L1_TOOLS
	stage_file "$stage" $QEMU_FW
	ln -s mke2fs "$stage"/sbin/mkfs.ext4
	mkdir -p "$stage"/guest
	cp "$GUEST_KERNEL" "$stage"/guest/vmlinuz
	pack_cpio "$stage" "$out/l1-base.cpio"
	rm -rf "$stage"
	echo "$key" >"$out/l1-base.cpio.key"
	echo "  L1BASE  $out/l1-base.cpio ($(du -h "$out/l1-base.cpio" | cut -f1))"
fi

# -- top: every run --
"$here/mk-guest-initrd.sh" "$out/guest-initrd.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/th "$stage"/guest "$stage"/th/bench
if [ -e "$vmm" ]; then
	stage_bin "$stage" "$(readlink -f "$vmm")"
	cp "$vmm" "$stage"/th/vmm
fi
# vmm-img beside vmm: the qcow2 cases make and check images with it
if [ -e "$(dirname "$vmm")/vmm-img" ]; then
	stage_bin "$stage" "$(readlink -f "$(dirname "$vmm")/vmm-img")"
	cp "$(dirname "$vmm")/vmm-img" "$stage"/th/vmm-img
fi
# vmmctl beside vmm, and curl: the control-socket cases (ctl-*) drive the
# VMs with them (vm.create / vm.boot have no vmmctl verb)
if [ -e "$(dirname "$vmm")/vmmctl" ]; then
	stage_bin "$stage" "$(readlink -f "$(dirname "$vmm")/vmmctl")"
	cp "$(dirname "$vmm")/vmmctl" "$stage"/th/vmmctl
fi
if [ -x /usr/bin/curl ]; then
	stage_bin "$stage" /usr/bin/curl
fi
cp "$out/guest-initrd.gz" "$stage"/guest/initrd.gz
cp -r "$top"/guest-tests/linux "$stage"/th/linux
# the tiny guests built beside vmm, for the tiny-guests case
if ls "$(dirname "$vmm")"/guest-tests/*.elf >/dev/null 2>&1; then
	mkdir -p "$stage"/th/guest-tests
	cp "$(dirname "$vmm")"/guest-tests/*.elf "$stage"/th/guest-tests/
fi
cp -r "$here" "$stage"/th/testhost
# the crash-consistency campaign (scripts/campaign-crash.sh builds powercut.so)
if [ -d "$out/campaign" ]; then
	cp -r "$out/campaign" "$stage"/th/campaign
fi
cp -r "$top"/bench/boot "$stage"/th/bench/boot
cp -r "$top"/bench/blk "$stage"/th/bench/blk
if [ "${L1_FIO:-0}" = 1 ]; then
	"$top"/bench/blk/mk-fio-initrd.sh "$out/fio.cpio" "$out/guest-initrd.gz" \
		"$stage"/guest/blk-bench-initrd
fi
if [ -x "$out/bootstamp" ]; then
	cp "$out/bootstamp" "$stage"/th/bootstamp
fi
install -m 755 "$here/l1-init" "$stage"/init
pack_cpio "$stage" "$out/l1-top.cpio"
if [ "${L1_FIO:-0}" = 1 ]; then
	cat "$out/l1-base.cpio" "$out/l1-top.cpio" "$out/fio.cpio" >"$out/l1.cpio.tmp"
else
	cat "$out/l1-base.cpio" "$out/l1-top.cpio" >"$out/l1.cpio.tmp"
fi
mv "$out/l1.cpio.tmp" "$out/l1.cpio"
