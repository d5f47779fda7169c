// SPDX-License-Identifier: MIT
/*
 * Host-side unpacking of bzImage payloads (vmm/boot/unpack.c): each
 * compression the kernel build can use round-trips into a vmlinux ELF
 * loaded at its physical address; corrupt, oversized or unknown payloads
 * fall back to the bzImage's own decompressor; --guest-unpack turns it off.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <lz4.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "boot/boot.h"
#include "gzip_helper.h"
#include "mem/layout.h"

#define RAM		(64ULL << 20)
#define SETUP_SECTS	4
#define SETUP		((SETUP_SECTS + 1) * 512)
#define ELF_BODY	(3 * 4096 + 100)	/* one PT_LOAD segment */
#define ELF_OFF		4096			/* its file offset */
#define ELF_PADDR	0x1000000ULL
#define ELF_MEMSZ	(ELF_BODY + 5000)	/* bss after the file part */
#define ELF_ENTRY	(ELF_PADDR + 16)

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

/* A minimal x86-64 vmlinux: ELF header, one PT_LOAD, patterned body. */
static uint8_t *make_vmlinux(size_t *len)
{
	size_t n = ELF_OFF + ELF_BODY, i;
	uint8_t *e = calloc(1, n), *ph = e + 64;

	cr_assert_not_null(e);
	memcpy(e, "\177ELF", 4);
	e[4] = 2;	/* ELFCLASS64 */
	e[5] = 1;	/* little endian */
	e[6] = 1;
	wr16(e + 16, 2);	/* ET_EXEC */
	wr16(e + 18, 62);	/* EM_X86_64 */
	wr32(e + 20, 1);
	wr64(e + 24, ELF_ENTRY);
	wr64(e + 32, 64);	/* phoff */
	wr16(e + 52, 64);
	wr16(e + 54, 56);
	wr16(e + 56, 1);
	wr32(ph, 1);		/* PT_LOAD */
	wr64(ph + 8, ELF_OFF);
	wr64(ph + 16, 0xffffffff81000000ULL);
	wr64(ph + 24, ELF_PADDR);
	wr64(ph + 32, ELF_BODY);
	wr64(ph + 40, ELF_MEMSZ);
	for (i = 0; i < ELF_BODY; i++)
		e[ELF_OFF + i] = (uint8_t)(i * 13 + 1);
	*len = n;
	return e;
}

enum fmt { F_GZIP, F_XZ, F_LZMA, F_LZ4, F_ZSTD };

/* Compresses as the kernel's build does, then appends the u32 size. */
static uint8_t *pack(enum fmt f, const uint8_t *in, size_t len, size_t *out_len)
{
	size_t cap = len * 2 + 4096, n = 0;
	uint8_t *out = malloc(cap);

	cr_assert_not_null(out);
	switch (f) {
	case F_GZIP:
		n = test_gzip(in, len, out, cap, 9);
		break;
	case F_XZ:
		cr_assert_eq(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, NULL, in, len, out, &n, cap), LZMA_OK);
		break;
	case F_LZMA: {
		lzma_stream ls = LZMA_STREAM_INIT;
		lzma_options_lzma opt;

		lzma_lzma_preset(&opt, 6);
		cr_assert_eq(lzma_alone_encoder(&ls, &opt), LZMA_OK);
		ls.next_in = in;
		ls.avail_in = len;
		ls.next_out = out;
		ls.avail_out = cap;
		cr_assert_eq(lzma_code(&ls, LZMA_FINISH), LZMA_STREAM_END);
		n = ls.total_out;
		lzma_end(&ls);
		break;
	}
	case F_LZ4: {
		/* legacy frame, blocks of 4 KiB so that several follow each other */
		size_t pos = 0;

		wr32(out, 0x184c2102);
		n = 4;
		while (pos < len) {
			int chunk = (int)(len - pos < 4096 ? len - pos : 4096);
			int c = LZ4_compress_default((const char *)in + pos, (char *)out + n + 4,
						     chunk, (int)(cap - n - 4));

			cr_assert_gt(c, 0);
			wr32(out + n, (uint32_t)c);
			n += 4 + (size_t)c;
			pos += (size_t)chunk;
		}
		break;
	}
	case F_ZSTD:
		n = ZSTD_compress(out, cap, in, len, 19);
		cr_assert(!ZSTD_isError(n));
		break;
	}
	wr32(out + n, (uint32_t)len);
	*out_len = n + 4;
	return out;
}

/* A bzImage whose payload is the given bytes. */
static uint8_t *make_bzimage(const uint8_t *payload, size_t plen, size_t *len)
{
	size_t pm = 512 + plen + 512;
	uint8_t *b = calloc(1, SETUP + pm);

	cr_assert_not_null(b);
	b[0x1f1] = SETUP_SECTS;
	wr16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x66;
	memcpy(b + 0x202, "HdrS", 4);
	wr16(b + 0x206, 0x20f);
	b[0x211] = 0x01;
	wr32(b + 0x22c, 0x7fffffff);
	wr16(b + 0x236, 0x3);
	wr32(b + 0x238, 2047);
	wr32(b + 0x248, 512);		/* payload_offset */
	wr32(b + 0x24c, (uint32_t)plen);	/* payload_length */
	wr64(b + 0x258, 0x1000000);
	wr32(b + 0x260, 0x800000);	/* init_size */
	memcpy(b + SETUP + 512, payload, plen);
	*len = SETUP + pm;
	return b;
}

struct run {
	uint8_t *ram;
	struct guest_mem gm;
	struct boot_entry e;
	char err[256];
	int ret;
};

static void boot(struct run *r, const uint8_t *k, size_t klen, bool guest_unpack)
{
	struct boot_input in = {
		.kernel = k, .kernel_len = klen, .kernel_name = "/k/bzImage",
		.cmdline = "console=ttyS0", .guest_unpack = guest_unpack,
	};

	memset(r, 0, sizeof(*r));
	r->ram = calloc(1, RAM);
	cr_assert_not_null(r->ram);
	memset(r->ram + ELF_PADDR, 0xee, ELF_MEMSZ);	/* bss must be zeroed */
	cr_assert_eq(gm_add_region(&r->gm, 0, RAM, r->ram), 0);
	r->ret = boot_load_buf(&r->gm, &in, &r->e, r->err, sizeof(r->err));
}

static void round_trip(enum fmt f)
{
	size_t vlen, clen, klen, i;
	uint8_t *v = make_vmlinux(&vlen), *c = pack(f, v, vlen, &clen);
	uint8_t *k = make_bzimage(c, clen, &klen);
	struct run r;

	boot(&r, k, klen, false);
	cr_assert_eq(r.ret, 0, "%s", r.err);
	cr_assert_str_eq(r.e.kind, "bzImage, unpacked on the host");
	cr_assert_eq(r.e.mode, BOOT_MODE_LONG64);
	cr_assert_eq(r.e.rip, ELF_ENTRY);
	cr_assert_eq(r.e.rsi, LAYOUT_ZERO_PAGE);
	cr_assert_eq(memcmp(r.ram + ELF_PADDR, v + ELF_OFF, ELF_BODY), 0);
	for (i = ELF_BODY; i < ELF_MEMSZ; i++)
		cr_assert_eq(r.ram[ELF_PADDR + i], 0, "bss byte %zu not zeroed", i);
	cr_assert_eq(memcmp(r.ram + LAYOUT_ZERO_PAGE + 0x202, "HdrS", 4), 0);

	/* --guest-unpack: the protected-mode kernel at 1 MiB, entry + 0x200 */
	free(r.ram);
	boot(&r, k, klen, true);
	cr_assert_eq(r.ret, 0, "%s", r.err);
	cr_assert_str_eq(r.e.kind, "bzImage");
	cr_assert_eq(r.e.rip, 0x100200);
	cr_assert_eq(memcmp(r.ram + 0x100000, k + SETUP, klen - SETUP), 0);
	free(r.ram);
	free(k);
	free(c);
	free(v);
}

Test(unpack, gzip) { round_trip(F_GZIP); }
Test(unpack, xz) { round_trip(F_XZ); }
Test(unpack, lzma) { round_trip(F_LZMA); }
Test(unpack, lz4_legacy_blocks) { round_trip(F_LZ4); }
Test(unpack, zstd) { round_trip(F_ZSTD); }

/*
 * Anything the host cannot unpack boots the bzImage as it is.  must: the
 * damage is detectable (else a format without checksum may unpack it).
 */
/*
 * lz4 blocks of 8 MiB (as the kernel's build writes them) over an ELF of
 * three segments: B and A share one distance between file offset and
 * paddr, C has another and lies where the file gap between A and B would
 * land if the block holding that gap were decoded in place.  Blocks are
 * decoded in place only where that clobbers nothing: A, B and C must come
 * out whole and every bss zeroed (the bytes after B land in B's bss).
 */
#define MB		(1ULL << 20)
static void multi_segment(uint64_t c_paddr)
{
	static const struct { uint64_t off, filesz, paddr, memsz; } seg[3] = {
		{ 1 * MB, 9 * MB, 16 * MB, 9 * MB },		/* A: distance 15 MiB */
		{ 11 * MB, 3 * MB, 26 * MB, 4 * MB },		/* B: distance 15 MiB, 1 MiB bss */
		{ 64 << 10, 512 << 10, 0, 1 * MB },		/* C: paddr c_paddr, 512 KiB bss */
	};
	size_t vlen = 14 * MB + 300000, n = 0, klen, pos, i, j;	/* section headers after B */
	uint8_t *v = calloc(1, vlen), *c = malloc(vlen + vlen / 8 + 4096), *k, *ph = v + 64;
	struct run r;

	cr_assert(v && c);
	memcpy(v, "\177ELF", 4);
	v[4] = 2;
	v[5] = 1;
	v[6] = 1;
	wr16(v + 16, 2);
	wr16(v + 18, 62);
	wr32(v + 20, 1);
	wr64(v + 24, 16 * MB);
	wr64(v + 32, 64);
	wr16(v + 52, 64);
	wr16(v + 54, 56);
	wr16(v + 56, 3);
	for (i = 0; i < 3; i++, ph += 56) {
		wr32(ph, 1);
		wr64(ph + 8, seg[i].off);
		wr64(ph + 24, i == 2 ? c_paddr : seg[i].paddr);
		wr64(ph + 32, seg[i].filesz);
		wr64(ph + 40, seg[i].memsz);
	}
	for (i = 4096; i < vlen; i++)	/* segments, gaps and trailer all non-zero */
		v[i] = (uint8_t)(i * 31 + (i >> 13) + 1);
	wr32(c, 0x184c2102);
	n = 4;
	for (pos = 0; pos < vlen; pos += 8 * MB) {
		int chunk = (int)(vlen - pos < 8 * MB ? vlen - pos : 8 * MB);
		int z = LZ4_compress_default((const char *)v + pos, (char *)c + n + 4, chunk,
					     (int)(vlen + vlen / 8 - n));

		cr_assert_gt(z, 0);
		wr32(c + n, (uint32_t)z);
		n += 4 + (size_t)z;
	}
	wr32(c + n, (uint32_t)vlen);
	k = make_bzimage(c, n + 4, &klen);
	boot(&r, k, klen, false);
	cr_assert_eq(r.ret, 0, "%s", r.err);
	cr_assert_str_eq(r.e.kind, "bzImage, unpacked on the host");
	for (i = 0; i < 3; i++) {
		const uint8_t *m = r.ram + (i == 2 ? c_paddr : seg[i].paddr);

		cr_assert_eq(memcmp(m, v + seg[i].off, seg[i].filesz), 0, "segment %zu", i);
		for (j = seg[i].filesz; j < seg[i].memsz; j++)
			cr_assert_eq(m[j], 0, "segment %zu: bss byte %zu is 0x%x", i, j, m[j]);
	}
	free(r.ram);
	free(k);
	free(c);
	free(v);
}

Test(unpack, lz4_in_place_around_a_segment_in_the_way) { multi_segment(25 * MB); }
Test(unpack, lz4_in_place_over_gaps) { multi_segment(40 * MB); }

static void falls_back_if(const uint8_t *payload, size_t plen, bool must, const char *what)
{
	size_t klen;
	uint8_t *k = make_bzimage(payload, plen, &klen);
	struct run r;

	boot(&r, k, klen, false);
	cr_assert_eq(r.ret, 0, "%s: %s", what, r.err);
	if (must || strcmp(r.e.kind, "bzImage") == 0) {
		cr_assert_str_eq(r.e.kind, "bzImage", "%s", what);
		cr_assert_eq(r.e.rip, 0x100200, "%s", what);
	}
	free(r.ram);
	free(k);
}

static void falls_back(const uint8_t *payload, size_t plen)
{
	falls_back_if(payload, plen, true, "payload");
}

Test(unpack, corrupt_payloads_fall_back)
{
	size_t vlen, clen, i;
	uint8_t *v = make_vmlinux(&vlen);
	enum fmt f;

	for (f = F_GZIP; f <= F_ZSTD; f++) {
		uint8_t *c = pack(f, v, vlen, &clen);
		uint8_t *t = malloc(clen);

		/* flipped bytes in the middle */
		memcpy(t, c, clen);
		for (i = clen / 3; i < clen / 3 + 8; i++)
			t[i] ^= 0x5a;
		/* gzip and xz carry a CRC; lz4 legacy and zstd frames here do not */
		falls_back_if(t, clen, f == F_GZIP || f == F_XZ, "flipped bytes");
		/* truncated stream, size trailer kept */
		memcpy(t, c, clen);
		memcpy(t + clen / 2, c + clen - 4, 4);
		falls_back(t, clen / 2 + 4);
		/* size trailer larger than guest RAM, or zero, or a lie */
		memcpy(t, c, clen);
		wr32(t + clen - 4, 0xfffffff0);
		falls_back(t, clen);
		wr32(t + clen - 4, 0);
		falls_back(t, clen);
		wr32(t + clen - 4, (uint32_t)vlen + 1);
		falls_back(t, clen);
		free(t);
		free(c);
	}
	free(v);
}

Test(unpack, unknown_or_not_elf_falls_back)
{
	static const uint8_t junk[64] = { 'B', 'Z', 'h', '9', 1, 2, 3 };
	size_t clen;
	uint8_t text[8192], *c;

	falls_back(junk, sizeof(junk));
	memset(text, 'x', sizeof(text));
	c = pack(F_GZIP, text, sizeof(text), &clen);	/* unpacks, but no ELF */
	falls_back(c, clen);
	free(c);
}

/* The real Debian cloud kernel: unpacked, entered at startup_64 (16 MiB). */
Test(unpack, debian_cloud_kernel)
{
	struct vm_config cfg = { .cpus = 1, .memory = 512ULL << 20, .cmdline = "console=ttyS0" };
	struct guest_mem gm = { 0 };
	struct boot_entry e;
	char err[256];
	uint8_t *ram;
	glob_t g;

	if (glob("/boot/vmlinuz-*-cloud-amd64", 0, NULL, &g) || !g.gl_pathc)
		cr_skip_test("no /boot/vmlinuz-*-cloud-amd64 on this machine");
	cfg.kernel = g.gl_pathv[0];
	ram = calloc(1, cfg.memory);
	cr_assert_not_null(ram);
	cr_assert_eq(gm_add_region(&gm, 0, cfg.memory, ram), 0);
	cr_assert_eq(boot_load(&gm, &cfg, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(e.kind, "bzImage, unpacked on the host");
	cr_assert_eq(e.rip, 0x1000000);
	cr_assert_neq(ram[0x1000000], 0, "no code at startup_64");
	free(ram);
	globfree(&g);
}

/* A payload too short to hold a stream and its size trailer, at offset 0 of
 * the protected-mode kernel: nothing may be read before it (ASan). */
Test(unpack, tiny_payload_falls_back)
{
	static const uint8_t p[3] = { 0x1f, 0x8b, 0x08 };
	size_t klen;
	uint8_t *k = make_bzimage(p, sizeof(p), &klen);
	struct run r;

	wr32(k + 0x248, 0);	/* payload_offset 0 */
	boot(&r, k, klen, false);
	cr_assert_eq(r.ret, 0, "%s", r.err);
	cr_assert_str_eq(r.e.kind, "bzImage");
	free(r.ram);
	free(k);
}
