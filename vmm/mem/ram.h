/* SPDX-License-Identifier: MIT */
/* Host memory for guest RAM (ram.c). */
#ifndef VMM_MEM_RAM_H
#define VMM_MEM_RAM_H

#include <stdint.h>

#define RAM_ALIGN	(2ULL << 20)

/*
 * Anonymous, private, unreserved memory of size bytes, RAM_ALIGN aligned,
 * huge pages requested; free it with munmap(p, size).  MAP_FAILED (errno
 * set by mmap) on failure.
 */
void *ram_map(uint64_t size);

#endif
