// SPDX-License-Identifier: MIT
/*
 * Multiboot v1, loaded the way QEMU's -kernel does: the a.out kludge
 * addresses when header flag 16 is set, else the ELF32 PT_LOAD segments at
 * their physical addresses.  Entered in 32-bit protected mode, paging off,
 * %eax = 0x2BADB002, %ebx = the multiboot info at LAYOUT_MB_INFO.
 * The image may lie anywhere in guest RAM, below 1 MiB too (real-mode test
 * guests link at 0x8000), as long as it misses what vmm writes itself
 * (boot_low_used_prot32).
 */
#include <errno.h>

#include "boot/loader.h"
#include "mem/layout.h"

#define MB_MAGIC		0x1BADB002u
#define MB_BOOT_MAGIC		0x2BADB002u
#define MB_SEARCH		8192
#define MB_HDR_AOUT		(1u << 16)
#define MB_HDR_VIDEO		(1u << 2)
#define MB_HDR_KNOWN		0x0007u		/* bits 0-15 we honour (page-align, mem, video ignored) */

#define MBI_MEM			(1u << 0)
#define MBI_CMDLINE		(1u << 2)
#define MBI_MODS		(1u << 3)
#define MBI_MMAP		(1u << 6)
#define MBI_LOADER_NAME		(1u << 9)

/* multiboot info layout inside [LAYOUT_MB_INFO, + LAYOUT_MB_INFO_MAX) */
#define MBI_SIZE		88
#define MBI_OFF_MMAP		0x100
#define MBI_OFF_MODS		0x600
#define MBI_OFF_NAME		0x640
#define MBI_OFF_STRINGS		0x680
#define MMAP_ENTRY		24

/*
 * Everything vmm writes below 1 MiB for a 32-bit protected-mode entry
 * (vmm/mem/layout.h): x86_boot.c's GDT, the multiboot info, and the
 * e820-reserved area with the firmware tables.  Multiboot sets no stack and
 * no page tables; the module goes above the kernel (boot_place_initrd).
 */
static const struct boot_region low_used_prot32[] = {
	{ LAYOUT_BOOT_GDT, LAYOUT_BOOT_TABLES_END, "the boot GDT and IDT" },
	{ LAYOUT_MB_INFO, LAYOUT_MB_INFO + LAYOUT_MB_INFO_MAX,
	  "the multiboot info (memory map, module list, command line)" },
	{ LAYOUT_EBDA_START, LAYOUT_VGA_START, "the EBDA (e820 reserved)" },
	{ LAYOUT_VGA_START, LAYOUT_ACPI_RSDP, "the VGA and option ROM hole (e820 reserved)" },
	{ LAYOUT_ACPI_RSDP, LAYOUT_ACPI_TABLES_END, "the ACPI tables (RSDP, XSDT, FADT, MADT, DSDT)" },
	{ LAYOUT_MPTABLE, LAYOUT_RESET_VECTOR, "the MP table and BIOS area (e820 reserved)" },
	{ LAYOUT_RESET_VECTOR, LAYOUT_HIGH_RAM, "the reset-vector stub" },
};

const struct boot_regions boot_low_used_prot32 = {
	low_used_prot32, sizeof(low_used_prot32) / sizeof(low_used_prot32[0]),
};

static int find_header(const uint8_t *k, size_t len, size_t *off)
{
	size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
	size_t i;

	for (i = 0; i + 12 <= lim; i += 4) {
		uint32_t magic = get_le32(k + i), flags = get_le32(k + i + 4);

		if (magic == MB_MAGIC && (uint32_t)(magic + flags + get_le32(k + i + 8)) == 0) {
			*off = i;
			return 0;
		}
	}
	return -1;
}

/* a.out kludge: the header says where the image goes. */
static int load_aout(struct guest_mem *gm, const struct boot_input *in, size_t hoff,
		     uint64_t *entry, uint64_t *end, char *err, size_t errlen)
{
	const uint8_t *h = in->kernel + hoff;
	const char *name = in->kernel_name;
	const struct boot_region *hit = NULL;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t file_off, load_len, mem_end;
	int ret;

	if (!buf_has(in->kernel_len, hoff, 32))
		return boot_err(err, errlen, -ENOEXEC, "%s: multiboot header truncated (a.out kludge fields missing)", name);
	header_addr = get_le32(h + 12);
	load_addr = get_le32(h + 16);
	load_end = get_le32(h + 20);
	bss_end = get_le32(h + 24);
	*entry = get_le32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > hoff)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: multiboot load_addr 0x%x / header_addr 0x%x do not match the header's file offset 0x%zx",
				name, load_addr, header_addr, hoff);
	file_off = hoff - (header_addr - load_addr);
	if (load_end) {
		if (load_end < load_addr)
			return boot_err(err, errlen, -ENOEXEC, "%s: multiboot load_end_addr 0x%x below load_addr 0x%x",
					name, load_end, load_addr);
		load_len = load_end - load_addr;
		if (!buf_has(in->kernel_len, file_off, load_len))
			return boot_err(err, errlen, -ENOEXEC, "%s: multiboot image (load_end_addr 0x%x) extends past the end of the file",
					name, load_end);
	} else {
		load_len = in->kernel_len - file_off;
	}
	mem_end = load_addr + load_len;
	if (bss_end) {
		if (bss_end < mem_end)
			return boot_err(err, errlen, -ENOEXEC, "%s: multiboot bss_end_addr 0x%x below the image end 0x%llx",
					name, bss_end, (unsigned long long)mem_end);
		mem_end = bss_end;
	}
	ret = boot_check_range(gm, load_addr, mem_end - load_addr, &boot_low_used_prot32, &hit);
	if (ret == -EFAULT)
		return boot_err(err, errlen, -ENOEXEC, "%s: multiboot image [0x%x, 0x%llx) is not in guest RAM",
				name, load_addr, (unsigned long long)mem_end);
	if (ret)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: multiboot image [0x%x, 0x%llx) overlaps %s at [0x%llx, 0x%llx), which vmm writes there; link the guest elsewhere",
				name, load_addr, (unsigned long long)mem_end, hit->what,
				(unsigned long long)hit->start, (unsigned long long)hit->end);
	if (boot_copy(gm, load_addr, in->kernel + file_off, load_len, mem_end - load_addr - load_len))
		return boot_err(err, errlen, -EFAULT, "%s: multiboot image [0x%x, 0x%llx) cannot be written to guest RAM",
				name, load_addr, (unsigned long long)mem_end);
	*end = mem_end;
	return 0;
}

static int load_elf32(struct guest_mem *gm, const struct boot_input *in,
		      uint64_t *entry, uint64_t *end, char *err, size_t errlen)
{
	struct elf_image elf;
	struct elf_phdr ph;
	unsigned int i;
	int ret;

	if (!elf_is_elf(in->kernel, in->kernel_len))
		return boot_err(err, errlen, -ENOEXEC,
				"%s: multiboot kernel is neither ELF nor has the a.out kludge (header flag 16)",
				in->kernel_name);
	ret = elf_parse(in->kernel, in->kernel_len, &elf, in->kernel_name, err, errlen);
	if (ret)
		return ret;
	if (elf.is64)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: multiboot kernel is ELF64; multiboot v1 needs ELF32 or the a.out kludge",
				in->kernel_name);
	ret = elf_load_low(gm, in->kernel, in->kernel_len, &elf, &boot_low_used_prot32, end,
			   in->kernel_name, err, errlen);
	if (ret)
		return ret;
	/* e_entry is virtual; translate it if it lies in a segment whose vaddr differs */
	*entry = elf.entry;
	for (i = 0; i < elf.phnum; i++) {
		elf_phdr(in->kernel, &elf, i, &ph);
		if (ph.type == PT_LOAD && elf.entry >= ph.vaddr && elf.entry - ph.vaddr < ph.memsz) {
			*entry = ph.paddr + (elf.entry - ph.vaddr);
			break;
		}
	}
	return 0;
}

static int write_info(struct guest_mem *gm, const struct boot_input *in,
		      uint64_t initrd_addr, char *err, size_t errlen)
{
	const uint64_t base = LAYOUT_MB_INFO;
	uint8_t *mbi = gm_ptr(gm, base, LAYOUT_MB_INFO_MAX);
	struct boot_e820 map[E820_MAX];
	unsigned int i, n = boot_e820(gm, map, E820_MAX);
	uint64_t low_end = boot_low_ram_end(gm);
	uint64_t str = MBI_OFF_STRINGS, cmd_len;
	const char *cmdline = boot_cmdline(in);
	uint32_t flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;

	if (!mbi)
		return boot_err(err, errlen, -EFAULT, "%s: guest RAM does not cover the multiboot info", in->kernel_name);
	memset(mbi, 0, LAYOUT_MB_INFO_MAX);
	put_le32(mbi + 4, (uint32_t)(LAYOUT_EBDA_START / 1024));
	put_le32(mbi + 8, (uint32_t)((low_end - LAYOUT_HIGH_RAM) / 1024));

	/* "<kernel path> <cmdline>", as QEMU passes it */
	cmd_len = strlen(in->kernel_name) + 1 + strlen(cmdline) + 1;
	if (cmd_len > LAYOUT_MB_INFO_MAX - str - 1 ||
	    (in->initrd && strlen(in->initrd_name) + 1 > LAYOUT_MB_INFO_MAX - str - cmd_len))
		return boot_err(err, errlen, -E2BIG, "%s: command line of %zu bytes is too long for the multiboot info",
				in->kernel_name, strlen(cmdline));
	memcpy(mbi + str, in->kernel_name, strlen(in->kernel_name));
	mbi[str + strlen(in->kernel_name)] = ' ';
	memcpy(mbi + str + strlen(in->kernel_name) + 1, cmdline, strlen(cmdline) + 1);
	put_le32(mbi + 16, (uint32_t)(base + str));
	str += cmd_len;

	if (in->initrd) {
		uint8_t *mod = mbi + MBI_OFF_MODS;

		flags |= MBI_MODS;
		memcpy(mbi + str, in->initrd_name, strlen(in->initrd_name) + 1);
		put_le32(mod, (uint32_t)initrd_addr);
		put_le32(mod + 4, (uint32_t)(initrd_addr + in->initrd_len));
		put_le32(mod + 8, (uint32_t)(base + str));
		put_le32(mbi + 20, 1);
		put_le32(mbi + 24, (uint32_t)(base + MBI_OFF_MODS));
	}

	for (i = 0; i < n; i++) {
		uint8_t *e = mbi + MBI_OFF_MMAP + MMAP_ENTRY * i;

		put_le32(e, MMAP_ENTRY - 4);
		put_le64(e + 4, map[i].addr);
		put_le64(e + 12, map[i].size);
		put_le32(e + 20, map[i].type);
	}
	put_le32(mbi + 44, n * MMAP_ENTRY);
	put_le32(mbi + 48, (uint32_t)(base + MBI_OFF_MMAP));

	memcpy(mbi + MBI_OFF_NAME, "vmm", 4);
	put_le32(mbi + 64, (uint32_t)(base + MBI_OFF_NAME));
	put_le32(mbi, flags);
	return 0;
}

int boot_multiboot(struct guest_mem *gm, const struct boot_input *in,
		   struct boot_entry *entry, char *err, size_t errlen)
{
	uint64_t kentry = 0, kend = 0, initrd_addr = 0;
	uint32_t flags;
	size_t hoff;
	int ret;

	if (find_header(in->kernel, in->kernel_len, &hoff))
		return 1;
	flags = get_le32(in->kernel + hoff + 4);
	if (flags & 0xffffu & ~MB_HDR_KNOWN)
		return boot_err(err, errlen, -ENOEXEC, "%s: multiboot header requires unsupported features (flags 0x%x)",
				in->kernel_name, flags);
	if (flags & MB_HDR_AOUT)
		ret = load_aout(gm, in, hoff, &kentry, &kend, err, errlen);
	else
		ret = load_elf32(gm, in, &kentry, &kend, err, errlen);
	if (ret)
		return ret;
	if (kentry >= LAYOUT_MMIO_HOLE_END)
		return boot_err(err, errlen, -ENOEXEC, "%s: multiboot entry 0x%llx is not a 32-bit address",
				in->kernel_name, (unsigned long long)kentry);
	if (in->initrd) {
		ret = boot_place_initrd(gm, in, kend, LAYOUT_MMIO_HOLE_START, &initrd_addr, err, errlen);
		if (ret)
			return ret;
	}
	ret = write_info(gm, in, initrd_addr, err, errlen);
	if (ret)
		return ret;
	*entry = (struct boot_entry){
		.mode = BOOT_MODE_PROT32,
		.rip = kentry,
		.rax = MB_BOOT_MAGIC,
		.rbx = LAYOUT_MB_INFO,
		.kind = "multiboot",
	};
	return 0;
}
