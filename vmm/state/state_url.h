/* SPDX-License-Identifier: MIT */
/*
 * Where a snapshot goes or comes from: file:///DIR, and for a restore the
 * options ,memory=map|copy and ,clock=continue|wall (docs/snapshot.md).
 * Pure; unit-tested (tests/unit/test_api_state.c).
 */
#ifndef VMM_STATE_STATE_URL_H
#define VMM_STATE_STATE_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "mem_file.h"
#include "vm_kvm_state.h"

#define VM_STATE_PATH_MAX	4000

/* A restore source or snapshot destination: file:///DIR[,memory=copy][,clock=wall] */
struct vm_state_url {
	char dir[VM_STATE_PATH_MAX + 1];
	enum mem_file_mode memory;	/* memory=map (default) | copy */
	enum vm_clock_policy clock;	/* clock=continue (default) | wall */
};

/* Pure.  restore: the options are allowed.  0 or -EINVAL with err. */
int vm_state_url_parse(const char *url, bool restore, struct vm_state_url *u,
		       char *err, size_t errlen);

#endif
