// SPDX-License-Identifier: MIT
/*
 * vmm-img convert: copies the virtual disk of IN into a new OUT image,
 * skipping zero ranges (sparse), optionally writing compressed clusters.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "img.h"
#include "img_output.h"
#include "block/qcow2.h"

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Writes the non-zero runs of buf (granule gran) to the raw fd or the image. */
static int write_runs(int rfd, struct blk_image *out, uint8_t *buf, uint64_t n, uint64_t pos,
		      uint64_t gran)
{
	uint64_t i = 0;

	while (i < n) {
		uint64_t start, k;

		while (i < n && all_zero(buf + i, n - i < gran ? n - i : gran))
			i += gran;
		if (i >= n)
			break;
		start = i;
		while (i < n && !all_zero(buf + i, n - i < gran ? n - i : gran))
			i += gran;
		k = (i < n ? i : n) - start;
		if (rfd >= 0) {
			if (pwrite(rfd, buf + start, k, (off_t)(pos + start)) != (ssize_t)k)
				return errno ? -errno : -EIO;
		} else {
			struct iovec v = { buf + start, k };
			int ret = out->ops->pwritev(out, &v, 1, pos + start);

			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

int img_convert(int argc, char **argv)
{
	const char *ifmt = NULL, *ofmt = NULL;
	struct qcow2_create_opts o = { 0 };
	struct blk_image *in = NULL, *out = NULL;
	struct img_output dst = { .fd = -1, .old_fd = -1 };
	bool progress = false, compress = false;
	uint64_t chunk, pos, gran = 4096;
	uint8_t *buf = NULL;
	char err[1024];
	int c, rfd = -1, rc = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "pcf:O:o:")) != -1) {
		switch (c) {
		case 'p': progress = true; break;
		case 'c': compress = true; break;
		case 'f': ifmt = optarg; break;
		case 'O': ofmt = optarg; break;
		case 'o':
			if (img_parse_o(optarg, &o.cluster_size, &o.version) < 0)
				return 1;
			break;
		default: return 1;
		}
	}
	if (optind + 2 != argc || !ofmt) {
		fprintf(stderr, "vmm-img convert: usage: convert [-p] [-c] [-f FMT] -O FMT IN OUT\n");
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
	/* refused before anything is created: an input, its chain, or in use */
	if (img_output_check(argv[optind + 1], "input", &in, 1) < 0 ||
	    img_output_begin(&dst, argv[optind + 1]) < 0)
		goto out;
	if (!strcmp(ofmt, "raw")) {
		rfd = dup(dst.fd);	/* the temporary file; one lock (OFD) for both fds */
		if (rfd < 0 || ftruncate(rfd, (off_t)in->size) < 0) {
			fprintf(stderr, "vmm-img: %s: %s\n", argv[optind + 1], strerror(errno));
			goto out;
		}
		chunk = 1u << 20;
	} else {
		if (qcow2_create_fd(dst.fd, argv[optind + 1], &o, err, sizeof(err)) < 0) {
			fprintf(stderr, "vmm-img: %s\n", err);
			goto out;
		}
		img_output_unlock_tmp(&dst);	/* the block layer locks it again */
		if (img_open(dst.tmp, "qcow2", false, &out) < 0)
			goto out;
		chunk = gran = qcow2_of(out)->cluster_size;
		if (!compress && chunk < (1u << 20))
			chunk = 1u << 20;
	}
	buf = malloc(chunk);
	if (!buf)
		goto out;
	for (pos = 0; pos < in->size; pos += chunk) {
		uint64_t n = in->size - pos < chunk ? in->size - pos : chunk;
		struct iovec v = { buf, n };
		int ret = in->ops->preadv(in, &v, 1, pos);

		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s: read at %llu failed: %s\n", argv[optind],
				(unsigned long long)pos, strerror(-ret));
			goto out;
		}
		if (progress)
			fprintf(stderr, "    (%.2f/100%%)\r", 100.0 * (double)pos / (double)in->size);
		if (compress) {
			if (all_zero(buf, n))
				continue;
			memset(buf + n, 0, chunk - n);
			ret = qcow2_write_compressed(out, pos, buf);
		} else {
			ret = write_runs(rfd, out, buf, n, pos, gran);
		}
		if (ret < 0) {
			fprintf(stderr, "vmm-img: %s: write at %llu failed: %s\n", argv[optind + 1],
				(unsigned long long)pos, strerror(-ret));
			goto out;
		}
	}
	if (progress)
		fprintf(stderr, "    (100.00/100%%)\n");
	if (rfd >= 0 && fdatasync(rfd) < 0)
		goto out;
	if (out && out->ops->flush(out) < 0)
		goto out;
	if (img_output_commit(&dst) < 0)	/* only now under the user's name */
		goto out;
	rc = 0;
out:
	if (rfd >= 0)
		close(rfd);
	if (out)
		blk_image_close(out);
	if (in)
		blk_image_close(in);
	img_output_end(&dst);
	free(buf);
	return rc;
}
