// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

int bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	return -pthread_rwlock_init(&bus->lock, NULL);
}

void bus_destroy(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 const struct bus_dev_ops *ops, void *opaque, const char *name)
{
	unsigned int i, pos;
	int ret = 0;

	if (!len || base + len - 1 < base || !ops)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	for (pos = 0; pos < bus->nr && bus->ranges[pos].base < base; pos++)
		;
	/* only the neighbours can overlap a sorted, disjoint list */
	if (pos > 0) {
		const struct bus_range *prev = &bus->ranges[pos - 1];

		if (prev->base + prev->len - 1 >= base)
			ret = -EEXIST;
	}
	if (pos < bus->nr && bus->ranges[pos].base <= base + len - 1)
		ret = -EEXIST;
	if (ret)
		goto out;
	if (bus->nr == bus->cap) {
		unsigned int cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->ranges = r;
		bus->cap = cap;
	}
	for (i = bus->nr; i > pos; i--)
		bus->ranges[i] = bus->ranges[i - 1];
	bus->ranges[pos] = (struct bus_range){ base, len, ops, opaque, name };
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int bus_unregister(struct bus *bus, uint64_t base, void *opaque)
{
	unsigned int i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (i = 0; i < bus->nr; i++) {
		if (bus->ranges[i].base == base && bus->ranges[i].opaque == opaque) {
			memmove(&bus->ranges[i], &bus->ranges[i + 1],
				(bus->nr - i - 1) * sizeof(bus->ranges[0]));
			bus->nr--;
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

/* Caller holds the lock. Binary search over the sorted ranges. */
static const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_access(struct bus *bus, uint64_t addr, void *data, unsigned int len, bool is_write)
{
	const struct bus_range *found;
	struct bus_range r;

	pthread_rwlock_rdlock(&bus->lock);
	found = bus_find(bus, addr);
	if (found)
		r = *found;
	pthread_rwlock_unlock(&bus->lock);

	if (!found) {
		if (!is_write)
			memset(data, 0xff, len);
		return -ENOENT;
	}
	if (len > r.len - (addr - r.base)) {
		if (!is_write)
			memset(data, 0xff, len);
		return -EINVAL;
	}
	if (is_write) {
		if (r.ops->write)
			r.ops->write(r.opaque, addr - r.base, data, len);
	} else {
		if (r.ops->read)
			r.ops->read(r.opaque, addr - r.base, data, len);
		else
			memset(data, 0xff, len);
	}
	return 0;
}

const char *bus_name_at(struct bus *bus, uint64_t addr)
{
	const struct bus_range *r;
	const char *name = NULL;

	pthread_rwlock_rdlock(&bus->lock);
	r = bus_find(bus, addr);
	if (r)
		name = r->name;
	pthread_rwlock_unlock(&bus->lock);
	return name;
}
