// SPDX-License-Identifier: MIT
/*
 * PVH direct boot (xen/include/public/arch-x86/hvm/start_info.h): an ELF
 * (vmlinux or ELF32) with a XEN_ELFNOTE_PHYS32_ENTRY note.  Segments load at
 * p_paddr; entered in 32-bit protected mode, paging off, %ebx = the
 * hvm_start_info at LAYOUT_PVH_START_INFO.
 */
#include <errno.h>

#include "boot/loader.h"
#include "mem/layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578u

/* [LAYOUT_PVH_START_INFO, LAYOUT_ZERO_PAGE): start_info, modlist, memmap */
#define SI_SIZE		56
#define SI_OFF_MODLIST	0x40
#define SI_OFF_MEMMAP	0x80
#define SI_AREA		(LAYOUT_ZERO_PAGE - LAYOUT_PVH_START_INFO)
#define MEMMAP_ENTRY	24

static uint64_t align4(uint64_t v)
{
	return (v + 3) & ~3ULL;
}

/* 0 and *entry set when a PT_NOTE holds the PVH entry, 1 if none, -errno on a malformed note. */
static int find_pvh_note(const uint8_t *k, size_t len, const struct elf_image *elf,
			 uint64_t *entry, const char *name, char *err, size_t errlen)
{
	struct elf_phdr ph;
	unsigned int i;

	for (i = 0; i < elf->phnum; i++) {
		uint64_t off, end;

		elf_phdr(k, elf, i, &ph);
		if (ph.type != PT_NOTE)
			continue;
		if (!buf_has(len, ph.offset, ph.filesz))
			return boot_err(err, errlen, -ENOEXEC, "%s: ELF note segment %u lies outside the file", name, i);
		off = ph.offset;
		end = ph.offset + ph.filesz;
		while (end - off >= 12) {
			uint32_t namesz = get_le32(k + off), descsz = get_le32(k + off + 4);
			uint32_t type = get_le32(k + off + 8);
			uint64_t name_off = off + 12;
			uint64_t desc_off = name_off + align4(namesz);
			uint64_t next = desc_off + align4(descsz);

			if (next > end)
				break;	/* malformed tail: stop reading this segment */
			if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
			    !memcmp(k + name_off, "Xen", 4)) {
				if (descsz == 4)
					*entry = get_le32(k + desc_off);
				else if (descsz == 8)
					*entry = get_le64(k + desc_off);
				else
					return boot_err(err, errlen, -ENOEXEC,
							"%s: PVH entry note has a %u-byte value (4 or 8 expected)",
							name, descsz);
				return 0;
			}
			off = next;
		}
	}
	return 1;
}

static int write_start_info(struct guest_mem *gm, const struct boot_input *in,
			    uint64_t initrd_addr)
{
	uint8_t *si = gm_ptr(gm, LAYOUT_PVH_START_INFO, SI_AREA);
	struct boot_e820 map[E820_MAX];
	unsigned int i, n = boot_e820(gm, map, E820_MAX);

	if (!si)
		return -EFAULT;
	memset(si, 0, SI_AREA);
	put_le32(si, HVM_START_MAGIC);
	put_le32(si + 4, 1);			/* version: has memmap */
	if (in->initrd) {
		uint8_t *mod = si + SI_OFF_MODLIST;

		put_le32(si + 12, 1);		/* nr_modules */
		put_le64(si + 16, LAYOUT_PVH_START_INFO + SI_OFF_MODLIST);
		put_le64(mod, initrd_addr);
		put_le64(mod + 8, in->initrd_len);
	}
	put_le64(si + 24, LAYOUT_CMDLINE);
	put_le64(si + 32, acpi_rsdp_addr(gm));
	for (i = 0; i < n; i++) {
		uint8_t *e = si + SI_OFF_MEMMAP + MEMMAP_ENTRY * i;

		put_le64(e, map[i].addr);
		put_le64(e + 8, map[i].size);
		put_le32(e + 16, map[i].type);
	}
	put_le64(si + 40, LAYOUT_PVH_START_INFO + SI_OFF_MEMMAP);
	put_le32(si + 48, n);
	return 0;
}

int boot_pvh(struct guest_mem *gm, const struct boot_input *in,
	     struct boot_entry *entry, char *err, size_t errlen)
{
	const char *name = in->kernel_name;
	const char *cmdline = boot_cmdline(in);
	struct elf_image elf;
	uint64_t pvh_entry = 0, kend, initrd_addr = 0;
	int ret;

	_Static_assert(SI_OFF_MEMMAP + E820_MAX * MEMMAP_ENTRY <= SI_AREA, "PVH memmap overflows its area");
	if (!elf_is_elf(in->kernel, in->kernel_len))
		return 1;
	ret = elf_parse(in->kernel, in->kernel_len, &elf, name, err, errlen);
	if (ret)
		return ret;
	ret = find_pvh_note(in->kernel, in->kernel_len, &elf, &pvh_entry, name, err, errlen);
	if (ret < 0)
		return ret;
	if (ret)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: ELF without a PVH note (XEN_ELFNOTE_PHYS32_ENTRY); not a bzImage, ELF with a PVH note, or multiboot kernel (use --flat for a raw binary)",
				name);
	if (pvh_entry < LAYOUT_HIGH_RAM || pvh_entry >= LAYOUT_MMIO_HOLE_START)
		return boot_err(err, errlen, -ENOEXEC, "%s: PVH entry 0x%llx is outside 32-bit RAM above 1 MiB",
				name, (unsigned long long)pvh_entry);
	if (strlen(cmdline) >= LAYOUT_CMDLINE_MAX)
		return boot_err(err, errlen, -E2BIG, "%s: command line of %zu bytes is too long (at most %llu)",
				name, strlen(cmdline), (unsigned long long)LAYOUT_CMDLINE_MAX - 1);
	ret = elf_load(gm, in->kernel, in->kernel_len, &elf, &kend, name, err, errlen);
	if (ret)
		return ret;
	if (in->initrd) {
		ret = boot_place_initrd(gm, in, kend, LAYOUT_MMIO_HOLE_START, &initrd_addr, err, errlen);
		if (ret)
			return ret;
	}
	if (boot_put_string(gm, LAYOUT_CMDLINE, cmdline, LAYOUT_CMDLINE_MAX) ||
	    write_start_info(gm, in, initrd_addr))
		return boot_err(err, errlen, -EFAULT, "%s: guest RAM does not cover the PVH boot structures", name);
	*entry = (struct boot_entry){
		.mode = BOOT_MODE_PROT32,
		.rip = pvh_entry,
		.rbx = LAYOUT_PVH_START_INFO,
		.kind = "pvh",
	};
	return 0;
}
