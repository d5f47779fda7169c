// SPDX-License-Identifier: MIT
/*
 * The sparse memory file: see mem_file.h.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include "log.h"
#include "mem/guest_mem.h"
#include "mem_file.h"
#include "stream.h"

bool mem_file_page_is_zero(const void *p)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < MEM_FILE_PAGE / sizeof(*w); i += 4)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3])
			return false;
	return true;
}

static bool page_aligned(uint64_t v)
{
	return !(v & (MEM_FILE_PAGE - 1));
}

static int pwrite_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len > (1u << 30) ? (1u << 30) : len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int pread_all(int fd, uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, p, len > (1u << 30) ? (1u << 30) : len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENODATA;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int mem_file_write_region(int fd, const char *name, uint64_t off, const void *mem, uint64_t size)
{
	const uint8_t *base = mem;
	uint64_t pos = 0, run;
	int ret;

	if (!page_aligned(off) || !page_aligned(size) || off + size < off)
		return -EINVAL;
	while (pos < size) {
		/* skip zero pages: they stay holes */
		while (pos < size && mem_file_page_is_zero(base + pos))
			pos += MEM_FILE_PAGE;
		/* one write per run of non-zero pages */
		run = pos;
		while (run < size && !mem_file_page_is_zero(base + run))
			run += MEM_FILE_PAGE;
		if (run > pos) {
			ret = pwrite_all(fd, base + pos, run - pos, off + pos);
			if (ret < 0) {
				log_err("cannot write memory file %s at offset %llu: %s", name,
					(unsigned long long)(off + pos), strerror(-ret));
				return ret;
			}
		}
		pos = run;
	}
	return 0;
}

int mem_file_save(int fd, const char *name, const struct guest_mem *gm)
{
	uint64_t off = 0;
	unsigned int i;
	int ret;

	if (ftruncate(fd, 0) < 0)
		goto err_errno;
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		if (!page_aligned(r->size)) {
			log_err("memory file %s: RAM region %u size %llu is not page-aligned",
				name, i, (unsigned long long)r->size);
			return -EINVAL;
		}
		ret = mem_file_write_region(fd, name, off, r->hva, r->size);
		if (ret < 0)
			return ret;
		off += r->size;
	}
	/* trailing zero pages: the size says how much RAM there is */
	if (ftruncate(fd, off) < 0 || fdatasync(fd) < 0)
		goto err_errno;
	return 0;

err_errno:
	ret = -errno;
	log_err("cannot write memory file %s: %s", name, strerror(-ret));
	return ret;
}

/* Copies [off, off+size) in, reading only data extents where the filesystem tells them. */
static int copy_in(int fd, uint64_t off, uint8_t *dst, uint64_t size, bool dst_zeroed)
{
	uint64_t pos = 0, data, hole;
	off_t o;
	int ret;

	while (pos < size) {
		o = lseek(fd, off + pos, SEEK_DATA);
		if (o < 0 && errno == ENXIO) {
			data = size;			/* only a hole is left */
		} else if (o < 0) {
			/* no SEEK_DATA here: read everything */
			return pread_all(fd, dst + pos, size - pos, off + pos);
		} else {
			data = (uint64_t)o - off;
			if (data > size)
				data = size;
		}
		if (data > pos && !dst_zeroed)
			memset(dst + pos, 0, data - pos);
		if (data >= size)
			break;
		o = lseek(fd, off + data, SEEK_HOLE);
		if (o < 0)
			return -errno;
		hole = (uint64_t)o - off;
		if (hole > size)
			hole = size;
		if (hole <= data)
			return -EIO;
		ret = pread_all(fd, dst + data, hole - data, off + data);
		if (ret < 0)
			return ret;
		pos = hole;
	}
	return 0;
}

int mem_file_read_region(int fd, const char *name, uint64_t off, void *hva, uint64_t size,
			 enum mem_file_mode mode, bool dst_zeroed)
{
	void *p;
	int ret;

	if (!page_aligned(off) || !page_aligned(size) || off + size < off)
		return -EINVAL;
	if (mode == MEM_FILE_MAP) {
		if (!page_aligned((uintptr_t)hva))
			return -EINVAL;
		p = mmap(hva, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, off);
		if (p == MAP_FAILED) {
			ret = -errno;
			log_err("cannot map memory file %s (%llu bytes at offset %llu): %s", name,
				(unsigned long long)size, (unsigned long long)off, strerror(-ret));
			return ret;
		}
		return 0;
	}
	ret = copy_in(fd, off, hva, size, dst_zeroed);
	if (ret < 0)
		log_err("cannot read memory file %s at offset %llu: %s", name,
			(unsigned long long)off,
			ret == -ENODATA ? "file ends early" : strerror(-ret));
	return ret;
}

int mem_file_restore(int fd, const char *name, const struct guest_mem *gm,
		     enum mem_file_mode mode, bool dst_zeroed)
{
	uint64_t off = 0;
	struct stat st;
	unsigned int i;
	int ret;

	if (fstat(fd, &st) < 0) {
		ret = -errno;
		log_err("cannot stat memory file %s: %s", name, strerror(-ret));
		return ret;
	}
	if ((uint64_t)st.st_size != gm->ram_size) {
		log_err("memory file %s holds %llu bytes, the VM has %llu bytes of RAM (wrong or damaged snapshot)",
			name, (unsigned long long)st.st_size, (unsigned long long)gm->ram_size);
		return -EINVAL;
	}
	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		ret = mem_file_read_region(fd, name, off, r->hva, r->size, mode, dst_zeroed);
		if (ret < 0)
			return ret;
		off += r->size;
	}
	return 0;
}

int mem_file_write_layout(struct state_writer *w, const struct guest_mem *gm, const char *file_name)
{
	uint64_t off = 0;
	unsigned int i;

	state_begin(w, STATE_SEC_MEMORY, 1, STATE_SECF_REQUIRED);
	state_put_u32(w, gm->nr_regions);
	for (i = 0; i < gm->nr_regions; i++) {
		state_put_u64(w, gm->regions[i].gpa);
		state_put_u64(w, gm->regions[i].size);
		state_put_u64(w, off);
		off += gm->regions[i].size;
	}
	state_put_string(w, file_name);
	return state_end(w);
}

int mem_file_check_layout(struct state_reader *r, const struct guest_mem *gm, char *file_name)
{
	uint64_t gpa = 0, size = 0, off = 0, want_off = 0;
	uint32_t n = 0, i;

	if (state_get_u32(r, &n) < 0)
		return r->error;
	if (n != gm->nr_regions)
		return state_reader_fail(r, "%u RAM regions saved, the VM has %u (different memory size)",
					 n, gm->nr_regions);
	for (i = 0; i < n; i++) {
		const struct gm_region *g = &gm->regions[i];

		if (state_get_u64(r, &gpa) < 0 || state_get_u64(r, &size) < 0 ||
		    state_get_u64(r, &off) < 0)
			return r->error;
		if (gpa != g->gpa || size != g->size)
			return state_reader_fail(r,
				"RAM region %u: saved %llu MiB at 0x%llx, the VM has %llu MiB at 0x%llx",
				i, (unsigned long long)(size >> 20), (unsigned long long)gpa,
				(unsigned long long)(g->size >> 20), (unsigned long long)g->gpa);
		if (off != want_off)
			return state_reader_fail(r, "RAM region %u at file offset %llu, expected %llu",
						 i, (unsigned long long)off,
						 (unsigned long long)want_off);
		want_off += size;
	}
	if (state_get_string(r, file_name, MEM_FILE_NAME_MAX) < 0)
		return r->error;
	if (!file_name[0] || strchr(file_name, '/') || !strcmp(file_name, ".") ||
	    !strcmp(file_name, ".."))
		return state_reader_fail(r, "memory file name '%s' is not a plain file name",
					 file_name);
	return state_section_done(r);
}
