// SPDX-License-Identifier: MIT
/*
 * Migration page sections (state/mig_pages.c): data and zero pages land
 * in guest memory; a page outside RAM, straddling a region's end, an
 * unknown kind or a bad count is refused with a message and nothing past
 * it written.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "state/mig_pages.h"

static uint8_t ram[8 * 4096] __attribute__((aligned(4096)));
static struct guest_mem gm;

static void setup(void)
{
	memset(&gm, 0, sizeof(gm));
	memset(ram, 0x55, sizeof(ram));
	cr_assert_eq(gm_add_region(&gm, 0x10000, sizeof(ram), ram), 0);
}

TestSuite(mig_pages, .init = setup);

/* One pages section of n entries: words[i], data pages filled with fill + i. */
static void stream(struct state_membuf *m, uint32_t n, const uint64_t *words, uint8_t fill)
{
	struct state_writer w;
	uint8_t page[4096];
	uint32_t i;

	memset(m, 0, sizeof(*m));
	state_writer_init(&w, "migration stream", state_mem_write, m);
	cr_assert_eq(state_write_header(&w, STATE_F_MIGRATION), 0);
	cr_assert_eq(state_begin(&w, STATE_SEC_MIG_PAGES, 1, STATE_SECF_REQUIRED), 0);
	state_put_u32(&w, n);
	for (i = 0; i < n; i++) {
		state_put_u64(&w, words[i]);
		if (!(words[i] & 0xfff)) {
			memset(page, fill + i, sizeof(page));
			state_put_bytes(&w, page, sizeof(page));
		}
	}
	cr_assert_eq(state_end(&w), 0);
	cr_assert_eq(state_write_end(&w), 0);
	state_writer_free(&w);
}

static int parse(struct state_membuf *m, uint64_t *pages, char *err)
{
	struct state_reader r;
	struct state_header h;
	int ret;

	state_reader_init(&r, "migration stream", state_mem_read, m, &mig_pages_desc, 1);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1)
		ret = mig_pages_parse(&r, &gm, pages);
	strcpy(err, ret ? state_reader_error(&r) : "");
	state_reader_free(&r);
	return ret;
}

Test(mig_pages, data_and_zero_pages)
{
	const uint64_t words[] = { 0x10000, 0x12000 | MIG_PAGE_ZERO, 0x17000 };
	struct state_membuf m;
	uint64_t pages = 0;
	char err[256];

	stream(&m, 3, words, 0xa0);
	cr_assert_eq(parse(&m, &pages, err), 0, "%s", err);
	cr_assert_eq(pages, 3);
	cr_assert_eq(ram[0], 0xa0);
	cr_assert_eq(ram[4095], 0xa0);
	cr_assert_eq(ram[4096], 0x55, "a page not in the stream was touched");
	cr_assert_eq(ram[2 * 4096], 0);
	cr_assert_eq(ram[3 * 4096 - 1], 0);
	cr_assert_eq(ram[7 * 4096], 0xa2);
	state_membuf_free(&m);
}

Test(mig_pages, hostile_entries_refused)
{
	static const struct { uint64_t word; const char *msg; } cases[] = {
		{ 0x0, "not guest RAM" },		/* below the region */
		{ 0x18000, "not guest RAM" },		/* just past its end */
		{ 0xfffffffffffff000ULL, "not guest RAM" },
		{ 0x10000 | 2, "unknown kind" },
	};
	struct state_membuf m;
	uint64_t pages = 0;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		stream(&m, 1, &cases[i].word, 0);
		cr_assert_eq(parse(&m, &pages, err), -EINVAL, "case %zu", i);
		cr_assert(strstr(err, cases[i].msg), "case %zu: %s", i, err);
		state_membuf_free(&m);
	}
	stream(&m, 0, NULL, 0);
	cr_assert_eq(parse(&m, &pages, err), -EINVAL);
	cr_assert(strstr(err, "0 pages"), "%s", err);
	state_membuf_free(&m);
	cr_assert_eq(pages, 0);
}
