// SPDX-License-Identifier: MIT
/*
 * Host-side decompression of a bzImage's payload (the compressed vmlinux
 * ELF): the guest then starts in the kernel proper and skips its own
 * decompressor, which under nested or emulated virtualisation costs seconds
 * (docs/boot.md, docs/performance.md).
 *
 * The payload is what the kernel's build wrote: a gzip, xz, lzma, lz4
 * (legacy frame) or zstd stream followed by the decompressed size as a
 * little-endian u32 (scripts/Makefile.lib size_append).  It is decoded in
 * chunks through a small staging buffer and each chunk is scattered
 * straight to the PT_LOAD segments of the vmlinux ELF it holds, so the
 * 50-odd MiB of vmlinux never exist outside guest RAM.  The input comes from
 * a file the user named, still it is parsed as untrusted: the output is
 * bounded by the size trailer, every offset and length checked.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/loader.h"
#include "log.h"
#include "mem/layout.h"

#define LZ4_LEGACY_MAGIC	0x184c2102u
#define LZ4_LEGACY_BLOCK	(8u << 20)	/* uncompressed size of a full legacy block */
#define STAGE_SIZE		(1u << 20)	/* staging buffer of the stream formats */
#define ELF_HEAD		4096		/* ELF + program headers must lie in here */
#define MAX_SEGMENTS		16

enum boot_pack boot_pack_kind(const uint8_t *p, size_t len)
{
	static const uint8_t xz[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

	if (len >= 2 && p[0] == 0x1f && (p[1] == 0x8b || p[1] == 0x9e))
		return PK_GZIP;
	if (len >= 6 && !memcmp(p, xz, 6))
		return PK_XZ;
	if (len >= 3 && p[0] == 0x5d && p[1] == 0 && p[2] == 0)
		return PK_LZMA;
	if (len >= 4 && get_le32(p) == LZ4_LEGACY_MAGIC)
		return PK_LZ4;
	if (len >= 4 && get_le32(p) == ZSTD_MAGICNUMBER)
		return PK_ZSTD;
	return PK_NONE;
}

const char *const boot_pack_name[] = {
	[PK_NONE] = "unknown", [PK_GZIP] = "gzip", [PK_XZ] = "xz",
	[PK_LZMA] = "lzma", [PK_LZ4] = "lz4", [PK_ZSTD] = "zstd",
};

/*
 * Receives each decoded chunk in order; 0 or -errno (stops decoding).
 * buf NULL: the n bytes were decoded in place, where unpack_direct said.
 */
typedef int (*unpack_sink)(void *ctx, const uint8_t *buf, size_t n);
/*
 * Where the next want bytes may be decoded in place, or NULL.  head, when
 * not NULL, holds the first headlen of those bytes, decoded ahead (what the
 * sink needs to decide, before it has seen any byte).
 */
typedef uint8_t *(*unpack_direct)(void *ctx, size_t want, const uint8_t *head, size_t headlen);

static int unpack_gzip(const uint8_t *in, size_t len, uint8_t *stage,
		       unpack_sink sink, void *ctx)
{
	z_stream zs;
	int zr, ret = 0;

	if (len > UINT_MAX)
		return -EINVAL;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	do {
		zs.next_out = stage;
		zs.avail_out = STAGE_SIZE;
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END) {
			ret = -EINVAL;	/* corrupt, or truncated (Z_BUF_ERROR) */
			break;
		}
		ret = sink(ctx, stage, STAGE_SIZE - zs.avail_out);
	} while (!ret && zr != Z_STREAM_END);
	inflateEnd(&zs);
	return ret;
}

static int unpack_lzma(const uint8_t *in, size_t len, uint8_t *stage, bool xz,
		       unpack_sink sink, void *ctx)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	lzma_ret lr;
	int ret = 0;

	lr = xz ? lzma_stream_decoder(&ls, UINT64_MAX, 0) : lzma_alone_decoder(&ls, UINT64_MAX);
	if (lr != LZMA_OK)
		return -ENOMEM;
	ls.next_in = in;
	ls.avail_in = len;
	do {
		ls.next_out = stage;
		ls.avail_out = STAGE_SIZE;
		lr = lzma_code(&ls, LZMA_FINISH);
		if (lr != LZMA_OK && lr != LZMA_STREAM_END) {
			ret = -EINVAL;
			break;
		}
		ret = sink(ctx, stage, STAGE_SIZE - ls.avail_out);
	} while (!ret && lr != LZMA_STREAM_END);
	lzma_end(&ls);
	return ret;
}

static int unpack_zstd(const uint8_t *in, size_t len, uint8_t *stage,
		       unpack_sink sink, void *ctx)
{
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	size_t zr;
	int ret = 0;

	if (!dc)
		return -ENOMEM;
	/* the kernel compresses with --ultra -22: allow its large windows */
	ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 31);
	do {
		ZSTD_outBuffer ob = { stage, STAGE_SIZE, 0 };
		size_t in_before = ib.pos;

		zr = ZSTD_decompressStream(dc, &ob, &ib);
		if (ZSTD_isError(zr) || (!ob.pos && ib.pos == in_before && zr)) {
			ret = -EINVAL;	/* corrupt, or truncated: no progress */
			break;
		}
		ret = sink(ctx, stage, ob.pos);
	} while (!ret && zr);
	ZSTD_freeDCtx(dc);
	return ret;
}

/* The legacy lz4 frame the kernel uses: magic, then (u32 size, block)...;
 * blocks are independent and decode to at most 8 MiB each. */
static int unpack_lz4(const uint8_t *in, size_t len, size_t size, uint8_t *stage,
		      unpack_sink sink, unpack_direct direct, void *ctx)
{
	size_t pos = 0, out = 0;
	int ret = 0;

	while (!ret && len - pos >= 4) {
		uint32_t csize = get_le32(in + pos);
		uint8_t *dst;
		size_t want;
		int n;

		pos += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;	/* concatenated frames */
		if (!csize || csize > len - pos || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK))
			return -EINVAL;
		/* a block holds at most 8 MiB and at most what is left */
		want = size - out < LZ4_LEGACY_BLOCK ? size - out : LZ4_LEGACY_BLOCK;
		dst = direct && want ? direct(ctx, want, NULL, 0) : NULL;
		if (!dst && direct && want && !out) {
			/* the first block holds the ELF headers: decode them ahead */
			n = LZ4_decompress_safe_partial((const char *)in + pos, (char *)stage, (int)csize,
							ELF_HEAD, (int)LZ4_LEGACY_BLOCK);
			if (n > 0)
				dst = direct(ctx, want, stage, (size_t)n);
		}
		n = LZ4_decompress_safe((const char *)in + pos, (char *)(dst ? dst : stage),
					(int)csize, dst ? (int)want : (int)LZ4_LEGACY_BLOCK);
		if (n < 0)
			return -EINVAL;
		pos += csize;
		out += (size_t)n;
		ret = sink(ctx, dst ? NULL : stage, (size_t)n);
	}
	return ret ? ret : pos == len ? 0 : -EINVAL;
}

int boot_unpack_payload(const uint8_t *payload, size_t len, size_t max,
			unpack_sink sink, unpack_direct direct, void *ctx,
			size_t *size, const char **kind)
{
	enum boot_pack pk = boot_pack_kind(payload, len);
	uint8_t *stage;
	int ret;

	*kind = boot_pack_name[pk];
	if (pk == PK_NONE || len < 8)
		return 1;
	*size = get_le32(payload + len - 4);	/* size_append */
	len -= 4;
	if (!*size || *size > max)
		return -EFBIG;
	stage = malloc(pk == PK_LZ4 ? LZ4_LEGACY_BLOCK : STAGE_SIZE);
	if (!stage)
		return -ENOMEM;
	switch (pk) {
	case PK_GZIP: ret = unpack_gzip(payload, len, stage, sink, ctx); break;
	case PK_XZ:   ret = unpack_lzma(payload, len, stage, true, sink, ctx); break;
	case PK_LZMA: ret = unpack_lzma(payload, len, stage, false, sink, ctx); break;
	case PK_LZ4:  ret = unpack_lz4(payload, len, *size, stage, sink, direct, ctx); break;
	case PK_ZSTD: ret = unpack_zstd(payload, len, stage, sink, ctx); break;
	default:      ret = -EINVAL; break;
	}
	free(stage);
	return ret;
}

/* ---- the vmlinux ELF, written to guest RAM as it is decoded ---- */

struct segment {
	uint64_t offset, filesz, paddr, memsz;
};

struct elf_sink {
	struct guest_mem *gm;
	uint64_t pos;			/* bytes received */
	size_t size;			/* bytes the size trailer announces */
	uint8_t head[ELF_HEAD];		/* the first bytes, until parsed */
	bool parsed;
	uint64_t entry;
	struct segment seg[MAX_SEGMENTS];
	unsigned int nseg;
	char *why;
	size_t whylen;
};

/*
 * Parses head (the file's first bytes) and checks every PT_LOAD segment.
 * Starts afresh each time: a failed parse leaves no segments behind.
 */
static int elf_sink_parse(struct elf_sink *s, size_t have)
{
	struct elf_image elf;
	struct elf_phdr ph;
	unsigned int i;
	bool entry_ok = false;

	s->nseg = 0;

	if (elf_parse(s->head, have, &elf, "payload", s->why, s->whylen))
		return -ENOEXEC;
	if (!elf.is64 || elf.machine != 62)
		return boot_err(s->why, s->whylen, -ENOEXEC, "payload is not an x86-64 ELF");
	for (i = 0; i < elf.phnum; i++) {
		elf_phdr(s->head, &elf, i, &ph);
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (s->nseg == MAX_SEGMENTS)
			return boot_err(s->why, s->whylen, -ENOEXEC, "payload has over %d segments", MAX_SEGMENTS);
		if (elf_check_segment(s->gm, &ph, s->size, i, "payload", s->why, s->whylen))
			return -ENOEXEC;
		if (elf.entry >= ph.paddr && elf.entry - ph.paddr < ph.filesz)
			entry_ok = true;
		s->seg[s->nseg++] = (struct segment){ ph.offset, ph.filesz, ph.paddr, ph.memsz };
	}
	if (!entry_ok)
		return boot_err(s->why, s->whylen, -ENOEXEC, "payload entry 0x%llx is not in a loaded segment",
				(unsigned long long)elf.entry);
	s->entry = elf.entry;
	s->parsed = true;
	return 0;
}

/* Copies the decoded bytes [pos, pos + n) to the segments they belong to.  0 or -EFAULT. */
static int elf_sink_scatter(struct elf_sink *s, const uint8_t *buf, uint64_t pos, size_t n)
{
	unsigned int i;

	for (i = 0; i < s->nseg; i++) {
		const struct segment *g = &s->seg[i];
		uint64_t lo = pos > g->offset ? pos : g->offset;
		uint64_t hi = pos + n < g->offset + g->filesz ? pos + n : g->offset + g->filesz;

		/* checked at parse to be inside guest RAM; the copy checks again */
		if (lo < hi && boot_copy(s->gm, g->paddr + (lo - g->offset), buf + (lo - pos),
					 hi - lo, 0))
			return boot_err(s->why, s->whylen, -EFAULT,
					"payload segment %u at 0x%llx cannot be written to guest RAM",
					i, (unsigned long long)g->paddr);
	}
	return 0;
}

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * Guest RAM for the decoded bytes [pos, pos + want), or NULL (staged, then
 * scattered).  In place when every segment with file bytes in the range is
 * placed at the same distance from its file offset (paddr - offset): the
 * whole range then goes at that distance.  Its bytes outside any segment
 * (headers, alignment gaps) land in RAM the ELF leaves undefined, so the
 * range must stay at or above 1 MiB (vmm's own tables live below) and clear
 * of every other segment; bss is zeroed after the last byte.  Kernel ELFs
 * keep text and data at one distance, so most 8 MiB lz4 blocks qualify.
 */
static uint8_t *elf_sink_direct(void *ctx, size_t want, const uint8_t *head, size_t headlen)
{
	struct elf_sink *s = ctx;
	uint64_t delta = 0, dst;
	bool found = false;
	unsigned int i;

	if (!s->parsed && head && !s->pos) {
		if (headlen > ELF_HEAD)
			headlen = ELF_HEAD;
		memcpy(s->head, head, headlen);
		if (elf_sink_parse(s, headlen < s->size ? headlen : s->size))
			return NULL;	/* elf_sink_put parses again and reports it */
	}
	if (!s->parsed)
		return NULL;
	for (i = 0; i < s->nseg; i++) {
		const struct segment *g = &s->seg[i];

		if (!ranges_meet(s->pos, want, g->offset, g->filesz))
			continue;
		if (found && g->paddr - g->offset != delta)
			return NULL;
		delta = g->paddr - g->offset;
		found = true;
	}
	if (!found)
		return NULL;
	dst = s->pos + delta;	/* wraps when the segment lies below its offset */
	if (dst < LAYOUT_HIGH_RAM || dst + want < dst)
		return NULL;
	for (i = 0; i < s->nseg; i++) {
		const struct segment *g = &s->seg[i];

		if (!ranges_meet(s->pos, want, g->offset, g->filesz) &&
		    ranges_meet(dst, want, g->paddr, g->memsz))
			return NULL;
	}
	return gm_ptr(s->gm, dst, want);
}

static int elf_sink_put(void *ctx, const uint8_t *buf, size_t n)
{
	struct elf_sink *s = ctx;
	uint64_t pos = s->pos;
	int ret;

	if (n > s->size - s->pos)
		return boot_err(s->why, s->whylen, -EINVAL, "payload unpacks to more than its size trailer says");
	s->pos += n;
	if (!buf)
		return 0;	/* decoded in place (elf_sink_direct) */
	if (!s->parsed) {
		size_t take = pos < ELF_HEAD ? ELF_HEAD - pos : 0;

		if (take > n)
			take = n;
		memcpy(s->head + pos, buf, take);
		if (s->pos < ELF_HEAD && s->pos < s->size)
			return 0;	/* wait for the whole head */
		ret = elf_sink_parse(s, s->pos < ELF_HEAD ? s->pos : ELF_HEAD);
		if (ret)
			return ret;
		/* the head bytes received before this chunk */
		ret = elf_sink_scatter(s, s->head, 0, pos);
		if (ret)
			return ret;
	}
	return elf_sink_scatter(s, buf, pos, n);
}

int bzimage_load_unpacked(struct guest_mem *gm, const uint8_t *pm, size_t klen,
			  uint32_t payload_off, uint32_t payload_len,
			  uint64_t *entry, uint64_t *end, char *why, size_t whylen)
{
	size_t max = gm->ram_size > SIZE_MAX ? SIZE_MAX : (size_t)gm->ram_size;
	struct elf_sink *s;
	const char *kind = "unknown";
	unsigned int i;
	int ret;

	/* 8: the shortest stream header plus the u32 size trailer */
	if (payload_len < 8 || !buf_has(klen, payload_off, payload_len))
		return boot_err(why, whylen, 1, "no payload inside the protected-mode kernel");
	s = calloc(1, sizeof(*s));
	if (!s)
		return boot_err(why, whylen, 1, "no host memory to unpack it");
	s->gm = gm;
	s->why = why;
	s->whylen = whylen;
	why[0] = '\0';
	/* sets s->size from the trailer before the first chunk reaches the sink */
	ret = boot_unpack_payload(pm + payload_off, payload_len, max, elf_sink_put,
				  elf_sink_direct, s, &s->size, &kind);
	if (!ret && (s->pos != s->size || !s->parsed))
		ret = boot_err(why, whylen, -EINVAL, "payload unpacks to %llu bytes, its size trailer says %zu",
			       (unsigned long long)s->pos, s->size);
	if (ret == 1)
		boot_err(why, whylen, 1, "payload compression not known to vmm");
	else if (ret == -EFBIG)
		boot_err(why, whylen, 1, "%s payload unpacks to more than guest RAM", kind);
	else if (ret && !why[0])
		boot_err(why, whylen, 1, "%s payload does not unpack: %s", kind, strerror(-ret));
	if (!ret) {
		log_debug("unpacked the %s payload: %zu bytes", kind, s->size);
		*entry = s->entry;
		*end = 0;
		for (i = 0; i < s->nseg; i++) {
			const struct segment *g = &s->seg[i];

			/* bss, and whatever an in-place block left there */
			if (boot_copy(gm, g->paddr + g->filesz, NULL, 0, g->memsz - g->filesz)) {
				ret = boot_err(why, whylen, 1, "payload bss at 0x%llx is outside guest RAM",
					       (unsigned long long)(g->paddr + g->filesz));
				break;
			}
			if (g->paddr + g->memsz > *end)
				*end = g->paddr + g->memsz;
		}
		if (!ret)
			snprintf(why, whylen, "%s", kind);
	}
	free(s);
	return ret ? 1 : 0;
}
