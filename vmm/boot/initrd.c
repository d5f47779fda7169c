// SPDX-License-Identifier: MIT
/*
 * Host-side unpacking of a Linux initramfs.  The kernel's populate_rootfs
 * walks the initrd as a sequence of newc cpio archives, each either as is
 * or compressed, with zero padding between them, and inflates compressed
 * ones with its own decoders — in a guest, at guest speed, before /init can
 * run.  initrd_unpack produces the byte stream those decoders would have
 * produced, so the kernel finds plain cpio archives and only copies files:
 * the same files, the same order, the same outcome.
 *
 * Kept equivalent to the kernel's walk (init/initramfs.c unpack_to_rootfs):
 * an uncompressed archive must start at a 4-aligned offset of the file; a
 * compressed member's output is parsed from its own offset 0 and must end
 * between two cpio entries.  Here every archive and every member's output
 * starts 4-aligned in the result (zero padding, which the kernel skips), so
 * the entries' padding falls where it did.  Anything else — another format
 * (bzip2, lzo, lz4), a member that is not cpio, junk, output larger than
 * the room given — and the initrd is handed to the guest as it is.
 * The input is the user's file, the output lands in guest RAM: every length
 * is checked against its buffer.
 */
#include <errno.h>
#include <libdeflate.h>
#include <lzma.h>
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "boot/loader.h"

#define CPIO_HDR	110
/* Decoder memory a header may ask for: what kernels' initramfs builds use, with room */
#define XZ_MEMLIMIT	(256u << 20)
#define ZSTD_WINDOWLOG	27

static bool is_cpio_magic(const uint8_t *p, size_t len)
{
	return len >= 6 && (!memcmp(p, "070701", 6) || !memcmp(p, "070702", 6));
}

/* Field i (8 hex digits) of the newc header at h; false if not hex. */
static bool cpio_field(const uint8_t *h, unsigned int i, uint32_t *v)
{
	unsigned int k;

	*v = 0;
	for (k = 0; k < 8; k++) {
		uint8_t c = h[6 + 8 * i + k];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return false;
		*v = *v << 4 | d;
	}
	return true;
}

static size_t align4(size_t v)
{
	return (v + 3) & ~(size_t)3;
}

/*
 * Walks newc entries from p (4-aligned).  Stops after "TRAILER!!!" when
 * one_archive, else at the end of the buffer, zero padding between entries
 * allowed.  Returns the bytes walked, or 0 if an entry is malformed or cut
 * short (the kernel would stop with an error there).
 */
static size_t cpio_walk(const uint8_t *p, size_t len, bool one_archive)
{
	size_t pos = 0;

	while (pos < len) {
		uint32_t namesize, filesize;
		size_t data, end;

		if (!one_archive && !p[pos]) {
			pos++;
			continue;
		}
		if ((pos & 3) || len - pos < CPIO_HDR || !is_cpio_magic(p + pos, len - pos) ||
		    !cpio_field(p + pos, 6, &filesize) || !cpio_field(p + pos, 11, &namesize))
			return 0;
		data = align4(pos + CPIO_HDR + (size_t)namesize);
		if (data > len || (size_t)filesize > len - data)
			return 0;
		end = align4(data + filesize);
		if (end > len)
			return 0;	/* the kernel would wait for the padding */
		if (one_archive && namesize == 11 && !memcmp(p + pos + CPIO_HDR, "TRAILER!!!", 11))
			return end;
		pos = end;
	}
	return one_archive ? 0 : pos;
}

/* Decodes one member at in into out; *used and *made: bytes read and written. 0 or -1. */
static int member_decode(enum boot_pack kind, const uint8_t *in, size_t len, uint8_t *out,
			 size_t cap, size_t *used, size_t *made)
{
	struct libdeflate_decompressor *d;
	lzma_stream ls = LZMA_STREAM_INIT;
	ZSTD_DCtx *z;
	size_t n;
	int ret = -1;

	switch (kind) {
	case PK_GZIP:
		d = libdeflate_alloc_decompressor();
		if (!d)
			return -1;
		if (libdeflate_gzip_decompress_ex(d, in, len, out, cap, used, made) == LIBDEFLATE_SUCCESS)
			ret = 0;
		libdeflate_free_decompressor(d);
		return ret;
	case PK_ZSTD:
		n = ZSTD_findFrameCompressedSize(in, len);
		z = ZSTD_createDCtx();
		if (ZSTD_isError(n) || !z) {
			ZSTD_freeDCtx(z);
			return -1;
		}
		ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG);
		*made = ZSTD_decompressDCtx(z, out, cap, in, n);
		ZSTD_freeDCtx(z);
		*used = n;
		return ZSTD_isError(*made) ? -1 : 0;
	case PK_XZ:
	case PK_LZMA:
		if ((kind == PK_XZ ? lzma_stream_decoder(&ls, XZ_MEMLIMIT, 0)
				  : lzma_alone_decoder(&ls, XZ_MEMLIMIT)) != LZMA_OK)
			return -1;
		ls.next_in = in;
		ls.avail_in = len;
		ls.next_out = out;
		ls.avail_out = cap;
		if (lzma_code(&ls, LZMA_FINISH) == LZMA_STREAM_END) {
			*used = (size_t)ls.total_in;
			*made = (size_t)ls.total_out;
			ret = 0;
		}
		lzma_end(&ls);
		return ret;
	default:
		return -1;
	}
}

int initrd_unpack(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		  size_t *outlen, char *why, size_t whylen)
{
	size_t pos = 0, o = 0, used, made, n;
	unsigned int members = 0;
	enum boot_pack kind, last = PK_NONE;

	while (pos < len) {
		if (!in[pos]) {
			pos++;	/* padding between archives */
			continue;
		}
		if (align4(o) > cap)
			return boot_err(why, whylen, 1, "it unpacks to more than %zu bytes", cap);
		memset(out + o, 0, align4(o) - o);
		o = align4(o);
		if (is_cpio_magic(in + pos, len - pos)) {
			n = (pos & 3) ? 0 : cpio_walk(in + pos, len - pos, true);
			if (!n)
				return boot_err(why, whylen, 1, "a cpio archive at offset %zu is malformed", pos);
			if (n > cap - o)
				return boot_err(why, whylen, 1, "it unpacks to more than %zu bytes", cap);
			memcpy(out + o, in + pos, n);
			o += n;
			pos += n;
			continue;
		}
		kind = boot_pack_kind(in + pos, len - pos);
		if (kind == PK_NONE || kind == PK_LZ4)	/* lz4: left to the guest */
			return boot_err(why, whylen, 1, "offset %zu is neither cpio nor gzip, zstd, xz or lzma", pos);
		if (member_decode(kind, in + pos, len - pos, out + o, cap - o, &used, &made) || !used)
			return boot_err(why, whylen, 1, "its %s data at offset %zu does not unpack into %zu bytes",
					boot_pack_name[kind], pos, cap - o);
		/* the kernel parses a member's output alone and wants it whole */
		if (!made || !is_cpio_magic(out + o, made) || cpio_walk(out + o, made, false) != made)
			return boot_err(why, whylen, 1, "its %s data at offset %zu is not a cpio archive",
					boot_pack_name[kind], pos);
		o += made;
		pos += used;
		members++;
		last = kind;
	}
	if (!members)
		return boot_err(why, whylen, 1, "nothing in it is compressed");
	*outlen = o;
	snprintf(why, whylen, "%s", boot_pack_name[last]);
	return 0;
}
