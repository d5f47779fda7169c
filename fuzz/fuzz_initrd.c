// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as an initrd through initrd_unpack (vmm/boot/initrd.c)
 * into a buffer whose size the first two input bytes pick (up to 4 MiB),
 * with a guard zone after it that must stay untouched.  Seeds in
 * fuzz/corpus/fuzz_initrd/: gzip and zstd newc archives, and a plain
 * archive followed by a gzip one.  Any outcome but a crash, a sanitizer
 * report or a write past the room is fine; a refusal must say why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/loader.h"

#define ROOM	(4u << 20)
#define GUARD	4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *out;
	size_t cap, n = 0, i;
	char why[160];

	if (size < 2)
		return 0;
	if (!out) {
		out = malloc(ROOM + GUARD);
		if (!out)
			return 0;
		memset(out + ROOM, 0xa5, GUARD);
	}
	cap = ((size_t)data[0] << 8 | data[1]) * 64;	/* 0 .. ~4 MiB */
	if (cap > ROOM)
		cap = ROOM;
	why[0] = '\0';
	if (initrd_unpack(data + 2, size - 2, out + ROOM - cap, cap, &n, why, sizeof(why)) == 0) {
		if (n > cap)
			abort();
	} else if (!why[0]) {
		abort();
	}
	for (i = 0; i < GUARD; i++)
		if (out[ROOM + i] != 0xa5)
			abort();
	return 0;
}
