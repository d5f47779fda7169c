// SPDX-License-Identifier: MIT
/*
 * vmm-img convert's copy loop.  A reader thread asks the input for its
 * block status (through the backing chain, so the output is flattened),
 * skips the runs that read as zeros and reads the data runs in large
 * chunks into a ring of buffers; the calling thread writes each chunk's
 * non-zero granules.  Reading the next chunk while writing this one keeps
 * both cores busy (both are copies through the page cache).
 *
 * Every chunk starts on a granule boundary (the output's cluster, or 4 KiB
 * for raw), so zero granules and compressed clusters line up.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img_copy.h"
#include "block/qcow2.h"

#define COPY_CHUNK	(2u << 20)
#define COPY_SLOTS	4
#define COPY_WRITEBACK	(32u << 20)

struct copy_slot {
	uint8_t *buf;		/* chunk bytes */
	uint64_t pos, n;
};

struct copy_ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct copy_slot slot[COPY_SLOTS];
	uint64_t head, tail;	/* chunks read, chunks written */
	bool eof;		/* the reader is done (err says how) */
	bool stop;		/* the writer failed: reader, stop */
	int err;
	struct blk_image *in;
	const struct conv_out *o;
	uint64_t chunk;
};

/* Zero test at memcmp's speed: byte 0 is zero and every byte equals the next. */
static bool all_zero(const uint8_t *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

/* qemu-img's progress: stdout, "    (NN.NN/100%)\r" each time it moves by 1%. */
static void progress_show(struct conv_out *o, uint64_t done, uint64_t total)
{
	double pct = total ? 100.0 * (double)done / (double)total : 100.0;

	if (!o->progress || (pct - o->shown < 1.0 && o->shown >= 0))
		return;
	o->shown = pct;
	printf("    (%.2f/100%%)\r", pct);
	fflush(stdout);
}

/*
 * Starts writing back what is dirty every COPY_WRITEBACK bytes, so that the
 * disk works while we copy and the one fdatasync at the end has little left.
 */
static void writeback_kick(struct conv_out *o, uint64_t n)
{
	o->unkicked += n;
	if (o->nosync || o->unkicked < COPY_WRITEBACK)
		return;
	o->unkicked = 0;
	sync_file_range(o->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);	/* a hint: errors come at the sync */
}

/*
 * Writes the non-zero granules of buf (n bytes of the disk at pos, pos a
 * multiple of the granule; buf has room for n rounded up to a granule): a
 * fresh output reads as zeros where nothing is written (raw: a hole; qcow2:
 * an unallocated cluster), so zeros cost nothing.
 */
static int write_runs(struct conv_out *o, uint8_t *buf, uint64_t n, uint64_t pos)
{
	uint64_t g = o->gran, i = 0;

	while (i < n) {
		uint64_t start, k;
		int ret;

		while (i < n && all_zero(buf + i, n - i < g ? n - i : g))
			i += g;
		if (i >= n)
			break;
		start = i;
		if (o->compress) {	/* one cluster at a time, the last one padded */
			if (n - i < g)
				memset(buf + n, 0, g - (n - i));
			i += g;
			ret = qcow2_write_compressed(o->img, pos + start, buf + start);
			if (ret < 0)
				return ret;
			continue;
		}
		while (i < n && !all_zero(buf + i, n - i < g ? n - i : g))
			i += g;
		k = (i < n ? i : n) - start;
		if (o->rfd >= 0) {
			ssize_t w = pwrite(o->rfd, buf + start, k, (off_t)(pos + start));

			if (w != (ssize_t)k)	/* a regular file: short only on error */
				return w < 0 ? -errno : -ENOSPC;
		} else {
			struct iovec v = { buf + start, k };

			ret = o->img->ops->pwritev(o->img, &v, 1, pos + start);
			if (ret < 0)
				return ret;
		}
		writeback_kick(o, k);
	}
	return 0;
}

/* Reader: waits for a free slot; NULL when the writer stopped. */
static struct copy_slot *slot_get(struct copy_ring *r)
{
	struct copy_slot *s = NULL;

	pthread_mutex_lock(&r->lock);
	while (r->head - r->tail == COPY_SLOTS && !r->stop)
		pthread_cond_wait(&r->cond, &r->lock);
	if (!r->stop)
		s = &r->slot[r->head % COPY_SLOTS];
	pthread_mutex_unlock(&r->lock);
	return s;
}

static void ring_advance(struct copy_ring *r, uint64_t *counter)
{
	pthread_mutex_lock(&r->lock);
	(*counter)++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static int read_run(struct copy_ring *r, uint64_t pos, uint64_t end)
{
	struct blk_image *in = r->in;

	while (pos < end) {
		uint64_t n = end - pos < r->chunk ? end - pos : r->chunk;
		struct copy_slot *s = slot_get(r);
		struct iovec v;
		int ret;

		if (!s)
			return -ECANCELED;
		v = (struct iovec){ s->buf, n };
		ret = in->ops->preadv(in, &v, 1, pos);
		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s: read at %llu failed: %s\n", r->o->in_name,
				(unsigned long long)pos, strerror(-ret));
			return ret;
		}
		s->pos = pos;
		s->n = n;
		ring_advance(r, &r->head);
		pos += n;
	}
	return 0;
}

static void *reader(void *arg)
{
	struct copy_ring *r = arg;
	uint64_t size = r->in->size, g = r->o->gran, pos = 0, run, end;
	int st = 0;

	while (pos < size) {
		st = blk_block_status(r->in, pos, size - pos, &run);
		if (st < 0) {
			fprintf(stderr, "vmm-img: %s: cannot get the allocation status at %llu: %s\n",
				r->o->in_name, (unsigned long long)pos, strerror(-st));
			break;
		}
		end = pos + run;
		if ((st & BLK_STATUS_ZERO) && (end == size || (end & ~(g - 1)) > pos)) {
			pos = end == size ? size : end & ~(g - 1);
			continue;
		}
		/* data, or zeros inside one granule: copy whole granules */
		end = (end + g - 1) & ~(g - 1);
		if (end > size)
			end = size;
		st = read_run(r, pos, end);
		if (st < 0)
			break;
		pos = end;
	}
	pthread_mutex_lock(&r->lock);
	r->err = st < 0 ? st : 0;
	r->eof = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Writer: the next chunk read, or NULL at the end. */
static struct copy_slot *slot_next(struct copy_ring *r)
{
	struct copy_slot *s = NULL;

	pthread_mutex_lock(&r->lock);
	while (r->head == r->tail && !r->eof)
		pthread_cond_wait(&r->cond, &r->lock);
	if (r->head != r->tail)
		s = &r->slot[r->tail % COPY_SLOTS];
	pthread_mutex_unlock(&r->lock);
	return s;
}

int conv_copy(struct blk_image *in, struct conv_out *o)
{
	struct copy_ring r = { .in = in, .o = o };
	struct copy_slot *s;
	pthread_t t;
	int i, ret = 0;

	r.chunk = o->gran > COPY_CHUNK ? o->gran : COPY_CHUNK;
	for (i = 0; i < COPY_SLOTS; i++) {
		r.slot[i].buf = malloc(r.chunk);
		if (!r.slot[i].buf) {
			fprintf(stderr, "vmm-img: convert: out of memory\n");
			ret = -ENOMEM;
			goto out_free;
		}
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	o->shown = -1.0;
	o->unkicked = 0;
	progress_show(o, 0, in->size);
	ret = -pthread_create(&t, NULL, reader, &r);
	if (ret < 0) {
		fprintf(stderr, "vmm-img: convert: cannot start the reader thread: %s\n",
			strerror(-ret));
		goto out_sync;
	}
	while ((s = slot_next(&r))) {
		ret = write_runs(o, s->buf, s->n, s->pos);
		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s: write at %llu failed: %s\n", o->out_name,
				(unsigned long long)s->pos, strerror(-ret));
			pthread_mutex_lock(&r.lock);
			r.stop = true;
			pthread_cond_broadcast(&r.cond);
			pthread_mutex_unlock(&r.lock);
			break;
		}
		progress_show(o, s->pos + s->n, in->size);
		ring_advance(&r, &r.tail);
	}
	pthread_join(t, NULL);
	if (ret == 0)
		ret = r.err;
	if (ret == 0 && o->progress) {
		printf("    (100.00/100%%)\r\n");
		fflush(stdout);
	}
out_sync:
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
out_free:
	for (i = 0; i < COPY_SLOTS; i++)
		free(r.slot[i].buf);
	return ret;
}
