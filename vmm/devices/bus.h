/* SPDX-License-Identifier: MIT */
/*
 * One bus type for both port I/O and MMIO (struct vm has one of each).
 *
 * A device registers a range [base, base+len) with a const ops table and an
 * opaque pointer; an access reaches it as an OFFSET into its range, never as
 * an absolute address.  Overlapping ranges are refused with -EEXIST.
 *
 * Handlers run on vCPU threads, possibly several at once: a device that has
 * state protects it with its own lock.  The bus lock is held only while the
 * range is looked up, never while a handler runs, so a handler may
 * (un)register ranges (PCI BAR moves) without deadlock.  Ranges are never
 * freed while the VM runs, only at bus_destroy.
 */
#ifndef VMM_BUS_H
#define VMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct bus_dev_ops {
	/* len is 1, 2, 4 or 8; data is little-endian, len bytes. */
	void (*read)(void *opaque, uint64_t offset, void *data, unsigned int len);
	void (*write)(void *opaque, uint64_t offset, const void *data, unsigned int len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_dev_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;		/* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;
	struct bus_range *ranges;	/* sorted by base */
	unsigned int nr, cap;
};

int bus_init(struct bus *bus, const char *name);
void bus_destroy(struct bus *bus);

/* 0, -EINVAL (empty or overflowing range), -EEXIST (overlap), -ENOMEM. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_dev_ops *ops, void *opaque, const char *name);
/* Removes the range that starts at base with this opaque: 0 or -ENOENT. */
int bus_unregister(struct bus *bus, uint64_t base, void *opaque);

/*
 * Dispatches an access.  Returns 0 when a device handled it, -ENOENT when no
 * range covers addr (reads then see all-ones, as on real hardware), -EINVAL
 * when the access straddles the end of a range.
 */
int bus_access(struct bus *bus, uint64_t addr, void *data, unsigned int len, bool is_write);

/* Name of the range covering addr, or NULL (for logs and crash reports). */
const char *bus_name_at(struct bus *bus, uint64_t addr);

#endif
