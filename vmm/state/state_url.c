// SPDX-License-Identifier: MIT
/* file:///DIR[,memory=copy][,clock=wall] (state_url.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "state_url.h"

int vm_state_url_parse(const char *url, bool restore, struct vm_state_url *u,
		       char *err, size_t errlen)
{
	const char *p, *comma;
	size_t n;

	memset(u, 0, sizeof(*u));
	u->memory = MEM_FILE_MAP;
	u->clock = VM_CLOCK_CONTINUE;
	if (strncmp(url, "file://", 7) || url[7] != '/') {
		snprintf(err, errlen, "'%s' is not file:///DIR (an absolute directory path)", url);
		return -EINVAL;
	}
	p = url + 7;
	comma = strchr(p, ',');
	n = comma ? (size_t)(comma - p) : strlen(p);
	if (n > VM_STATE_PATH_MAX) {
		snprintf(err, errlen, "'%.64s...': the directory path is too long", url);
		return -EINVAL;
	}
	memcpy(u->dir, p, n);
	u->dir[n] = '\0';
	while (comma) {
		p = comma + 1;
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (restore && n == 11 && !strncmp(p, "memory=copy", n))
			u->memory = MEM_FILE_COPY;
		else if (restore && n == 10 && !strncmp(p, "memory=map", n))
			u->memory = MEM_FILE_MAP;
		else if (restore && n == 10 && !strncmp(p, "clock=wall", n))
			u->clock = VM_CLOCK_WALL;
		else if (restore && n == 14 && !strncmp(p, "clock=continue", n))
			u->clock = VM_CLOCK_CONTINUE;
		else {
			snprintf(err, errlen, "'%.*s' is not an option here%s", (int)n, p,
				 restore ? " (memory=map|copy, clock=continue|wall)" : "");
			return -EINVAL;
		}
	}
	return 0;
}
