// SPDX-License-Identifier: MIT
/*
 * Boot loaders on synthetic guest memory: e820, bzImage, flat, errors,
 * and the real Debian cloud kernel when /boot has one.
 * Multiboot and PVH are in test_boot_elf.c.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "boot/loader.h"
#include "gzip_helper.h"
#include "mem/layout.h"

struct tmem {
	struct guest_mem gm;
	uint8_t *ram;
	uint64_t size;
};

static void tmem_init(struct tmem *t, uint64_t size)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	t->ram = calloc(1, size);
	cr_assert_not_null(t->ram);
	cr_assert_eq(gm_add_region(&t->gm, 0, size, t->ram), 0);
}

static void tmem_free(struct tmem *t)
{
	free(t->ram);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

/* ---- e820 ---- */

/* Regions exactly as the lead creates them; hva is never dereferenced by boot_e820. */
static unsigned int e820_for(uint64_t mem, struct boot_e820 *map)
{
	static uint8_t dummy[2];
	struct guest_mem gm = { 0 };
	uint64_t low = mem < LAYOUT_MMIO_HOLE_START ? mem : LAYOUT_MMIO_HOLE_START;

	cr_assert_eq(gm_add_region(&gm, 0, low, dummy), 0);
	if (mem > low)
		cr_assert_eq(gm_add_region(&gm, LAYOUT_MMIO_HOLE_END, mem - low, dummy + 1), 0);
	return boot_e820(&gm, map, E820_MAX);
}

static void check_e(const struct boot_e820 *e, uint64_t addr, uint64_t end, uint32_t type)
{
	cr_assert_eq(e->addr, addr, "addr 0x%llx != 0x%llx", (unsigned long long)e->addr, (unsigned long long)addr);
	cr_assert_eq(e->addr + e->size, end, "end 0x%llx != 0x%llx",
		     (unsigned long long)(e->addr + e->size), (unsigned long long)end);
	cr_assert_eq(e->type, type);
}

Test(e820, mem_256m)
{
	struct boot_e820 m[E820_MAX];

	cr_assert_eq(e820_for(256ULL << 20, m), 3);
	check_e(&m[0], 0, 0x9fc00, E820_RAM);
	check_e(&m[1], 0x9fc00, 0x100000, E820_RESERVED);
	check_e(&m[2], 0x100000, 256ULL << 20, E820_RAM);
}

Test(e820, mem_3g)
{
	struct boot_e820 m[E820_MAX];

	cr_assert_eq(e820_for(3ULL << 30, m), 3);
	check_e(&m[2], 0x100000, 3ULL << 30, E820_RAM);
}

Test(e820, mem_4g)
{
	struct boot_e820 m[E820_MAX];

	cr_assert_eq(e820_for(4ULL << 30, m), 4);
	check_e(&m[0], 0, 0x9fc00, E820_RAM);
	check_e(&m[1], 0x9fc00, 0x100000, E820_RESERVED);
	check_e(&m[2], 0x100000, 3ULL << 30, E820_RAM);
	check_e(&m[3], 4ULL << 30, 5ULL << 30, E820_RAM);
}

Test(e820, mem_5g)
{
	struct boot_e820 m[E820_MAX];

	cr_assert_eq(e820_for(5ULL << 30, m), 4);
	check_e(&m[2], 0x100000, 3ULL << 30, E820_RAM);
	check_e(&m[3], 4ULL << 30, 6ULL << 30, E820_RAM);
}

Test(e820, respects_max)
{
	struct boot_e820 m[2];
	static uint8_t dummy[1];
	struct guest_mem gm = { 0 };

	cr_assert_eq(gm_add_region(&gm, 0, 256ULL << 20, dummy), 0);
	cr_assert_eq(boot_e820(&gm, m, 2), 2);
	cr_assert_eq(boot_low_ram_end(&gm), 256ULL << 20);
}

/* ---- bzImage ---- */

#define BZ_SETUP_SECTS	4
#define BZ_SETUP	((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL	8192

static uint8_t *make_bzimage(size_t *len)
{
	uint8_t *b = calloc(1, BZ_SETUP + BZ_KERNEL);
	size_t i;

	cr_assert_not_null(b);
	b[0x1f1] = BZ_SETUP_SECTS;
	wr16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x66;		/* header ends at 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	wr16(b + 0x206, 0x20f);
	wr16(b + 0x20e, 0x1234);	/* kernel_version: must reach the zero page */
	b[0x211] = 0x01;		/* LOADED_HIGH */
	wr32(b + 0x214, 0x100000);
	wr32(b + 0x22c, 0x0fffffff);	/* initrd_addr_max: 256 MiB */
	wr32(b + 0x230, 0x200000);
	b[0x234] = 1;
	wr16(b + 0x236, 0x3);		/* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	wr32(b + 0x238, 2047);		/* cmdline_size */
	wr64(b + 0x258, 0x1000000);	/* pref_address */
	wr32(b + 0x260, 0x400000);	/* init_size */
	for (i = 0; i < BZ_KERNEL; i++)
		b[BZ_SETUP + i] = (uint8_t)(i * 7 + 3);
	*len = BZ_SETUP + BZ_KERNEL;
	return b;
}

static int load(struct tmem *t, const uint8_t *k, size_t klen, const uint8_t *initrd,
		size_t ilen, const char *cmdline, struct boot_entry *e, char *err)
{
	struct boot_input in = {
		.kernel = k, .kernel_len = klen, .kernel_name = "/k/vmlinuz",
		.initrd = initrd, .initrd_len = ilen, .initrd_name = "/k/initrd.img",
		.cmdline = cmdline,
	};

	return boot_load_buf(&t->gm, &in, e, err, 256);
}

Test(bzimage, loads)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	size_t klen, ilen = 3 * 4096 + 123, i;
	uint8_t *k = make_bzimage(&klen), *initrd = malloc(ilen);
	const uint8_t *bp;
	uint32_t ird, irs;

	tmem_init(&t, 512ULL << 20);
	cr_assert_eq(acpi_build(&t.gm, 2), 0);
	for (i = 0; i < ilen; i++)
		initrd[i] = (uint8_t)(i ^ 0x5a);
	cr_assert_eq(load(&t, k, klen, initrd, ilen, "console=ttyS0 quiet", &e, err), 0, "%s", err);

	cr_assert_eq(e.mode, BOOT_MODE_LONG64);
	cr_assert_eq(e.rip, 0x100200);
	cr_assert_eq(e.rsi, LAYOUT_ZERO_PAGE);
	cr_assert_eq(e.rsp, LAYOUT_BOOT_STACK);
	cr_assert_str_eq(e.kind, "bzImage");

	bp = t.ram + LAYOUT_ZERO_PAGE;
	cr_assert_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
	cr_assert_eq(rd16(bp + 0x206), 0x20f);
	cr_assert_eq(rd16(bp + 0x20e), 0x1234);
	cr_assert_eq(bp[0x1f1], BZ_SETUP_SECTS);
	cr_assert_eq(rd16(bp + 0x1fe), 0xaa55);
	cr_assert_eq(bp[0x210], 0xff);
	cr_assert_eq(bp[0x211], 0x81);
	cr_assert_eq(rd16(bp + 0x224), 0xfe00 - 0x200);
	cr_assert_eq(rd32(bp + 0x228), LAYOUT_CMDLINE);
	cr_assert_str_eq((const char *)t.ram + LAYOUT_CMDLINE, "console=ttyS0 quiet");
	cr_assert_eq(rd64(bp + 0x70), LAYOUT_ACPI_RSDP);
	cr_assert_eq(bp[0x269], 0, "nothing past the setup header is copied");

	cr_assert_eq(memcmp(t.ram + 0x100000, k + BZ_SETUP, BZ_KERNEL), 0);

	ird = rd32(bp + 0x218);
	irs = rd32(bp + 0x21c);
	cr_assert_eq(irs, ilen);
	cr_assert_eq(rd32(bp + 0xc0), 0);
	cr_assert_eq(rd32(bp + 0xc4), 0);
	cr_assert_eq(ird % 4096, 0, "initrd at 0x%x not page aligned", ird);
	cr_assert_leq((uint64_t)ird + irs, 0x10000000ULL, "initrd beyond initrd_addr_max");
	cr_assert_geq(ird, 0x1000000 + 0x400000, "initrd overlaps the decompression area");
	cr_assert_gt(ird + 4096ULL + irs, 0x10000000ULL, "initrd should be at the top of the allowed range");
	cr_assert_eq(memcmp(t.ram + ird, initrd, ilen), 0);

	cr_assert_eq(bp[0x1e8], 3);
	cr_assert_eq(rd64(bp + 0x2d0), 0);
	cr_assert_eq(rd64(bp + 0x2d8), 0x9fc00);
	cr_assert_eq(rd32(bp + 0x2e0), E820_RAM);
	cr_assert_eq(rd64(bp + 0x2e4), 0x9fc00);
	cr_assert_eq(rd32(bp + 0x2f4), E820_RESERVED);
	cr_assert_eq(rd64(bp + 0x2f8), 0x100000);
	cr_assert_eq(rd64(bp + 0x300), (512ULL << 20) - 0x100000);
	cr_assert_eq(rd32(bp + 0x308), E820_RAM);
	free(initrd);
	free(k);
	tmem_free(&t);
}

Test(bzimage, initrd_limited_by_ram)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	size_t klen;
	uint8_t *k = make_bzimage(&klen), initrd[100] = { 1 };
	uint32_t ird;

	wr32(k + 0x22c, 0xffffffff);
	tmem_init(&t, 64ULL << 20);
	cr_assert_eq(load(&t, k, klen, initrd, sizeof(initrd), NULL, &e, err), 0, "%s", err);
	ird = rd32(t.ram + LAYOUT_ZERO_PAGE + 0x218);
	cr_assert_eq(ird, (64U << 20) - 4096);
	cr_assert_str_eq((const char *)t.ram + LAYOUT_CMDLINE, VMM_DEFAULT_CMDLINE);
	cr_assert_eq(rd64(t.ram + LAYOUT_ZERO_PAGE + 0x70), 0, "no ACPI built, no RSDP given");
	free(k);
	tmem_free(&t);
}

/* A gzip-compressed newc archive of one file, and the archive itself. */
static uint8_t *gzip_cpio(size_t *zlen, uint8_t **plain, size_t *plen)
{
	static const char hdr[] = "070701" "00000001" "000081a4" "00000000" "00000000" "00000001"
				  "00000000" "00000004" "00000000" "00000000" "00000000" "00000000"
				  "00000005" "00000000";
	static const char trailer[] = "070701" "00000000" "00000000" "00000000" "00000000" "00000001"
				      "00000000" "00000000" "00000000" "00000000" "00000000" "00000000"
				      "0000000b" "00000000";
	uint8_t *a = calloc(1, 512), *z = malloc(1024);
	size_t n = 0;

	cr_assert(a && z);
	memcpy(a, hdr, 110);
	memcpy(a + 110, "init", 5);	/* name + NUL: 115, padded to 116 */
	memcpy(a + 116, "sh\n\n", 4);
	n = 120;
	memcpy(a + n, trailer, 110);
	memcpy(a + n + 110, "TRAILER!!!", 11);
	n += 124;
	*zlen = test_gzip(a, n, z, 1024, 9);
	*plain = a;
	*plen = n;
	return z;
}

Test(bzimage, initrd_unpacked_on_the_host)
{
	struct boot_input in = { .kernel_name = "/k/vmlinuz", .initrd_name = "/k/initrd.gz" };
	struct tmem t;
	struct boot_entry e;
	char err[256];
	size_t klen, zlen, plen;
	uint8_t *k = make_bzimage(&klen), *plain, *z = gzip_cpio(&zlen, &plain, &plen);
	const uint8_t *bp;
	uint32_t ird;

	tmem_init(&t, 256ULL << 20);
	in.kernel = k;
	in.kernel_len = klen;
	in.initrd = z;
	in.initrd_len = zlen;
	cr_assert_eq(boot_load_buf(&t.gm, &in, &e, err, sizeof(err)), 0, "%s", err);
	bp = t.ram + LAYOUT_ZERO_PAGE;
	ird = rd32(bp + 0x218);
	cr_assert_eq(rd32(bp + 0x21c), plen, "the guest is told the unpacked size");
	cr_assert_eq(ird, 0x1000000 + 0x400000, "2 MiB aligned right above init_size at pref_address");
	cr_assert_eq(memcmp(t.ram + ird, plain, plen), 0);

	/* --guest-unpack: the file as it is, at the top */
	tmem_free(&t);
	tmem_init(&t, 256ULL << 20);
	in.guest_unpack = true;
	cr_assert_eq(boot_load_buf(&t.gm, &in, &e, err, sizeof(err)), 0, "%s", err);
	bp = t.ram + LAYOUT_ZERO_PAGE;
	ird = rd32(bp + 0x218);
	cr_assert_eq(rd32(bp + 0x21c), zlen);
	cr_assert_eq(ird, (256U << 20) - 4096);
	cr_assert_eq(memcmp(t.ram + ird, z, zlen), 0);
	free(plain);
	free(z);
	free(k);
	tmem_free(&t);
}

static void expect_error(const uint8_t *k, size_t klen, size_t initrd_len, const char *cmdline,
			 const char *needle)
{
	struct tmem t;
	struct boot_entry e;
	char err[256] = "";
	uint8_t *initrd = initrd_len ? calloc(1, initrd_len) : NULL;

	tmem_init(&t, 16ULL << 20);
	cr_assert_lt(load(&t, k, klen, initrd, initrd_len, cmdline, &e, err), 0);
	cr_assert_not_null(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle);
	cr_assert_not_null(strstr(err, "/k/"), "error \"%s\" does not name the file", err);
	free(initrd);
	tmem_free(&t);
}

Test(bzimage, rejects_truncated)
{
	size_t klen;
	uint8_t *k = make_bzimage(&klen);

	expect_error(k, 0x220, 0, NULL, "truncated");
	expect_error(k, BZ_SETUP, 0, NULL, "truncated");
	k[0x1f1] = 0;	/* 0 means 4 */
	expect_error(k, 4 * 512 + 100, 0, NULL, "truncated");
	free(k);
}

Test(bzimage, rejects_old_version)
{
	size_t klen;
	uint8_t *k = make_bzimage(&klen);

	wr16(k + 0x206, 0x205);
	expect_error(k, klen, 0, NULL, "2.05 is too old");
	free(k);
}

Test(bzimage, rejects_32bit_only)
{
	size_t klen;
	uint8_t *k = make_bzimage(&klen);

	wr16(k + 0x236, 0x2);
	expect_error(k, klen, 0, NULL, "64-bit");
	wr16(k + 0x236, 0x3);
	wr16(k + 0x206, 0x20b);	/* before xloadflags existed */
	expect_error(k, klen, 0, NULL, "64-bit");
	free(k);
}

Test(bzimage, rejects_long_cmdline)
{
	size_t klen;
	uint8_t *k = make_bzimage(&klen);

	wr32(k + 0x238, 10);
	expect_error(k, klen, 0, "console=ttyS0 quiet", "too long");
	free(k);
}

Test(bzimage, rejects_initrd_too_large)
{
	size_t klen;
	uint8_t *k = make_bzimage(&klen);

	expect_error(k, klen, 20 << 20, NULL, "initrd");	/* larger than 16 MiB of RAM */
	expect_error(k, klen, 12 << 20, NULL, "does not fit");	/* fits RAM, not above the kernel */
	free(k);
}

Test(boot, rejects_garbage)
{
	uint8_t junk[4096];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 17);
	expect_error(junk, sizeof(junk), 0, NULL,
		     "not a bzImage, ELF with a PVH note, or multiboot kernel (use --flat for a raw binary)");
	expect_error(junk, 1, 0, NULL, "not a bzImage");
}

Test(boot, flat)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t code[600];
	struct boot_input in = {
		.kernel = code, .kernel_len = sizeof(code), .kernel_name = "/k/flat.bin", .flat = true,
	};

	memset(code, 0x90, sizeof(code));
	code[0] = 0xf4;
	tmem_init(&t, 16ULL << 20);
	cr_assert_eq(boot_load_buf(&t.gm, &in, &e, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(e.mode, BOOT_MODE_REAL16);
	cr_assert_eq(e.real_cs, 0);
	cr_assert_eq(e.rip, 0x7c00);
	cr_assert_eq(e.rsp, 0x7c00);
	cr_assert_eq(e.rdx, 0x80);
	cr_assert_eq(memcmp(t.ram + 0x7c00, code, sizeof(code)), 0);

	in.kernel_len = LAYOUT_EBDA_START - LAYOUT_FLAT_LOAD + 1;
	in.kernel = calloc(1, in.kernel_len);
	cr_assert_eq(boot_load_buf(&t.gm, &in, &e, err, sizeof(err)), -EFBIG);
	cr_assert_not_null(strstr(err, "too large"), "%s", err);
	free((void *)in.kernel);
	tmem_free(&t);
}

Test(boot, missing_file_named)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	struct vm_config cfg = { .kernel = "/nonexistent/vmlinuz", .cpus = 1 };

	tmem_init(&t, 16ULL << 20);
	cr_assert_eq(boot_load(&t.gm, &cfg, &e, err, sizeof(err)), -ENOENT);
	cr_assert_not_null(strstr(err, "/nonexistent/vmlinuz"), "%s", err);
	tmem_free(&t);
}

/* The real Debian cloud kernel (and its initrd) into 512 MiB, through the file path. */
Test(bzimage, debian_cloud_kernel)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	glob_t g, gi;
	const uint8_t *bp;
	uint32_t ird;
	struct vm_config cfg = { .cpus = 1, .memory = 512ULL << 20, .cmdline = "console=ttyS0 panic=-1",
				 .guest_unpack = true };	/* unpacking: test_boot_unpack.c */

	if (glob("/boot/vmlinuz-*-cloud-amd64", 0, NULL, &g) || !g.gl_pathc)
		cr_skip_test("no /boot/vmlinuz-*-cloud-amd64 on this machine");
	cfg.kernel = g.gl_pathv[0];
	if (!glob("/boot/initrd.img-*-cloud-amd64", 0, NULL, &gi) && gi.gl_pathc)
		cfg.initrd = gi.gl_pathv[0];
	tmem_init(&t, cfg.memory);
	cr_assert_eq(acpi_build(&t.gm, 1), 0);
	cr_assert_eq(boot_load(&t.gm, &cfg, &e, err, sizeof(err)), 0, "%s", err);
	bp = t.ram + LAYOUT_ZERO_PAGE;
	cr_assert_eq(e.mode, BOOT_MODE_LONG64);
	cr_assert_eq(e.rip, 0x100200);
	cr_assert_eq(memcmp(bp + 0x202, "HdrS", 4), 0);
	cr_assert_geq(rd16(bp + 0x206), 0x20f);
	cr_assert_eq(rd64(bp + 0x70), LAYOUT_ACPI_RSDP);
	cr_assert_str_eq((const char *)t.ram + LAYOUT_CMDLINE, "console=ttyS0 panic=-1");
	cr_assert_eq(bp[0x1e8], 3);
	if (cfg.initrd) {
		ird = rd32(bp + 0x218);
		cr_assert_eq(ird % 4096, 0);
		cr_assert_gt(rd32(bp + 0x21c), 0);
		cr_assert_leq((uint64_t)ird + rd32(bp + 0x21c), cfg.memory);
		cr_assert_leq((uint64_t)ird + rd32(bp + 0x21c) - 1, rd32(bp + 0x22c));
		cr_assert_geq(ird, 0x100000 + rd32(bp + 0x260), "initrd inside the kernel's init_size");
		globfree(&gi);
	}
	globfree(&g);
	tmem_free(&t);
}

/* Every copy into guest RAM during boot is checked: a copy that does not fit fails cleanly. */
Test(boot_copy, all_or_nothing)
{
	struct tmem t;
	uint8_t src[64];

	tmem_init(&t, 1 << 20);
	memset(src, 0x5a, sizeof(src));
	memset(t.ram + 0x1000, 0xee, 0x100);
	cr_assert_eq(boot_copy(&t.gm, 0x1000, src, 16, 16), 0);
	cr_assert_eq(t.ram[0x1000], 0x5a);
	cr_assert_eq(t.ram[0x100f], 0x5a);
	cr_assert_eq(t.ram[0x1010], 0, "zero fill after the bytes");
	cr_assert_eq(t.ram[0x101f], 0);
	cr_assert_eq(t.ram[0x1020], 0xee, "nothing past the range");

	/* the bss would run past the end of RAM: nothing is written */
	memset(t.ram + t.size - 32, 0xee, 32);
	cr_assert_eq(boot_copy(&t.gm, t.size - 32, src, 16, 32), -EFAULT);
	cr_assert_eq(t.ram[t.size - 32], 0xee, "RAM untouched after a failed copy");
	cr_assert_eq(boot_copy(&t.gm, t.size, src, 1, 0), -EFAULT);
	cr_assert_eq(boot_copy(&t.gm, 0x1000, src, 16, UINT64_MAX), -EFAULT, "length overflow");
	cr_assert_eq(boot_copy(&t.gm, t.size - 16, NULL, 0, 16), 0, "zero fill alone");
	tmem_free(&t);
}
