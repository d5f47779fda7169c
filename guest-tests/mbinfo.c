/* SPDX-License-Identifier: MIT */
/*
 * mbinfo: checks the multiboot information vmm hands over.
 *   - flags: mem, cmdline, mods and mmap present
 *   - mem_lower <= 640; mem_upper matches fw_cfg RAM_SIZE (within 4 MiB)
 *     below 3 GiB, and exactly the end of the usable mmap range at 1 MiB (and "mem=MiB"
 *     from the command line, if given) for guests below 3 GiB
 *   - mmap: sane entries, usable RAM covers the kernel, adds up to RAM_SIZE
 *   - cmdline: "<path ending in mbinfo.elf> <args>", args contain "mbtest"
 *   - module 0: page aligned, in usable RAM, clear of the kernel, and byte
 *     for byte the output of `seq 1 1000` (the harness passes that file)
 */
#include "lib.h"

#define MiB		(1024u * 1024u)
#define MOD_LINES	1000

static int in_usable(const struct mb_info *mbi, uint64_t start, uint64_t end)
{
	uint32_t off = 0;

	while (off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length) {
		const struct mb_mmap_entry *e = (const void *)(mbi->mmap_addr + off);

		if (e->type == 1 && e->addr <= start && end <= e->addr + e->len)
			return 1;
		off += e->size + 4;
	}
	return 0;
}

/* End of the usable mmap range holding addr (0 if none). */
static uint64_t usable_end(const struct mb_info *mbi, uint64_t addr)
{
	uint32_t off = 0;

	while (off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length) {
		const struct mb_mmap_entry *e = (const void *)(mbi->mmap_addr + off);

		if (e->type == 1 && e->addr <= addr && addr < e->addr + e->len)
			return e->addr + e->len;
		off += e->size + 4;
	}
	return 0;
}

static uint64_t check_mmap(const struct mb_info *mbi, uint64_t ram)
{
	uint64_t usable = 0, prev_end = 0;
	uint32_t off = 0, n = 0;

	check(mbi->flags & (1u << 6), "no memory map (flags 0x%x)", mbi->flags);
	check(mbi->mmap_length >= sizeof(struct mb_mmap_entry), "empty memory map");
	while (off < mbi->mmap_length) {
		const struct mb_mmap_entry *e = (const void *)(mbi->mmap_addr + off);

		check(off + 4 + 20 <= mbi->mmap_length && e->size >= 20,
		      "mmap entry %u: bad size %u", n, e->size);
		printf("mmap %u: 0x%llx-0x%llx type %u\n", n, e->addr,
		       e->addr + e->len - 1, e->type);
		check(e->len, "mmap entry %u has length 0", n);
		check(e->addr + e->len > e->addr, "mmap entry %u wraps", n);
		check(e->type >= 1 && e->type <= 5, "mmap entry %u: type %u", n, e->type);
		check(e->addr >= prev_end, "mmap entry %u overlaps or is out of order", n);
		prev_end = e->addr + e->len;
		if (e->type == 1)
			usable += e->len;
		off += e->size + 4;
		n++;
	}
	check(in_usable(mbi, 0, 0x9f000), "low memory 0-0x9f000 not usable");
	check(in_usable(mbi, (uintptr_t)_kernel_start, (uintptr_t)_kernel_end),
	      "the kernel 0x%x-0x%x is not in usable RAM", (uintptr_t)_kernel_start,
	      (uintptr_t)_kernel_end);
	printf("mmap: %u entries, %llu KiB usable\n", n, usable >> 10);
	check(usable <= ram, "more usable RAM (%llu) than RAM_SIZE (%llu)", usable, ram);
	check(usable + 4 * MiB >= ram, "usable RAM %llu KiB, RAM_SIZE %llu KiB",
	      usable >> 10, ram >> 10);
	return usable;
}

static void check_cmdline(void)
{
	const char *c = boot_cmdline, *sp;
	static const char tail[] = "mbinfo.elf";

	check(boot_mbi->flags & (1u << 2), "no command line (flags 0x%x)", boot_mbi->flags);
	sp = c;
	while (*sp && *sp != ' ')
		sp++;
	check(sp - c >= (int)strlen(tail) && !strncmp(sp - strlen(tail), tail, strlen(tail)),
	      "cmdline \"%s\" does not start with the kernel path", c);
	check(*sp == ' ', "cmdline \"%s\" has no arguments after the path", c);
	check(!strncmp(sp + 1, "mbtest", 6) && (sp[7] == ' ' || !sp[7]),
	      "cmdline arguments \"%s\" do not start with \"mbtest\"", sp + 1);
}

/* The module must be exactly `seq 1 MOD_LINES`. */
static void check_module(const struct mb_info *mbi)
{
	const struct mb_module *m;
	const char *p, *end;
	uint32_t i;

	check(mbi->flags & (1u << 3), "no modules (flags 0x%x)", mbi->flags);
	check(mbi->mods_count >= 1, "mods_count 0");
	m = (const void *)mbi->mods_addr;
	printf("module 0: 0x%x-0x%x \"%s\"\n", m->mod_start, m->mod_end,
	       m->string ? (const char *)m->string : "");
	check(m->mod_end > m->mod_start, "module 0 is empty");
	check(!(m->mod_start & 0xfff), "module 0 not page aligned (flag 0 asked for it)");
	check(m->mod_start >= (uintptr_t)_kernel_end ||
	      m->mod_end <= (uintptr_t)_kernel_start, "module 0 overlaps the kernel");
	check(in_usable(mbi, m->mod_start, m->mod_end), "module 0 not in usable RAM");
	p = (const char *)m->mod_start;
	end = (const char *)m->mod_end;
	for (i = 1; i <= MOD_LINES; i++) {
		char num[12];
		int n = 0;
		uint32_t v = i;

		do {
			num[n++] = '0' + v % 10;
			v /= 10;
		} while (v);
		while (n) {
			check(p < end, "module 0 ends early, in line %u", i);
			check(*p == num[--n], "module 0 differs at byte %u (line %u)",
			      (uint32_t)(p - (const char *)m->mod_start), i);
			p++;
		}
		check(p < end && *p == '\n', "module 0: line %u not ended", i);
		p++;
	}
	check(p == end, "module 0 has %u bytes too many", (uint32_t)(end - p));
	printf("module 0: %u bytes, content matches\n", m->mod_end - m->mod_start);
}

void guest_main(void)
{
	const struct mb_info *mbi = boot_mbi;
	uint64_t ram = 0;
	uint32_t want_mib;

	printf("mbi at 0x%x flags 0x%x cmdline \"%s\"\n", (uintptr_t)mbi, mbi->flags,
	       boot_cmdline);
	check_cmdline();
	check(fw_cfg_present(), "fw_cfg signature is not \"QEMU\"");
	fw_cfg_read(FW_CFG_RAM_SIZE, &ram, sizeof(ram));
	printf("fw_cfg RAM_SIZE %llu MiB\n", ram >> 20);
	if (!cmdline_get_uint("mem", &want_mib))
		check(ram == (uint64_t)want_mib * MiB, "RAM_SIZE is not mem=%u MiB", want_mib);

	check(mbi->flags & 1, "no mem_lower/mem_upper (flags 0x%x)", mbi->flags);
	printf("mem_lower %u KiB, mem_upper %u KiB\n", mbi->mem_lower, mbi->mem_upper);
	check(mbi->mem_lower >= 512 && mbi->mem_lower <= 640, "mem_lower %u", mbi->mem_lower);
	if (ram <= 3ull * 1024 * MiB)
		/* firmware may keep a little at the top (SeaBIOS: 128 KiB) */
		check((uint64_t)mbi->mem_upper * 1024 + MiB <= ram &&
		      (uint64_t)mbi->mem_upper * 1024 + 5 * MiB >= ram,
		      "mem_upper %u KiB does not match RAM_SIZE %llu KiB - 1 MiB",
		      mbi->mem_upper, ram >> 10);
	else
		check(mbi->mem_upper >= 1024, "mem_upper %u KiB", mbi->mem_upper);
	check_mmap(mbi, ram);
	check((uint64_t)mbi->mem_upper * 1024 + MiB == usable_end(mbi, MiB),
	      "mem_upper %u KiB: 1 MiB + mem_upper != 0x%llx, the end of the usable"
	      " mmap range at 1 MiB", mbi->mem_upper, usable_end(mbi, MiB));
	check_module(mbi);
	succeed();
}
