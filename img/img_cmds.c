// SPDX-License-Identifier: MIT
/* vmm-img create, resize (check: img_check.c). */
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

/* Checks -b against the new image: opens the chain (which refuses loops), compares files. */
static int create_backing(const char *file, struct qcow2_create_opts *o, const char *backing,
			  const char *bfmt, bool have_size, uint64_t *size, struct blk_image **b)
{
	char bpath[BLK_PATH_MAX];

	qcow2_backing_path(file, backing, bpath, sizeof(bpath));
	if (img_open(bpath, bfmt, true, b) < 0)
		return -EINVAL;
	if (img_output_check(file, "backing file", b, 1) < 0)
		return -EEXIST;
	if (!have_size)
		*size = (*b)->size;
	o->backing = backing;
	o->backing_fmt = bfmt ? bfmt : (*b)->format_name;
	return 0;
}

int img_create(int argc, char **argv)
{
	const char *fmt = "raw", *backing = NULL, *bfmt = NULL, *file;
	struct qcow2_create_opts o = { 0 };
	struct blk_image *b = NULL;
	struct img_output out;
	uint64_t size = 0;
	bool have_size = false;
	char err[1024];
	int c, rc = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "f:b:F:o:")) != -1) {
		switch (c) {
		case 'f': fmt = optarg; break;
		case 'b': backing = optarg; break;
		case 'F': bfmt = optarg; break;
		case 'o':
			if (img_parse_o(optarg, &o.cluster_size, &o.version) < 0)
				return 1;
			break;
		default: return 1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "vmm-img create: missing FILE\n");
		return 1;
	}
	if (optind + 2 < argc) {
		fprintf(stderr, "vmm-img create: unexpected argument '%s' (usage: create [OPTIONS] "
			"FILE [SIZE])\n", argv[optind + 2]);
		return 1;
	}
	file = argv[optind];
	if (optind + 1 < argc) {
		if (img_parse_size(argv[optind + 1], &size) < 0)
			return 1;
		have_size = true;
	}
	if (strcmp(fmt, "raw") && strcmp(fmt, "qcow2")) {
		fprintf(stderr, "vmm-img: unknown format '%s' (raw, qcow2)\n", fmt);
		return 1;
	}
	if (!strcmp(fmt, "raw") && (backing || !have_size)) {
		fprintf(stderr, "vmm-img create: raw needs a SIZE and takes no backing file\n");
		return 1;
	}
	if (!backing && !have_size) {
		fprintf(stderr, "vmm-img create: missing SIZE\n");
		return 1;
	}
	if (bfmt && !backing) {
		fprintf(stderr, "vmm-img create: -F needs -b\n");
		return 1;
	}
	if (backing && create_backing(file, &o, backing, bfmt, have_size, &size, &b) < 0)
		goto out_b;
	size = (size + 511) & ~511ull;		/* whole sectors, as qemu-img */
	o.size = size;
	if (img_output_begin(&out, file) < 0)
		goto out;
	if (!strcmp(fmt, "raw")) {
		if (ftruncate(out.fd, (off_t)size) < 0) {
			fprintf(stderr, "vmm-img: %s: %s\n", file, strerror(errno));
			goto out;
		}
	} else if (qcow2_create_fd(out.fd, file, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm-img: %s\n", err);
		goto out;
	}
	if (img_output_commit(&out) < 0)
		goto out;
	if (!strcmp(fmt, "raw"))
		printf("Formatting '%s', fmt=raw size=%llu\n", file, (unsigned long long)size);
	else
		printf("Formatting '%s', fmt=qcow2 cluster_size=%u size=%llu\n", file,
		       o.cluster_size ? o.cluster_size : 65536, (unsigned long long)size);
	rc = 0;
out:
	img_output_end(&out);
out_b:
	blk_image_close(b);
	return rc;
}

int img_resize(int argc, char **argv)
{
	struct blk_image *img;
	const char *fmt = NULL;
	uint64_t size;
	const char *s;
	char err[1024];
	int c, ret;

	optind = 1;
	while ((c = getopt(argc, argv, "+f:")) != -1) {
		if (c != 'f') {
			fprintf(stderr, "vmm-img resize: usage: resize [-f FMT] FILE [+]SIZE\n");
			return 1;
		}
		fmt = optarg;
	}
	if (argc - optind != 2) {
		fprintf(stderr, "vmm-img resize: usage: resize [-f FMT] FILE [+]SIZE\n");
		return 1;
	}
	argv += optind - 1;
	s = argv[2];
	if (s[0] == '-') {
		fprintf(stderr, "vmm-img resize: shrinking is not supported\n");
		return 1;
	}
	if (img_parse_size(s[0] == '+' ? s + 1 : s, &size) < 0)
		return 1;
	if (img_open(argv[1], fmt, false, &img) < 0)
		return 1;
	if (s[0] == '+')
		size += img->size;
	if (size < img->size) {
		fprintf(stderr, "vmm-img resize: shrinking is not supported\n");
		blk_image_close(img);
		return 1;
	}
	if (!strcmp(img->format_name, "qcow2")) {
		ret = qcow2_resize(img, size, err, sizeof(err));
		if (ret < 0)
			fprintf(stderr, "vmm-img: %s\n", err);
		blk_image_close(img);
	} else {
		/* still open, so still locked: no running vmm sees the size change */
		ret = truncate(img->path, (off_t)size) < 0 ? -errno : 0;
		if (ret < 0)
			fprintf(stderr, "vmm-img: %s: %s\n", argv[1], strerror(-ret));
		blk_image_close(img);
	}
	if (ret < 0)
		return 1;
	printf("Image resized.\n");
	return 0;
}
