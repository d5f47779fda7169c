// SPDX-License-Identifier: MIT
/*
 * A small set-associative, write-through cache of one-cluster metadata
 * tables (L2 tables, refcount blocks), keyed by host offset.  Callers hold
 * the image mutex.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

#define QCOW2_CACHE_WAYS 4

int qcow2_cache_init(struct qcow2_cache *c, unsigned int entries, uint32_t cluster_size)
{
	unsigned int nsets = 1;
	uint8_t *mem;

	while (nsets * QCOW2_CACHE_WAYS < entries)
		nsets <<= 1;
	c->nsets = nsets;
	c->ways = QCOW2_CACHE_WAYS;
	c->tick = 0;
	c->e = calloc((size_t)nsets * c->ways, sizeof(*c->e));
	mem = calloc((size_t)nsets * c->ways, cluster_size);
	if (!c->e || !mem) {
		free(c->e);
		free(mem);
		c->e = NULL;
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < nsets * c->ways; i++)
		c->e[i].data = mem + (size_t)i * cluster_size;
	return 0;
}

void qcow2_cache_free(struct qcow2_cache *c)
{
	if (c->e)
		free(c->e[0].data);
	free(c->e);
	c->e = NULL;
}

static struct qcow2_cache_entry *set_of(struct qcow2_cache *c, uint64_t off, uint32_t cbits)
{
	uint64_t idx = off >> cbits;

	idx ^= idx >> 17;
	return &c->e[(idx & (c->nsets - 1)) * c->ways];
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
	for (unsigned int i = 0; i < c->nsets * c->ways; i++)
		if (c->e[i].offset == off)
			c->e[i].offset = 0;
}

/*
 * fresh: the table was just allocated; fill with zeros instead of reading
 * (the caller writes it).
 */
uint8_t *qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, bool fresh, int *ret)
{
	struct qcow2_cache_entry *s = set_of(c, off, q->h.cluster_bits), *victim = s;
	ssize_t n;

	for (unsigned int i = 0; i < c->ways; i++) {
		if (s[i].offset == off) {
			s[i].lru = ++c->tick;
			if (fresh)
				memset(s[i].data, 0, q->cluster_size);
			return s[i].data;
		}
		if (s[i].lru < victim->lru)
			victim = &s[i];
	}
	victim->offset = 0;
	if (fresh) {
		memset(victim->data, 0, q->cluster_size);
	} else {
		n = pread(q->fd, victim->data, q->cluster_size, (off_t)off);
		if (n < 0) {
			*ret = -errno;
			return NULL;
		}
		if ((size_t)n < q->cluster_size)	/* table at EOF, partly unwritten */
			memset(victim->data + n, 0, q->cluster_size - (size_t)n);
	}
	victim->offset = off;
	victim->lru = ++c->tick;
	return victim->data;
}
