// SPDX-License-Identifier: MIT
/*
 * Hidden helpers for the crash-consistency test (tests/img/crash.sh):
 *   crash-writer FILE SEED LOG [COUNT]   (COUNT: stop after COUNT ops and close)
 *                                writes (every 11th op: discards, or zeroes
 *                                where clusters are larger) 4 KiB blocks in
 *                                a seeded random order forever, flushing every
 *                                16 ops and then recording the count in LOG;
 *                                killed with SIGKILL.
 *   crash-verify FILE SEED N     every 512-byte sector must hold the last write
 *                                <= N to its block or a later write to that block.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "img.h"

#define CB 4096

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

int img_crash_writer(int argc, char **argv)
{
	struct blk_image *img;
	uint64_t s, nb, buf[CB / 8], count = 0;
	bool whole;
	int lfd;

	if (argc != 4 && argc != 5)
		return 1;
	if (argc == 5)
		count = strtoull(argv[4], NULL, 0);
	s = strtoull(argv[2], NULL, 0) * 2 + 1;
	if (img_open(argv[1], "qcow2", false, &img) < 0)
		return 1;
	nb = img->size / CB;
	whole = qcow2_of(img)->cluster_size <= CB;
	lfd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (lfd < 0 || !nb)
		return 1;
	for (uint64_t i = 1; !count || i <= count; i++) {
		uint64_t b = next_rand(&s) % nb;
		struct iovec v = { buf, CB };
		char line[32];

		if (i % 11 == 0) {	/* discard: frees clusters for reuse */
			/* a discard inside a bigger cluster is a no-op: zero it instead */
			if ((whole ? img->ops->discard(img, b * CB, CB) :
			     img->ops->write_zeroes(img, b * CB, CB)) < 0)
				return 1;
		} else {
			for (int k = 0; k < CB / 8; k++)
				buf[k] = i;
			if (img->ops->pwritev(img, &v, 1, b * CB) < 0)
				return 1;
		}
		if (i % 16 == 0) {
			if (img->ops->flush(img) < 0)
				return 1;
			snprintf(line, sizeof(line), "%020llu\n", (unsigned long long)i);
			if (pwrite(lfd, line, 21, 0) != 21)
				return 1;
		}
	}
	close(lfd);
	blk_image_close(img);
	return 0;
}

int img_crash_verify(int argc, char **argv)
{
	struct blk_image *img;
	uint64_t s, nb, f, maxi, *last, *target, buf[CB / 8];
	int bad = 0;

	if (argc != 4)
		return 1;
	s = strtoull(argv[2], NULL, 0) * 2 + 1;
	f = strtoull(argv[3], NULL, 0);
	if (img_open(argv[1], "qcow2", true, &img) < 0)
		return 1;
	nb = img->size / CB;
	maxi = f + 100000;
	last = calloc(nb, 8);
	target = calloc(maxi + 1, 8);
	if (!last || !target)
		return 1;
	for (uint64_t i = 1; i <= maxi; i++) {
		target[i] = next_rand(&s) % nb;
		if (i <= f)
			last[target[i]] = i % 11 ? i : 0;
	}
	for (uint64_t b = 0; b < nb && bad < 10; b++) {
		struct iovec v = { buf, CB };
		uint64_t w;

		if (img->ops->preadv(img, &v, 1, b * CB) < 0)
			return 1;
		/* an unflushed write may be torn, but never below 512-byte sectors */
		w = 0;
		for (int sct = 0; sct < CB / 512 && !w; sct++) {
			uint64_t sw = buf[sct * 64];

			for (int k = 1; k < 64; k++)
				if (buf[sct * 64 + k] != sw)
					sw = UINT64_MAX;
			bool later = sw > f && sw <= maxi && target[sw] == b && sw % 11;

			for (uint64_t d = (f / 11 + 1) * 11; !later && !sw && d <= maxi; d += 11)
				later = target[d] == b;		/* a later discard */
			if (!(sw == last[b] || later))
				w = sw ? sw : UINT64_MAX - 1;
		}
		if (!w)
			continue;
		fprintf(stderr, "block %llu holds %llu, expected %llu (flushed %llu)\n",
			(unsigned long long)b, (unsigned long long)w,
			(unsigned long long)last[b], (unsigned long long)f);
		bad++;
	}
	blk_image_close(img);
	free(last);
	free(target);
	return bad ? 2 : 0;
}
