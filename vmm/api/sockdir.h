/* SPDX-License-Identifier: MIT */
/*
 * Where named control sockets live, shared by vmm (which creates them) and
 * vmmctl (which looks for them), so the two can never disagree:
 * /run/vmm for root, else $XDG_RUNTIME_DIR/vmm.
 */
#ifndef VMM_API_SOCKDIR_H
#define VMM_API_SOCKDIR_H

#include <stddef.h>

/* 0, -ENOENT (no XDG_RUNTIME_DIR for a non-root user) or -ENAMETOOLONG. */
int api_socket_dir(char *buf, size_t len);

#endif
