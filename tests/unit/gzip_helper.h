/* SPDX-License-Identifier: MIT */
/* gzip for the boot tests: what a kernel build or mkinitramfs would write. */
#ifndef VMM_GZIP_HELPER_H
#define VMM_GZIP_HELPER_H

#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* Compresses in into out (cap bytes) as one gzip member at level; returns its length. */
static inline size_t test_gzip(const uint8_t *in, size_t len, uint8_t *out, size_t cap, int level)
{
	z_stream zs = { 0 };
	size_t n;

	cr_assert_eq(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	n = zs.total_out;
	deflateEnd(&zs);
	return n;
}

#endif
