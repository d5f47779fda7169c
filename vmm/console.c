// SPDX-License-Identifier: MIT
#include <errno.h>
#include <unistd.h>

#include "console.h"

#define CTRL_A	0x01

size_t console_escape_filter(struct console_escape *st, const uint8_t *in, size_t n,
			     uint8_t *out, bool *quit)
{
	size_t i, o = 0;

	*quit = false;
	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (st->pending) {
			st->pending = false;
			if (c == 'x' || c == 'X') {
				*quit = true;
				return o;
			}
			if (c == CTRL_A) {
				out[o++] = CTRL_A;
				continue;
			}
			/* unknown escape: pass both bytes, as typed */
			out[o++] = CTRL_A;
			out[o++] = c;
			continue;
		}
		if (c == CTRL_A) {
			st->pending = true;
			continue;
		}
		out[o++] = c;
	}
	return o;
}

int console_term_raw(struct console_term *t, int fd)
{
	struct termios raw;

	t->fd = fd;
	t->raw = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	cfmakeraw(&raw);
	/* keep output post-processing off too: the guest sends \r\n itself */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	t->raw = true;
	return 0;
}

void console_term_restore(struct console_term *t)
{
	if (t->raw) {
		tcsetattr(t->fd, TCSANOW, &t->saved);
		t->raw = false;
	}
}
