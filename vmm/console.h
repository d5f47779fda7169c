/* SPDX-License-Identifier: MIT */
/*
 * The host side of the guest console: terminal raw mode and the Ctrl-A
 * escape (Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A), as in QEMU.
 */
#ifndef VMM_CONSOLE_H
#define VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct console_escape {
	bool pending;	/* last byte was Ctrl-A */
};

/*
 * Filters n input bytes into out (room for n + 1 bytes: a Ctrl-A held from
 * the previous call may come out with this call's first byte).  Returns the number of
 * bytes for the guest; sets *quit when Ctrl-A x was typed (bytes after it
 * are dropped).
 */
size_t console_escape_filter(struct console_escape *st, const uint8_t *in, size_t n,
			     uint8_t *out, bool *quit);

struct console_term {
	int fd;
	bool raw;
	struct termios saved;
};

/* Puts fd in raw mode if it is a terminal; remembers how to restore it. */
int console_term_raw(struct console_term *t, int fd);
/* Restores the terminal; async-signal-safe, idempotent. */
void console_term_restore(struct console_term *t);

#endif
