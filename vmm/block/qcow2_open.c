// SPDX-License-Identifier: MIT
/*
 * qcow2 open/close: validates the header and tables, loads L1 and the
 * refcount table, opens the backing chain, and the snapshot=on overlay.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "block/engine.h"
#include "block/qcow2.h"
#include "log.h"

static void qcow2_free(struct qcow2 *q)
{
	if (q->backing)
		q->backing->ops->close(q->backing);
	qcow2_cache_free(&q->l2c);
	qcow2_cache_free(&q->rbc);
	if (q->zctx)
		ZSTD_freeDCtx(q->zctx);
	free(q->zbuf);
	free(q->cbuf);
	free(q->wbuf);
	free(q->l1);
	free(q->rt);
	free(q->frees);
	free(q->mapped);
	free(q->held);
	if (q->fd >= 0)
		close(q->fd);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

void qcow2_close_image(struct blk_image *img)
{
	struct qcow2 *q = qcow2_of(img);

	pthread_mutex_lock(&q->lock);
	if (!img->readonly) {
		qcow2_release_mappings(q);
		if (qcow2_commit(q, false, true) < 0)
			log_err("%s: qcow2 metadata could not be written on close", img->path);
		qcow2_release_pool(q);
		if (img->cache != DISK_CACHE_UNSAFE)
			fdatasync(q->fd);
		if (q->h.incompat & QCOW2_INCOMPAT_DIRTY) {
			q->h.incompat &= ~QCOW2_INCOMPAT_DIRTY;
			if (qcow2_write_header_fields(q) == 0 && img->cache != DISK_CACHE_UNSAFE)
				fdatasync(q->fd);
		}
	}
	pthread_mutex_unlock(&q->lock);
	qcow2_free(q);
}

/* Loads a big-endian table; past the end of the file reads as zeros. */
static int load_table(int fd, uint64_t off, uint64_t n, uint64_t **out)
{
	uint8_t *raw = malloc(n * 8 + 1);
	uint64_t *t = calloc(n + 1, 8);
	size_t got;
	int ret = 0;

	if (!raw || !t) {
		ret = -ENOMEM;
		goto fail;
	}
	if (n && off > UINT64_MAX - n * 8) {
		ret = -EINVAL;
		goto fail;
	}
	if (n)
		ret = qcow2_fd_pread(fd, raw, n * 8, off, &got);
	if (ret < 0)
		goto fail;
	for (uint64_t i = 0; i < n; i++)
		t[i] = qcow2_be64(raw + i * 8);
	free(raw);
	*out = t;
	return 0;
fail:
	free(raw);
	free(t);
	return ret;
}

static int check_tables(struct qcow2 *q, uint64_t fsize, char *err, size_t errlen)
{
	const char *name = q->img.path;
	uint64_t cs = q->cluster_size;

	if (q->h.l1_size && q->h.l1_table_offset < cs) {
		snprintf(err, errlen, "%s: qcow2 L1 table at 0x%" PRIx64 " overlaps the header",
			 name, q->h.l1_table_offset);
		return -EINVAL;
	}
	if (q->h.refcount_table_offset < cs) {
		snprintf(err, errlen, "%s: qcow2 refcount table at 0x%" PRIx64 " overlaps the header",
			 name, q->h.refcount_table_offset);
		return -EINVAL;
	}
	for (uint64_t i = 0; i < q->h.l1_size; i++) {
		uint64_t o = q->l1[i] & QCOW2_OFFSET_MASK;

		if (!o)
			continue;
		if (o & (cs - 1) || o + cs > fsize + cs - 1 || o < cs) {
			snprintf(err, errlen, "%s: qcow2 L2 table at 0x%" PRIx64 " (L1 entry %" PRIu64
				 ") is misaligned or past end of file", name, o, i);
			return -EINVAL;
		}
	}
	for (uint64_t i = 0; i < q->rt_entries; i++) {
		uint64_t o = q->rt[i] & QCOW2_OFFSET_MASK;

		if (!o)
			continue;
		if (o & (cs - 1) || o >= fsize || o < cs) {
			snprintf(err, errlen, "%s: qcow2 refcount block at 0x%" PRIx64
				 " (entry %" PRIu64 ") is misaligned or past end of file", name, o, i);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * cache=none: header and tables were read through the page cache; from here
 * on the file is O_DIRECT, and all I/O is aligned to the device's block.
 */
static int use_odirect(struct qcow2 *q, char *err, size_t errlen)
{
	const char *path = q->img.path;
	int fl = fcntl(q->fd, F_GETFL), ret;

	if (fl < 0 || fcntl(q->fd, F_SETFL, fl | O_DIRECT) < 0) {
		ret = -errno;
		if (ret == -EINVAL)
			snprintf(err, errlen, "cannot open disk image %s with cache=none: the "
				 "filesystem does not support O_DIRECT (use cache=writeback)", path);
		else
			snprintf(err, errlen, "cannot open disk image %s with cache=none: %s",
				 path, strerror(-ret));
		return ret;
	}
	ret = blk_file_dio_align(q->fd, path, &q->align, err, errlen);
	if (ret < 0)
		return ret;
	if (q->cluster_size < q->align) {
		snprintf(err, errlen, "cannot open disk image %s with cache=none: its cluster "
			 "size %u is below the device's O_DIRECT block of %u bytes (use "
			 "cache=writeback)", path, q->cluster_size, q->align);
		return -EINVAL;
	}
	return 0;
}

static int qcow2_do_open(const char *path, bool readonly, enum disk_cache cache, bool tolerant,
			 struct blk_image **out, char *err, size_t errlen)
{
	struct qcow2 *q = calloc(1, sizeof(*q));
	unsigned int l2n;
	struct stat st;
	int ret, flags = readonly ? O_RDONLY : O_RDWR;

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	if (cache == DISK_CACHE_WRITETHROUGH)
		flags |= O_DSYNC;
	snprintf(q->img.path, sizeof(q->img.path), "%s", path);
	q->fd = open(path, flags | O_CLOEXEC);
	if (q->fd < 0 || fstat(q->fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	ret = qcow2_read_header(q->fd, path, &q->h, (uint64_t)st.st_size, tolerant, err, errlen);
	if (ret < 0)
		goto fail;
	/* as qemu-img: a table offset is aligned even when the table is empty */
	if (tolerant && ((q->h.snapshots_offset | q->h.l1_table_offset) &
			 ((1ull << q->h.cluster_bits) - 1))) {
		snprintf(err, errlen, "%s: qcow2 %s table offset 0x%" PRIx64 " is not cluster "
			 "aligned", path, q->h.l1_table_offset & ((1ull << q->h.cluster_bits) - 1) ?
			 "L1" : "snapshot", q->h.l1_table_offset &
			 ((1ull << q->h.cluster_bits) - 1) ? q->h.l1_table_offset :
			 q->h.snapshots_offset);
		ret = -EINVAL;
		goto fail;
	}
	if (!tolerant && !readonly && (q->h.incompat & QCOW2_INCOMPAT_CORRUPT)) {
		snprintf(err, errlen, "%s: qcow2 image is marked corrupt; it can only be opened read-only",
			 path);
		ret = -EROFS;
		goto fail;
	}
	if (!tolerant && !readonly && q->h.nb_snapshots) {
		snprintf(err, errlen, "%s: qcow2 image has internal snapshots; only read-only use is supported",
			 path);
		ret = -ENOTSUP;
		goto fail;
	}
	q->cluster_size = 1u << q->h.cluster_bits;
	q->l2_bits = q->h.cluster_bits - 3;
	q->refcount_bits = 1u << q->h.refcount_order;
	q->rb_bits = q->h.cluster_bits + 3 - q->h.refcount_order;
	q->rt_entries = (uint64_t)q->h.refcount_table_clusters * q->cluster_size / 8;
	ret = load_table(q->fd, q->h.l1_table_offset, q->h.l1_size, &q->l1);
	if (ret == 0)
		ret = load_table(q->fd, q->h.refcount_table_offset, q->rt_entries, &q->rt);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot read qcow2 tables: %s", path, strerror(-ret));
		goto fail;
	}
	ret = tolerant ? 0 : check_tables(q, (uint64_t)st.st_size, err, errlen);
	if (ret < 0)
		goto fail;
	l2n = (4u << 20) >> q->h.cluster_bits;
	if (l2n < 16 || tolerant)	/* the checker reads tables itself */
		l2n = 16;
	ret = qcow2_cache_init(&q->l2c, l2n, q->cluster_size);
	if (ret == 0)
		ret = qcow2_cache_init(&q->rbc, 16, q->cluster_size);
	q->zbuf = qcow2_alloc_aligned(2 * (size_t)q->cluster_size);
	q->cbuf = qcow2_alloc_aligned(q->cluster_size);
	q->wbuf = qcow2_alloc_aligned(q->cluster_size);
	if (ret < 0 || !q->zbuf || !q->cbuf || !q->wbuf) {
		snprintf(err, errlen, "%s: out of memory", path);
		ret = -ENOMEM;
		goto fail;
	}
	q->free_hint = 1;
	q->align = 1;
	if (cache == DISK_CACHE_NONE) {
		ret = use_odirect(q, err, errlen);
		if (ret < 0)
			goto fail;
	}
	q->img.ops = &qcow2_ops;
	q->img.format_name = "qcow2";
	q->img.size = q->h.size;
	q->img.readonly = readonly;
	q->img.cache = cache;
	q->img.block_size = q->align > 512 ? q->align : 512;
	q->img.align = q->align;
	q->img.priv = q;
	if (tolerant) {
		*out = &q->img;
		return 0;
	}
	if (q->h.backing_file[0]) {
		char bpath[BLK_PATH_MAX], berr[512];

		ret = qcow2_chain_check(path, err, errlen);
		if (ret < 0)
			goto fail;
		qcow2_backing_path(path, q->h.backing_file, bpath, sizeof(bpath));
		/* read-only and shared: through the page cache even with cache=none */
		ret = qcow2_open_any(bpath, q->h.backing_fmt, true,
				     cache == DISK_CACHE_NONE ? DISK_CACHE_WRITEBACK : cache,
				     &q->backing, berr, sizeof(berr));
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot open backing file: %s", path, berr);
			goto fail;
		}
	}
	if (!readonly && q->h.version == 3 &&
	    (q->h.autoclear || (q->h.incompat & QCOW2_INCOMPAT_DIRTY) ||
	     (q->h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS))) {
		if (q->h.incompat & QCOW2_INCOMPAT_DIRTY) {
			/* refcounts may lag behind (lazy refcounts): rebuild them */
			struct qcow2_check_result r;

			ret = qcow2_check(&q->img, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS |
					  QCOW2_CHECK_QUIET, &r, err, errlen);
			if (ret < 0 || r.corruptions) {
				snprintf(err, errlen, "%s: qcow2 image is dirty and its refcounts "
					 "could not be repaired", path);
				ret = ret < 0 ? ret : -EIO;
				goto fail;
			}
		}
		/*
		 * Refcounts are always kept up to date here, but as QEMU does with
		 * lazy_refcounts we keep the dirty bit set while open read-write.
		 */
		if (q->h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS)
			q->h.incompat |= QCOW2_INCOMPAT_DIRTY;
		else
			q->h.incompat &= ~QCOW2_INCOMPAT_DIRTY;
		q->h.autoclear = 0;
		ret = qcow2_write_header_fields(q);
		if (ret == 0)
			ret = qcow2_sync(q);
		if (ret < 0) {
			snprintf(err, errlen, "%s: cannot update qcow2 header: %s", path, strerror(-ret));
			goto fail;
		}
	}
	*out = &q->img;
	return 0;
fail:
	qcow2_free(q);
	return ret;
}

static int qcow2_open(const char *path, bool readonly, enum disk_cache cache,
		      struct blk_image **out, char *err, size_t errlen)
{
	return qcow2_do_open(path, readonly, cache, false, out, err, errlen);
}

int qcow2_open_check(const char *path, bool readonly, struct blk_image **out,
		     char *err, size_t errlen)
{
	return qcow2_do_open(path, readonly, DISK_CACHE_WRITEBACK, true, out, err, errlen);
}

const struct blk_format blk_format_qcow2 = {
	.name = "qcow2",
	.id = DISK_FORMAT_QCOW2,
	.probe = qcow2_probe,
	.open = qcow2_open,
};

int blk_snapshot_open(const char *base_path, enum disk_format base_fmt,
		      enum disk_cache cache, struct blk_image **out,
		      char *err, size_t errlen)
{
	struct qcow2_create_opts o = { 0 };
	struct blk_image *base;
	char tmpl[BLK_PATH_MAX], abs[BLK_PATH_MAX];
	const char *dir = getenv("TMPDIR");
	int fd, ret;

	ret = qcow2_open_any(base_path, base_fmt == DISK_FORMAT_RAW ? "raw" :
			     base_fmt == DISK_FORMAT_QCOW2 ? "qcow2" : NULL, true, cache,
			     &base, err, errlen);
	if (ret < 0)
		return ret;
	o.size = base->size;
	o.backing_fmt = base->format_name;
	base->ops->close(base);
	if (!realpath(base_path, abs)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", base_path, strerror(errno));
		return ret;
	}
	o.backing = abs;
	snprintf(tmpl, sizeof(tmpl), "%s/vmm-snapshot-XXXXXX", dir && dir[0] ? dir : "/var/tmp");
	fd = mkstemp(tmpl);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create snapshot overlay: %s", tmpl, strerror(errno));
		return ret;
	}
	close(fd);
	ret = qcow2_create(tmpl, &o, err, errlen);
	if (ret == 0)
		ret = qcow2_open(tmpl, false, cache == DISK_CACHE_NONE ? DISK_CACHE_WRITEBACK : cache,
				 out, err, errlen);
	unlink(tmpl);
	return ret;
}

/* A strong reference for programs linking libvmmcore.a (block.h's are weak). */
const struct blk_format *qcow2_format(void)
{
	return &blk_format_qcow2;
}
