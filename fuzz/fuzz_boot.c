// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as a kernel file (and optionally an initrd) through
 * boot_load_buf into 16 MiB of synthetic guest memory.  The first input byte
 * picks the options: bit 0 --flat, bit 1 the last quarter is an initrd,
 * bit 2 a long command line, bit 3 build ACPI and MP tables first.
 * bzImages are unpacked on the host when their payload allows (seeds in
 * fuzz/corpus/fuzz_boot/: gzip and lz4 payloads).
 * Any outcome but a crash or sanitizer report is fine; on error the message
 * must be a non-empty line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"

#define FUZZ_RAM (16u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;	/* one buffer for the whole run: 16 MiB per input is too slow */
	static char long_cmdline[5000];
	struct guest_mem gm = { 0 };
	struct boot_input in = { .kernel_name = "fuzz-kernel", .initrd_name = "fuzz-initrd" };
	struct boot_entry entry;
	char err[256];
	uint8_t opts;
	int ret;

	if (!size)
		return 0;
	if (!ram) {
		ram = malloc(FUZZ_RAM);
		if (!ram)
			return 0;
		memset(long_cmdline, 'a', sizeof(long_cmdline) - 1);
	}
	if (gm_add_region(&gm, 0, FUZZ_RAM, ram))
		abort();
	opts = data[0];
	data++;
	size--;
	in.flat = opts & 1;
	in.kernel = data;
	in.kernel_len = size;
	if (opts & 2) {
		in.initrd_len = size / 4;
		in.kernel_len = size - in.initrd_len;
		in.initrd = data + in.kernel_len;
	}
	if (opts & 4)
		in.cmdline = long_cmdline;
	if (opts & 8) {
		if (acpi_build(&gm, 1 + (opts >> 4)) || mptable_build(&gm, 1 + (opts >> 4)))
			abort();
	}
	ret = boot_load_buf(&gm, &in, &entry, err, sizeof(err));
	if (ret > 0 || (ret < 0 && !err[0]))
		abort();
	/* 64-bit entries: the bzImage stub, or a host-unpacked vmlinux in RAM */
	if (!ret && entry.mode == BOOT_MODE_LONG64 && entry.rip != 0x100200 &&
	    (strcmp(entry.kind, "bzImage, unpacked on the host") || !gm_ptr(&gm, entry.rip, 1)))
		abort();
	return 0;
}
