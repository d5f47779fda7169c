/* SPDX-License-Identifier: MIT */
/*
 * Device state round trips for unit tests: a save function writes one
 * device section (header + section + END) into a memory stream, and a
 * restore function reads it back as the orchestrator would.  Header-only.
 */
#ifndef VMM_DEV_STATE_HELPER_H
#define VMM_DEV_STATE_HELPER_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "devices/devlist.h"
#include "state/stream.h"

#define DSH_TYPE	STATE_SEC_DEVICE_FIRST

typedef int (*dsh_save_fn)(void *obj, struct state_writer *w);
typedef int (*dsh_restore_fn)(void *obj, struct state_reader *r);

static char dsh_err[STATE_ERR_LEN] __attribute__((unused));

/* Saves obj into m (a fresh membuf).  Returns the save function's result. */
static inline int dsh_save(struct state_membuf *m, dsh_save_fn fn, void *obj)
{
	struct state_writer w;
	int ret;

	memset(m, 0, sizeof(*m));
	state_writer_init(&w, "test stream", state_mem_write, m);
	cr_assert_eq(state_write_header(&w, 0), 0);
	cr_assert_eq(state_begin(&w, DSH_TYPE, 1, STATE_SECF_REQUIRED), 0);
	ret = fn(obj, &w);
	snprintf(dsh_err, sizeof(dsh_err), "%s", state_writer_error(&w));
	if (!ret) {
		cr_assert_eq(state_end(&w), 0, "%s", state_writer_error(&w));
		cr_assert_eq(state_write_end(&w), 0);
	}
	state_writer_free(&w);
	return ret;
}

/* Restores obj from m; 0 or -errno, the reader's message in dsh_err. */
static inline int dsh_restore(struct state_membuf *m, dsh_restore_fn fn, void *obj)
{
	struct state_section_desc d = {
		.type = DSH_TYPE, .name = "test-device", .max_version = 1,
		.max_len = DEVICE_STATE_MAX,
	};
	struct state_header h;
	struct state_reader r;
	int ret;

	m->pos = 0;
	state_reader_init(&r, "test stream", state_mem_read, m, &d, 1);
	cr_assert_eq(state_read_header(&r, &h), 0);
	cr_assert_eq(state_next_section(&r), 1, "%s", state_reader_error(&r));
	ret = fn(obj, &r);
	if (!ret)
		ret = state_section_done(&r);
	snprintf(dsh_err, sizeof(dsh_err), "%s", state_reader_error(&r));
	state_reader_free(&r);
	return ret;
}

/* Expects the restore of m to fail with -EINVAL / -EBADMSG and a message holding `what`. */
#define dsh_refused(m, fn, obj, what) do { \
	int _ret = dsh_restore((m), (fn), (obj)); \
	cr_assert(_ret == -EINVAL || _ret == -EBADMSG, "restore returned %d", _ret); \
	cr_assert(strstr(dsh_err, (what)), "message \"%s\" does not name \"%s\"", dsh_err, (what)); \
} while (0)

#endif
