// SPDX-License-Identifier: MIT
/*
 * qcow2 vs raw through the block layer (blk_image_open + blk_queue): the same
 * 4 KiB random read/write and 1 MiB sequential jobs on a raw file and on a
 * qcow2 image of the same size.
 *
 * Fairness: both files are written in full through the block layer the same
 * way (so both are allocated), synced, then read once (so both sit clean in
 * the page cache).  Each job runs ROUNDS times on each file, alternating
 * raw/qcow2 in ABBA order to cancel drift; after a write run the file is
 * flushed outside the timed part, so no run pays for the previous run's
 * writeback.  Prints medians and the median of the per-round ratios, of
 * IOPS (wall clock) and of CPU time per request (getrusage over all the
 * process's threads: the block layer's own cost, which other jobs on the
 * machine disturb much less than they disturb the wall clock).
 *   bench_qcow2 DIR SIZE_MB SECONDS ROUNDS   prints a markdown table
 * BENCH_ONLY=WORD runs only the jobs whose name holds WORD (for profiling);
 * BENCH_AA=1 puts a second raw file where the qcow2 image would be: the
 * spread of that raw-vs-raw ratio is the noise of the machine.
 * BENCH_CACHE=none opens both with cache=none (O_DIRECT: the disk, not the
 * page cache).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "block/block.h"
#include "block/qcow2.h"

#define QD		32
#define MAX_ROUNDS	15

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);	/* every thread: ours, the engine's, io_uring's */
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Runs one job; returns IOPS (or -1) and the CPU time per request in *cpu_us. */
static double run_job(struct blk_image *img, bool write, bool seq, size_t bs, double secs,
		      const char **engine, double *cpu_us)
{
	struct blk_queue *q;
	struct blk_req req[QD], *done[QD];
	struct iovec iov[QD];
	uint64_t nblk = img->size / bs, next = 0, ops = 0, s = 0x9e3779b97f4a7c15ull;
	double t0, t, c0;
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
	c0 = cpu_seconds();
	for (;;) {
		t = now();
		for (int i = 0; i < QD && t - t0 < secs; i++) {
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
	*cpu_us = (cpu_seconds() - c0) * 1e6 / (double)(ops ? ops : 1);
	blk_queue_destroy(q);
	for (int i = 0; i < QD; i++)
		free(iov[i].iov_base);
	return (double)ops / t;
}

/*
 * Writes the whole image (allocates it) and flushes; then drops the file
 * from the page cache and reads it back with readahead off, so that both
 * files sit clean in the cache in 4 KiB folios.  Otherwise the folio sizes
 * differ by how each file was written and read (1 MiB writes and long
 * readahead give large folios; qcow2's 64 KiB cluster writes smaller ones),
 * and a 4 KiB buffered write costs in proportion to its folio (ext4 walks
 * the folio's buffer heads, and dirties and later writes back all of it):
 * raw random writes measured 1.2-4 x slower than qcow2's for that alone.
 */
static int prepare(struct blk_image *img, const char *path)
{
	uint8_t *b;
	int ret = 0, fd = -1;

	if (posix_memalign((void **)&b, 4096, 1 << 20))
		return -ENOMEM;
	memset(b, 0x42, 1 << 20);
	for (uint64_t off = 0; off < img->size && !ret; off += 1 << 20) {
		struct iovec v = { b, 1 << 20 };

		ret = img->ops->pwritev(img, &v, 1, off);
	}
	if (!ret)
		ret = img->ops->flush(img);
	if (!ret)
		fd = open(path, O_RDONLY);
	if (fd < 0 || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0 ||
	    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM) != 0)
		ret = -EIO;
	for (off_t off = 0; !ret; off += 1 << 20) {
		ssize_t n = pread(fd, b, 1 << 20, off);

		if (n <= 0)
			ret = n < 0 ? -errno : 1;
	}
	if (fd >= 0)
		close(fd);
	free(b);
	return ret < 0 ? ret : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double t[MAX_ROUNDS];

	memcpy(t, v, (size_t)n * sizeof(*v));
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double lowest(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double highest(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		m = v[i] > m ? v[i] : m;
	return m;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; bool write, seq; size_t bs; } jobs[] = {
		{ "randread 4k qd32", false, false, 4096 },
		{ "randwrite 4k qd32", true, false, 4096 },
		{ "read 1M seq qd32", false, true, 1 << 20 },
		{ "write 1M seq qd32", true, true, 1 << 20 },
	};
	char path[2][4096], err[512];
	struct blk_image *img[2];
	struct qcow2_create_opts o = { 0 };
	double secs, iops[2][MAX_ROUNDS], cpu[2][MAX_ROUNDS], ratio[MAX_ROUNDS], cratio[MAX_ROUNDS];
	const char *eng = "?";
	bool aa = getenv("BENCH_AA") && atoi(getenv("BENCH_AA"));
	bool none = getenv("BENCH_CACHE") && !strcmp(getenv("BENCH_CACHE"), "none");
	int rounds, fd;

	if (argc != 5 || !qcow2_format())
		return 1;
	o.size = strtoull(argv[2], NULL, 0) << 20;
	secs = atof(argv[3]);
	rounds = atoi(argv[4]);
	if (rounds < 1 || rounds > MAX_ROUNDS)
		return 1;
	snprintf(path[0], sizeof(path[0]), "%s/bench.raw", argv[1]);
	snprintf(path[1], sizeof(path[1]), "%s/bench.%s", argv[1], aa ? "raw2" : "qcow2");
	for (int f = 0; f < 2; f++) {
		if (f && !aa) {
			if (qcow2_create(path[f], &o, err, sizeof(err)) < 0)
				return 1;
			continue;
		}
		fd = open(path[f], O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0 || ftruncate(fd, (off_t)o.size) < 0 || close(fd) < 0)
			return 1;
	}
	for (int f = 0; f < 2; f++) {
		if (blk_image_open(path[f], f && !aa ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW, false,
				   none ? DISK_CACHE_NONE : DISK_CACHE_WRITEBACK, &img[f],
				   err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		if (prepare(img[f], path[f]) < 0)
			return 1;
	}
	printf("| job | raw IOPS | %s IOPS | IOPS %s/raw | raw CPU/req | %s CPU/req | CPU raw/%s |\n",
	       aa ? "raw2" : "qcow2", aa ? "raw2" : "qcow2", aa ? "raw2" : "qcow2",
	       aa ? "raw2" : "qcow2");
	printf("|---|---|---|---|---|---|---|\n");
	for (size_t j = 0; j < sizeof(jobs) / sizeof(jobs[0]); j++) {
		if (getenv("BENCH_ONLY") && !strstr(jobs[j].name, getenv("BENCH_ONLY")))
			continue;	/* e.g. BENCH_ONLY=randwrite, for profiling */
		for (int r = 0; r < rounds; r++) {
			for (int k = 0; k < 2; k++) {
				int f = (r % 2) ^ k;	/* ABBA: raw, qcow2, qcow2, raw, ... */

				iops[f][r] = run_job(img[f], jobs[j].write, jobs[j].seq, jobs[j].bs,
						     secs, &eng, &cpu[f][r]);
				if (iops[f][r] < 0 || (jobs[j].write && img[f]->ops->flush(img[f]) < 0))
					return 1;
			}
			ratio[r] = 100.0 * iops[1][r] / iops[0][r];
			cratio[r] = 100.0 * cpu[0][r] / cpu[1][r];
		}
		printf("| %s | %.0f | %.0f | %.0f%% (%.0f-%.0f) | %.2f us | %.2f us | %.0f%% (%.0f-%.0f) |\n",
		       jobs[j].name, median(iops[0], rounds), median(iops[1], rounds),
		       median(ratio, rounds), lowest(ratio, rounds), highest(ratio, rounds),
		       median(cpu[0], rounds), median(cpu[1], rounds),
		       median(cratio, rounds), lowest(cratio, rounds), highest(cratio, rounds));
	}
	printf("\nengine: %s, %s MiB each in %s, %d rounds x %s s per file and job, cache=%s\n",
	       eng, argv[2], argv[1], rounds, argv[3], none ? "none" : "writeback");
	blk_image_close(img[0]);
	blk_image_close(img[1]);
	unlink(path[0]);
	unlink(path[1]);
	return 0;
}
