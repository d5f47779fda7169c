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
#include "block/qcow2.h"

int img_create(int argc, char **argv)
{
	const char *fmt = "raw", *backing = NULL, *bfmt = NULL;
	struct qcow2_create_opts o = { 0 };
	uint64_t size = 0;
	bool have_size = false;
	char err[1024];
	int c;

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
	if (optind + 1 < argc) {
		if (img_parse_size(argv[optind + 1], &size) < 0)
			return 1;
		have_size = true;
	}
	if (!strcmp(fmt, "raw")) {
		int fd;

		if (backing || !have_size) {
			fprintf(stderr, "vmm-img create: raw needs a SIZE and takes no backing file\n");
			return 1;
		}
		fd = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
			fprintf(stderr, "vmm-img: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
		close(fd);
		printf("Formatting '%s', fmt=raw size=%llu\n", argv[optind], (unsigned long long)size);
		return 0;
	}
	if (strcmp(fmt, "qcow2")) {
		fprintf(stderr, "vmm-img: unknown format '%s' (raw, qcow2)\n", fmt);
		return 1;
	}
	if (backing) {
		char bpath[BLK_PATH_MAX];
		struct blk_image *b;

		qcow2_backing_path(argv[optind], backing, bpath, sizeof(bpath));
		if (img_open(bpath, bfmt, true, &b) < 0)
			return 1;
		if (!have_size)
			size = b->size;
		if (!bfmt)
			bfmt = b->format_name;
		blk_image_close(b);
		o.backing = backing;
		o.backing_fmt = bfmt;
	} else if (!have_size) {
		fprintf(stderr, "vmm-img create: missing SIZE\n");
		return 1;
	}
	o.size = size;
	if (qcow2_create(argv[optind], &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vmm-img: %s\n", err);
		return 1;
	}
	printf("Formatting '%s', fmt=qcow2 cluster_size=%u size=%llu\n", argv[optind],
	       o.cluster_size ? o.cluster_size : 65536, (unsigned long long)size);
	return 0;
}

int img_resize(int argc, char **argv)
{
	struct blk_image *img;
	uint64_t size;
	const char *s;
	char err[1024];
	int ret;

	if (argc != 3) {
		fprintf(stderr, "vmm-img resize: usage: resize FILE [+]SIZE\n");
		return 1;
	}
	s = argv[2];
	if (s[0] == '-') {
		fprintf(stderr, "vmm-img resize: shrinking is not supported\n");
		return 1;
	}
	if (img_parse_size(s[0] == '+' ? s + 1 : s, &size) < 0)
		return 1;
	if (img_open(argv[1], NULL, false, &img) < 0)
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
		blk_image_close(img);
		ret = truncate(argv[1], (off_t)size) < 0 ? -errno : 0;
		if (ret < 0)
			fprintf(stderr, "vmm-img: %s: %s\n", argv[1], strerror(-ret));
	}
	if (ret < 0)
		return 1;
	printf("Image resized.\n");
	return 0;
}
