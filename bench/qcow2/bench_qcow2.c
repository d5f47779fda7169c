// SPDX-License-Identifier: MIT
/*
 * qcow2 vs raw through the block layer (blk_image_open + blk_queue): the same
 * 4 KiB random read/write and 1 MiB sequential jobs on a raw file and on a
 * fully allocated qcow2 image of the same size, in one run.
 *   bench_qcow2 DIR SIZE_MB SECONDS   prints a markdown table
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "block/qcow2.h"

#define QD 32

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one job; returns MiB/s and sets *iops. */
static double run_job(struct blk_image *img, bool write, bool seq, size_t bs, double secs,
		      double *iops, const char **engine)
{
	struct blk_queue *q;
	struct blk_req req[QD], *done[QD];
	struct iovec iov[QD];
	uint64_t nblk = img->size / bs, next = 0, ops = 0, s = 0x9e3779b97f4a7c15ull;
	double t0, t;
	unsigned int inflight = 0;

	memset(req, 0, sizeof(req));
	if (blk_queue_create(img, BLK_ENGINE_AUTO, QD, &q) < 0)
		return -1;
	*engine = blk_queue_engine_name(q);
	for (int i = 0; i < QD; i++) {
		if (posix_memalign(&iov[i].iov_base, 4096, bs))
			return -1;
		memset(iov[i].iov_base, i + 1, bs);
		iov[i].iov_len = bs;
	}
	t0 = now();
	for (;;) {
		t = now();
		for (int i = 0; i < QD && t - t0 < secs; i++) {
			{
				if (req[i].cookie)
					continue;
				s ^= s << 13; s ^= s >> 7; s ^= s << 17;
				memset(&req[i], 0, sizeof(req[i]));
				req[i].op = write ? BLK_OP_WRITE : BLK_OP_READ;
				req[i].offset = (seq ? next++ % nblk : s % nblk) * bs;
				req[i].iov = &iov[i];
				req[i].iovcnt = 1;
				req[i].cookie = &req[i];
				if (blk_queue_submit(q, &req[i]) < 0)
					return -1;
				inflight++;
			}
		}
		if (!inflight)
			break;
		struct pollfd p = { blk_queue_eventfd(q), POLLIN, 0 };

		poll(&p, 1, 100);
		unsigned int n = blk_queue_reap(q, done, QD);

		for (unsigned int i = 0; i < n; i++) {
			if (done[i]->result < 0) {
				fprintf(stderr, "request failed: %s\n", strerror(-done[i]->result));
				return -1;
			}
			done[i]->cookie = NULL;
			inflight--;
			ops++;
		}
	}
	t = now() - t0;
	blk_queue_destroy(q);
	for (int i = 0; i < QD; i++)
		free(iov[i].iov_base);
	*iops = (double)ops / t;
	return (double)ops * (double)bs / t / 1048576.0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; bool write, seq; size_t bs; } jobs[] = {
		{ "randread 4k qd32", false, false, 4096 },
		{ "randwrite 4k qd32", true, false, 4096 },
		{ "read 1M seq qd32", false, true, 1 << 20 },
		{ "write 1M seq qd32", true, true, 1 << 20 },
	};
	char raw[4096], qc[4096], err[512];
	struct blk_image *ri, *qi;
	uint64_t size;
	double secs;
	const char *eng = "?";

	if (argc != 4 || !qcow2_format())
		return 1;
	size = strtoull(argv[2], NULL, 0) << 20;
	secs = atof(argv[3]);
	snprintf(raw, sizeof(raw), "%s/bench.raw", argv[1]);
	snprintf(qc, sizeof(qc), "%s/bench.qcow2", argv[1]);
	{
		struct qcow2_create_opts o = { .size = size };
		uint8_t *b = malloc(1 << 20);
		FILE *f = fopen(raw, "w");

		memset(b, 0x42, 1 << 20);
		for (uint64_t i = 0; f && i < size >> 20; i++)
			fwrite(b, 1, 1 << 20, f);
		if (!f || fclose(f) || qcow2_create(qc, &o, err, sizeof(err)) < 0)
			return 1;
		if (blk_image_open(qc, DISK_FORMAT_QCOW2, false, DISK_CACHE_WRITEBACK, &qi,
				   err, sizeof(err)) < 0)
			return 1;
		for (uint64_t i = 0; i < size >> 20; i++) {	/* allocate every cluster */
			struct iovec v = { b, 1 << 20 };

			if (qi->ops->pwritev(qi, &v, 1, i << 20) < 0)
				return 1;
		}
		blk_image_close(qi);
		free(b);
	}
	if (blk_image_open(raw, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK, &ri, err, sizeof(err)) < 0 ||
	    blk_image_open(qc, DISK_FORMAT_QCOW2, false, DISK_CACHE_WRITEBACK, &qi, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("| job | raw IOPS | raw MiB/s | qcow2 IOPS | qcow2 MiB/s | qcow2/raw |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		double ri_iops, qi_iops;
		double rb = run_job(ri, jobs[j].write, jobs[j].seq, jobs[j].bs, secs, &ri_iops, &eng);
		double qb = run_job(qi, jobs[j].write, jobs[j].seq, jobs[j].bs, secs, &qi_iops, &eng);

		printf("| %s | %.0f | %.1f | %.0f | %.1f | %.0f%% |\n", jobs[j].name, ri_iops, rb,
		       qi_iops, qb, rb > 0 ? 100.0 * qb / rb : 0);
	}
	printf("\nengine: %s, image %s MiB each in %s (page cache: cache=writeback)\n", eng,
	       argv[2], argv[1]);
	blk_image_close(ri);
	blk_image_close(qi);
	unlink(raw);
	unlink(qc);
	return 0;
}
