// SPDX-License-Identifier: MIT
/*
 * vmm-img convert: copies the virtual disk of IN into a new OUT image.
 * Reads only what the input's block status calls data (through its backing
 * chain: the output is flattened), leaves zeros unwritten (holes in raw,
 * unallocated clusters in qcow2), optionally writes compressed clusters,
 * and syncs the output once, at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img.h"
#include "block/qcow2.h"

/* Zero test that runs at memcmp's speed: byte 0 is zero and every byte equals the next. */
static bool all_zero(const uint8_t *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

/* The output being written: a raw fd or an image, and its zero granule. */
struct conv_out {
	int rfd;
	struct blk_image *img;
	uint64_t gran;		/* a zero run this long (and aligned) is left unwritten */
	bool compress;
	bool nosync;		/* -t unsafe: no sync at all */
	int wb_fd;		/* the file written: start its writeback early */
	uint64_t unkicked;	/* bytes written since the last writeback kick */
};

#define CONV_WRITEBACK	(32u << 20)

/*
 * Starts writing back what is dirty every CONV_WRITEBACK bytes, so that the
 * disk works while we copy and the one fdatasync at the end has little left.
 */
static void writeback_kick(struct conv_out *o, uint64_t n)
{
	o->unkicked += n;
	if (o->nosync || o->unkicked < CONV_WRITEBACK)
		return;
	o->unkicked = 0;
	sync_file_range(o->wb_fd, 0, 0, SYNC_FILE_RANGE_WRITE);	/* a hint: errors come at the sync */
}

/* qemu-img's progress: stdout, "    (NN.NN/100%)\r" each time it moves by 1%. */
struct conv_progress {
	bool on;
	double last;
};

static void progress_show(struct conv_progress *p, uint64_t done, uint64_t total)
{
	double pct = total ? 100.0 * (double)done / (double)total : 100.0;

	if (!p->on || (pct - p->last < 1.0 && pct < 100.0 && p->last >= 0))
		return;
	p->last = pct;
	printf("    (%.2f/100%%)\r", pct);
	fflush(stdout);
}

/*
 * Writes the non-zero granules of buf (n bytes of the disk at pos, pos a
 * multiple of the granule): a fresh output reads as zeros where nothing is
 * written (raw: a hole; qcow2: an unallocated cluster), so zeros cost nothing.
 */
static int write_runs(struct conv_out *o, uint8_t *buf, uint64_t n, uint64_t pos)
{
	uint64_t g = o->gran, i = 0;

	while (i < n) {
		uint64_t start, k;

		while (i < n && all_zero(buf + i, n - i < g ? n - i : g))
			i += g;
		if (i >= n)
			break;
		start = i;
		if (o->compress) {	/* one cluster at a time, the last one padded */
			int ret;

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

			if (w != (ssize_t)k)
				return w < 0 ? -errno : -EIO;
		} else {
			struct iovec v = { buf + start, k };
			int ret = o->img->ops->pwritev(o->img, &v, 1, pos + start);

			if (ret < 0)
				return ret;
		}
		writeback_kick(o, k);
	}
	return 0;
}

#define CONV_CHUNK	(2u << 20)

/*
 * The copy loop: asks the input which ranges hold data (through its backing
 * chain, so the output is flattened), skips the ones that read as zeros,
 * and reads the rest in large chunks.  Every step starts on a granule
 * boundary, so zero granules and compressed clusters line up.
 */
static int copy_disk(struct blk_image *in, struct conv_out *o, uint8_t *buf, uint64_t chunk,
		     struct conv_progress *p, const char *in_name, const char *out_name)
{
	uint64_t size = in->size, g = o->gran, pos = 0, run, end;
	int st, ret;

	progress_show(p, 0, size);
	while (pos < size) {
		st = blk_block_status(in, pos, size - pos, &run);
		if (st < 0) {
			fprintf(stderr, "vmm-img: %s: cannot map the range at %llu: %s\n", in_name,
				(unsigned long long)pos, strerror(-st));
			return st;
		}
		end = pos + run;
		if ((st & BLK_STATUS_ZERO) && (end == size || (end & ~(g - 1)) > pos)) {
			pos = end == size ? size : end & ~(g - 1);
			progress_show(p, pos, size);
			continue;
		}
		/* data, or zeros inside one granule: copy whole granules */
		end = (end + g - 1) & ~(g - 1);
		if (end > size)
			end = size;
		while (pos < end) {
			uint64_t n = end - pos < chunk ? end - pos : chunk;
			struct iovec v = { buf, n };

			ret = in->ops->preadv(in, &v, 1, pos);
			if (ret < 0) {
				fprintf(stderr, "vmm-img: %s: read at %llu failed: %s\n", in_name,
					(unsigned long long)pos, strerror(-ret));
				return ret;
			}
			ret = write_runs(o, buf, n, pos);
			if (ret < 0) {
				fprintf(stderr, "vmm-img: %s: write at %llu failed: %s\n", out_name,
					(unsigned long long)pos, strerror(-ret));
				return ret;
			}
			pos += n;
			progress_show(p, pos, size);
		}
	}
	if (p->on) {
		printf("    (100.00/100%%)\r\n");
		fflush(stdout);
	}
	return 0;
}

int img_convert(int argc, char **argv)
{
	const char *ifmt = NULL, *ofmt = NULL;
	struct qcow2_create_opts o = { 0 };
	struct blk_image *in = NULL, *out = NULL;
	bool compress = false, nosync = false;
	struct conv_progress prog = { .on = false, .last = -1.0 };
	struct conv_out co;
	uint64_t chunk, gran = 4096;
	uint8_t *buf = NULL;
	char err[1024];
	int c, ret, rfd = -1, rc = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "pcf:O:o:t:")) != -1) {
		switch (c) {
		case 'p': prog.on = true; break;
		case 'c': compress = true; break;
		case 'f': ifmt = optarg; break;
		case 'O': ofmt = optarg; break;
		case 't':
			if (strcmp(optarg, "writeback") && strcmp(optarg, "unsafe")) {
				fprintf(stderr, "vmm-img convert: -t %s: cache modes are writeback "
					"(sync at the end) and unsafe (no sync)\n", optarg);
				return 1;
			}
			nosync = !strcmp(optarg, "unsafe");
			break;
		case 'o':
			if (img_parse_o(optarg, &o.cluster_size, &o.version) < 0)
				return 1;
			break;
		default: return 1;
		}
	}
	if (optind + 2 != argc || !ofmt) {
		fprintf(stderr, "vmm-img convert: usage: convert [-p] [-c] [-t CACHE] [-f FMT] "
			"-O FMT IN OUT\n");
		return 1;
	}
	if (strcmp(ofmt, "raw") && strcmp(ofmt, "qcow2")) {
		fprintf(stderr, "vmm-img: unknown output format '%s' (raw, qcow2)\n", ofmt);
		return 1;
	}
	if (compress && strcmp(ofmt, "qcow2")) {
		fprintf(stderr, "vmm-img convert: -c needs -O qcow2\n");
		return 1;
	}
	if (img_open(argv[optind], ifmt, true, &in) < 0)
		return 1;
	o.size = in->size;
	if (!strcmp(ofmt, "raw")) {
		rfd = open(argv[optind + 1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (rfd < 0 || ftruncate(rfd, (off_t)in->size) < 0) {
			fprintf(stderr, "vmm-img: %s: %s\n", argv[optind + 1], strerror(errno));
			goto out;
		}
		chunk = 1u << 20;
	} else {
		if (qcow2_create(argv[optind + 1], &o, err, sizeof(err)) < 0) {
			fprintf(stderr, "vmm-img: %s\n", err);
			goto out;
		}
		if (img_open(argv[optind + 1], "qcow2", false, &out) < 0)
			goto out;
		chunk = gran = qcow2_of(out)->cluster_size;
		if (!compress && chunk < (1u << 20))
			chunk = 1u << 20;
	}
	/* the output is not in place until complete: no syncs but the one at the end */
	if (out)
		qcow2_of(out)->img.cache = DISK_CACHE_UNSAFE;
	chunk = gran > CONV_CHUNK ? gran : CONV_CHUNK;
	buf = malloc(chunk);
	if (!buf)
		goto out;
	co = (struct conv_out){ .rfd = rfd, .img = out, .gran = gran, .compress = compress,
				.nosync = nosync, .wb_fd = out ? qcow2_of(out)->fd : rfd };
	if (copy_disk(in, &co, buf, chunk, &prog, argv[optind], argv[optind + 1]) < 0)
		goto out;
	if (rfd >= 0 && !nosync && fdatasync(rfd) < 0) {
		fprintf(stderr, "vmm-img: %s: sync failed: %s\n", argv[optind + 1], strerror(errno));
		goto out;
	}
	if (out && !nosync) {
		qcow2_of(out)->img.cache = DISK_CACHE_WRITEBACK;
		ret = out->ops->flush(out);
		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s: sync failed: %s\n", argv[optind + 1],
				strerror(-ret));
			goto out;
		}
	}
	rc = 0;
out:
	if (rfd >= 0)
		close(rfd);
	if (out)
		blk_image_close(out);
	if (in)
		blk_image_close(in);
	free(buf);
	return rc;
}
