// SPDX-License-Identifier: MIT
/*
 * Minimal ELF32/ELF64 little-endian reader for the multiboot and PVH
 * loaders: header and program headers only, every field checked against the
 * file size and guest RAM.
 */
#include <errno.h>

#include "boot/loader.h"
#include "mem/layout.h"

#define EI_CLASS	4
#define EI_DATA		5
#define ELFCLASS32	1
#define ELFCLASS64	2
#define ELFDATA2LSB	1
#define EM_386		3
#define EM_X86_64	62
#define ELF_MAX_PHNUM	512

bool elf_is_elf(const uint8_t *buf, size_t len)
{
	return len >= 4 && !memcmp(buf, "\177ELF", 4);
}

int elf_parse(const uint8_t *buf, size_t len, struct elf_image *elf,
	      const char *name, char *err, size_t errlen)
{
	size_t ehsize;

	if (!elf_is_elf(buf, len) || len < 16)
		return boot_err(err, errlen, -ENOEXEC, "%s: not an ELF file", name);
	if (buf[EI_DATA] != ELFDATA2LSB)
		return boot_err(err, errlen, -ENOEXEC, "%s: ELF is not little-endian", name);
	if (buf[EI_CLASS] == ELFCLASS64) {
		ehsize = 64;
		if (len < ehsize)
			return boot_err(err, errlen, -ENOEXEC, "%s: ELF64 header truncated", name);
		elf->is64 = true;
		elf->entry = get_le64(buf + 24);
		elf->phoff = get_le64(buf + 32);
		elf->phentsize = get_le16(buf + 54);
		elf->phnum = get_le16(buf + 56);
		if (elf->phentsize != 56)
			return boot_err(err, errlen, -ENOEXEC, "%s: ELF64 program header size %u, expected 56",
					name, elf->phentsize);
	} else if (buf[EI_CLASS] == ELFCLASS32) {
		ehsize = 52;
		if (len < ehsize)
			return boot_err(err, errlen, -ENOEXEC, "%s: ELF32 header truncated", name);
		elf->is64 = false;
		elf->entry = get_le32(buf + 24);
		elf->phoff = get_le32(buf + 28);
		elf->phentsize = get_le16(buf + 42);
		elf->phnum = get_le16(buf + 44);
		if (elf->phentsize != 32)
			return boot_err(err, errlen, -ENOEXEC, "%s: ELF32 program header size %u, expected 32",
					name, elf->phentsize);
	} else {
		return boot_err(err, errlen, -ENOEXEC, "%s: unknown ELF class %u", name, buf[EI_CLASS]);
	}
	elf->machine = get_le16(buf + 18);
	if (elf->machine != EM_386 && elf->machine != EM_X86_64)
		return boot_err(err, errlen, -ENOEXEC, "%s: ELF machine %u is not x86", name, elf->machine);
	if (!elf->phnum || elf->phnum > ELF_MAX_PHNUM)
		return boot_err(err, errlen, -ENOEXEC, "%s: ELF has %u program headers (1 to %u expected)",
				name, elf->phnum, ELF_MAX_PHNUM);
	if (!buf_has(len, elf->phoff, (uint64_t)elf->phnum * elf->phentsize))
		return boot_err(err, errlen, -ENOEXEC, "%s: ELF program headers lie outside the file", name);
	return 0;
}

void elf_phdr(const uint8_t *buf, const struct elf_image *elf, unsigned int i,
	      struct elf_phdr *ph)
{
	const uint8_t *p = buf + elf->phoff + (uint64_t)i * elf->phentsize;

	if (elf->is64) {
		ph->type = get_le32(p);
		ph->offset = get_le64(p + 8);
		ph->vaddr = get_le64(p + 16);
		ph->paddr = get_le64(p + 24);
		ph->filesz = get_le64(p + 32);
		ph->memsz = get_le64(p + 40);
	} else {
		ph->type = get_le32(p);
		ph->offset = get_le32(p + 4);
		ph->vaddr = get_le32(p + 8);
		ph->paddr = get_le32(p + 12);
		ph->filesz = get_le32(p + 16);
		ph->memsz = get_le32(p + 20);
	}
}

int elf_check_segment(struct guest_mem *gm, const struct elf_phdr *ph, uint64_t file_len,
		      unsigned int i, const char *name, char *err, size_t errlen)
{
	if (ph->filesz > ph->memsz || !buf_has(file_len, ph->offset, ph->filesz))
		return boot_err(err, errlen, -ENOEXEC,
				"%s: ELF segment %u (offset 0x%llx, %llu bytes) lies outside the file or exceeds its memory size",
				name, i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz);
	if (ph->paddr < LAYOUT_HIGH_RAM || !gm_ptr(gm, ph->paddr, ph->memsz))
		return boot_err(err, errlen, -ENOEXEC,
				"%s: ELF segment %u at 0x%llx (%llu bytes) is not in guest RAM above 1 MiB",
				name, i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
	return 0;
}

int boot_check_range(struct guest_mem *gm, uint64_t addr, uint64_t len,
		     const struct boot_regions *used, const struct boot_region **hit)
{
	unsigned int i;

	if (!gm_ptr(gm, addr, len))
		return -EFAULT;
	for (i = 0; i < used->n; i++) {
		const struct boot_region *r = &used->r[i];

		if (addr < r->end && r->start < addr + len) {
			*hit = r;
			return -EEXIST;
		}
	}
	return 0;
}

static int check_low_segment(struct guest_mem *gm, const struct elf_phdr *ph, uint64_t file_len,
			     unsigned int i, const struct boot_regions *used,
			     const char *name, char *err, size_t errlen)
{
	const struct boot_region *hit = NULL;
	int ret;

	if (ph->filesz > ph->memsz || !buf_has(file_len, ph->offset, ph->filesz))
		return elf_check_segment(gm, ph, file_len, i, name, err, errlen);
	ret = boot_check_range(gm, ph->paddr, ph->memsz, used, &hit);
	if (ret == -EFAULT)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: ELF segment %u at 0x%llx (%llu bytes) is not in guest RAM",
				name, i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz);
	if (ret)
		return boot_err(err, errlen, -ENOEXEC,
				"%s: ELF segment %u [0x%llx, 0x%llx) overlaps %s at [0x%llx, 0x%llx), which vmm writes there; link the guest elsewhere",
				name, i, (unsigned long long)ph->paddr,
				(unsigned long long)(ph->paddr + ph->memsz), hit->what,
				(unsigned long long)hit->start, (unsigned long long)hit->end);
	return 0;
}

static int load_segments(struct guest_mem *gm, const uint8_t *buf, size_t len,
			 const struct elf_image *elf, const struct boot_regions *used,
			 uint64_t *end, const char *name, char *err, size_t errlen)
{
	struct elf_phdr ph;
	unsigned int i, loads = 0;
	int ret;

	*end = 0;
	/* check everything first, so a bad segment leaves guest RAM untouched */
	for (i = 0; i < elf->phnum; i++) {
		elf_phdr(buf, elf, i, &ph);
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (used)
			ret = check_low_segment(gm, &ph, len, i, used, name, err, errlen);
		else
			ret = elf_check_segment(gm, &ph, len, i, name, err, errlen);
		if (ret)
			return -ENOEXEC;
		if (ph.paddr + ph.memsz > *end)
			*end = ph.paddr + ph.memsz;
		loads++;
	}
	if (!loads)
		return boot_err(err, errlen, -ENOEXEC, "%s: ELF has no loadable segment", name);
	for (i = 0; i < elf->phnum; i++) {
		elf_phdr(buf, elf, i, &ph);
		if (ph.type != PT_LOAD || !ph.memsz)
			continue;
		if (boot_copy(gm, ph.paddr, buf + ph.offset, ph.filesz, ph.memsz - ph.filesz))
			return boot_err(err, errlen, -EFAULT,
					"%s: ELF segment %u at 0x%llx (%llu bytes) cannot be written to guest RAM",
					name, i, (unsigned long long)ph.paddr,
					(unsigned long long)ph.memsz);
	}
	return 0;
}

int elf_load(struct guest_mem *gm, const uint8_t *buf, size_t len,
	     const struct elf_image *elf, uint64_t *end,
	     const char *name, char *err, size_t errlen)
{
	return load_segments(gm, buf, len, elf, NULL, end, name, err, errlen);
}

int elf_load_low(struct guest_mem *gm, const uint8_t *buf, size_t len,
		 const struct elf_image *elf, const struct boot_regions *used,
		 uint64_t *end, const char *name, char *err, size_t errlen)
{
	return load_segments(gm, buf, len, elf, used, end, name, err, errlen);
}
