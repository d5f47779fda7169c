#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds a minimal x86-64 Linux from Debian's linux-source package (the
# same 6.1 tree as the cloud kernel): tinyconfig plus what a VM guest with
# a serial console, an initramfs and ACPI poweroff needs — the kind of
# kernel a kernel developer boots in a loop.  bench/boot uses it with
# BENCH_KERNEL=mini.
#   bench/boot/mini-kernel.sh OUTDIR     writes OUTDIR/bzImage (cached)
# Installs what it needs (bench/boot/mini-kernel.deps, ~140 MB) itself.
set -euo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../scripts/install-deps.sh" "$here/mini-kernel.deps"
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
if [ -z "$tarball" ]; then
	echo "mini-kernel: /usr/src/linux-source-6.1.tar.xz missing: apt-get install linux-source-6.1" >&2
	exit 1
fi
# options on top of tinyconfig; the key covers them, this script and the tree
opts=(
	64BIT SMP PRINTK TTY SERIAL_8250 SERIAL_8250_CONSOLE BLK_DEV_INITRD RD_GZIP
	BINFMT_ELF BINFMT_SCRIPT PROC_FS SYSFS DEVTMPFS TMPFS SHMEM FUTEX EPOLL
	MULTIUSER HYPERVISOR_GUEST PARAVIRT KVM_GUEST PCI ACPI RTC_CLASS RTC_DRV_CMOS
	KERNEL_LZ4
)
key=$(sha256sum <"$0" | cut -c1-16)-$(stat -c %s-%Y "$tarball")
if [ -f "$out/bzImage" ] && [ "$(cat "$out/bzImage.key" 2>/dev/null)" = "$key" ]; then
	echo "mini-kernel: $out/bzImage (cached)"
	exit 0
fi
src=$out/src
if [ ! -f "$src/Makefile" ]; then
	echo "mini-kernel: unpacking $tarball"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
fi
cd "$src"
make -s tinyconfig
for o in "${opts[@]}"; do
	scripts/config --enable "$o"
done
scripts/config --disable KERNEL_XZ --disable KERNEL_GZIP --set-str LOCALVERSION "-vmm-mini"
make -s olddefconfig
for o in "${opts[@]}"; do
	grep -q "^CONFIG_$o=y" .config || { echo "mini-kernel: CONFIG_$o did not stick" >&2; exit 1; }
done
echo "mini-kernel: building ($(nproc) jobs)"
make -s -j"$(nproc)" bzImage
cp arch/x86/boot/bzImage "$out/bzImage"
echo "$key" >"$out/bzImage.key"
echo "mini-kernel: $out/bzImage ($(du -h "$out/bzImage" | cut -f1)) from $here"
