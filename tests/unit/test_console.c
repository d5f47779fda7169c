// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <string.h>

#include "console.h"

static size_t run(struct console_escape *st, const char *in, size_t n, char *out, bool *quit)
{
	return console_escape_filter(st, (const uint8_t *)in, n, (uint8_t *)out, quit);
}

Test(console, plain_bytes_pass)
{
	struct console_escape st = { 0 };
	char out[16];
	bool quit;

	cr_assert_eq(run(&st, "ls\r", 3, out, &quit), 3);
	cr_assert(!quit);
	cr_assert_eq(memcmp(out, "ls\r", 3), 0);
}

Test(console, ctrl_a_x_quits)
{
	struct console_escape st = { 0 };
	char out[16];
	bool quit;

	cr_assert_eq(run(&st, "ab\001xcd", 6, out, &quit), 2);
	cr_assert(quit);
}

Test(console, split_across_reads)
{
	struct console_escape st = { 0 };
	char out[16];
	bool quit;

	cr_assert_eq(run(&st, "a\001", 2, out, &quit), 1);
	cr_assert(!quit);
	cr_assert_eq(run(&st, "x", 1, out, &quit), 0);
	cr_assert(quit);
}

Test(console, ctrl_a_ctrl_a_sends_one)
{
	struct console_escape st = { 0 };
	char out[16];
	bool quit;

	cr_assert_eq(run(&st, "\001\001z", 3, out, &quit), 2);
	cr_assert(!quit);
	cr_assert_eq(memcmp(out, "\001z", 2), 0);
}

Test(console, unknown_escape_passes_both)
{
	struct console_escape st = { 0 };
	char out[16];
	bool quit;

	cr_assert_eq(run(&st, "\001", 1, out, &quit), 0);
	cr_assert_eq(run(&st, "c", 1, out, &quit), 2);	/* needs n + 1 room */
	cr_assert_eq(memcmp(out, "\001c", 2), 0);
	cr_assert(!quit);
}
