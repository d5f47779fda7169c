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
#include "img_copy.h"
#include "img_output.h"
#include "block/qcow2.h"

int img_convert(int argc, char **argv)
{
	const char *ifmt = NULL, *ofmt = NULL;
	struct qcow2_create_opts o = { 0 };
	struct blk_image *in = NULL, *out = NULL;
	struct img_output dst = { .fd = -1, .old_fd = -1 };
	bool compress = false, nosync = false;
	bool progress = false;
	struct conv_out co;
	uint64_t gran = 4096;
	char err[1024];
	int c, ret, rfd = -1, rc = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "pcf:O:o:t:")) != -1) {
		switch (c) {
		case 'p': progress = true; break;
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
	} else {
		if (qcow2_create_fd(dst.fd, argv[optind + 1], &o, err, sizeof(err)) < 0) {
			fprintf(stderr, "vmm-img: %s\n", err);
			goto out;
		}
		img_output_unlock_tmp(&dst);	/* the block layer locks it again */
		if (img_open(dst.tmp, "qcow2", false, &out) < 0)
			goto out;
		gran = qcow2_of(out)->cluster_size;
	}
	/* the output is not in place until complete: no syncs but the one at the end */
	if (out)
		qcow2_of(out)->img.cache = DISK_CACHE_UNSAFE;
	co = (struct conv_out){ .rfd = rfd, .img = out, .gran = gran, .compress = compress,
				.nosync = nosync, .wb_fd = out ? qcow2_of(out)->fd : rfd,
				.progress = progress, .in_name = argv[optind],
				.out_name = argv[optind + 1] };
	if (conv_copy(in, &co) < 0)
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
	/* close writes the last metadata: only then is the image complete */
	if (out) {
		blk_image_close(out);
		out = NULL;
	}
	dst.nosync = nosync;
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
	return rc;
}
