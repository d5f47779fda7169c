/* SPDX-License-Identifier: MIT */
/*
 * vmm-img outputs: no command destroys data it was not asked to destroy.
 *
 *   img_output_check()  refuses an output that is (same st_dev/st_ino, so
 *                       symlinks and hard links count) an input or a file
 *                       anywhere in an input's backing chain.
 *   img_output_begin()  locks an existing output (the OFD lock vmm takes;
 *                       it also conflicts with QEMU's lock bytes) so no
 *                       running vmm/QEMU holds it, then creates a temporary
 *                       file next to it (O_EXCL, locked) to build into.
 *   img_output_commit() renames the finished image over the user's name.
 *   img_output_end()    drops the locks; removes the temporary file unless
 *                       committed.
 *
 * An interrupted create/convert therefore leaves the user's file as it was
 * (at worst a ".NAME.vmm-img-XXXXXX" file beside it), never half written.
 */
#ifndef VMM_IMG_OUTPUT_H
#define VMM_IMG_OUTPUT_H

#include <stdbool.h>
#include <sys/stat.h>

#include "block/block.h"

struct img_output {
	char path[BLK_PATH_MAX];	/* where the image goes (symlinks resolved) */
	char tmp[BLK_PATH_MAX];		/* where it is built */
	const char *name;		/* the user's name, for messages */
	int fd;				/* tmp: created O_EXCL, locked; -1 when none */
	int old_fd;			/* the existing file at path, locked; -1 if none */
	struct stat old_st;
	bool committed;
	bool nosync;			/* -t unsafe: rename without fsync (crash may lose it) */
};

/*
 * 0, or -EEXIST after one clear line on stderr.  what names the role of
 * in[] in messages ("input", "backing file").
 */
int img_output_check(const char *name, const char *what, struct blk_image *const *in,
		     unsigned int n);
/* 0, or -errno after one clear line on stderr; o is ready for img_output_end either way. */
int img_output_begin(struct img_output *o, const char *name);
/* Drops the lock on o->fd so the block layer can open o->tmp and lock it itself. */
void img_output_unlock_tmp(struct img_output *o);
/* The finished image replaces o->path.  0, or -errno after one line on stderr. */
int img_output_commit(struct img_output *o);
void img_output_end(struct img_output *o);

/*
 * Takes the write lock vmm takes on fd (whole file, OFD).  0, or -EBUSY after
 * one line on stderr saying who seems to hold it; other lock errors (a
 * filesystem without locks) are not fatal.
 */
int img_lock_write(int fd, const char *name);

#endif
