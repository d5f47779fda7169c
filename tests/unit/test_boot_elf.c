// SPDX-License-Identifier: MIT
/*
 * Multiboot v1 (ELF32 and a.out kludge) and PVH (ELF64 note) on synthetic
 * images and synthetic guest memory.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "mem/layout.h"

#define RAM	(256ULL << 20)

struct tmem {
	struct guest_mem gm;
	uint8_t *ram;
};

static void tmem_init(struct tmem *t)
{
	memset(t, 0, sizeof(*t));
	t->ram = malloc(RAM);
	cr_assert_not_null(t->ram);
	memset(t->ram, 0xaa, 4 << 20);	/* bss must be zeroed by the loader */
	cr_assert_eq(gm_add_region(&t->gm, 0, RAM, t->ram), 0);
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)v); wr16(p + 2, (uint16_t)(v >> 16)); }
static void wr64(uint8_t *p, uint64_t v) { wr32(p, (uint32_t)v); wr32(p + 4, (uint32_t)(v >> 32)); }

static int load(struct tmem *t, const uint8_t *k, size_t klen, const uint8_t *initrd,
		size_t ilen, struct boot_entry *e, char *err)
{
	struct boot_input in = {
		.kernel = k, .kernel_len = klen, .kernel_name = "/k/kernel.elf",
		.initrd = initrd, .initrd_len = ilen, .initrd_name = "/k/mod.bin",
		.cmdline = "hello world",
	};

	return boot_load_buf(&t->gm, &in, e, err, 256);
}

static void mb_header(uint8_t *h, uint32_t flags)
{
	wr32(h, 0x1BADB002);
	wr32(h + 4, flags);
	wr32(h + 8, (uint32_t)-(0x1BADB002u + flags));
}

/* ELF32, one PT_LOAD: file 0x1000..0x2000 -> paddr 0x200000 (vaddr 0xc0200000), memsz 0x3000. */
#define MB_FILE	0x2000
static uint8_t *make_mb_elf(void)
{
	uint8_t *f = calloc(1, MB_FILE), *ph = f + 52;
	size_t i;

	memcpy(f, "\177ELF", 4);
	f[4] = 1; f[5] = 1; f[6] = 1;
	wr16(f + 16, 2);		/* ET_EXEC */
	wr16(f + 18, 3);		/* EM_386 */
	wr32(f + 20, 1);
	wr32(f + 24, 0xc0200010);	/* e_entry (virtual) */
	wr32(f + 28, 52);		/* e_phoff */
	wr16(f + 40, 52);
	wr16(f + 42, 32);
	wr16(f + 44, 1);
	wr32(ph, 1);			/* PT_LOAD */
	wr32(ph + 4, 0x1000);
	wr32(ph + 8, 0xc0200000);
	wr32(ph + 12, 0x200000);
	wr32(ph + 16, 0x1000);
	wr32(ph + 20, 0x3000);
	for (i = 0x1000; i < MB_FILE; i++)
		f[i] = (uint8_t)(i * 13);
	mb_header(f + 0x1000, 0x3);	/* page-align modules, memory info */
	return f;
}

static void check_mbi(struct tmem *t, bool with_module, size_t ilen)
{
	const uint8_t *mbi = t->ram + LAYOUT_MB_INFO, *mmap, *mod;
	uint32_t flags = rd32(mbi);

	cr_assert_eq(flags & 0x1, 0x1, "mem flag");
	cr_assert_eq(flags & 0x4, 0x4, "cmdline flag");
	cr_assert_eq(flags & 0x40, 0x40, "mmap flag");
	cr_assert_eq(!!(flags & 0x8), with_module, "mods flag");
	cr_assert_eq(rd32(mbi + 4), 639);
	cr_assert_eq(rd32(mbi + 8), (RAM - 0x100000) / 1024);
	cr_assert_str_eq((const char *)t->ram + rd32(mbi + 16), "/k/kernel.elf hello world");
	cr_assert_eq(rd32(mbi + 44), 3 * 24);
	mmap = t->ram + rd32(mbi + 48);
	cr_assert_eq(rd32(mmap), 20);
	cr_assert_eq(rd64(mmap + 4), 0);
	cr_assert_eq(rd64(mmap + 12), 0x9fc00);
	cr_assert_eq(rd32(mmap + 20), 1);
	cr_assert_eq(rd32(mmap + 24 + 20), 2);
	cr_assert_eq(rd64(mmap + 48 + 4), 0x100000);
	cr_assert_eq(rd64(mmap + 48 + 12), RAM - 0x100000);
	cr_assert_str_eq((const char *)t->ram + rd32(mbi + 64), "vmm");
	if (!with_module)
		return;
	cr_assert_eq(rd32(mbi + 20), 1);
	mod = t->ram + rd32(mbi + 24);
	cr_assert_eq(rd32(mod) % 4096, 0);
	cr_assert_eq(rd32(mod + 4) - rd32(mod), ilen);
	cr_assert_str_eq((const char *)t->ram + rd32(mod + 8), "/k/mod.bin");
	cr_assert_eq(t->ram[rd32(mod)], 0x42);
	cr_assert_eq(t->ram[rd32(mod) + ilen - 1], 0x43);
}

Test(multiboot, elf32)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_mb_elf(), initrd[5000];
	size_t i;

	memset(initrd, 0, sizeof(initrd));
	initrd[0] = 0x42;
	initrd[sizeof(initrd) - 1] = 0x43;
	tmem_init(&t);
	cr_assert_eq(load(&t, f, MB_FILE, initrd, sizeof(initrd), &e, err), 0, "%s", err);
	cr_assert_eq(e.mode, BOOT_MODE_PROT32);
	cr_assert_eq(e.rax, 0x2BADB002);
	cr_assert_eq(e.rbx, LAYOUT_MB_INFO);
	cr_assert_eq(e.rip, 0x200010, "entry 0x%llx", (unsigned long long)e.rip);
	cr_assert_str_eq(e.kind, "multiboot");
	cr_assert_eq(memcmp(t.ram + 0x200000, f + 0x1000, 0x1000), 0);
	for (i = 0x201000; i < 0x203000; i++)
		cr_assert_eq(t.ram[i], 0, "bss byte at 0x%zx not zeroed", i);
	check_mbi(&t, true, sizeof(initrd));
	free(f);
	free(t.ram);
}

Test(multiboot, aout_kludge)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = calloc(1, 0x2000);
	size_t i;

	for (i = 0; i < 0x2000; i++)
		f[i] = (uint8_t)(i * 5 + 1);
	mb_header(f + 0x40, 0x10002);
	wr32(f + 0x40 + 12, 0x100040);	/* header_addr */
	wr32(f + 0x40 + 16, 0x100000);	/* load_addr */
	wr32(f + 0x40 + 20, 0);		/* load_end_addr: whole file */
	wr32(f + 0x40 + 24, 0x110000);	/* bss_end_addr */
	wr32(f + 0x40 + 28, 0x100080);	/* entry_addr */
	tmem_init(&t);
	cr_assert_eq(load(&t, f, 0x2000, NULL, 0, &e, err), 0, "%s", err);
	cr_assert_eq(e.rip, 0x100080);
	cr_assert_eq(e.rax, 0x2BADB002);
	cr_assert_eq(memcmp(t.ram + 0x100000, f, 0x2000), 0);
	for (i = 0x102000; i < 0x110000; i++)
		cr_assert_eq(t.ram[i], 0, "bss byte at 0x%zx not zeroed", i);
	cr_assert_eq(t.ram[0x110000], 0xaa, "bss_end exceeded");
	check_mbi(&t, false, 0);

	/* load_end past the file, then header_addr inconsistent with its offset */
	wr32(f + 0x40 + 20, 0x103000);
	mb_header(f + 0x40, 0x10002);
	cr_assert_lt(load(&t, f, 0x2000, NULL, 0, &e, err), 0);
	cr_assert_not_null(strstr(err, "past the end"), "%s", err);
	wr32(f + 0x40 + 20, 0);
	wr32(f + 0x40 + 12, 0x101000);
	cr_assert_lt(load(&t, f, 0x2000, NULL, 0, &e, err), 0);
	cr_assert_not_null(strstr(err, "header_addr"), "%s", err);
	/* below 1 MiB: fine where vmm writes nothing ... */
	wr32(f + 0x40 + 12, 0x8040);
	wr32(f + 0x40 + 16, 0x8000);
	wr32(f + 0x40 + 24, 0);
	wr32(f + 0x40 + 28, 0x8080);
	mb_header(f + 0x40, 0x10002);
	cr_assert_eq(load(&t, f, 0x2000, NULL, 0, &e, err), 0, "%s", err);
	cr_assert_eq(e.rip, 0x8080);
	cr_assert_eq(memcmp(t.ram + 0x8000, f, 0x2000), 0);
	/* ... refused, naming it, where it would meet the multiboot info */
	wr32(f + 0x40 + 12, 0x2f040);
	wr32(f + 0x40 + 16, 0x2f000);
	wr32(f + 0x40 + 28, 0x2f080);
	cr_assert_lt(load(&t, f, 0x2000, NULL, 0, &e, err), 0);
	cr_assert_not_null(strstr(err, "overlaps the multiboot info"), "%s", err);
	cr_assert_not_null(strstr(err, "[0x2f000, 0x31000)"), "%s", err);
	free(f);
	free(t.ram);
}

Test(multiboot, bad_checksum_not_multiboot)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_mb_elf();

	wr32(f + 0x1008, 0);
	tmem_init(&t);
	cr_assert_eq(load(&t, f, MB_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "without a PVH note"), "%s", err);
	free(f);
	free(t.ram);
}

Test(multiboot, segment_outside_ram)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_mb_elf();

	wr32(f + 52 + 12, 0xfffff000);	/* paddr + memsz wraps past 4 GiB */
	tmem_init(&t);
	cr_assert_eq(load(&t, f, MB_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "not in guest RAM"), "%s", err);
	wr32(f + 52 + 12, 0x200000);
	wr32(f + 52 + 16, 0x5000);	/* filesz beyond the file */
	wr32(f + 52 + 20, 0x5000);
	cr_assert_eq(load(&t, f, MB_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "outside the file"), "%s", err);
	free(f);
	free(t.ram);
}

/* One PT_LOAD of memsz bytes at paddr: loaded, or refused naming what. */
static void try_low(struct tmem *t, uint8_t *f, uint32_t paddr, uint32_t memsz, const char *what)
{
	struct boot_entry e;
	char err[256] = "";
	int ret;
	uint32_t filesz = memsz < 0x1000 ? memsz : 0x1000;

	wr32(f + 52 + 16, filesz);
	wr32(f + 52 + 8, paddr);	/* vaddr = paddr: the entry is not translated */
	wr32(f + 52 + 12, paddr);
	wr32(f + 52 + 20, memsz);
	wr32(f + 24, paddr + 0x10);
	memset(t->ram, 0xaa, 4 << 20);
	ret = load(t, f, MB_FILE, NULL, 0, &e, err);
	if (!what) {
		cr_assert_eq(ret, 0, "0x%x: %s", paddr, err);
		cr_assert_eq(e.rip, paddr + 0x10);
		cr_assert_eq(memcmp(t->ram + paddr, f + 0x1000, filesz), 0);
		if (memsz > filesz)
			cr_assert_eq(t->ram[paddr + memsz - 1], 0, "bss not zeroed");
		check_mbi(t, false, 0);
		return;
	}
	cr_assert_eq(ret, -ENOEXEC, "0x%x loaded, expected a refusal (%s)", paddr, what);
	cr_assert_not_null(strstr(err, what), "0x%x: %s", paddr, err);
	if (paddr < (4u << 20))
		cr_assert_eq(t->ram[paddr], 0xaa, "0x%x: refused segment was written", paddr);
}

Test(multiboot, segments_below_1m)
{
	struct tmem t;
	uint8_t *f = make_mb_elf();

	tmem_init(&t);
	try_low(&t, f, 0x8000, 0x3000, NULL);		/* a real-mode test guest */
	try_low(&t, f, 0x0, 0x500, NULL);		/* IVT + BDA: vmm writes none */
	try_low(&t, f, 0x600, 0x1000, NULL);		/* right after the GDT/IDT */
	try_low(&t, f, 0x40000, 0x5fc00, NULL);	/* up to the EBDA */
	try_low(&t, f, 0x1000, 0x100000, "overlaps the multiboot info");
	try_low(&t, f, 0x400, 0x1000, "overlaps the boot GDT and IDT at [0x500, 0x600)");
	try_low(&t, f, 0x28000, 0x9000, "overlaps the multiboot info");
	try_low(&t, f, 0x3f000, 0x2000, "overlaps the multiboot info");
	try_low(&t, f, 0x9f000, 0x1000, "overlaps the EBDA");
	try_low(&t, f, 0xb8000, 0x1000, "overlaps the VGA and option ROM hole");
	try_low(&t, f, 0xe1000, 0x1000, "overlaps the ACPI tables");
	try_low(&t, f, 0xf0000, 0x1000, "overlaps the MP table");
	try_low(&t, f, 0xff000, 0x1000, "overlaps the MP table");
	try_low(&t, f, 0xffff0, 0x1000, "overlaps the reset-vector stub");
	try_low(&t, f, 0xf0000, 0x20000, "overlaps the MP table");
	try_low(&t, f, 0x100000, 0x1000, NULL);
	try_low(&t, f, RAM - 0x800, 0x1000, "not in guest RAM");
	free(f);
	free(t.ram);
}

/* ---- PVH ---- */

/* ELF64 vmlinux-like: PT_LOAD 0x1000 bytes -> 0x1000000, PT_NOTE with a Linux note then the Xen one. */
#define PVH_FILE 0x2000
static uint8_t *make_pvh(uint32_t descsz)
{
	uint8_t *f = calloc(1, PVH_FILE), *ph = f + 64, *n = f + 0x200;
	size_t i;

	memcpy(f, "\177ELF", 4);
	f[4] = 2; f[5] = 1; f[6] = 1;
	wr16(f + 16, 2);
	wr16(f + 18, 62);
	wr32(f + 20, 1);
	wr64(f + 24, 0xffffffff81000000ULL);
	wr64(f + 32, 64);
	wr16(f + 52, 64);
	wr16(f + 54, 56);
	wr16(f + 56, 2);
	wr32(ph, 1);
	wr64(ph + 8, 0x1000);
	wr64(ph + 16, 0xffffffff81000000ULL);
	wr64(ph + 24, 0x1000000);
	wr64(ph + 32, 0x1000);
	wr64(ph + 40, 0x1800);
	ph += 56;
	wr32(ph, 4);
	wr64(ph + 8, 0x200);
	wr64(ph + 32, 20 + 8 + 12 + 4 + descsz);
	/* "Linux" note, type 6 */
	wr32(n, 6); wr32(n + 4, 4); wr32(n + 8, 6);
	memcpy(n + 12, "Linux", 6);
	wr32(n + 20, 0x11223344);
	n += 24;
	wr32(n, 4); wr32(n + 4, descsz); wr32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	wr64(n + 16, 0x1000040);
	for (i = 0x1000; i < PVH_FILE; i++)
		f[i] = (uint8_t)(i * 3);
	return f;
}

Test(pvh, elf64_note)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_pvh(8), initrd[300] = { 7 };
	const uint8_t *si, *mm;

	tmem_init(&t);
	cr_assert_eq(acpi_build(&t.gm, 1), 0);
	cr_assert_eq(load(&t, f, PVH_FILE, initrd, sizeof(initrd), &e, err), 0, "%s", err);
	cr_assert_eq(e.mode, BOOT_MODE_PROT32);
	cr_assert_eq(e.rip, 0x1000040);
	cr_assert_eq(e.rbx, LAYOUT_PVH_START_INFO);
	cr_assert_str_eq(e.kind, "pvh");
	cr_assert_eq(memcmp(t.ram + 0x1000000, f + 0x1000, 0x1000), 0);
	cr_assert_eq(t.ram[0x10017ff], 0);

	si = t.ram + LAYOUT_PVH_START_INFO;
	cr_assert_eq(rd32(si), 0x336ec578);
	cr_assert_eq(rd32(si + 4), 1);
	cr_assert_eq(rd32(si + 12), 1);
	cr_assert_eq(rd64(si + 24), LAYOUT_CMDLINE);
	cr_assert_str_eq((const char *)t.ram + LAYOUT_CMDLINE, "hello world");
	cr_assert_eq(rd64(si + 32), LAYOUT_ACPI_RSDP);
	cr_assert_eq(rd64(t.ram + rd64(si + 16) + 8), sizeof(initrd));
	cr_assert_eq(rd64(t.ram + rd64(si + 16)) % 4096, 0);
	cr_assert_eq(t.ram[rd64(t.ram + rd64(si + 16))], 7);
	cr_assert_eq(rd32(si + 48), 3);
	mm = t.ram + rd64(si + 40);
	cr_assert_eq(rd64(mm + 48), 0x100000);
	cr_assert_eq(rd64(mm + 56), RAM - 0x100000);
	cr_assert_eq(rd32(mm + 64), 1);
	cr_assert_eq(rd32(mm + 24 + 16), 2);
	free(f);
	free(t.ram);
}

Test(pvh, four_byte_note)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_pvh(4);

	tmem_init(&t);
	cr_assert_eq(load(&t, f, PVH_FILE, NULL, 0, &e, err), 0, "%s", err);
	cr_assert_eq(e.rip, 0x1000040);
	cr_assert_eq(rd32(t.ram + LAYOUT_PVH_START_INFO + 12), 0);
	free(f);
	free(t.ram);
}

Test(pvh, no_note_or_broken)
{
	struct tmem t;
	struct boot_entry e;
	char err[256];
	uint8_t *f = make_pvh(8);

	tmem_init(&t);
	wr32(f + 0x200 + 24 + 8, 17);	/* not the PVH note type */
	cr_assert_eq(load(&t, f, PVH_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "/k/kernel.elf: ELF without a PVH note"), "%s", err);
	wr32(f + 0x200 + 24 + 8, 18);
	wr64(f + 64 + 56 + 32, 0x100000);	/* note segment past the file */
	cr_assert_eq(load(&t, f, PVH_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "outside the file"), "%s", err);
	wr64(f + 64 + 56 + 32, 52);
	wr16(f + 56, 0xffff);		/* phnum past the file */
	cr_assert_eq(load(&t, f, PVH_FILE, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "program header"), "%s", err);
	cr_assert_eq(load(&t, f, 40, NULL, 0, &e, err), -ENOEXEC);
	cr_assert_not_null(strstr(err, "truncated"), "%s", err);
	free(f);
	free(t.ram);
}
