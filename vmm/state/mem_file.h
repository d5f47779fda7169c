/* SPDX-License-Identifier: MIT */
/*
 * The sparse memory file of a snapshot: guest RAM regions back to back,
 * in struct guest_mem's region order, each at a page-aligned file offset
 * (the sum of the sizes before it).  A guest page that is all zero is a
 * hole, so a mostly idle 4 GiB guest takes little disk.  No header: the
 * state file's memory section records the layout, and the raw layout lets
 * restore mmap the file directly.
 *
 * Restore either maps each region MAP_PRIVATE|MAP_FIXED from the file over
 * the region's existing host mapping (lazy: pages fault in on first touch,
 * a write makes a private copy, the file is never modified), or copies the
 * data in (reading only the data extents, SEEK_DATA/SEEK_HOLE).  A file
 * whose size differs from the guest's RAM is refused before anything is
 * changed.
 */
#ifndef VMM_STATE_MEM_FILE_H
#define VMM_STATE_MEM_FILE_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

#define MEM_FILE_PAGE	4096ULL

enum mem_file_mode {
	MEM_FILE_MAP,	/* mmap MAP_PRIVATE: lazy, the default */
	MEM_FILE_COPY,	/* read everything in now: --restore ...,memory=copy */
};

/* True when the page at p (MEM_FILE_PAGE bytes) is all zero. */
bool mem_file_page_is_zero(const void *p);

/*
 * Writes size bytes at mem to fd at file offset off, leaving a hole for
 * each all-zero page (the file must hold no data in that range: a fresh
 * file).  off and size page-aligned.  0 or -errno (logged, naming name).
 */
int mem_file_write_region(int fd, const char *name, uint64_t off, const void *mem, uint64_t size);

/* Truncates fd to 0, writes every region of gm, sets the final size, fdatasync()s. */
int mem_file_save(int fd, const char *name, const struct guest_mem *gm);

/*
 * Fills size bytes at hva from fd at off.  MEM_FILE_MAP: hva must be page
 * aligned; the range is replaced by a private file mapping.  MEM_FILE_COPY:
 * data extents are read; holes are zeroed unless dst_zeroed (fresh
 * anonymous memory is already zero, and not touching it keeps it unbacked).
 */
int mem_file_read_region(int fd, const char *name, uint64_t off, void *hva, uint64_t size,
			 enum mem_file_mode mode, bool dst_zeroed);

/*
 * Restores every region of gm from fd.  The file size must equal
 * gm->ram_size, else -EINVAL with "memory file X holds N bytes, the VM has
 * M".  dst_zeroed as above.
 */
int mem_file_restore(int fd, const char *name, const struct guest_mem *gm,
		     enum mem_file_mode mode, bool dst_zeroed);

/*
 * The state file's memory section (STATE_SEC_MEMORY, version 1):
 *   u32 nr_regions, then per region u64 gpa, u64 size, u64 file offset;
 *   string: the memory file's name inside the snapshot directory.
 */
struct state_writer;
struct state_reader;
#define MEM_FILE_NAME_MAX	64
int mem_file_write_layout(struct state_writer *w, const struct guest_mem *gm, const char *file_name);
/*
 * Parses r's current memory section, checks that it describes exactly
 * gm's regions (same count, addresses, sizes, offsets back to back) and
 * a plain file name (no '/', not "." or ".."), into file_name
 * [MEM_FILE_NAME_MAX + 1]; ends the section.  -EINVAL with the mismatch
 * in r's message ("RAM region 0: saved 512 MiB at 0x0, the VM has 256 MiB at 0x0").
 */
int mem_file_check_layout(struct state_reader *r, const struct guest_mem *gm, char *file_name);

#endif
