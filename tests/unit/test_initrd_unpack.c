// SPDX-License-Identifier: MIT
/*
 * Host-side initramfs unpacking (vmm/boot/initrd.c): newc archives, plain
 * or gzip/zstd/xz/lzma compressed, become the uncompressed stream the
 * kernel would have parsed; anything else is refused (the guest gets the
 * file as it is).  Archives are built here; compressed with the libraries.
 */
#include <criterion/criterion.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/loader.h"
#include "gzip_helper.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	if (n)	/* p may be NULL for an empty file */
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void pad4(struct buf *b)
{
	static const uint8_t z[4];

	put(b, z, (4 - (b->len & 3)) & 3);
}

/* One newc entry: name (NUL added) and data, padded as cpio does. */
static void cpio_entry(struct buf *b, const char *name, const void *data, size_t n)
{
	char hdr[111];

	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 1u, n ? 0100644u : 040755u, 0u, 0u, 1u, 0u, (unsigned int)n, 0u, 0u, 0u, 0u,
		 (unsigned int)strlen(name) + 1, 0u);
	put(b, hdr, 110);
	put(b, name, strlen(name) + 1);
	pad4(b);
	put(b, data, n);
	pad4(b);
}

/* An archive of a few files, distinct per seed, with its trailer. */
static struct buf archive(unsigned int seed, size_t filesz)
{
	struct buf b = { 0 };
	uint8_t *data = malloc(filesz);
	char name[32];
	size_t i;

	cr_assert_not_null(data);
	for (i = 0; i < filesz; i++)
		data[i] = (uint8_t)(i * 7 + seed + (i >> 9));
	cpio_entry(&b, "bin", NULL, 0);
	snprintf(name, sizeof(name), "bin/file%u", seed);
	cpio_entry(&b, name, data, filesz);
	cpio_entry(&b, "init", "#!/bin/sh\n", 10);
	cpio_entry(&b, "TRAILER!!!", NULL, 0);
	free(data);
	return b;
}

static struct buf gzip(const struct buf *in)
{
	struct buf b = { 0 };

	b.cap = compressBound(in->len) + 64;
	b.p = malloc(b.cap);
	b.len = test_gzip(in->p, in->len, b.p, b.cap, 6);
	return b;
}

static struct buf zstd(const struct buf *in)
{
	struct buf b = { 0 };

	b.cap = ZSTD_compressBound(in->len);
	b.p = malloc(b.cap);
	b.len = ZSTD_compress(b.p, b.cap, in->p, in->len, 3);
	cr_assert(!ZSTD_isError(b.len));
	return b;
}

static struct buf xz(const struct buf *in, bool alone)
{
	struct buf b = { 0 };
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_options_lzma opt;

	b.cap = in->len + in->len / 2 + 4096;
	b.p = malloc(b.cap);
	if (alone) {
		cr_assert_eq(lzma_lzma_preset(&opt, 1), false);
		cr_assert_eq(lzma_alone_encoder(&ls, &opt), LZMA_OK);
	} else {
		cr_assert_eq(lzma_easy_encoder(&ls, 1, LZMA_CHECK_CRC32), LZMA_OK);
	}
	ls.next_in = in->p;
	ls.avail_in = in->len;
	ls.next_out = b.p;
	ls.avail_out = b.cap;
	cr_assert_eq(lzma_code(&ls, LZMA_FINISH), LZMA_STREAM_END);
	b.len = (size_t)ls.total_out;
	lzma_end(&ls);
	return b;
}

#define CAP (1u << 20)
static uint8_t out[CAP + 64];
static char why[160];

static int unpack(const struct buf *in, size_t cap, size_t *n)
{
	memset(out, 0xee, sizeof(out));
	why[0] = '\0';
	return initrd_unpack(in->p, in->len, out, cap, n, why, sizeof(why));
}

static void no_write_past(size_t cap)
{
	size_t i;

	for (i = cap; i < sizeof(out); i++)
		cr_assert_eq(out[i], 0xee, "wrote past the room given, at %zu", i);
}

Test(initrd_unpack, gzip_archive_becomes_plain_cpio)
{
	struct buf a = archive(1, 5000), z = gzip(&a);
	size_t n = 0;

	cr_assert_eq(unpack(&z, CAP, &n), 0, "%s", why);
	cr_assert_str_eq(why, "gzip");
	cr_assert_eq(n, a.len);
	cr_assert_eq(memcmp(out, a.p, a.len), 0);
	no_write_past(CAP);
	free(a.p);
	free(z.p);
}

Test(initrd_unpack, each_format)
{
	struct buf a = archive(2, 3000), c[3] = { zstd(&a), xz(&a, false), xz(&a, true) };
	const char *name[3] = { "zstd", "xz", "lzma" };
	size_t n;
	int i;

	for (i = 0; i < 3; i++) {
		n = 0;
		cr_assert_eq(unpack(&c[i], CAP, &n), 0, "%s: %s", name[i], why);
		cr_assert_str_eq(why, name[i]);
		cr_assert_eq(n, a.len, "%s", name[i]);
		cr_assert_eq(memcmp(out, a.p, a.len), 0, "%s", name[i]);
		free(c[i].p);
	}
	free(a.p);
}

/* Debian's layout: a plain early-microcode archive, padding, then the main one compressed. */
Test(initrd_unpack, plain_then_compressed_with_padding)
{
	struct buf ucode = archive(3, 101), main_ar = archive(4, 20000), z, img = { 0 };
	static const uint8_t zeros[512];
	size_t n = 0, at;

	z = zstd(&main_ar);
	put(&img, ucode.p, ucode.len);
	put(&img, zeros, 512 - ucode.len % 512);	/* cpio's block padding */
	put(&img, z.p, z.len);
	put(&img, zeros, 3);	/* padding after a member is skipped too */
	cr_assert_eq(unpack(&img, CAP, &n), 0, "%s", why);
	cr_assert_eq(memcmp(out, ucode.p, ucode.len), 0);
	at = (ucode.len + 3) & ~(size_t)3;
	cr_assert_eq(n, at + main_ar.len);
	cr_assert_eq(memcmp(out + at, main_ar.p, main_ar.len), 0);
	free(ucode.p);
	free(main_ar.p);
	free(z.p);
	free(img.p);
}

Test(initrd_unpack, two_members_each_start_aligned)
{
	struct buf a = archive(5, 777), b = archive(6, 999), za = gzip(&a), zb = gzip(&b), img = { 0 };
	size_t n = 0;

	put(&img, za.p, za.len);
	put(&img, zb.p, zb.len);
	cr_assert_eq(unpack(&img, CAP, &n), 0, "%s", why);
	cr_assert_eq(a.len % 4, 0);
	cr_assert_eq(n, a.len + b.len);
	cr_assert_eq(memcmp(out + a.len, b.p, b.len), 0);
	free(a.p);
	free(b.p);
	free(za.p);
	free(zb.p);
	free(img.p);
}

Test(initrd_unpack, refuses_what_the_guest_must_see_as_is)
{
	struct buf a = archive(7, 4000), z = gzip(&a), img = { 0 }, notcpio = { 0 }, cut = { 0 }, zc, zn;
	size_t n;

	/* nothing compressed: no gain, leave it */
	cr_assert_eq(unpack(&a, CAP, &n), 1);
	/* junk after a member */
	put(&img, z.p, z.len);
	put(&img, "junk", 4);
	cr_assert_eq(unpack(&img, CAP, &n), 1);
	cr_assert(strstr(why, "neither cpio"), "%s", why);
	/* a compressed filesystem image, not cpio */
	put(&notcpio, "hsqs", 4);
	put(&notcpio, a.p + 4, a.len - 4);
	zn = gzip(&notcpio);
	cr_assert_eq(unpack(&zn, CAP, &n), 1);
	cr_assert(strstr(why, "not a cpio"), "%s", why);
	/* a member whose archive stops inside an entry */
	put(&cut, a.p, a.len - 200);
	zc = gzip(&cut);
	cr_assert_eq(unpack(&zc, CAP, &n), 1);
	/* truncated compressed data */
	z.len -= 10;
	cr_assert_eq(unpack(&z, CAP, &n), 1);
	z.len += 10;
	/* a plain archive at an offset the kernel would not take */
	img.len = 0;
	put(&img, "\0\0", 2);
	put(&img, a.p, a.len);
	put(&img, z.p, z.len);
	cr_assert_eq(unpack(&img, CAP, &n), 1);
	cr_assert(strstr(why, "malformed"), "%s", why);
	free(a.p);
	free(z.p);
	free(img.p);
	free(notcpio.p);
	free(cut.p);
	free(zc.p);
	free(zn.p);
}

Test(initrd_unpack, never_writes_past_the_room)
{
	struct buf a = archive(8, 60000), z = gzip(&a), p = { 0 };
	size_t n, cap;

	for (cap = 0; cap < a.len; cap += 4099) {
		cr_assert_eq(unpack(&z, cap, &n), 1, "cap %zu", cap);
		no_write_past(cap);
	}
	put(&p, a.p, a.len);
	put(&p, z.p, z.len);
	cr_assert_eq(unpack(&p, a.len + 100, &n), 1, "plain + member larger than the room");
	no_write_past(a.len + 100);
	cr_assert_eq(unpack(&z, a.len, &n), 0, "exactly enough room: %s", why);
	no_write_past(a.len);
	free(a.p);
	free(z.p);
	free(p.p);
}
