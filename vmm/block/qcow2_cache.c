// SPDX-License-Identifier: MIT
/*
 * A small set-associative cache of one-cluster metadata tables (L2 tables,
 * refcount blocks), keyed by host offset.  Write-through, except L2 tables
 * marked dirty (entries waiting for a sync, see qcow2_meta.c): evicting one
 * commits first.  Callers hold the image mutex.
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
	c->ndirty = 0;
	c->e = calloc((size_t)nsets * c->ways, sizeof(*c->e));
	mem = qcow2_alloc_aligned((size_t)nsets * c->ways * cluster_size);
	if (mem)
		memset(mem, 0, (size_t)nsets * c->ways * cluster_size);
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

/* The cached table at host offset off, or NULL; no read, no LRU update. */
struct qcow2_cache_entry *qcow2_cache_find(struct qcow2 *q, struct qcow2_cache *c, uint64_t off)
{
	struct qcow2_cache_entry *s = set_of(c, off, q->h.cluster_bits);

	for (unsigned int i = 0; i < c->ways; i++)
		if (s[i].offset == off)
			return &s[i];
	return NULL;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, struct qcow2_cache_entry *en,
			    uint32_t boff, uint32_t blen)
{
	if (!en->dirty) {
		en->dirty = true;
		en->dlo = boff;
		en->dhi = boff + blen;
		c->ndirty++;
		return;
	}
	if (boff < en->dlo)
		en->dlo = boff;
	if (boff + blen > en->dhi)
		en->dhi = boff + blen;
}

void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off)
{
	for (unsigned int i = 0; i < c->nsets * c->ways; i++) {
		if (c->e[i].offset != off)
			continue;
		c->e[i].offset = 0;
		if (c->e[i].dirty)
			c->ndirty--;
		c->e[i].dirty = false;
	}
}

/*
 * fresh: the table was just allocated; fill with zeros instead of reading
 * (the caller writes it).
 */
uint8_t *qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, bool fresh, int *ret)
{
	struct qcow2_cache_entry *s = set_of(c, off, q->h.cluster_bits), *victim = s;
	ssize_t n;
	int r;

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
	if (victim->dirty) {
		r = qcow2_commit(q, false, false);
		if (r < 0) {
			*ret = r;
			return NULL;
		}
	}
	victim->offset = 0;
	if (fresh) {
		memset(victim->data, 0, q->cluster_size);
	} else {
		/* a table at EOF, partly unwritten, reads as zeros */
		n = qcow2_pread(q, victim->data, q->cluster_size, off);
		if (n < 0) {
			*ret = (int)n;
			return NULL;
		}
	}
	victim->offset = off;
	victim->lru = ++c->tick;
	return victim->data;
}
