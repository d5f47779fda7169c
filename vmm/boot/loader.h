/* SPDX-License-Identifier: MIT */
/*
 * Internal to vmm/boot: helpers shared by the protocol loaders.
 * Everything read from a kernel file is untrusted: lengths and offsets are
 * checked against the buffer before use, guest addresses through gm_ptr().
 */
#ifndef VMM_BOOT_LOADER_H
#define VMM_BOOT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "boot/boot.h"

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

/* True when [off, off+len) lies inside a buffer of size total (no overflow). */
static inline bool buf_has(size_t total, uint64_t off, uint64_t len)
{
	return off <= total && len <= total - off;
}

/* Writes "fmt..." into err and returns ret (a negative errno). */
int boot_err(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The cmdline boot_load passes: in->cmdline or the default. */
const char *boot_cmdline(const struct boot_input *in);

/*
 * Copies the initrd page-aligned to the top of low RAM, below limit_end and at
 * or above kernel_end.  *addr gets its guest address.
 */
int boot_place_initrd(struct guest_mem *gm, const struct boot_input *in,
		      uint64_t kernel_end, uint64_t limit_end, uint64_t *addr,
		      char *err, size_t errlen);

/*
 * Unpacks the initrd on the host (initrd_unpack) into guest RAM above
 * kernel_end (2 MiB aligned), below limit_end and the end of low RAM, in at
 * most a quarter of guest RAM.  0: *addr and *len say where; 1: not
 * possible (logged), place the file with boot_place_initrd.
 */
#define INITRD_ALIGN	(2ULL << 20)
int boot_place_initrd_unpacked(struct guest_mem *gm, const struct boot_input *in,
			       uint64_t kernel_end, uint64_t limit_end, uint64_t *addr,
			       size_t *len);

/* A guest-physical range [start, end) vmm fills itself, and what it holds. */
struct boot_region {
	uint64_t start, end;
	const char *what;
};

struct boot_regions {
	const struct boot_region *r;
	unsigned int n;
};

/*
 * Checks that [addr, addr + len) lies in guest RAM and misses every region
 * of used.  0; -EFAULT (not in RAM); -EEXIST, *hit = the first region it
 * overlaps.
 */
int boot_check_range(struct guest_mem *gm, uint64_t addr, uint64_t len,
		     const struct boot_regions *used, const struct boot_region **hit);

/* What vmm writes below 1 MiB for a 32-bit protected-mode entry (multiboot). */
extern const struct boot_regions boot_low_used_prot32;

/* Copies a NUL-terminated string to gpa; -E2BIG if longer than max - 1. */
int boot_put_string(struct guest_mem *gm, uint64_t gpa, const char *s, size_t max);
/*
 * Copies len bytes of src to gpa and zeroes zero_len bytes after them (bss),
 * all or nothing: 0, or -EFAULT with guest RAM untouched if any byte of
 * [gpa, gpa + len + zero_len) is outside one RAM region.
 */
int boot_copy(struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len,
	      uint64_t zero_len);

/* ---- ELF (elf.c) ---- */
struct elf_image {
	bool is64;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	unsigned int phnum;
	unsigned int phentsize;
};

struct elf_phdr {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

#define PT_LOAD		1
#define PT_NOTE		4

/* 1 if buf starts with the ELF magic, else 0. */
bool elf_is_elf(const uint8_t *buf, size_t len);
/* Parses and checks the ELF header and program header table. 0 or -ENOEXEC (err written). */
int elf_parse(const uint8_t *buf, size_t len, struct elf_image *elf,
	      const char *name, char *err, size_t errlen);
/* Program header i (i < elf->phnum), already bounds-checked by elf_parse. */
void elf_phdr(const uint8_t *buf, const struct elf_image *elf, unsigned int i,
	      struct elf_phdr *ph);
/*
 * One PT_LOAD segment of a file of file_len bytes: inside the file, no
 * larger there than in memory, and in guest RAM at or above 1 MiB.
 * 0 or -ENOEXEC (err names segment i of name).
 */
int elf_check_segment(struct guest_mem *gm, const struct elf_phdr *ph, uint64_t file_len,
		      unsigned int i, const char *name, char *err, size_t errlen);
/*
 * Checks every PT_LOAD segment (inside the file, inside RAM at or above
 * 1 MiB), then copies them to p_paddr and zeroes their bss.  *end gets the
 * highest segment end.
 */
int elf_load(struct guest_mem *gm, const uint8_t *buf, size_t len,
	     const struct elf_image *elf, uint64_t *end,
	     const char *name, char *err, size_t errlen);
/*
 * elf_load for a protocol that lets segments lie below 1 MiB: a segment may
 * go anywhere in guest RAM that misses every region of used (what vmm
 * itself writes there for this protocol); the error names the region hit.
 */
int elf_load_low(struct guest_mem *gm, const uint8_t *buf, size_t len,
		 const struct elf_image *elf, const struct boot_regions *used,
		 uint64_t *end, const char *name, char *err, size_t errlen);

/* ---- host-side unpacking of a bzImage (unpack.c) ---- */
/* The compressions the kernel's build and decoders know, by their magic. */
enum boot_pack { PK_NONE, PK_GZIP, PK_XZ, PK_LZMA, PK_LZ4, PK_ZSTD };
enum boot_pack boot_pack_kind(const uint8_t *p, size_t len);
extern const char *const boot_pack_name[];	/* "gzip", ...; "unknown" for PK_NONE */
/*
 * Decodes a bzImage payload (gzip, xz, lzma, lz4 legacy or zstd stream +
 * u32 size trailer, *size) in chunks passed in order to sink; where
 * direct (may be NULL) returns a place for the next bytes, lz4 blocks are
 * decoded there and sink gets buf NULL (the first block's head is decoded
 * ahead and passed to direct, which may need it to answer).  0 (*kind
 * names the format), 1 if the format is not one of those, -EFBIG if the
 * trailer says more than max, -EINVAL if corrupt or truncated, -ENOMEM, or
 * what sink returned.  The caller checks the total against *size.
 */
int boot_unpack_payload(const uint8_t *payload, size_t len, size_t max,
			int (*sink)(void *ctx, const uint8_t *buf, size_t n),
			uint8_t *(*direct)(void *ctx, size_t want, const uint8_t *head, size_t headlen),
			void *ctx, size_t *size, const char **kind);
/*
 * Unpacks the payload of the protected-mode kernel pm (klen bytes) and
 * loads the vmlinux ELF inside at its physical addresses.  0: loaded,
 * *entry = its 64-bit entry (startup_64), *end = end of its segments, why =
 * the format.  1: not possible, why says why (the caller boots the bzImage
 * with its own decompressor; guest RAM may hold partial writes).
 */
int bzimage_load_unpacked(struct guest_mem *gm, const uint8_t *pm, size_t klen,
			  uint32_t payload_off, uint32_t payload_len,
			  uint64_t *entry, uint64_t *end, char *why, size_t whylen);

/* ---- host-side unpacking of an initramfs (initrd.c) ---- */
/*
 * Writes to out (cap bytes) the uncompressed cpio stream the kernel would
 * make of the initramfs in (newc archives, plain or gzip/zstd/xz/lzma
 * compressed, zero padding between).  0: *outlen bytes, why = the last
 * compression seen.  1: not possible, why says why (hand the guest the
 * file as it is; out may hold partial writes).
 */
int initrd_unpack(const uint8_t *in, size_t len, uint8_t *out, size_t cap,
		  size_t *outlen, char *why, size_t whylen);

/* ---- the protocols: each returns 1 "not mine", 0 loaded, or -errno ---- */
int boot_flat(struct guest_mem *gm, const struct boot_input *in,
	      struct boot_entry *entry, char *err, size_t errlen);
int boot_bzimage(struct guest_mem *gm, const struct boot_input *in,
		 struct boot_entry *entry, char *err, size_t errlen);
int boot_multiboot(struct guest_mem *gm, const struct boot_input *in,
		   struct boot_entry *entry, char *err, size_t errlen);
int boot_pvh(struct guest_mem *gm, const struct boot_input *in,
	     struct boot_entry *entry, char *err, size_t errlen);

#endif
