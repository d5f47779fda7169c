// SPDX-License-Identifier: MIT
/* The control sockets' directory (sockdir.h); linked into vmm and vmmctl. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "api/sockdir.h"

int api_socket_dir(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (geteuid() == 0)
		n = snprintf(buf, len, "/run/vmm");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/vmm", xdg);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
