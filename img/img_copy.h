/* SPDX-License-Identifier: MIT */
/* vmm-img convert's copy loop (img_copy.c). */
#ifndef VMM_IMG_COPY_H
#define VMM_IMG_COPY_H

#include <stdbool.h>
#include <stdint.h>

#include "block/block.h"

/* The output being written: a raw fd or an image, and how. */
struct conv_out {
	int rfd;		/* raw output, or -1 */
	struct blk_image *img;	/* qcow2 output, or NULL */
	uint64_t gran;		/* a zero run this long (and aligned) is left unwritten */
	bool compress;		/* qcow2 compressed clusters (gran: the cluster size) */
	bool nosync;		/* -t unsafe: no sync at all */
	int wb_fd;		/* the file written: its writeback is started early */
	bool progress;		/* -p */
	const char *in_name, *out_name;
	/* conv_copy's */
	uint64_t unkicked;	/* bytes written since the last writeback kick */
	double shown;		/* last progress percentage printed */
};

/*
 * Copies the virtual disk of in to a fresh output (which reads as zeros
 * where nothing is written), reading only the data runs of in's block
 * status; one line on stderr on failure.  Does not sync.  0 or -errno.
 */
int conv_copy(struct blk_image *in, struct conv_out *o);

#endif
