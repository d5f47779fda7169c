// SPDX-License-Identifier: MIT
/*
 * The sparse memory file on synthetic guest memory: zero pages become
 * holes, both restore modes give back the same bytes, a wrong size is
 * refused.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>
#include <sys/stat.h>

#include "mem/guest_mem.h"
#include "state/mem_file.h"
#include "state/stream.h"

#define LOW_SIZE	(4ULL << 20)
#define HIGH_SIZE	(1ULL << 20)

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert_neq(p, MAP_FAILED);
	return p;
}

static void make_gm(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	cr_assert_eq(gm_add_region(gm, 0, LOW_SIZE, anon(LOW_SIZE)), 0);
	cr_assert_eq(gm_add_region(gm, 1ULL << 32, HIGH_SIZE, anon(HIGH_SIZE)), 0);
}

static void free_gm(struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++)
		munmap(gm->regions[i].hva, gm->regions[i].size);
}

/* A few scattered non-zero pages; the last page of each region too. */
static void fill(struct guest_mem *gm)
{
	uint8_t *low = gm->regions[0].hva, *high = gm->regions[1].hva;

	memset(low + 4096 * 3, 0x11, 4096);
	low[4096 * 100 + 17] = 0x22;
	low[LOW_SIZE - 1] = 0x33;
	memset(high, 0x44, 2 * 4096);
	high[HIGH_SIZE - 4096] = 0x55;
}

static int tmpfile_fd(void)
{
	char path[] = "/tmp/test_mem_file_XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

Test(mem_file, zero_page_detection)
{
	static uint64_t page[512];

	cr_assert(mem_file_page_is_zero(page));
	page[511] = 1ULL << 63;
	cr_assert_not(mem_file_page_is_zero(page));
	page[511] = 0;
	page[0] = 1;
	cr_assert_not(mem_file_page_is_zero(page));
}

Test(mem_file, sparse_and_round_trip_both_modes)
{
	struct guest_mem gm, back;
	struct stat st;
	int fd = tmpfile_fd(), mode;

	make_gm(&gm);
	fill(&gm);
	cr_assert_eq(mem_file_save(fd, "t.mem", &gm), 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, LOW_SIZE + HIGH_SIZE);
	/* 6 data pages: allow filesystem slack, but far below the 5 MiB size */
	cr_assert_lt((uint64_t)st.st_blocks * 512, 256 * 1024, "%llu bytes allocated",
		     (unsigned long long)st.st_blocks * 512);
	cr_assert_geq((uint64_t)st.st_blocks * 512, 6 * 4096);

	for (mode = MEM_FILE_MAP; mode <= MEM_FILE_COPY; mode++) {
		make_gm(&back);
		/* dirty destination: holes must come back as zeros */
		memset(back.regions[0].hva, 0xee, LOW_SIZE);
		cr_assert_eq(mem_file_restore(fd, "t.mem", &back, mode, false), 0);
		cr_assert_eq(memcmp(back.regions[0].hva, gm.regions[0].hva, LOW_SIZE), 0, "mode %d", mode);
		cr_assert_eq(memcmp(back.regions[1].hva, gm.regions[1].hva, HIGH_SIZE), 0, "mode %d", mode);
		/* a private mapping: writing the guest does not write the file */
		memset(back.regions[0].hva + 4096 * 3, 0x99, 4096);
		free_gm(&back);
	}
	make_gm(&back);
	cr_assert_eq(mem_file_restore(fd, "t.mem", &back, MEM_FILE_COPY, true), 0);
	cr_assert_eq(memcmp(back.regions[0].hva, gm.regions[0].hva, LOW_SIZE), 0);
	free_gm(&back);
	free_gm(&gm);
	close(fd);
}

Test(mem_file, size_mismatch_refused)
{
	struct guest_mem gm, small;
	uint8_t *before;
	int fd = tmpfile_fd();

	make_gm(&gm);
	fill(&gm);
	cr_assert_eq(mem_file_save(fd, "t.mem", &gm), 0);
	memset(&small, 0, sizeof(small));
	cr_assert_eq(gm_add_region(&small, 0, LOW_SIZE, anon(LOW_SIZE)), 0);
	before = small.regions[0].hva;
	before[0] = 0x77;
	cr_assert_eq(mem_file_restore(fd, "t.mem", &small, MEM_FILE_MAP, false), -EINVAL);
	cr_assert_eq(before[0], 0x77, "memory changed before the size check");
	free_gm(&small);
	/* a file cut short is refused too */
	cr_assert_eq(ftruncate(fd, LOW_SIZE), 0);
	cr_assert_eq(mem_file_restore(fd, "t.mem", &gm, MEM_FILE_COPY, false), -EINVAL);
	free_gm(&gm);
	close(fd);
}

Test(mem_file, save_replaces_old_contents)
{
	struct guest_mem gm;
	uint8_t junk[8192];
	struct stat st;
	int fd = tmpfile_fd();

	memset(junk, 0xaa, sizeof(junk));
	cr_assert_eq(pwrite(fd, junk, sizeof(junk), 4096 * 10), (ssize_t)sizeof(junk));
	make_gm(&gm);
	cr_assert_eq(mem_file_save(fd, "t.mem", &gm), 0);	/* all-zero guest */
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_blocks, 0);
	memset(gm.regions[0].hva, 0x5a, 4096);
	cr_assert_eq(mem_file_restore(fd, "t.mem", &gm, MEM_FILE_COPY, false), 0);
	cr_assert_eq(((uint8_t *)gm.regions[0].hva)[0], 0);
	cr_assert_eq(((uint8_t *)gm.regions[0].hva)[4096 * 10], 0);
	free_gm(&gm);
	close(fd);
}

Test(mem_file, unaligned_refused)
{
	static uint8_t buf[8192];
	int fd = tmpfile_fd();

	cr_assert_eq(mem_file_write_region(fd, "t.mem", 100, buf, 4096), -EINVAL);
	cr_assert_eq(mem_file_write_region(fd, "t.mem", 0, buf, 4095), -EINVAL);
	cr_assert_eq(mem_file_read_region(fd, "t.mem", 0, buf + 1, 4096, MEM_FILE_MAP, false),
		     -EINVAL);
	close(fd);
}

static const struct state_section_desc mem_desc[] = {
	{ STATE_SEC_MEMORY, "memory", 1, 4096 },
};

static int check_layout(const struct guest_mem *saved, const char *name,
			const struct guest_mem *now, char *err)
{
	struct state_membuf m = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	char file[MEM_FILE_NAME_MAX + 1];
	int ret;

	state_writer_init(&w, "state file", state_mem_write, &m);
	state_write_header(&w, 0);
	cr_assert_eq(mem_file_write_layout(&w, saved, name), 0);
	state_write_end(&w);
	state_writer_free(&w);
	state_reader_init(&r, "state file", state_mem_read, &m, mem_desc, 1);
	ret = state_read_header(&r, &h);
	if (!ret)
		ret = state_next_section(&r) == 1 ? mem_file_check_layout(&r, now, file) : -EIO;
	if (!ret)
		cr_assert_str_eq(file, name);
	strcpy(err, state_reader_error(&r));
	state_reader_free(&r);
	state_membuf_free(&m);
	return ret;
}

Test(mem_file, layout_section)
{
	static uint8_t a[8192], b[4096];
	struct guest_mem gm, other;
	char err[STATE_ERR_LEN];

	memset(&gm, 0, sizeof(gm));
	gm_add_region(&gm, 0, sizeof(a), a);
	gm_add_region(&gm, 1ULL << 32, sizeof(b), b);
	cr_assert_eq(check_layout(&gm, "memory", &gm, err), 0, "%s", err);
	cr_assert_eq(check_layout(&gm, "../etc/passwd", &gm, err), -EINVAL);
	cr_assert(strstr(err, "is not a plain file name"), "%s", err);
	cr_assert_eq(check_layout(&gm, "..", &gm, err), -EINVAL);

	memset(&other, 0, sizeof(other));
	gm_add_region(&other, 0, sizeof(b), b);
	cr_assert_eq(check_layout(&gm, "memory", &other, err), -EINVAL);
	cr_assert_str_eq(err, "state file: section 0x0003 (memory): 2 RAM regions saved, the VM has 1 (different memory size)");
	gm_add_region(&other, 1ULL << 32, sizeof(b), a);
	cr_assert_eq(check_layout(&gm, "memory", &other, err), -EINVAL);
	cr_assert(strstr(err, "RAM region 0: saved 0 MiB at 0x0, the VM has 0 MiB at 0x0"), "%s", err);
}
